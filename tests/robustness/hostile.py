"""The hostile company: the demo company with CRM text chosen to break pages, charts, exports and file names."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from salesperf.data import demo

#: Text that would run in a page, be parsed as mathtext by a chart, become a live spreadsheet cell, reach the HTML
#: as NUL, be drawn without a glyph, turn the text around, or make a file name too long.
PAYLOADS = (
    "<script>window.__pwned=1</script>",
    '"><img src=x onerror="window.__pwned=1">',
    "$$ partner",
    "Team $_$",
    "\r=1+1",
    "\n+2+3",
    "\t=SUM(A1)",
    '=HYPERLINK("x")',
    "@SUM(A1)",
    "-2+3",
    "Nul\x00byte",
    "Shop 😀🦜",
    "\u202eRTL\u200f mark",
    "Long " + "L" * 300,
)
LONG_REGION = "$$ <script>window.__pwned=1</script> " + "Ω" * 262
#: The demo's regions renamed to hostile text, one of 300 characters.
REGIONS = {
    "North": "$$ partner",
    "East": "Team $_$ 🦜",
    "South": '"><img src=x onerror="window.__pwned=1">',
    "West": LONG_REGION,
}
#: For a fan-out: three regions that differ only in capitals and punctuation, and one of 300 characters.
LOOKALIKE_REGIONS = {"North": "East", "East": "east", "South": "EAST!", "West": LONG_REGION}
CHANNEL_PAYLOADS = ("Team $_$", "\r=1+1 partner", '"><img src=x onerror="window.__pwned=1">', "Shop 😀\x00")


def _set(table: pa.Table, column: str, values: list) -> pa.Table:
    return table.set_column(table.schema.get_field_index(column), column, pa.array(values, pa.string()))


def _rename(table: pa.Table, column: str, mapping: dict) -> pa.Table:
    if column not in table.schema.names:
        return table
    return _set(table, column, [mapping.get(v, v) for v in table.column(column).to_pylist()])


def build_hostile_company(folder: Path, regions: dict | None = None) -> Path:
    """Write the hostile company to ``folder`` (with its ``catalog.yml``) and return the folder.

    Every customer, product and rep gets a payload at the start of its name (numbered, so names stay distinct);
    every third customer id starts with ``\\r=1+1``; teams and channels are payloads; regions are renamed by
    ``regions`` (default :data:`REGIONS`).
    """
    folder = Path(folder)
    demo.generate(folder, customers=400, seed=3, end="2026-10-31", years=3)
    tables = {p.stem: pq.read_table(p) for p in folder.glob("*.parquet")}
    for name in ("customers", "products", "reps"):
        names = tables[name].column("name").to_pylist()
        tables[name] = _set(
            tables[name], "name", [f"{PAYLOADS[i % len(PAYLOADS)]} {i}" for i in range(len(names))]
        )
    teams = sorted({t for t in tables["reps"].column("team").to_pylist() if t})
    tables["reps"] = _rename(tables["reps"], "team", {t: f"Team $_$ {i} \r=1+1" for i, t in enumerate(teams)})
    channels = sorted({c for c in tables["orders"].column("channel").to_pylist() if c})
    channel_map = {c: f"{CHANNEL_PAYLOADS[i % len(CHANNEL_PAYLOADS)]} {i}" for i, c in enumerate(channels)}
    ids = tables["customers"].column("customer_id").to_pylist()
    id_map = {c: f"\r=1+1 {c}" for c in ids[::3]}
    for name, table in tables.items():
        table = _rename(table, "region", regions or REGIONS)
        table = _rename(table, "channel", channel_map)
        tables[name] = _rename(table, "customer_id", id_map)
    for name, table in tables.items():
        pq.write_table(table, folder / f"{name}.parquet")
    return Path(folder)

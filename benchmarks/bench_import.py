"""Time `salesperf import` on a plain CSV order-line export of 100k and 1M lines, against plain readers.

The export is an online shop's invoice lines (InvoiceNo, StockCode, Description, Quantity, InvoiceDate with a
time of day, UnitPrice, CustomerID as a float "17850.0", Country), generated deterministically into
benchmarks/.data/: two title lines above the header, about 20 % of lines without a customer id, 2 %
cancellation invoices ("C..."), postage lines dropped by the mapping, a few blank lines, a few thousands-
separated prices ("1,234.50") and a "Grand Total" footer. Each `salesperf import` runs in a fresh process (the
command a user waits for: start-up, read, parse, rules, orders.csv/products.csv and import_accounting.csv);
peak RSS is that of the child process tree. Peers in the same run: `pandas.read_csv` and DuckDB `read_csv`
(all columns typed by their sniffers, no rules) of the same file. Usage::

    .venv/bin/python benchmarks/bench_import.py [--sizes 100000 1000000] [--repeat 5] [--before-sizes 100000]

``--before-sizes`` names the files on which the previous import (the package at ``--before``, extracted with
``git archive``) and this version's general path (``SALESPERF_IMPORT_FAST=0``) are timed too.
Prints the table and writes it to benchmarks/results/import.md. Target: at least 100,000 rows/s end to end on
the 1M-line file (2-core machine).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
BEFORE_COMMIT = "ffc9ef9"  # the last commit with the pure-Python import
DATA = HERE / ".data"
MAPPING = """\
tables:
  - table: orders
    columns:
      order_id: InvoiceNo
      customer_id: CustomerID
      order_date: InvoiceDate
      quantity: Quantity
      unit_price: UnitPrice
      product_id: StockCode
      product_name: Description
      region: Country
    derive:
      amount: quantity * unit_price
    cancelled_if:
      id_prefix: C
    drop_rows:
      StockCode: [POST]
"""
COUNTRIES = [
    "United Kingdom", "Germany", "France", "EIRE", "Spain", "Netherlands", "Belgium", "Switzerland",
    "Portugal", "Australia", "Norway", "Italy", "Channel Islands", "Finland", "Cyprus", "Sweden", "Austria",
    "Denmark", "Japan", "Poland", "Israel", "USA", "Hong Kong", "Singapore", "Iceland", "Canada", "Greece",
    "Malta", "United Arab Emirates", "European Community", "RSA", "Lebanon", "Lithuania", "Brazil",
    "Czech Republic", "Bahrain", "Saudi Arabia", "Unspecified",
]
WORDS = [
    "WHITE", "RED", "HANGING", "HEART", "T-LIGHT", "HOLDER", "LANTERN", "METAL", "CREAM", "CUPID", "HEARTS",
    "COAT", "HANGER", "UNION", "JACK", "FLAG", "HOT", "WATER", "BOTTLE", "KNITTED", "SET", "OF", "TEA", "TIME",
    "BAKING", "CASES", "GLASS", "STAR", "FROSTED", "VINTAGE", "DOILY", "PAPER", "CHAIN", "KIT", "CHRISTMAS",
    "LUNCH", "BAG", "SPOTTY", "PINK", "BLUE", "GREEN", "JUMBO", "STORAGE", "RETROSPOT", "CAKE", "STAND",
]


def export_path(lines: int, seed: int = 0) -> Path:
    return DATA / f"import_orders_{lines}_s{seed}.csv"


def make_export(lines: int, seed: int = 0) -> Path:
    """Write the export of ``lines`` data lines (deterministic for a seed) unless it exists; return its path."""
    path = export_path(lines, seed)
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    n_products, n_customers = 4_000, max(500, lines // 250)
    codes = np.array([f"{20000 + i}{'' if i % 7 else 'A'}" for i in range(n_products)], dtype=object)
    names = np.array(
        [" ".join(rng.choice(WORDS, size=int(rng.integers(2, 6)))) for _ in range(n_products)], dtype=object
    )
    prices = np.round(rng.lognormal(1.0, 0.9, n_products), 2)
    lines_per_invoice = 20
    invoices = lines // lines_per_invoice + 1
    invoice_no = np.repeat(np.arange(536_365, 536_365 + invoices), lines_per_invoice)[:lines]
    minutes = np.sort(rng.integers(0, 730 * 24 * 60, invoices))
    invoice_minute = np.repeat(minutes, lines_per_invoice)[:lines]
    customers = rng.integers(12_000, 12_000 + n_customers, invoices).astype(float)
    customer = np.repeat(customers, lines_per_invoice)[:lines]
    no_customer = np.repeat(rng.random(invoices) < 0.2, lines_per_invoice)[:lines]
    cancelled = np.repeat(rng.random(invoices) < 0.02, lines_per_invoice)[:lines]
    country = np.repeat(rng.choice(np.array(COUNTRIES, dtype=object), invoices), lines_per_invoice)[:lines]
    product = rng.integers(0, n_products, lines)
    postage = rng.random(lines) < 0.005
    quantity = rng.integers(1, 25, lines) * np.where(cancelled, -1, 1)
    stamps = np.datetime64("2010-12-01T00:00") + invoice_minute.astype("timedelta64[m]")
    days = stamps.astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    years = months.astype("datetime64[Y]")
    month_no = (months - years.astype("datetime64[M]")).astype(int) + 1
    day_no = (days - months.astype("datetime64[D]")).astype(int) + 1
    year_no = years.astype(int) + 1970
    minute_of_day = (stamps - days.astype("datetime64[m]")).astype(int)
    blank_at = set(rng.choice(lines, size=max(1, lines // 100_000), replace=False).tolist())
    comma_price = rng.random(lines) < 0.001
    rows = []
    for i in range(lines):
        p = product[i]
        code, name, price = ("POST", "POSTAGE", 18.0) if postage[i] else (codes[p], names[p], prices[p])
        price_text = f"\"{price * 1000:,.2f}\"" if comma_price[i] else f"{price:g}"
        cid = "" if no_customer[i] else f"{customer[i]:.1f}"
        inv = f"C{invoice_no[i]}" if cancelled[i] else str(invoice_no[i])
        date = f"{month_no[i]}/{day_no[i]}/{year_no[i]} {minute_of_day[i] // 60}:{minute_of_day[i] % 60:02d}"
        rows.append(f"{inv},{code},{name},{quantity[i]},{date},{price_text},{cid},{country[i]}\n")
        if i in blank_at:
            rows.append("\n")
    DATA.mkdir(exist_ok=True)
    part = path.with_suffix(".part")
    with part.open("w", encoding="utf-8", newline="") as out:
        out.write("Online shop: invoice lines\nExported 2012-12-01\n")
        out.write("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n")
        out.writelines(rows)
        out.write("Grand Total,,,,,,,\n")
    part.rename(path)
    return path


IMPORT_CHILD = """
import os, sys
tree = os.environ.get("BENCH_IMPORT_TREE")
if tree:  # run the package extracted there instead of the editable install
    sys.meta_path = [f for f in sys.meta_path if "editable" not in getattr(f, "__name__", type(f).__name__)]
    sys.path.insert(0, tree)
import salesperf
assert not tree or salesperf.__file__.startswith(tree), salesperf.__file__
from salesperf.cli import main
sys.exit(main(["import", "--mapping", sys.argv[1], sys.argv[2], "--out", sys.argv[3]]))
"""
PEER_CHILD = {
    "peer: pandas.read_csv (no rules)": """
import sys, pandas
frame = pandas.read_csv(sys.argv[1], skiprows=2)
""",
    "peer: duckdb read_csv to pandas (no rules)": """
import sys, duckdb
frame = duckdb.sql(f"SELECT * FROM read_csv('{sys.argv[1]}', skip=2, header=true)").df()
""",
}
LAUNCHER = """
import json, os, resource, subprocess, sys, time
t = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - t
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "rc": done.returncode, "out": done.stdout[-3000:], "err": done.stderr[-3000:],
                  "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}))
"""


def child_env(extra: dict | None = None) -> dict:
    """The environment of a measured child: bytecode cached in benchmarks/.data/pycache, as a normal install
    has it (this machine sets PYTHONDONTWRITEBYTECODE, which would make every start compile pandas)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(DATA / "pycache")
    return {**env, **(extra or {})}


def run_one(script: str, args: list[str], env: dict) -> dict:
    """Run ``python -c script args`` in a fresh process started by a small launcher, so that the peak RSS and
    CPU reported are that process's own (``RUSAGE_CHILDREN`` of the launcher; the import starts no other
    process, its DuckDB/Arrow threads are counted in its CPU time)."""
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, sys.executable, "-c", script, *args],
        capture_output=True, text=True, env=env, check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["rc"] != 0:
        raise RuntimeError(f"child failed:\n{result['out']}\n{result['err']}")
    return result


def before_tree(commit: str) -> Path:
    """The package as of ``commit`` (the previous import), extracted once into benchmarks/.data/."""
    target = DATA / f"before-{commit}"
    if not (target / "salesperf").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "archive", commit, "salesperf"], cwd=HERE.parent, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def bench_size(lines: int, seed: int, repeat: int, before: str | None, general: bool) -> list[dict]:
    path = make_export(lines, seed)
    mapping = DATA / "import_orders.yml"
    mapping.write_text(MAPPING, encoding="utf-8")
    cases = [("salesperf import", child_env(), repeat)]
    if general:
        cases.append(("salesperf import, general path (SALESPERF_IMPORT_FAST=0)",
                      child_env({"SALESPERF_IMPORT_FAST": "0"}), 1))
    if before:
        tree = before_tree(before)
        cases.append((f"salesperf import before (commit {before})", child_env({"BENCH_IMPORT_TREE": str(tree)}), 1))
    rows = []
    for label, env, times in cases:
        runs = []
        for _ in range(times):
            with tempfile.TemporaryDirectory(prefix="bench_import_") as out:
                result = run_one(IMPORT_CHILD, [str(mapping), str(path), out], env)
                accounting = (Path(out) / "import_accounting.csv").read_text(encoding="utf-8")
                digest = hashlib.sha256(
                    b"".join((Path(out) / f).read_bytes() for f in ("orders.csv", "products.csv"))
                    + accounting.encode("utf-8")
                ).hexdigest()
                with (Path(out) / "orders.csv").open(encoding="utf-8") as orders:
                    written = sum(1 for _ in orders) - 1
            runs.append({**result, "written": written, "accounting": accounting, "digest": digest})
            print(f"{lines:>9,} lines, {label}: {result['wall']:.1f} s", file=sys.stderr)
        runs.sort(key=lambda r: r["wall"])
        median = runs[len(runs) // 2]
        rows.append({"case": label, "lines": lines, "runs": len(runs), "best": runs[0]["wall"], **median})
    for label, script in PEER_CHILD.items():
        result = run_one(script, [str(path)], child_env())
        rows.append({"case": label, "lines": lines, "runs": 1, "best": result["wall"], "written": None, **result})
        print(f"{lines:>9,} lines, {label}: {result['wall']:.1f} s", file=sys.stderr)
    return rows


def table(rows: list[dict]) -> str:
    head = [
        "| file lines | case | wall s (median) | best s | rows/s (median) | CPU s | peak RSS MB | orders written |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    body = []
    for r in rows:
        runs = f" ({r['runs']} runs)" if r["runs"] > 1 else ""
        written = "" if r["written"] is None else format(r["written"], ",")
        body.append(
            f"| {r['lines']:,} | {r['case']}{runs} | {r['wall']:.2f} | {r['best']:.2f} | "
            f"{r['lines'] / r['wall']:,.0f} | {r['cpu']:.2f} | {r['rss_mb']:,.0f} | {written} |"
        )
    return "\n".join(head + body)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=5, help="runs of the import per size (median reported)")
    parser.add_argument("--before", default=BEFORE_COMMIT, help="commit of the previous import ('' to skip)")
    parser.add_argument(
        "--before-sizes", type=int, nargs="*", default=[100_000, 1_000_000],
        help="file sizes the previous import and the general path run on",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    warm = make_export(1_000, args.seed)  # compiles the bytecode of every module once, outside the timings
    (DATA / "import_orders.yml").write_text(MAPPING, encoding="utf-8")
    with tempfile.TemporaryDirectory() as out:
        run_one(IMPORT_CHILD, [str(DATA / "import_orders.yml"), str(warm), out], child_env())
        if args.before:
            env = child_env({"BENCH_IMPORT_TREE": str(before_tree(args.before))})
            run_one(IMPORT_CHILD, [str(DATA / "import_orders.yml"), str(warm), out], env)
    load_before = os.getloadavg()[0]
    rows = []
    for size in args.sizes:
        on = size in args.before_sizes
        rows += bench_size(size, args.seed, args.repeat, args.before if on else None, general=on)
    load_after = os.getloadavg()[0]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    big = [r for r in rows if r["case"] == "salesperf import"][-1]
    speedup = ""
    for before in (r for r in rows if r["case"].startswith("salesperf import before")):
        same = [r for r in rows if r["case"] == "salesperf import" and r["lines"] == before["lines"]][0]
        speedup += (
            f" On the {same['lines']:,}-line file the previous import (commit {args.before}, pure Python: "
            f"`csv.reader`, per-cell parsing, pandas `to_csv`) took {before['wall']:.1f} s wall, "
            f"{before['cpu']:.1f} s CPU ({same['lines'] / before['wall']:,.0f} rows/s); this one "
            f"{same['wall']:.1f} s wall, {same['cpu']:.1f} s CPU: {before['wall'] / same['wall']:.1f}x the "
            f"rows per second; the previous import used {before['cpu'] / same['cpu']:.1f}x the CPU."
        )
    rate = big["lines"] / big["wall"]
    digests = {(r["lines"], r["digest"]) for r in rows if r.get("digest")}
    same_output = len(digests) == len({r["lines"] for r in rows if r.get("digest")})
    cpu_rate = big["lines"] / big["cpu"]
    text = (
        "# Import benchmark: `salesperf import` on a plain CSV export\n\n"
        f"An online shop's invoice-line export (8 columns: invoice, stock code, description, quantity, text date "
        f"with time `12/1/2010 8:26`, unit price, customer id as a float `17850.0`, country), generated by "
        f"`benchmarks/bench_import.py` (seed {args.seed}): 20 % of lines without customer id, 2 % cancellation "
        f"invoices, 0.5 % postage lines dropped by the mapping, a few thousands-separated prices, blank lines, "
        f"two title lines and a footer. The mapping makes orders (amount = quantity x unit price, cancellations "
        f"by the `C` prefix) and products. Each case is a fresh process timed from start to exit: interpreter "
        f"start-up, reading, parsing, rules, writing `orders.csv`, `products.csv` and `import_accounting.csv`. "
        f"Bytecode is cached (as in a normal install) and compiled before the timings. CPU is user + system "
        f"time of all the process's threads; peak RSS is the process's. `general path` is this version with the "
        f"fast reader off (Python's csv module). Peers read the same file with no rules ({machine}; 1-minute "
        f"load average {load_before:.1f} before and {load_after:.1f} after: other jobs share the machine, so "
        f"wall time is above CPU time).\n\n{table(rows)}\n\n"
        f"Target: >= 100,000 rows/s end to end on the 1M-line file: {rate:,.0f} rows/s (median of "
        f"{big['runs']}; {big['lines'] / big['best']:,.0f} at best), "
        f"{'met' if rate >= 100_000 else 'not met'} at this load; {cpu_rate:,.0f} rows per CPU second.{speedup} "
        f"Every import case of a file wrote {'the same bytes' if same_output else 'DIFFERENT bytes'} "
        f"(`orders.csv`, `products.csv`, `import_accounting.csv`).\n"
    )
    print(table(rows))
    print(big.get("accounting", ""), file=sys.stderr)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "import.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

"""One file to canonical rows (:func:`import_file`) and all files to canonical tables (:func:`run_import`):
derived columns, required columns, side tables (reps, customers, products named in other files), de-
duplication, re-keying names to ids and writing ``<table>.csv``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from salesperf.core.errors import UserError
from salesperf.data import parsing
from salesperf.data.importer.columns import resolve_columns
from salesperf.data.importer.convert import (
    apply_values,
    opportunity_status,
    order_status,
    parse_field,
    route_close_date,
)
from salesperf.data.importer.detect import auto_mapping, detect_kind
from salesperf.data.importer.mapping import HELPER_FIELDS, Kind, Mapping, load_mapping, value_key
from salesperf.data.importer.read import body_rows, is_blank, locate_header, read_cells
from salesperf.data.importer.summary import ImportSummary, SourceSummary, TableSummary
from salesperf.data.schema import TABLES


def finish_frame(frame: pd.DataFrame, kind: Kind, source: SourceSummary, notes: list[str]) -> pd.DataFrame:
    for fname, (left, right) in kind.derive.items():
        if left in frame and right in frame:
            product = pd.to_numeric(frame[left], errors="coerce") * pd.to_numeric(
                frame[right], errors="coerce"
            )
            product = product.round(6).astype(object).where(product.notna(), None)
            frame[fname] = frame[fname].where(frame[fname].notna(), product) if fname in frame else product
    for fname, helper in kind.fallbacks.items():
        if helper in frame and fname in set(TABLES[kind.table].names) | set(HELPER_FIELDS):
            frame[fname] = (
                frame[fname].where(frame[fname].notna(), frame[helper]) if fname in frame else frame[helper]
            )
    for fname, value in kind.constants.items():
        frame[fname] = frame[fname].where(frame[fname].notna(), str(value)) if fname in frame else str(value)
    for fname, (keep, label) in kind.keep_rows.items():
        if fname in frame:
            mask = frame[fname].map(lambda v, wanted=keep: value_key(v) in wanted)
            source.dropped[label] += int((~mask).sum())
            frame = frame[mask].copy()
    if kind.table == "opportunities":
        opportunity_status(frame, kind, source, notes)
        route_close_date(frame, kind)
    if kind.table == "orders" and "amount" in frame:
        order_status(frame, kind, source, notes)
    return frame


def required_check(frame: pd.DataFrame, kind: Kind, source: SourceSummary, headers: list) -> pd.DataFrame:
    table = TABLES[kind.table]
    for col in table.required:
        if col not in frame:
            tried = kind.columns.get(col, []) + [
                a for h, f in kind.fallbacks.items() if h == col for a in kind.columns.get(f, [])
            ]
            found = ", ".join(repr(str(h)) for h in headers if parsing.clean_text(h))
            raise UserError(
                f"{source.file}: no column for required '{table.name}.{col}' (looked for: "
                f"{', '.join(repr(t) for t in tried) or 'nothing mapped'}); headers: {found}",
                hint=f"add the column to the export, or map it under 'columns: {col}:' in a mapping file",
            )
    for col in table.required:
        missing = frame[col].isna()
        if missing.any():
            source.dropped[f"missing {col}"] += int(missing.sum())
            frame = frame[~missing]
    return frame


def import_file(
    path: Path, mapping: Mapping, locale: str | None, notes: list[str]
) -> tuple[SourceSummary, pd.DataFrame]:
    """Read one export with one mapping: canonical rows (plus helper columns) and the source's accounting."""
    locale = locale or mapping.locale
    rows, encoding = read_cells(path, mapping.encoding, mapping.delimiter, mapping.sheet, locale)
    file = path.name
    if not rows or all(is_blank(r) for r in rows):
        raise UserError(f"{file}: the file is empty")
    header_index = locate_header(rows, mapping.alias_keys, mapping.header_row)
    headers = [("" if h is None else str(h)) for h in rows[header_index]]
    kind = detect_kind(mapping, headers, file)
    source = SourceSummary(
        file=str(path),
        preset=mapping.name,
        kind=kind.name,
        table=kind.table,
        encoding=encoding,
        header_row=header_index + 1,
    )
    above = rows[:header_index]
    source.rows_read = len(rows) - 1
    if above:
        source.dropped["title row above the header"] += sum(not is_blank(r) for r in above)
        source.dropped["blank row"] += sum(is_blank(r) for r in above)
    body = body_rows(rows[header_index + 1 :], mapping, source.dropped)
    resolved = resolve_columns(headers, kind, mapping)
    source.columns = {f: r.header for f, r in resolved.items()}
    used = {r.index for r in resolved.values()}
    source.ignored_columns = [
        str(h) for i, h in enumerate(headers) if i not in used and parsing.clean_text(h)
    ]
    width = len(headers)
    body = [list(r[:width]) + [None] * (width - len(r)) for r in body]
    frame = pd.DataFrame(index=range(len(body)))
    for fname, res in resolved.items():
        raw = [r[res.index] for r in body]
        frame[fname] = pd.Series(
            parse_field(raw, fname, kind, mapping, res, file, locale, notes), dtype=object
        )
    apply_values(frame, kind, file, resolved)
    frame = finish_frame(frame, kind, source, notes)
    frame = required_check(frame, kind, source, headers)
    source.rows_kept = len(frame)
    source.dropped = +source.dropped  # drop zero counts
    return source, frame.reset_index(drop=True)


def _side_rows(frame: pd.DataFrame, source: SourceSummary, kind: Kind) -> dict[str, pd.DataFrame]:
    """Reps (id, name) from owner names; customers and products (id, name) when an id and a name were read."""
    out = {}
    for id_field, name_field in (("rep_id", "rep_name"), ("owner_rep_id", "owner_rep_name")):
        if name_field in frame and id_field in frame:
            reps = (
                frame[[id_field, name_field]]
                .dropna(subset=[id_field])
                .rename(columns={id_field: "rep_id", name_field: "name"})
            )
            out["reps"] = pd.concat([out.get("reps", pd.DataFrame()), reps], ignore_index=True)
    for table, id_field, name_field in (
        ("customers", "customer_id", "customer_name"),
        ("products", "product_id", "product_name"),
    ):
        if (
            kind.table != table
            and id_field in source.columns
            and name_field in source.columns
            and source.columns[id_field] != source.columns[name_field]
        ):
            out[table] = (
                frame[[id_field, name_field]].dropna(subset=[id_field]).rename(columns={name_field: "name"})
            )
    return out


def _dedupe(frame: pd.DataFrame, key: str, table: TableSummary, reason: str) -> pd.DataFrame:
    duplicated = frame.duplicated(subset=[key], keep="first")
    if duplicated.any():
        table.dropped[reason] += int(duplicated.sum())
    return frame[~duplicated]


def _history_changes(frame: pd.DataFrame, table: TableSummary) -> pd.DataFrame:
    """Keep the rows where a deal's stage changes (Salesforce also logs amount and date edits)."""
    frame = frame.sort_values(["opportunity_id", "entered_at"], kind="stable")
    previous = frame.groupby("opportunity_id")["stage"].shift()
    repeat = previous.eq(frame["stage"])
    if repeat.any():
        table.dropped["stage unchanged (an amount or date edit)"] += int(repeat.sum())
    return frame[~repeat]


def _reconcile(tables: dict[str, pd.DataFrame], summary: ImportSummary) -> None:
    """Where one file keyed customers/reps by name and another by id, re-key the names to the ids."""
    for lookup, key, targets in (
        (
            "customers",
            "customer_id",
            [("opportunities", "customer_id"), ("orders", "customer_id"), ("activities", "customer_id")],
        ),
        (
            "reps",
            "rep_id",
            [
                ("opportunities", "rep_id"),
                ("orders", "rep_id"),
                ("activities", "rep_id"),
                ("customers", "owner_rep_id"),
            ],
        ),
    ):
        if lookup not in tables or "name" not in tables[lookup]:
            continue
        ref = tables[lookup].dropna(subset=["name"])
        ref = ref[ref["name"] != ref[key]]
        unique = ref.drop_duplicates("name", keep=False)
        by_name = dict(zip(unique["name"], unique[key], strict=True))
        ids = set(tables[lookup][key])
        for table, column in targets:
            if table not in tables or column not in tables[table]:
                continue
            col = tables[table][column]
            swap = col.map(lambda v, known=ids, names=by_name: v not in known and v in names)
            if swap.any():
                tables[table].loc[swap, column] = col[swap].map(by_name)
                summary.notes.append(
                    f"{table}.{column}: {int(swap.sum())} name(s) replaced by the {lookup} id with that name"
                )
    if "reps" in tables:
        reps = tables["reps"]
        name_only = reps["rep_id"].eq(reps["name"]) & reps["name"].isin(
            set(reps.loc[reps["rep_id"] != reps["name"], "name"])
        )
        if name_only.any():
            summary.table("reps").dropped["rep known by name and by id (kept the id)"] += int(name_only.sum())
            tables["reps"] = reps[~name_only]


def _write(frame: pd.DataFrame, table_name: str, out_dir: Path) -> Path:
    table = TABLES[table_name]
    columns = [c for c in table.names if c in frame and (frame[c].notna().any() or c in table.required)]
    path = out_dir / f"{table_name}.csv"
    frame[columns].to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path


def run_import(
    sources: list[str | Path],
    out_dir: str | Path,
    preset: str | None = None,
    mapping: str | Path | None = None,
    locale: str | None = None,
) -> ImportSummary:
    """Convert CRM export files into canonical ``<table>.csv`` files in ``out_dir``.

    Parameters
    ----------
    sources : list of str or Path
        Export files (.csv/.tsv/.txt in UTF-8, UTF-8 with BOM, UTF-16, GBK/GB18030 or cp1252; or .xlsx).
        Folders are expanded to the files they contain.
    out_dir : str or Path
        Folder for the canonical CSVs (created). Tables produced here replace same-named files; others stay.
    preset : str, optional
        ``salesforce``, ``hubspot``, ``zoho`` or ``fxiaoke``.
    mapping : str or Path, optional
        A mapping YAML file (see docs/import.md). Without preset or mapping the preset is detected per file.
    locale : str, optional
        Number and date locale such as ``de_DE`` or ``en_GB`` (overrides the mapping's ``locale:``).

    Returns
    -------
    ImportSummary
        Rows read / written / dropped by reason per table, the files written and notes.
    """
    if preset and mapping:
        raise UserError(
            "give either a preset or a mapping file, not both",
            hint="a mapping file can start with 'extends: <preset>' to build on a preset",
        )
    files = _expand(sources)
    out = Path(out_dir)
    summary = ImportSummary(out_dir=out)
    fixed = load_mapping(mapping if mapping else preset) if (mapping or preset) else None
    frames: dict[str, list[pd.DataFrame]] = {}
    derived: dict[str, list[pd.DataFrame]] = {}
    for path in files:
        chosen = fixed or auto_mapping(path, locale)
        source, frame = import_file(path, chosen, locale, summary.notes)
        summary.sources.append(source)
        table = summary.table(source.table)
        table.rows_read += source.rows_read
        table.dropped.update(source.dropped)
        table.sources.append(source.file)
        frames.setdefault(source.table, []).append(frame)
        for side_table, rows in _side_rows(frame, source, chosen.kinds[source.kind]).items():
            derived.setdefault(side_table, []).append(rows)
    tables = _assemble(frames, derived, summary)
    _reconcile(tables, summary)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        summary.table(name).rows_written = len(frame)
        summary.files_written.append(_write(frame, name, out))
    if "orders" not in tables:
        summary.notes.append(
            "no orders table was imported: '--data' needs orders.csv (import a sales-order export "
            "or an order file with a mapping)"
        )
    return summary


def _assemble(
    frames: dict[str, list[pd.DataFrame]], derived: dict[str, list[pd.DataFrame]], summary: ImportSummary
) -> dict[str, pd.DataFrame]:
    tables: dict[str, pd.DataFrame] = {}
    for name, parts in frames.items():
        frame = pd.concat(parts, ignore_index=True)
        key = TABLES[name].key
        if key and name != "orders":
            frame = _dedupe(frame, key, summary.table(name), f"duplicate {key}")
        if name == "opportunity_history":
            frame = _history_changes(frame, summary.table(name))
        tables[name] = frame
    for name, parts in derived.items():
        extra = pd.concat(parts, ignore_index=True)
        extra = extra.sort_values("name", na_position="last", kind="stable")
        t = summary.table(name)
        t.rows_derived += len(extra)
        if name in tables:
            known = extra[extra[TABLES[name].key].isin(set(tables[name][TABLES[name].key]))]
            t.dropped[f"derived {name} row already in the {name} file"] += len(known)
            extra = extra.drop(known.index)
            extra = _dedupe(extra, TABLES[name].key, t, f"derived {name} row repeated")
            tables[name] = pd.concat([tables[name], extra], ignore_index=True)
        else:
            tables[name] = _dedupe(extra, TABLES[name].key, t, f"derived {name} row repeated")
    return tables


def _expand(sources: list[str | Path]) -> list[Path]:
    if isinstance(sources, (str, Path)):
        sources = [sources]
    files: list[Path] = []
    for src in sources:
        path = Path(src)
        if path.is_dir():
            files += sorted(
                p for p in path.iterdir() if p.suffix.lower() in (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")
            )
        elif path.exists():
            files.append(path)
        else:
            raise UserError(f"{path}: no such file")
    if not files:
        raise UserError("no export files to import", hint="give CSV or XLSX files (or folders holding them)")
    return files

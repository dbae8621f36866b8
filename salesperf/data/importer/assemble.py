"""One file to canonical rows (:func:`import_file`) and all files to canonical tables (:func:`run_import`):
derived columns, required columns, side tables (reps, customers, products named in other files), de-
duplication, re-keying names to ids and writing ``<table>.csv``.
"""

from __future__ import annotations

import fnmatch
import re
from collections import Counter
from pathlib import Path

import pandas as pd

from salesperf.core.errors import UserError
from salesperf.data import parsing
from salesperf.data.importer.accounting import MERGED_TABLES, merge_repeated, write_accounting
from salesperf.data.importer.columns import resolve_columns
from salesperf.data.importer.convert import (
    apply_values,
    memo_map,
    opportunity_status,
    order_status,
    parse_field,
    route_close_date,
)
from salesperf.data.importer.detect import auto_mapping, detect_kind
from salesperf.data.importer.mapping import HELPER_FIELDS, Join, Kind, Mapping, load_mapping, value_key
from salesperf.data.importer.read import body_rows, is_blank, locate_header, read_cells
from salesperf.data.importer.summary import ImportSummary, SourceSummary, TableSummary
from salesperf.data.schema import TABLES


def _drop(frame: pd.DataFrame, mask: pd.Series, source: SourceSummary, reason: str) -> pd.DataFrame:
    """Drop the rows of ``mask`` under ``reason``, keeping up to three example line numbers."""
    n = int(mask.sum())
    if n:
        source.dropped[reason] += n
        if "_line" in frame:
            source.examples.setdefault(reason, []).extend(
                f"line {int(v)}" for v in frame.loc[mask, "_line"].head(3)
            )
    return frame[~mask]


def finish_frame(frame: pd.DataFrame, kind: Kind, source: SourceSummary, notes: list[str]) -> pd.DataFrame:
    for fname, terms in kind.derive.items():
        if all(name in frame for name, _ in terms):
            product = pd.Series(1.0, index=frame.index)
            for name, complement in terms:
                value = pd.to_numeric(frame[name], errors="coerce")
                if complement:  # (1 - discount): a blank discount is no discount
                    value = 1 - value.fillna(0)
                product = product * value
            product = product.round(6).astype(object).where(product.notna(), None)
            frame[fname] = frame[fname].where(frame[fname].notna(), product) if fname in frame else product
    for fname, helper in kind.fallbacks.items():
        if helper in frame and fname in set(TABLES[kind.table].names) | set(HELPER_FIELDS):
            frame[fname] = (
                frame[fname].where(frame[fname].notna(), frame[helper]) if fname in frame else frame[helper]
            )
    for fname, value in kind.constants.items():
        frame[fname] = frame[fname].where(frame[fname].notna(), str(value)) if fname in frame else str(value)
    if kind.table == "opportunities":
        opportunity_status(frame, kind, source, notes)
        route_close_date(frame, kind)
    if kind.table == "orders":
        _cancellations(frame, kind)
    if kind.table == "orders" and "amount" in frame:
        order_status(frame, kind, source, notes)
    return frame


def _cancellations(frame: pd.DataFrame, kind: Kind) -> None:
    """``cancelled_if``: lines whose id starts with a prefix, or whose flag column is true, are cancelled."""
    rule = kind.cancelled_if
    mask = pd.Series(False, index=frame.index)
    if rule.get("id_prefix") and rule["column"] in frame:
        ids = frame[rule["column"]]
        mask |= ids.map(lambda v, p=rule["id_prefix"]: isinstance(v, str) and v.startswith(p)).astype(bool)
    if "_cancel_flag" in frame:
        mask |= frame["_cancel_flag"].eq(True)
        frame.drop(columns="_cancel_flag", inplace=True)
    if mask.any():
        if "status" not in frame:
            frame["status"] = None
        frame.loc[mask, "status"] = "cancelled"


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
        frame = _drop(frame, frame[col].isna(), source, f"missing {col}")
    return frame


def import_file(
    path: Path, mapping: Mapping, locale: str | None, notes: list[str]
) -> tuple[SourceSummary, pd.DataFrame]:
    """Read one export with one mapping: canonical rows (plus helper columns) and the source's accounting.

    For a mapping with ``tables:`` (one file, several tables) use :func:`import_source`."""
    results = import_source(path, mapping, locale, notes)
    if len(results) != 1:
        raise UserError(f"{path.name}: the mapping makes {len(results)} tables of this file; use run_import")
    return results[0][0], results[0][1]


def import_source(
    path: Path, mapping: Mapping, locale: str | None, notes: list[str]
) -> list[tuple[SourceSummary, pd.DataFrame, Kind]]:
    """Read one export: one (accounting, canonical rows, kind) per table it feeds. A mapping with ``kinds:``
    feeds one table (the kind recognised from the headers); one with ``tables:`` feeds every entry whose
    ``file:`` pattern fits the file name (none: the file is left to the other entries' ``join:``)."""
    locale = locale or mapping.locale
    file = path.name
    if mapping.all_kinds:
        kinds = [k for k in mapping.kinds.values() if k.file is None or _fits(path, k.file)]
        if not kinds:
            return []
    rows, encoding = read_cells(path, mapping.encoding, mapping.delimiter, mapping.sheet, locale)
    if not rows or all(is_blank(r) for r in rows):
        raise UserError(f"{file}: the file is empty")
    header_index = locate_header(rows, mapping.alias_keys, mapping.header_row)
    headers = [("" if h is None else str(h)) for h in rows[header_index]]
    if not mapping.all_kinds:
        kinds = [detect_kind(mapping, headers, file)]
    above = rows[:header_index]
    pre = Counter()
    if above:
        pre["title row above the header"] += sum(not is_blank(r) for r in above)
        pre["blank row"] += sum(is_blank(r) for r in above)
    body, lines = body_rows(rows[header_index + 1 :], mapping, pre, first_line=header_index + 2)
    width = len(headers)
    body = [list(r[:width]) + [None] * (width - len(r)) for r in body]
    out = []
    for kind in kinds:
        source = SourceSummary(
            file=str(path),
            preset=mapping.name,
            kind=kind.name,
            table=kind.table,
            encoding=encoding,
            header_row=header_index + 1,
        )
        source.rows_read = len(rows) - 1
        source.dropped.update(pre)
        k_headers, k_body, k_lines = headers, body, lines
        for join in kind.join:
            k_headers, k_body, k_lines = _join(
                path, join, k_headers, k_body, k_lines, mapping, source, locale
            )
        if kind.join:
            source.rows_read = sum(pre.values()) + len(k_body) + sum(
                n for r, n in source.dropped.items() if r.startswith("no match")
            )
        frame = _kind_frame(kind, mapping, k_headers, k_body, k_lines, source, locale, notes)
        out.append((source, frame, kind))
    return out


def _fits(path: Path, pattern: str) -> bool:
    return fnmatch.fnmatch(path.name.casefold(), pattern.casefold())


def _join(
    path: Path,
    join: Join,
    headers: list[str],
    body: list[list],
    lines: list[int],
    mapping: Mapping,
    source: SourceSummary,
    locale: str | None,
) -> tuple[list[str], list[list], list[int]]:
    """Rows of ``body`` joined with the rows of ``join.file`` (beside the source) whose key matches: one row
    per match (so order lines fan out), the source row alone when nothing matches (``how: left``) or dropped
    and counted (``how: inner``). Columns of the joined file whose header the source already has are left
    out."""
    other = path.parent / join.file
    if not other.exists():
        raise UserError(f"{path.name}: join: no file '{join.file}' beside it ({other})")
    encoding = mapping.encoding if join.encoding == "auto" else join.encoding
    delimiter = mapping.delimiter if join.delimiter == "auto" else join.delimiter
    rows, _ = read_cells(other, encoding, delimiter, 0, locale)
    rows = [r for r in rows if not is_blank(r)]
    if not rows:
        raise UserError(f"{join.file}: the file is empty")
    their = [("" if h is None else str(h)) for h in rows[0]]
    left_key, right_key = (parsing.normalize_header(k) for k in join.on)
    mine = [parsing.normalize_header(h) for h in headers]
    theirs = [parsing.normalize_header(h) for h in their]
    for key, names, where in ((left_key, mine, path.name), (right_key, theirs, join.file)):
        if key not in names:
            raise UserError(
                f"{where}: join on '{key}': no such column",
                hint=f"headers: {', '.join(h for h in (headers if where == path.name else their) if h)}",
            )
    li, ri = mine.index(left_key), theirs.index(right_key)
    extra = [i for i, h in enumerate(theirs) if h and h not in mine]
    index: dict[str, list[list]] = {}
    for row in rows[1:]:
        row = list(row) + [None] * (len(their) - len(row))
        index.setdefault(_join_key(row[ri]), []).append([row[i] for i in extra])
    blank = [None] * len(extra)
    out_rows, out_lines, missing = [], [], []
    for row, line in zip(body, lines, strict=True):
        matches = index.get(_join_key(row[li]))
        if matches:
            out_rows += [row + m for m in matches]
            out_lines += [line] * len(matches)
        elif join.how == "left":
            out_rows.append(row + blank)
            out_lines.append(line)
        else:
            missing.append(line)
    if missing:
        reason = f"no match in {join.file}"
        source.dropped[reason] += len(missing)
        source.examples.setdefault(reason, []).extend(f"line {n}" for n in missing[:3])
    return headers + [their[i] for i in extra], out_rows, out_lines


def _join_key(value: object) -> str | None:
    text = parsing.clean_text(value)
    if text is not None and (m := re.match(r"^(-?\d+)\.0+$", text)):
        return m.group(1)
    return text


def _kind_frame(
    kind: Kind,
    mapping: Mapping,
    headers: list[str],
    body: list[list],
    lines: list[int],
    source: SourceSummary,
    locale: str | None,
    notes: list[str],
) -> pd.DataFrame:
    """One kind's canonical rows from the (joined) cells: filters on source values, parsing, rules."""
    file = Path(source.file).name
    resolved = resolve_columns(headers, kind, mapping)
    source.columns = {f: r.header for f, r in resolved.items()}
    used = {r.index for r in resolved.values()}
    frame = pd.DataFrame({"_line": lines}, dtype=object)
    mask = _source_filters(kind, headers, body, resolved, file)
    for reason, drop in mask.items():
        frame = _drop(frame, pd.Series(drop, index=range(len(body))).reindex(frame.index), source, reason)
    body = [body[i] for i in frame.index]
    frame = frame.reset_index(drop=True)
    flag = kind.cancelled_if.get("flag")
    if flag:
        fi = _header_index(headers, flag)
        if fi is None:
            raise UserError(f"{file}: cancelled_if.flag: no column '{flag}'")
        used.add(fi)
        frame["_cancel_flag"] = memo_map(lambda v: _or_none(parsing.parse_bool, v), [r[fi] for r in body])
    source.ignored_columns = [
        str(h) for i, h in enumerate(headers) if i not in used and parsing.clean_text(h)
    ]
    for fname, res in resolved.items():
        raw = [r[res.index] for r in body]
        frame[fname] = pd.Series(
            parse_field(raw, fname, kind, mapping, res, file, locale, notes), dtype=object
        )
    apply_values(frame, kind, file, resolved)
    frame = finish_frame(frame, kind, source, notes)
    frame = required_check(frame, kind, source, headers)
    if kind.add_up_identical_lines and kind.table == "orders":
        frame = _add_up_identical_lines(frame, source)
    source.rows_kept = len(frame)
    source.dropped = +source.dropped  # drop zero counts
    return frame.reset_index(drop=True)


IDENTICAL_LINES = "repeated order line added up (the source has one row per unit)"


def _add_up_identical_lines(frame: pd.DataFrame, source: SourceSummary) -> pd.DataFrame:
    """``add_up_identical_lines``: order lines equal in every column (the same product, amount and time in one
    order: exports with one row per unit) become one line with the amounts and quantities summed; the rows
    folded away are counted. Without it, validation would take the second unit for a duplicate row."""
    sums = [c for c in ("amount", "quantity") if c in frame]
    keys = [c for c in frame.columns if c != "_line"]
    identity = pd.util.hash_pandas_object(frame[keys].astype(str), index=False)
    repeated = identity.duplicated()
    if not repeated.any():
        return frame
    numbers = frame[sums].apply(pd.to_numeric, errors="coerce").astype(float)
    numbers = numbers.groupby(identity.values).transform("sum")
    kept = frame[~repeated].copy()
    for col in sums:
        kept[col] = numbers.loc[kept.index, col].round(6).astype(object)
    source.dropped[IDENTICAL_LINES] += int(repeated.sum())
    source.examples.setdefault(IDENTICAL_LINES, []).extend(
        f"line {int(v)}" for v in frame.loc[repeated, "_line"].head(3)
    )
    return kept


def _header_index(headers: list[str], name: str) -> int | None:
    key = parsing.normalize_header(name)
    keys = [parsing.normalize_header(h) for h in headers]
    return keys.index(key) if key in keys else None


def _source_filters(
    kind: Kind, headers: list[str], body: list[list], resolved: dict, file: str
) -> dict[str, list[bool]]:
    """``keep_rows``/``drop_rows`` on SOURCE values (before value maps): reason -> rows to drop. A filter
    names a header of the file, or a field of the mapping (its source column)."""
    out: dict[str, list[bool]] = {}
    for filters, keep in ((kind.keep_rows, True), (kind.drop_rows, False)):
        for name, (wanted, label) in filters.items():
            index = resolved[name].index if name in resolved else _header_index(headers, name)
            if index is None:
                if name in kind.columns or name in HELPER_FIELDS:
                    continue  # a mapped field this file does not have
                raise UserError(
                    f"{file}: {'keep_rows' if keep else 'drop_rows'}: no column '{name}'",
                    hint="name a header of the file (or a field mapped under 'columns:')",
                )
            hits = memo_map(lambda v, w=wanted: value_key(v) in w, [r[index] for r in body])
            out[label] = [not h if keep else h for h in hits]
    return out


def _or_none(function, value):
    try:
        return function(value)
    except ValueError:
        return None


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
        table.examples.setdefault(reason, []).extend(str(v) for v in frame.loc[duplicated, key].head(3))
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
        results = import_source(path, chosen, locale, summary.notes)
        if not results:
            summary.notes.append(
                f"{path.name}: no 'tables:' entry reads this file (used only by 'join:', if any)"
            )
        for source, frame, kind in results:
            summary.sources.append(source)
            table = summary.table(source.table)
            table.rows_read += source.rows_read
            table.dropped.update(source.dropped)
            table.sources.append(source.file)
            frames.setdefault(source.table, []).append(frame)
            for side_table, rows in _side_rows(frame, source, kind).items():
                derived.setdefault(side_table, []).append(rows)
    tables = _assemble(frames, derived, summary)
    _reconcile(tables, summary)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        summary.table(name).rows_written = len(frame)
        summary.files_written.append(_write(frame, name, out))
    summary.accounting_file = write_accounting(summary, out)
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
        frame = pd.concat(parts, ignore_index=True).drop(columns="_line", errors="ignore")
        key = TABLES[name].key
        if name in MERGED_TABLES:
            frame = merge_repeated(frame, key, summary.table(name))
        elif key and name != "orders":
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

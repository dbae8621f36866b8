"""One export file to canonical rows: :func:`import_source` reads the cells, finds the header row and the
kind(s), joins ``join:`` files, filters rows on source values, parses every mapped column, derives columns and
statuses (:func:`finish_frame`), drops rows missing a required column (:func:`required_check`) and adds up
repeated order lines. Every row read is kept or counted under a drop reason in the file's ``SourceSummary``.
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from salesperf.core.errors import UserError
from salesperf.data import parsing
from salesperf.data.importer.cells import Body, memo_map
from salesperf.data.importer.columns import resolve_columns
from salesperf.data.importer.convert import (
    apply_values,
    opportunity_status,
    order_status,
    route_close_date,
    to_float,
)
from salesperf.data.importer.detect import detect_kind
from salesperf.data.importer.fields import parse_field
from salesperf.data.importer.join import join_rows
from salesperf.data.importer.mapping import Mapping
from salesperf.data.importer.mapping_kinds import HELPER_FIELDS, Kind, value_key
from salesperf.data.importer.read import drop_blank_and_footer_rows, export_header, is_blank, read_export
from salesperf.data.importer.summary import SourceSummary
from salesperf.data.schema import TABLES


def _count_drop(frame: pd.DataFrame, mask: pd.Series, source: SourceSummary, reason: str) -> None:
    """Count the rows of ``mask`` under ``reason``, keeping up to three example line numbers."""
    n = int(mask.sum())
    if n:
        source.dropped[reason] += n
        if "_line" in frame:
            source.examples.setdefault(reason, []).extend(
                f"line {int(v)}" for v in frame.loc[mask, "_line"].head(3)
            )


def _drop(frame: pd.DataFrame, mask: pd.Series, source: SourceSummary, reason: str) -> pd.DataFrame:
    """Drop the rows of ``mask`` under ``reason``, keeping up to three example line numbers."""
    _count_drop(frame, mask, source, reason)
    return frame[~mask] if mask.any() else frame


def finish_frame(frame: pd.DataFrame, kind: Kind, source: SourceSummary, notes: list[str]) -> pd.DataFrame:
    """Derived columns, fallbacks, constants and the table's own rules, in place on ``frame``.

    ``derive:`` products fill blank cells, ``fallbacks:`` copy a helper into a blank column, ``constants:``
    fill what is still blank; opportunities get their status and close date, orders their cancellations and
    status.

    Parameters
    ----------
    frame : DataFrame
        Parsed rows of one kind (canonical and helper columns).
    kind : Kind
        The kind the rows were read with.
    source : SourceSummary
        Accounting of the source file.
    notes : list of str
        Notes for the import summary, appended to.

    Returns
    -------
    DataFrame
        ``frame``, completed.
    """
    for fname, terms in kind.derive.items():
        if all(name in frame for name, _ in terms):
            product = pd.Series(1.0, index=frame.index)
            for name, complement in terms:
                value = to_float(frame[name])
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
        prefix = rule["id_prefix"]
        starts = memo_map(
            lambda v, p=prefix: isinstance(v, str) and v.startswith(p), ids.to_numpy(dtype=object)
        )
        mask |= starts.astype(bool)
    if "_cancel_flag" in frame:
        mask |= frame["_cancel_flag"].eq(True)
        frame.drop(columns="_cancel_flag", inplace=True)
    if mask.any():
        if "status" not in frame:
            frame["status"] = None
        frame.loc[mask, "status"] = "cancelled"


def required_check(frame: pd.DataFrame, kind: Kind, source: SourceSummary, headers: list) -> pd.DataFrame:
    """Refuse a file without a column for a required field; drop (and count) rows where one is blank.

    Parameters
    ----------
    frame : DataFrame
        Rows of one kind after :func:`finish_frame`.
    kind : Kind
        The kind the rows were read with (for the aliases named in the error).
    source : SourceSummary
        Accounting of the source file; dropped rows are counted under ``missing <column>``.
    headers : list
        The file's headers, named in the error.

    Returns
    -------
    DataFrame
        The rows with every required column filled.

    Raises
    ------
    UserError
        When a required column was not found in the file.
    """
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
    gone = pd.Series(False, index=frame.index)
    for col in table.required:
        missing = frame[col].isna() & ~gone
        _count_drop(frame, missing, source, f"missing {col}")
        gone |= missing
    return frame[~gone] if gone.any() else frame


def import_file(
    path: Path, mapping: Mapping, locale: str | None, notes: list[str]
) -> tuple[SourceSummary, pd.DataFrame]:
    """Read one export with one mapping: canonical rows (plus helper columns) and the source's accounting.

    For a mapping with ``tables:`` (one file, several tables) use :func:`import_source`.

    Parameters
    ----------
    path : Path
        The export file.
    mapping : Mapping
        The mapping to read it with.
    locale : str or None
        Number and date locale (overrides the mapping's ``locale:``).
    notes : list of str
        Notes for the import summary, appended to.

    Returns
    -------
    source : SourceSummary
        Rows read, kept and dropped by reason.
    frame : DataFrame
        The canonical rows, with a ``_line`` column (the file line of each row).

    Raises
    ------
    UserError
        When the mapping makes more than one table of the file, or the file cannot be read.
    """
    results = import_source(path, mapping, locale, notes)
    if len(results) != 1:
        raise UserError(f"{path.name}: the mapping makes {len(results)} tables of this file; use run_import")
    return results[0][0], results[0][1]


def import_source(
    path: Path, mapping: Mapping, locale: str | None, notes: list[str]
) -> list[tuple[SourceSummary, pd.DataFrame, Kind]]:
    """Read one export: one (accounting, canonical rows, kind) per table it feeds.

    A mapping with ``kinds:`` feeds one table (the kind recognised from the headers); one with ``tables:``
    feeds every entry whose ``file:`` pattern fits the file name (none: the file is left to the other entries'
    ``join:``).

    Parameters
    ----------
    path : Path
        The export file.
    mapping : Mapping
        The mapping to read it with.
    locale : str or None
        Number and date locale (overrides the mapping's ``locale:``).
    notes : list of str
        Notes for the import summary, appended to.

    Returns
    -------
    list of (SourceSummary, DataFrame, Kind)
        One per table fed, empty when no ``tables:`` entry reads the file.

    Raises
    ------
    UserError
        When the file is empty, its kind is not recognised or a required column is missing.
    """
    locale = locale or mapping.locale
    file = path.name
    if mapping.all_kinds:
        kinds = [k for k in mapping.kinds.values() if k.file is None or _fits(path, k.file)]
        if not kinds:
            return []
    export = read_export(path, mapping.encoding, mapping.delimiter, mapping.sheet, locale)
    header_index = export_header(export, mapping)
    rows = export.head if export.rows is None else export.rows
    if not rows or all(is_blank(r) for r in rows):
        raise UserError(f"{file}: the file is empty")
    headers = [("" if h is None else str(h)) for h in rows[header_index]]
    if not mapping.all_kinds:
        kinds = [detect_kind(mapping, headers, file)]
    above = rows[:header_index]
    pre = Counter()
    if above:
        pre["title row above the header"] += sum(not is_blank(r) for r in above)
        pre["blank row"] += sum(is_blank(r) for r in above)
    body, n_rows = export.body(header_index, len(headers))
    body = drop_blank_and_footer_rows(body, mapping, pre)
    out = []
    for kind in kinds:
        source = SourceSummary(
            file=str(path),
            preset=mapping.name,
            kind=kind.name,
            table=kind.table,
            encoding=export.encoding,
            header_row=header_index + 1,
        )
        source.rows_read = n_rows - 1
        source.dropped.update(pre)
        k_headers, k_body = headers, body
        for join in kind.join:
            k_headers, k_body = join_rows(path, join, k_headers, k_body, mapping, source, locale)
        if kind.join:
            source.rows_read = (
                sum(pre.values())
                + len(k_body)
                + sum(n for r, n in source.dropped.items() if r.startswith("no match"))
            )
        frame = _kind_frame(kind, mapping, k_headers, k_body, source, locale, notes)
        out.append((source, frame, kind))
    return out


def _fits(path: Path, pattern: str) -> bool:
    return fnmatch.fnmatch(path.name.casefold(), pattern.casefold())


def _kind_frame(
    kind: Kind,
    mapping: Mapping,
    headers: list[str],
    body: Body,
    source: SourceSummary,
    locale: str | None,
    notes: list[str],
) -> pd.DataFrame:
    """One kind's canonical rows from the (joined) cells: filters on source values, parsing, rules.

    ``body`` holds n rows (one column per header, blank and footer rows removed); the result has m <= n rows:
    ``_line`` (int) and one object column per canonical or helper field. Drops are counted in ``source``.
    """
    file = Path(source.file).name
    resolved = resolve_columns(headers, kind, mapping)
    source.columns = {f: r.header for f, r in resolved.items()}
    used = {r.index for r in resolved.values()}
    frame = pd.DataFrame({"_line": body.lines})
    mask = _source_filters(kind, headers, body, resolved, file)
    for reason, drop in mask.items():
        frame = _drop(frame, pd.Series(drop).reindex(frame.index), source, reason)
    if len(frame) < len(body):
        body = body.take(frame.index.to_numpy())
    frame.index = pd.RangeIndex(len(frame))  # in place: no copy of the columns
    flag = kind.cancelled_if.get("flag")
    if flag:
        fi = _header_index(headers, flag)
        if fi is None:
            raise UserError(f"{file}: cancelled_if.flag: no column '{flag}'")
        used.add(fi)
        frame["_cancel_flag"] = body.columns[fi].map(lambda v: _or_none(parsing.parse_bool, v))
    source.ignored_columns = [
        str(h) for i, h in enumerate(headers) if i not in used and parsing.clean_text(h)
    ]
    for fname, res in resolved.items():
        values = parse_field(body.columns[res.index], fname, kind, mapping, res, file, locale, notes)
        frame[fname] = pd.Series(values, dtype=object)
    apply_values(frame, kind, file, resolved)
    frame = finish_frame(frame, kind, source, notes)
    frame = required_check(frame, kind, source, headers)
    if kind.add_up_identical_lines and kind.table == "orders":
        frame = _add_up_identical_lines(frame, source)
    source.rows_kept = len(frame)
    source.dropped = +source.dropped  # drop zero counts
    frame.index = pd.RangeIndex(len(frame))
    return frame


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
    kind: Kind, headers: list[str], body: Body, resolved: dict, file: str
) -> dict[str, np.ndarray]:
    """``keep_rows``/``drop_rows`` on SOURCE values (before value maps): reason -> rows to drop. A filter
    names a header of the file, or a field of the mapping (its source column)."""
    out: dict[str, np.ndarray] = {}
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
            hits = body.columns[index].map(lambda v, w=wanted: value_key(v) in w).astype(bool)
            out[label] = ~hits if keep else hits
    return out


def _or_none(function, value):
    try:
        return function(value)
    except ValueError:
        return None

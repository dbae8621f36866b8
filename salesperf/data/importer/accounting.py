"""The import accounting file (``import_accounting.csv``, written beside the tables) and one row per key for
the dimension tables (customers, products, reps) read from flat files that repeat them on every line.

The file has one line per (table, source, kind, reason): ``read`` (rows read from a source), ``derived``
(rows made from another table's file, e.g. reps from owner names), ``dropped`` (rows not written, by reason,
with up to three example lines), ``merged`` (repeated rows of one customer/product/rep folded into one),
``written`` (rows in ``<table>.csv``) and ``conflict`` (keys whose rows disagree on an attribute: the number
of keys, not rows; nothing is dropped for it). Per table,
``sum(read) + sum(derived) == written + sum(dropped) + sum(merged)``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd

from salesperf.data.importer.summary import ImportSummary, TableSummary
from salesperf.data.schema import TABLES

ACCOUNTING_FILE = "import_accounting.csv"
ACCOUNTING_COLUMNS = ["table", "source", "kind", "reason", "rows", "examples"]
#: Tables whose rows describe one key each; a flat file repeats them, and repeated rows are merged to one.
MERGED_TABLES = ("customers", "products", "reps")
MERGED_PREFIX = "repeated "


def merge_repeated(frame: pd.DataFrame, key: str, table: TableSummary) -> pd.DataFrame:
    """One row per ``key``: each attribute takes its most frequent non-blank value among the key's rows, ties
    going to the latest (by the helper column ``row_date`` when mapped, else the later row read). The rows
    merged away are counted as dropped ("repeated <key> row merged"); keys whose rows disagree on an attribute
    are counted per attribute in ``table.conflicts`` with the value kept."""
    frame = frame.reset_index(drop=True)
    repeated = frame.duplicated(subset=[key], keep=False)
    if not repeated.any():
        return frame
    single = frame[~repeated]
    multi = frame[repeated].copy()
    multi["_order"] = range(len(multi))
    if "row_date" in multi:
        multi["_order"] = list(zip(multi["row_date"].fillna(""), multi["_order"], strict=True))
    attributes = [c for c in multi.columns if c not in (key, "_order", "row_date")]
    merged_rows = []
    conflicts: dict[str, list[str]] = {}
    for key_value, rows in multi.groupby(key, sort=True):
        rows = rows.sort_values("_order", key=lambda s: s.map(_sortable))
        out = {key: key_value}
        for col in attributes:
            values = rows[col].dropna()
            if values.empty:
                out[col] = None
                continue
            counts = Counter(values)
            if len(counts) > 1:
                top = max(counts.values())
                tied = {v for v, n in counts.items() if n == top}
                out[col] = next(v for v in reversed(list(values)) if v in tied)  # latest of the most frequent
                shown = " / ".join(f"{v} ({n})" for v, n in counts.most_common(3))
                conflicts.setdefault(col, []).append(f"{key_value}: {shown} -> {out[col]}")
            else:
                out[col] = values.iloc[0]
        if "row_date" in rows:
            out["row_date"] = rows["row_date"].dropna().max() if rows["row_date"].notna().any() else None
        merged_rows.append(out)
    n_merged = len(multi) - len(merged_rows)
    reason = f"{MERGED_PREFIX}{key} row merged (one row per {key})"
    table.dropped[reason] += n_merged
    table.examples.setdefault(reason, []).extend(str(k) for k in list(multi[key].drop_duplicates())[:3])
    for col, found in conflicts.items():
        label = (
            f"{table.table} with conflicting {col} values (kept the most frequent; ties: the latest)"
        )
        table.conflicts[label] = (len(found), found[:3])
    merged = pd.DataFrame(merged_rows, columns=[c for c in frame.columns if c != "_order"])
    return pd.concat([single, merged], ignore_index=True)


def _sortable(value):
    return value if isinstance(value, (int, tuple)) else (str(value), 0)


def accounting_frame(summary: ImportSummary) -> pd.DataFrame:
    """The rows of ``import_accounting.csv`` for one import."""
    rows = []
    by_source: dict[str, Counter] = {}
    for src in summary.sources:
        rows.append([src.table, Path(src.file).name, "read", "", src.rows_read, ""])
        for reason, n in sorted(src.dropped.items()):
            shown = ", ".join(list(dict.fromkeys(src.examples.get(reason, [])))[:3])
            kind = "merged" if reason.startswith(MERGED_PREFIX) else "dropped"
            rows.append([src.table, Path(src.file).name, kind, reason, n, shown])
        by_source.setdefault(src.table, Counter()).update(src.dropped)
    for name, t in summary.tables.items():
        if t.rows_derived:
            rows.append([name, "", "derived", "made from other tables' files", t.rows_derived, ""])
        table_level = t.dropped - by_source.get(name, Counter())
        for reason, n in sorted(table_level.items()):
            kind = "merged" if reason.startswith(MERGED_PREFIX) else "dropped"
            rows.append([name, "", kind, reason, n, ", ".join(t.examples.get(reason, [])[:3])])
        for reason, (n, shown) in sorted(t.conflicts.items()):
            rows.append([name, "", "conflict", reason, n, "; ".join(shown)])
        rows.append([name, "", "written", f"{name}.csv", t.rows_written, ""])
    order = {name: i for i, name in enumerate(TABLES)}
    frame = pd.DataFrame(rows, columns=ACCOUNTING_COLUMNS)
    frame["_t"] = frame["table"].map(lambda t: order.get(t, len(order)))
    return frame.sort_values("_t", kind="stable").drop(columns="_t").reset_index(drop=True)


def write_accounting(summary: ImportSummary, out_dir: Path) -> Path:
    path = Path(out_dir) / ACCOUNTING_FILE
    accounting_frame(summary).to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path


def read_import_accounting(folder: str | Path) -> pd.DataFrame:
    """The import accounting written by ``salesperf import`` into a data folder (columns ``table``,
    ``source``, ``kind``, ``reason``, ``rows``, ``examples``); an empty frame with those columns when the
    folder has none (tables that were not made by the import)."""
    path = Path(folder) / ACCOUNTING_FILE
    if not path.exists():
        empty = {c: pd.Series(dtype="int64" if c == "rows" else object) for c in ACCOUNTING_COLUMNS}
        return pd.DataFrame(empty)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    frame["rows"] = frame["rows"].astype("int64")
    return frame[ACCOUNTING_COLUMNS]

"""One row per entity once every file is read: side tables (reps, customers, products named in other
files), de-duplication by key, stage changes only in the opportunity history, and re-keying names to ids where
one file keyed customers/reps by name and another by id. Each row set aside is counted in the
``ImportSummary``.
"""

from __future__ import annotations

import pandas as pd

from salesperf.data.importer.accounting import MERGED_TABLES, merge_repeated
from salesperf.data.importer.cells import text_order
from salesperf.data.importer.mapping_kinds import Kind
from salesperf.data.importer.summary import ImportSummary, SourceSummary, TableSummary
from salesperf.data.schema import TABLES


def side_rows(frame: pd.DataFrame, source: SourceSummary, kind: Kind) -> dict[str, pd.DataFrame]:
    """Rows of side tables named in one source: reps (id, name) from owner names; customers and products
    (id, name) when the source had both an id and a name column for them.

    Parameters
    ----------
    frame : DataFrame
        The source's canonical rows (with helper columns).
    source : SourceSummary
        Accounting of the source (which headers fed which fields).
    kind : Kind
        The kind the source was read with (a customers file derives no customers).

    Returns
    -------
    dict of str to DataFrame
        Side table name -> its rows (key column and ``name``).
    """
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


def reconcile(tables: dict[str, pd.DataFrame], summary: ImportSummary) -> None:
    """Where one file keyed customers/reps by name and another by id, re-key the names to the ids.

    A name is replaced only when it is not an id already and exactly one row of the lookup table carries it.
    Reps known both by name alone and by id keep the id row. Works in place.

    Parameters
    ----------
    tables : dict of str to DataFrame
        The assembled tables, changed in place.
    summary : ImportSummary
        Gets a note per re-keyed column and the count of rep rows set aside.
    """
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


def assemble_tables(
    frames: dict[str, list[pd.DataFrame]], derived: dict[str, list[pd.DataFrame]], summary: ImportSummary
) -> dict[str, pd.DataFrame]:
    """One frame per canonical table: the sources' rows concatenated and reduced to one row per key, then
    the side-table rows no file of that table already has.

    Parameters
    ----------
    frames : dict of str to list of DataFrame
        Table -> the canonical rows read for it, one frame per source.
    derived : dict of str to list of DataFrame
        Side table -> rows named in other files (:func:`side_rows`).
    summary : ImportSummary
        Rows merged, de-duplicated or set aside are counted under their table.

    Returns
    -------
    dict of str to DataFrame
        Table -> its rows (without ``_line``).
    """
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
        extra = extra.iloc[text_order(extra["name"])]
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

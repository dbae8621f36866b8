"""The customer-level export table (pure frames; the caller writes the CSV)."""

from __future__ import annotations

import pandas as pd

EXPORT_COLUMNS = [
    "customer_id", "recency", "frequency", "monetary", "r_score", "f_score", "m_score", "segment", "segment_cn8",
    "status", "abc_tier", "grade", "cluster", "suggestion_1", "suggestion_2", "suggestion_3", "owner_rep_id",
]


def customer_table(rfm_customers: pd.DataFrame, status: pd.DataFrame | None = None,
                   abc: pd.DataFrame | None = None, grades: pd.DataFrame | None = None,
                   clusters: pd.DataFrame | None = None, suggestions: pd.DataFrame | None = None,
                   owners: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per customer with every segmentation result side by side.

    Parameters
    ----------
    rfm_customers : DataFrame
        ``RfmSegmentation.customers`` (customer_id, recency, frequency, monetary, r/f/m scores, segment,
        segment_cn8).
    status, abc, grades, clusters, suggestions, owners : DataFrame, optional
        Per customer_id: status; abc_tier; grade; cluster; suggestion_1..3; owner_rep_id. Customers present only
        in ``status`` (potential customers who never bought) are added with empty RFM columns.

    Returns
    -------
    DataFrame
        Columns :data:`EXPORT_COLUMNS` (missing inputs give empty columns), sorted by customer_id.
    """
    base = rfm_customers.set_index("customer_id")
    ids = base.index if status is None else base.index.union(pd.Index(status["customer_id"]), sort=False)
    ids = ids.sort_values()
    parts = [base[[c for c in EXPORT_COLUMNS[1:] if c in base]].reindex(ids)]
    pieces = [(status, ["status"]), (abc, ["abc_tier"]), (grades, ["grade"]), (clusters, ["cluster"]),
              (suggestions, ["suggestion_1", "suggestion_2", "suggestion_3"]), (owners, ["owner_rep_id"])]
    for frame, cols in pieces:
        if frame is None:
            continue
        indexed = frame.set_index("customer_id")
        parts.append(indexed[[c for c in cols if c in indexed]].reindex(ids))  # one key lookup per input frame
    table = pd.concat(parts, axis=1).reindex(columns=EXPORT_COLUMNS[1:])
    table.index.name = "customer_id"
    table = table.reset_index()
    if table["cluster"].notna().all() and len(table):
        table["cluster"] = table["cluster"].astype("int64")
    else:
        table["cluster"] = table["cluster"].astype("Int64")
    for col in ("frequency", "r_score", "f_score", "m_score", "recency"):
        if table[col].isna().any():
            table[col] = table[col].astype("Int64")
    return table

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
    table = rfm_customers.copy()
    pieces = [(status, ["status"]), (abc, ["abc_tier"]), (grades, ["grade"]), (clusters, ["cluster"]),
              (suggestions, ["suggestion_1", "suggestion_2", "suggestion_3"]), (owners, ["owner_rep_id"])]
    for frame, cols in pieces:
        if frame is None:
            continue
        keep = ["customer_id"] + [c for c in cols if c in frame]
        how = "outer" if frame is status else "left"
        table = table.drop(columns=[c for c in cols if c in table]).merge(frame[keep], on="customer_id", how=how)
    table = table.reindex(columns=EXPORT_COLUMNS)
    if table["cluster"].notna().all() and len(table):
        table["cluster"] = table["cluster"].astype("int64")
    else:
        table["cluster"] = table["cluster"].astype("Int64")
    for col in ("frequency", "r_score", "f_score", "m_score", "recency"):
        if table[col].isna().any():
            table[col] = table[col].astype("Int64")
    return table.sort_values("customer_id", ignore_index=True)

"""The customer-level export table (pure frames; the caller writes the CSV)."""

from __future__ import annotations

import numpy as np
import pandas as pd

EXPORT_COLUMNS = [
    "customer_id",
    "recency",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "segment",
    "segment_cn8",
    "status",
    "abc_tier",
    "grade",
    "cluster",
    "suggestion_1",
    "suggestion_2",
    "suggestion_3",
    "owner_rep_id",
]


def customer_table(
    rfm_customers: pd.DataFrame,
    status: pd.DataFrame | None = None,
    abc: pd.DataFrame | None = None,
    grades: pd.DataFrame | None = None,
    clusters: pd.DataFrame | None = None,
    suggestions: pd.DataFrame | None = None,
    owners: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per customer with every segmentation result side by side.

    Parameters
    ----------
    rfm_customers : DataFrame
        ``RfmSegmentation.customers`` (customer_id, recency, frequency, monetary, r/f/m scores, segment,
        segment_cn8).
    status, abc, grades, clusters, suggestions, owners : DataFrame, optional
        Per customer_id: status; abc_tier; grade; cluster; suggestion_1..3; owner_rep_id. Customers present
        only in ``status`` (potential customers who never bought) are added with empty RFM columns.

    Returns
    -------
    DataFrame
        Columns :data:`EXPORT_COLUMNS` (missing inputs give empty columns), sorted by customer_id.
    """
    rfm_ids = rfm_customers["customer_id"].to_numpy()
    ids, rfm_rows = pd.Index(rfm_ids), None
    if status is not None:  # usually every RFM customer is in the status table: no union needed
        ids = pd.Index(status["customer_id"].to_numpy())
        rfm_rows = ids.get_indexer(rfm_ids)
        if (rfm_rows < 0).any():
            ids, rfm_rows = ids.union(pd.Index(rfm_ids), sort=False), None
    if not ids.is_monotonic_increasing:
        ids, rfm_rows = ids.sort_values(), None
    ids = pd.Index(ids.to_numpy(), name="customer_id")
    positions = _Positions(ids)
    if rfm_rows is not None:
        positions.remember(rfm_ids, rfm_rows)
    columns = {"customer_id": ids.to_numpy()}
    pieces = [
        (rfm_customers, EXPORT_COLUMNS[1:]),
        (status, ["status"]),
        (abc, ["abc_tier"]),
        (grades, ["grade"]),
        (clusters, ["cluster"]),
        (suggestions, ["suggestion_1", "suggestion_2", "suggestion_3"]),
        (owners, ["owner_rep_id"]),
    ]
    for frame, cols in pieces:
        if frame is None:
            continue
        take = positions.of(frame["customer_id"].to_numpy())
        for col in cols:
            if col in frame and col not in columns:
                columns[col] = _take(frame[col].to_numpy(), take)
    table = pd.DataFrame(columns, copy=False).reindex(columns=EXPORT_COLUMNS, copy=False)
    table["cluster"] = table["cluster"].astype(
        "int64" if table["cluster"].notna().all() and len(table) else "Int64"
    )
    return table


def _take(values: np.ndarray, take: np.ndarray):
    """``values[take]`` with -1 = missing: integers become nullable Int64 when something is missing, else
    NaN / None."""
    missing = take < 0
    if not missing.any():
        return values[take]
    if values.dtype.kind in "iu":
        picked = (
            values[np.where(missing, 0, take)].astype("int64")
            if len(values)
            else np.zeros(len(take), "int64")
        )
        return pd.arrays.IntegerArray(picked, missing)
    return pd.api.extensions.take(values, take, allow_fill=True)


class _Positions:
    """For each table row, the row of an input frame holding that customer (-1: none); frames with the same
    ids in the same order (RFM, tiers, grades, clusters come from one per-customer frame) are looked up
    once."""

    def __init__(self, ids: pd.Index):
        self.ids = ids
        self.seen: list[tuple[np.ndarray, np.ndarray]] = []

    def of(self, frame_ids: np.ndarray) -> np.ndarray:
        for known, take in self.seen:
            if known is frame_ids or (len(known) == len(frame_ids) and bool(np.all(known == frame_ids))):
                return take
        return self.remember(frame_ids, self.ids.get_indexer(frame_ids))

    def remember(self, frame_ids: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Store the table rows of ``frame_ids`` (-1 = not in the table); returns the frame row of each table
        row."""
        take = np.full(len(self.ids), -1, dtype=np.int64)
        found = rows >= 0
        take[rows[found]] = np.flatnonzero(found)
        self.seen.append((frame_ids, take))
        return take

"""Per-customer behavioural features in one DuckDB query (for clusters and segment profiles)."""

from __future__ import annotations

import duckdb
import pandas as pd

from salesperf.segmentation._sql import (
    as_date,
    counted_predicate,
    purchase_predicate,
    quote_literal,
    relation_columns,
    require_columns,
    window_predicate,
)

CATEGORY_PREFIX = "category_share__"
CHANNEL_PREFIX = "channel_share__"
OTHER = "Other"


def share_columns(features: pd.DataFrame, prefix: str) -> dict[str, str]:
    """{column: level} for the share columns with ``prefix`` (e.g. category_share__Hardware -> Hardware)."""
    return {c: c[len(prefix):] for c in features.columns if c.startswith(prefix)}


def _top_levels(con, column: str, as_of, lookback_days, purchase: str, limit: int) -> tuple[list[str], bool]:
    rows = con.execute(f"""
        SELECT {column}, SUM(amount) AS revenue FROM orders
        WHERE {window_predicate(as_of, lookback_days)} AND {purchase} AND {column} IS NOT NULL
        GROUP BY {column} ORDER BY revenue DESC, {column} LIMIT {int(limit) + 1}
    """).fetchall()
    levels = [str(r[0]) for r in rows]
    return levels[:limit], len(levels) > limit


def customer_features_sql(con: duckdb.DuckDBPyConnection, as_of, lookback_days: int | None = None,
                          max_categories: int = 8, max_channels: int = 6) -> pd.DataFrame:
    """Per-customer features for clustering and profiles, computed in DuckDB in one query.

    Uses ``orders`` (category and channel when present) and, when available, ``customers`` (region,
    owner_rep_id), ``activities`` (count per customer up to as_of) and ``feedback`` (mean CSAT and NPS scores).
    Category / channel levels beyond the ``max_*`` largest by revenue are pooled as 'Other'.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    as_of : date-like
    lookback_days : int, optional
        Window for recency/frequency/monetary and the mixes; tenure always uses all history.

    Returns
    -------
    DataFrame
        One row per customer with a purchase in the window: customer_id, recency, frequency, monetary, n_orders,
        gross_revenue (purchase lines only), tenure_days, category_share__<level>..., channel_share__<level>...
        (shares of gross purchase amount, summing to 1), top_category, top_channel, and when available region,
        owner_rep_id, activities, csat, nps_score.
    """
    as_of = as_date(as_of)
    columns = require_columns(con, "orders", ["customer_id", "order_date", "amount"])
    buy, counted = purchase_predicate(columns), counted_predicate(columns)
    window = window_predicate(as_of, lookback_days)
    a = f"DATE '{as_of.isoformat()}'"
    in_window_buy = f"({buy} AND {window})"
    order_key = "order_id" if "order_id" in columns else "order_date"

    sums, shares = [], []
    for column, prefix, limit in (("category", CATEGORY_PREFIX, max_categories),
                                  ("channel", CHANNEL_PREFIX, max_channels)):
        if column not in columns:
            continue
        levels, has_other = _top_levels(con, column, as_of, lookback_days, buy, limit)
        for i, level in enumerate(levels):
            sums.append(f"SUM(CASE WHEN {in_window_buy} AND {column} = {quote_literal(level)} THEN amount ELSE 0 END)"
                        f" AS _{column}_{i}")
            shares.append(f'_{column}_{i} / NULLIF(gross_revenue, 0) AS "{prefix}{level}"')
        if has_other:
            listed = ", ".join(quote_literal(v) for v in levels)
            sums.append(f"SUM(CASE WHEN {in_window_buy} AND ({column} IS NULL OR {column} NOT IN ({listed})) "
                        f"THEN amount ELSE 0 END) AS _{column}_other")
            shares.append(f'_{column}_other / NULLIF(gross_revenue, 0) AS "{prefix}{OTHER}"')

    joins, extra = [], []
    customers = relation_columns(con, "customers") or []
    for col in ("region", "owner_rep_id"):
        if col in customers:
            extra.append(f"c.{col}")
    if extra:
        joins.append("LEFT JOIN customers c ON c.customer_id = p.customer_id")
    activities = relation_columns(con, "activities") or []
    if {"customer_id", "at"} <= set(activities):
        joins.append(f"""LEFT JOIN (SELECT customer_id, COUNT(*) AS activities FROM activities
                         WHERE {window_predicate(as_of, lookback_days, '"at"')} GROUP BY customer_id) act
                         ON act.customer_id = p.customer_id""")
        extra.append("COALESCE(act.activities, 0) AS activities")
    feedback = relation_columns(con, "feedback") or []
    if {"customer_id", "responded_at", "score", "kind"} <= set(feedback):
        joins.append(f"""LEFT JOIN (SELECT customer_id,
                             AVG(CASE WHEN kind = 'csat' THEN score END) AS csat,
                             AVG(CASE WHEN kind = 'nps' THEN score END) AS nps_score
                         FROM feedback WHERE responded_at <= {a} GROUP BY customer_id) fb
                         ON fb.customer_id = p.customer_id""")
        extra += ["fb.csat", "fb.nps_score"]

    sql = f"""
        WITH p AS (
            SELECT customer_id,
                   {a} - CAST(MAX(CASE WHEN {in_window_buy} THEN order_date END) AS DATE) AS recency,
                   COUNT(DISTINCT CASE WHEN {in_window_buy} THEN order_date END) AS frequency,
                   SUM(CASE WHEN {window} THEN amount ELSE 0 END) AS monetary,
                   COUNT(DISTINCT CASE WHEN {in_window_buy} THEN {order_key} END) AS n_orders,
                   SUM(CASE WHEN {in_window_buy} THEN amount ELSE 0 END) AS gross_revenue,
                   {a} - CAST(MIN(CASE WHEN {buy} THEN order_date END) AS DATE) AS tenure_days
                   {''.join(', ' + s for s in sums)}
            FROM orders
            WHERE order_date <= {a} AND {counted}
            GROUP BY customer_id
            HAVING COUNT(CASE WHEN {in_window_buy} THEN 1 END) > 0
        )
        SELECT p.customer_id, p.recency, p.frequency, p.monetary, p.n_orders, p.gross_revenue, p.tenure_days
               {''.join(', ' + s for s in shares)}{''.join(', ' + e for e in extra)}
        FROM p {' '.join(joins)}
        ORDER BY p.customer_id
    """
    frame = con.execute(sql).df()
    frame["customer_id"] = frame["customer_id"].astype(str)
    for prefix, name in ((CATEGORY_PREFIX, "top_category"), (CHANNEL_PREFIX, "top_channel")):
        cols = share_columns(frame, prefix)
        if cols:
            block = frame[list(cols)].fillna(0.0)
            frame[list(cols)] = block
            frame[name] = block.idxmax(axis=1).map(cols)
    return frame

"""Engine work of the lifecycle analysis: every DuckDB query over the canonical ``orders`` (and
``customers``).

Purchase lines, purchase occasions and counted revenue are those of :mod:`salesperf.core.sql`: a *purchase
line* has ``amount > 0`` and is neither cancelled nor returned; a *purchase occasion* is a distinct (customer,
day) with a purchase line; *net revenue* sums every line that is not cancelled (returns netted), *gross
revenue* the purchase lines. A customer's *cohort* is the month (or quarter) of the first purchase occasion;
*age* k counts whole periods since it.

The customer-level RFM summary of the CLV models is :func:`salesperf.analyses.lifecycle.clv.summary_sql`.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from salesperf.analyses.lifecycle.cohorts import GRAINS, check_grain, complete_cohort_grid
from salesperf.analyses.lifecycle.rules import load_rules
from salesperf.core.errors import UserError, examples
from salesperf.core.sql import (
    as_date,
    counted_predicate,
    date_literal,
    purchase_predicate,
    relation_columns,
    require_columns,
)

ORDER_COLUMNS = ("customer_id", "order_date", "amount")
SUMMARY_COLUMNS = (
    "customer_id",
    "first_date",
    "second_date",
    "last_date",
    "occasions",
    "occasions_before_recent",
    "typical_gap_days",
    "typical_gap_before_recent_days",
    "recent_max_gap_days",
    "revenue_net",
    "revenue_gross",
    "revenue_12m",
)


def _lines_cte(con: duckdb.DuckDBPyConnection, day: date, extra: str = "") -> str:
    """``lines``: the counted lines up to ``day`` with ``is_purchase``; ``extra`` adds columns of orders."""
    columns = require_columns(con, "orders", ORDER_COLUMNS)
    return f"""lines AS (
            SELECT CAST(customer_id AS VARCHAR) AS customer_id, CAST(order_date AS DATE) AS order_date,
                   CAST(amount AS DOUBLE) AS amount, {purchase_predicate(columns)} AS is_purchase{extra}
            FROM orders
            WHERE CAST(order_date AS DATE) <= {date_literal(day)} AND {counted_predicate(columns)}
              AND customer_id IS NOT NULL
        )"""


def holds_values(con: duckdb.DuckDBPyConnection, relation: str, column: str) -> bool:
    """Whether ``relation`` has ``column`` with at least one value (a validated table carries every canonical
    column, empty where the source had none)."""
    if column not in (relation_columns(con, relation) or []):
        return False
    [(held,)] = con.execute(f'SELECT count("{column}") > 0 FROM {relation}').fetchall()  # none left open
    return bool(held)


def dimension_source(con: duckdb.DuckDBPyConnection, by: str) -> tuple[str, str]:
    """Where a cohort dimension comes from: ``('orders', column)`` of the first purchase where the order
    lines hold it, else ``('customers', column)``.

    ``customers.channel`` / ``orders.channel`` disambiguates; UserError when neither table holds values in the
    column.
    """
    order_cols = require_columns(con, "orders", ORDER_COLUMNS)
    table, _, column = by.rpartition(".")
    column = column.lower()
    if table in ("", "orders") and holds_values(con, "orders", column):
        return "orders", column
    customer_cols = relation_columns(con, "customers") or []
    if table in ("", "customers") and holds_values(con, "customers", column):
        return "customers", column
    raise UserError(
        f"cohort dimension {by!r} is neither an orders column nor a customers column",
        hint=f"orders has {examples(order_cols, 12)}; "
        f"customers has {examples(customer_cols, 12) or 'no table'}",
    )


def cohort_activity_sql(
    con: duckdb.DuckDBPyConnection, as_of, grain: str = "month", by: str | None = None
) -> pd.DataFrame:
    """Acquisition-cohort activity over the relation ``orders``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection with the canonical relation ``orders`` (and ``customers`` when ``by`` names one of its
        columns).
    as_of : date-like
        Lines after this day are ignored.
    grain : {'month', 'quarter'}
        Cohort and age period.
    by : str, optional
        Compare cohorts by a dimension: an orders column taken from the largest purchase line of the
        customer's first purchase day (ties: the smallest value), or a customers column. Missing values become
        ``'(none)'``.

    Returns
    -------
    DataFrame
        One row per ([by,] cohort, age) for every age the cohort has reached by ``as_of`` (zero-filled):
        ``[by], cohort`` (period label), ``age`` (int), ``customers`` (distinct customers with a purchase
        occasion at that age), ``revenue_net``, ``revenue_gross``, ``cohort_size`` (customers acquired),
        ``is_complete`` (False for the period containing ``as_of`` unless ``as_of`` is its last day). Sorted
        by [by], cohort, age.
    """
    day = as_date(as_of)
    months = check_grain(grain)
    dimension_cte, dim_select, dim_join, dim_line, dims = "", "", "", "", []
    if by is not None:
        source, column = dimension_source(con, by)
        dims = [column]
        dim_select = "coalesce(CAST(d.dim AS VARCHAR), '(none)') AS dim, "
        dim_join = "LEFT JOIN dims d ON d.customer_id = c.customer_id"
        if source == "orders":
            dimension_cte = """,
            first_lines AS (
                SELECT l.customer_id, l.amount, l.dim_value AS dim
                FROM lines l JOIN cohorts c ON l.customer_id = c.customer_id AND l.order_date = c.first_date
                WHERE l.is_purchase
            ),
            dims AS (
                SELECT fl.customer_id, min(fl.dim) AS dim
                FROM first_lines fl
                JOIN (SELECT customer_id, max(amount) AS top FROM first_lines GROUP BY customer_id) t
                  ON t.customer_id = fl.customer_id AND fl.amount = t.top
                GROUP BY fl.customer_id
            )"""
            dim_line = f", {column} AS dim_value"
        else:
            dimension_cte = f""",
            dims AS (SELECT CAST(customer_id AS VARCHAR) AS customer_id, max({column}) AS dim
                     FROM customers GROUP BY CAST(customer_id AS VARCHAR))"""
    age = (
        "(EXTRACT(year FROM cp.period) - EXTRACT(year FROM c.cohort)) * 12"
        " + EXTRACT(month FROM cp.period) - EXTRACT(month FROM c.cohort)"
    )
    sql = f"""
        WITH {_lines_cte(con, day, dim_line)},
        customer_period AS (
            SELECT customer_id, CAST(date_trunc('{grain}', order_date) AS DATE) AS period,
                   max(CASE WHEN is_purchase THEN 1 ELSE 0 END) AS purchased,
                   min(CASE WHEN is_purchase THEN order_date END) AS first_purchase_date,
                   sum(amount) AS revenue_net,
                   sum(CASE WHEN is_purchase THEN amount ELSE 0 END) AS revenue_gross
            FROM lines
            GROUP BY customer_id, CAST(date_trunc('{grain}', order_date) AS DATE)
        ),
        cohorts AS (
            SELECT customer_id, min(period) AS cohort, min(first_purchase_date) AS first_date
            FROM customer_period WHERE purchased = 1 GROUP BY customer_id
        ){dimension_cte}
        SELECT {dim_select}c.cohort, CAST(({age}) / {months} AS INTEGER) AS age,
               sum(cp.purchased) AS customers, sum(cp.revenue_net) AS revenue_net,
               sum(cp.revenue_gross) AS revenue_gross
        FROM customer_period cp
        JOIN cohorts c ON c.customer_id = cp.customer_id
        {dim_join}
        WHERE cp.period >= c.cohort
        GROUP BY ALL
    """
    long = con.sql(sql).df()
    if dims:
        long = long.rename(columns={"dim": dims[0]})
    return complete_cohort_grid(long, day, grain, dims)


def customer_period_revenue_sql(con: duckdb.DuckDBPyConnection, as_of, months: int = 12) -> pd.DataFrame:
    """Each customer's net revenue in the ``months`` months up to ``as_of`` and in the ``months`` before
    those (:func:`customer_period_revenues_sql` for one period end)."""
    day = as_date(as_of)
    return customer_period_revenues_sql(con, [day], months)[day]


def customer_period_revenues_sql(
    con: duckdb.DuckDBPyConnection, ends: list, months: int = 12
) -> dict[date, pd.DataFrame]:
    """For each period end: each customer's net revenue in the ``months`` months up to it and in the
    ``months`` before those, from one scan of the order lines.

    The two windows of the revenue-retention ratios (NRR, GRR): the *base* window ends ``months`` months
    before the period end, the *current* window ends at it; both are ``months`` calendar months long.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection with the relation ``orders``.
    ends : list of date-like
        Period ends (as-of days).
    months : int

    Returns
    -------
    dict of date to DataFrame
        Keyed by each end (as a date), one row per customer with a purchase occasion by that end, sorted by
        ``customer_id``: ``customer_id``, ``first_date`` (first purchase occasion), ``revenue_base``,
        ``revenue_now`` (net revenue in each window, 0 when none).
    """
    days = [as_date(end) for end in ends]
    columns = []
    for i, day in enumerate(days):
        now_start = (pd.Timestamp(day) - pd.DateOffset(months=months)).date()
        base_start = (pd.Timestamp(day) - pd.DateOffset(months=2 * months)).date()
        up_to = f"order_date <= {date_literal(day)}"
        base = f"order_date > {date_literal(base_start)} AND order_date <= {date_literal(now_start)}"
        now = f"order_date > {date_literal(now_start)} AND {up_to}"
        columns += [
            f"min(CASE WHEN is_purchase AND {up_to} THEN order_date END) AS first_{i}",
            f"sum(CASE WHEN {base} THEN amount ELSE 0 END) AS base_{i}",
            f"sum(CASE WHEN {now} THEN amount ELSE 0 END) AS now_{i}",
        ]
    wide = con.sql(
        f"WITH {_lines_cte(con, max(days))} SELECT customer_id, {', '.join(columns)} FROM lines "
        "GROUP BY customer_id HAVING bool_or(is_purchase) ORDER BY customer_id"
    ).df()
    frames = {}
    for i, day in enumerate(days):
        frame = wide.loc[wide[f"first_{i}"].notna(), ["customer_id", f"first_{i}", f"base_{i}", f"now_{i}"]]
        frame.columns = ["customer_id", "first_date", "revenue_base", "revenue_now"]
        frame = frame.reset_index(drop=True)
        frame["first_date"] = pd.to_datetime(frame["first_date"])
        for column in ("revenue_base", "revenue_now"):
            frame[column] = frame[column].astype(float)
        frames[day] = frame
    return frames


def customer_summary_sql(
    con: duckdb.DuckDBPyConnection, as_of, recent_days: int | None = None
) -> pd.DataFrame:
    """Per-customer purchase history at ``as_of`` over the relation ``orders``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection with the canonical relation ``orders``.
    as_of : date-like
        Lines after this day are ignored.
    recent_days : int, optional
        Window for ``recent_max_gap_days`` (default: the rules' ``reactivation_days``).

    Returns
    -------
    DataFrame
        One row per customer with at least one purchase occasion, sorted by ``customer_id`` (str):
        ``first_date``, ``second_date`` (NaT for one-time buyers), ``last_date``, ``occasions`` (purchase
        days), ``occasions_before_recent`` (occasions before the last ``recent_days`` days),
        ``typical_gap_days`` (median days between consecutive occasions; NaN with one occasion),
        ``typical_gap_before_recent_days`` (the same over the occasions before the last ``recent_days`` days:
        the rhythm a comeback is judged against), ``recent_max_gap_days`` (longest gap before an occasion in
        the last ``recent_days`` days; NaN if none), ``revenue_net``, ``revenue_gross``, ``revenue_12m`` (net,
        the 365 days up to ``as_of``).
    """
    day = as_date(as_of)
    recent = load_rules().reactivation_days if recent_days is None else int(recent_days)
    cut = f"{date_literal(day)} - {recent}"
    sql = f"""
        WITH {_lines_cte(con, day)},
        days AS (
            SELECT customer_id, order_date, sum(amount) AS net,
                   sum(CASE WHEN is_purchase THEN amount ELSE 0 END) AS gross,
                   max(CASE WHEN is_purchase THEN 1 ELSE 0 END) AS purchased
            FROM lines GROUP BY customer_id, order_date
        ),
        occasions AS (
            SELECT customer_id, order_date,
                   order_date - lag(order_date) OVER (PARTITION BY customer_id ORDER BY order_date) AS gap,
                   row_number() OVER (PARTITION BY customer_id ORDER BY order_date) AS n
            FROM days WHERE purchased = 1
        ),
        history AS (
            SELECT customer_id, min(order_date) AS first_date,
                   min(CASE WHEN n = 2 THEN order_date END) AS second_date,
                   max(order_date) AS last_date, count(*) AS occasions,
                   sum(CASE WHEN order_date <= {cut} THEN 1 ELSE 0 END) AS occasions_before_recent,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY gap) AS typical_gap_days,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY CASE WHEN order_date <= {cut} THEN gap END)
                       AS typical_gap_before_recent_days,
                   max(CASE WHEN order_date > {cut} THEN gap END) AS recent_max_gap_days
            FROM occasions GROUP BY customer_id
        ),
        money AS (
            SELECT customer_id, sum(net) AS revenue_net, sum(gross) AS revenue_gross,
                   sum(CASE WHEN order_date > {date_literal(day)} - 365 THEN net ELSE 0 END) AS revenue_12m
            FROM days GROUP BY customer_id
        )
        SELECT h.*, m.revenue_net, m.revenue_gross, m.revenue_12m
        FROM history h JOIN money m ON m.customer_id = h.customer_id
        ORDER BY h.customer_id
    """
    return _typed_summary(con.sql(sql).df())


def customer_summary(
    orders: pd.DataFrame,
    as_of,
    recent_days: int | None = None,
    *,
    customer_col: str = "customer_id",
    date_col: str = "order_date",
    amount_col: str = "amount",
    status_col: str = "status",
) -> pd.DataFrame:
    """:func:`customer_summary_sql` of an in-memory orders frame (the same query, on a private DuckDB
    connection).

    Parameters
    ----------
    orders : DataFrame
        One row per order line; the ``*_col`` keywords name its columns.
    as_of, recent_days
        As in :func:`customer_summary_sql`.

    Returns
    -------
    DataFrame
        As :func:`customer_summary_sql`.
    """
    renamed = {
        customer_col: "customer_id",
        date_col: "order_date",
        amount_col: "amount",
        status_col: "status",
    }
    frame = orders.rename(columns={k: v for k, v in renamed.items() if k in orders.columns})
    con = duckdb.connect()
    try:
        con.register("orders", frame)
        return customer_summary_sql(con, as_of, recent_days)
    finally:
        con.close()


def _typed_summary(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reindex(columns=list(SUMMARY_COLUMNS)).copy()
    for column in ("first_date", "second_date", "last_date"):
        frame[column] = pd.to_datetime(frame[column])
    for column in ("occasions", "occasions_before_recent"):
        frame[column] = frame[column].astype("int64")
    for column in SUMMARY_COLUMNS[6:]:
        frame[column] = frame[column].astype(float)
    frame["customer_id"] = frame["customer_id"].astype(str)
    return frame.sort_values("customer_id", ignore_index=True)


__all__ = [
    "GRAINS",
    "SUMMARY_COLUMNS",
    "cohort_activity_sql",
    "customer_period_revenue_sql",
    "customer_summary",
    "customer_summary_sql",
    "dimension_source",
]

"""Engine work of the lifecycle analysis: cohort activity, customer purchase histories and revenue windows,
each one engine-neutral Ibis query (:mod:`salesperf.analyses.lifecycle.history`) that returns a frame of one
row per customer or per cohort cell — the same figures on DuckDB, PostgreSQL and Spark.

Purchase lines, purchase occasions and counted revenue are those of :mod:`salesperf.core.expr`: a *purchase
line* has ``amount > 0`` and is neither cancelled nor returned; a *purchase occasion* is a distinct (customer,
day) with a purchase line; *net revenue* sums every line that is not cancelled (returns netted), *gross
revenue* the purchase lines; money is rounded to cents in the engine. A customer's *cohort* is the month (or
quarter) of the first purchase occasion; *age* k counts whole periods since it.

Each function takes an :class:`~salesperf.data.engine.Engine` (a DuckDB connection is accepted and wrapped) or
a :class:`~salesperf.analyses.lifecycle.history.History` built once per run. The customer-level RFM summary of
the CLV models is :func:`salesperf.analyses.lifecycle.clv.summary_sql`.
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import ibis.expr.types as ir
import pandas as pd

from salesperf.analyses.lifecycle.cohorts import GRAINS, check_grain, complete_cohort_grid
from salesperf.analyses.lifecycle.history import (
    ORDER_COLUMNS,
    History,
    as_days,
    as_engine,
    counted_lines,
    history_of,
    holds_values,
    orders_table,
    table,
)
from salesperf.analyses.lifecycle.rules import load_rules
from salesperf.core.errors import UserError, examples
from salesperf.core.expr import as_date, money, with_middle
from salesperf.data.engine import Engine

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
#: Ibis's truncation unit of each cohort grain.
TRUNCATE = {"month": "M", "quarter": "Q"}
NONE = "(none)"


def dimension_source(source, by: str) -> tuple[str, str]:
    """Where a cohort dimension comes from: ``('orders', column)`` of the first purchase where the order
    lines hold it, else ``('customers', column)``.

    ``customers.channel`` / ``orders.channel`` disambiguates; UserError when neither table holds values in the
    column.
    """
    engine = as_engine(source.engine if isinstance(source, History) else source)
    order_cols = orders_table(engine).columns
    named, _, column = by.rpartition(".")
    column = column.lower()
    if named in ("", "orders") and holds_values(engine, "orders", column):
        return "orders", column
    customers = table(engine, "customers")
    customer_cols = customers.columns if customers is not None else []
    if named in ("", "customers") and holds_values(engine, "customers", column):
        return "customers", column
    raise UserError(
        f"cohort dimension {by!r} is neither an orders column nor a customers column",
        hint=f"orders has {examples(order_cols, 12)}; "
        f"customers has {examples(customer_cols, 12) or 'no table'}",
    )


def _customer_periods(rows: ir.Table, grain: str) -> ir.Table:
    """One row per (customer, period) with activity: ``purchased``, ``first_purchase_date``, ``revenue_net``,
    ``revenue_gross`` (unrounded sums)."""
    period = rows.order_date.truncate(TRUNCATE[grain]).cast("date")
    return rows.group_by(customer_id=rows.customer_id, period=period).aggregate(
        purchased=rows.purchased.any(),
        first_purchase_date=rows.order_date.min(where=rows.purchased),
        revenue_net=rows.net.sum(),
        revenue_gross=rows.gross.sum(),
    )


def _first_line_dimension(engine: Engine, day: date, column: str, cohorts: ir.Table) -> ir.Table:
    """``customer_id, dim``: ``column`` of the largest purchase line of the customer's first purchase day
    (ties: the smallest value)."""
    lines = counted_lines(engine, day, (column,)).rename(dim=column)
    on_first_day = [lines.customer_id == cohorts.customer_id, lines.order_date == cohorts.first_date]
    first = lines.join(cohorts, on_first_day)
    first = first.filter(first.purchased).select("customer_id", "gross", "dim")
    first = first.mutate(top=first.gross.max().over(group_by=first.customer_id))
    first = first.filter(first.gross == first.top)
    return first.group_by("customer_id").aggregate(dim=first.dim.min())


def _customer_dimension(engine: Engine, column: str) -> ir.Table:
    """``customer_id, dim``: the customers table's ``column`` (the largest value of a repeated id)."""
    customers = table(engine, "customers")
    return customers.group_by(customer_id=customers.customer_id.cast("string")).aggregate(
        dim=customers[column].max()
    )


def cohort_activity_sql(source, as_of, grain: str = "month", by: str | None = None) -> pd.DataFrame:
    """Acquisition-cohort activity over ``orders`` (one engine query).

    Parameters
    ----------
    source : Engine, History or duckdb.DuckDBPyConnection
        Where ``orders`` (and ``customers`` when ``by`` names one of its columns) are.
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
    history = history_of(source, day)
    periods = _customer_periods(history.up_to(), grain)
    cohorts = periods.filter(periods.purchased).group_by("customer_id").aggregate(
        cohort=periods.period.min(), first_date=periods.first_purchase_date.min()
    )
    cells = periods.join(cohorts, "customer_id")
    cells = cells.filter(cells.period >= cells.cohort)
    keys = {}
    dims = []
    if by is not None:
        source_table, column = dimension_source(history.engine, by)
        dims = [column]
        if source_table == "orders":
            found = _first_line_dimension(history.engine, day, column, cohorts)
        else:
            found = _customer_dimension(history.engine, column)
        cells = cells.left_join(found, "customer_id")
        keys["dim"] = cells.dim.cast("string").fill_null(NONE)
    age = (cells.period.year() - cells.cohort.year()) * 12 + cells.period.month() - cells.cohort.month()
    keys.update(cohort=cells.cohort, age=(age // months).cast("int64"))
    long = history.engine.fetch(
        cells.group_by(**keys).aggregate(
            customers=ibis.ifelse(cells.purchased, 1, 0).sum(),
            revenue_net=money(cells.revenue_net.sum()),
            revenue_gross=money(cells.revenue_gross.sum()),
        )
    )
    if dims:
        long = long.rename(columns={"dim": dims[0]})
    return complete_cohort_grid(long, day, grain, dims)


def customer_period_revenue_sql(source, as_of, months: int = 12) -> pd.DataFrame:
    """Each customer's net revenue in the ``months`` months up to ``as_of`` and in the ``months`` before
    those (:func:`customer_period_revenues_sql` for one period end)."""
    day = as_date(as_of)
    return customer_period_revenues_sql(source, [day], months)[day]


def customer_period_revenues_sql(source, ends: list, months: int = 12) -> dict[date, pd.DataFrame]:
    """For each period end: each customer's net revenue in the ``months`` months up to it and in the
    ``months`` before those, from one engine query.

    The two windows of the revenue-retention ratios (NRR, GRR): the *base* window ends ``months`` months
    before the period end, the *current* window ends at it; both are ``months`` calendar months long.

    Parameters
    ----------
    source : Engine, History or duckdb.DuckDBPyConnection
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
    rows = history_of(source, max(days))
    lines = rows.up_to()
    columns = {}
    for i, day in enumerate(days):
        now_start = (pd.Timestamp(day) - pd.DateOffset(months=months)).date()
        base_start = (pd.Timestamp(day) - pd.DateOffset(months=2 * months)).date()
        on = lines.order_date
        base = (on > ibis.date(base_start)) & (on <= ibis.date(now_start))
        now = (on > ibis.date(now_start)) & (on <= ibis.date(day))
        columns[f"first_{i}"] = on.min(where=lines.purchased & (on <= ibis.date(day)))
        columns[f"base_{i}"] = money(lines.net.sum(where=base)).fill_null(0.0)
        columns[f"now_{i}"] = money(lines.net.sum(where=now)).fill_null(0.0)
    wide = lines.group_by("customer_id").aggregate(bought=lines.purchased.any(), **columns)
    wide = rows.engine.fetch(wide.filter(wide.bought), order_by="customer_id")
    frames = {}
    for i, day in enumerate(days):
        frame = wide.loc[wide[f"first_{i}"].notna(), ["customer_id", f"first_{i}", f"base_{i}", f"now_{i}"]]
        frame.columns = ["customer_id", "first_date", "revenue_base", "revenue_now"]
        frame = frame.reset_index(drop=True)
        frame["first_date"] = as_days(frame["first_date"])
        for column in ("revenue_base", "revenue_now"):
            frame[column] = frame[column].astype(float)
        frames[day] = frame
    return frames


def _occasion_history(days: ir.Table, cut: date) -> ir.Table:
    """One row per customer with a purchase occasion: dates, counts and gaps of the occasions (``cut``: the
    last day before the recent window)."""
    occasions = days.filter(days.purchased)
    order = ibis.window(group_by=occasions.customer_id, order_by=occasions.order_date)
    day_number = occasions.order_date.epoch_days()
    occasions = occasions.mutate(
        gap=(day_number - day_number.lag().over(order)).cast("float64"), n=ibis.row_number().over(order)
    )
    before = occasions.order_date <= ibis.date(cut)
    occasions = occasions.mutate(
        gap_before=ibis.ifelse(before, occasions.gap, ibis.null("float64")), _before=before
    )
    occasions = with_middle(occasions, "customer_id", {"_middle": "gap", "_middle_before": "gap_before"})
    return occasions.group_by("customer_id").aggregate(
        first_date=occasions.order_date.min(),
        second_date=occasions.order_date.min(where=occasions.n == 1),  # row_number counts from 0
        last_date=occasions.order_date.max(),
        occasions=occasions.count(),
        occasions_before_recent=occasions.count(where=occasions._before),
        typical_gap_days=occasions.gap.mean(where=occasions._middle),
        typical_gap_before_recent_days=occasions.gap_before.mean(where=occasions._middle_before),
        recent_max_gap_days=occasions.gap.max(where=~occasions._before),
    )


def customer_summary_sql(source, as_of, recent_days: int | None = None) -> pd.DataFrame:
    """Per-customer purchase history at ``as_of`` over ``orders`` (one engine query).

    Parameters
    ----------
    source : Engine, History or duckdb.DuckDBPyConnection
        Where the canonical ``orders`` are.
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
        ``typical_gap_days`` (median days between consecutive occasions, exact on every engine; NaN with one
        occasion), ``typical_gap_before_recent_days`` (the same over the occasions before the last
        ``recent_days`` days: the rhythm a comeback is judged against), ``recent_max_gap_days`` (longest gap
        before an occasion in the last ``recent_days`` days; NaN if none), ``revenue_net``, ``revenue_gross``,
        ``revenue_12m`` (net, the 365 days up to ``as_of``).
    """
    day = as_date(as_of)
    recent = load_rules().reactivation_days if recent_days is None else int(recent_days)
    history = history_of(source, day)
    days = history.days()
    occasions = _occasion_history(days, day - timedelta(days=recent))
    year = days.order_date > ibis.date(day - timedelta(days=365))
    revenue = days.group_by("customer_id").aggregate(
        revenue_net=money(days.net.sum()),
        revenue_gross=money(days.gross.sum()),
        revenue_12m=money(days.net.sum(where=year)).fill_null(0.0),
    )
    summary = occasions.join(revenue, "customer_id")
    summary = summary.mutate(customer_id=summary.customer_id.cast("string"))
    return _typed_summary(history.engine.fetch(summary, order_by="customer_id"))


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
    """:func:`customer_summary_sql` of an in-memory orders frame (the same query, on a private DuckDB).

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
    backend = ibis.duckdb.connect()
    try:
        backend.create_table("orders", frame)
        return customer_summary_sql(Engine(backend), as_of, recent_days)
    finally:
        backend.disconnect()


def _typed_summary(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reindex(columns=list(SUMMARY_COLUMNS)).copy()
    for column in ("first_date", "second_date", "last_date"):
        frame[column] = as_days(frame[column])
    for column in ("occasions", "occasions_before_recent"):
        frame[column] = frame[column].astype("int64")
    for column in SUMMARY_COLUMNS[6:]:
        frame[column] = frame[column].astype(float)
    frame["customer_id"] = frame["customer_id"].astype(str)
    return frame


__all__ = [
    "GRAINS",
    "ORDER_COLUMNS",
    "SUMMARY_COLUMNS",
    "cohort_activity_sql",
    "customer_period_revenue_sql",
    "customer_period_revenues_sql",
    "customer_summary",
    "customer_summary_sql",
    "dimension_source",
    "holds_values",
]

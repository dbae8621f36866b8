"""Engine work of the forecast analysis: the sales series to forecast, from ONE aggregate query.

The query groups the counted lines of ``orders`` (every line but cancelled ones, returns netted:
:func:`salesperf.core.expr.counted_line`, revenue as the overview defines it) by period and by the finest cell
of the hierarchy — region × category × team × rep — and returns one row per active cell and period (money
rounded to cents in the engine). Every series is a sum of those cells (done by
:func:`salesperf.analyses.forecast.hierarchy.series_and_structures` through
``hierarchicalforecast.utils.aggregate``); pandas never sees an order line.

Attributes of a line: region is the line's ``orders.region``, else its customer's ``customers.region``;
category the line's ``orders.category``, else its product's ``products.category``; rep is ``orders.rep_id``;
team is the rep's ``reps.team`` (:func:`salesperf.core.expr.with_attributes` / ``line_or_entity``). A line
without a value is counted under ``(none)`` so that every cut sums to the total. A dimension whose columns
hold no value at all is absent: :attr:`SalesSeries.absent` says which, as data.

Point in time: only periods that ended on or before the report period's end (and on or before the run date,
when the report period is the current one) are series points; lines after that day are never read.
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import ibis.expr.types as ir
import pandas as pd

from salesperf.analyses.forecast.hierarchy import SalesSeries, series_and_structures
from salesperf.core.expr import counted_line, line_or_entity, money, with_attributes
from salesperf.core.periods import Period
from salesperf.data.engine import Engine

#: Ibis truncation unit, pandas period frequency, statsforecast frequency of period-end dates, season length.
GRAINS = {
    "month": ("M", "M", "ME", 12),
    "quarter": ("Q", "Q", "QE", 4),
    "week": ("W", "W-SUN", "W-SUN", 52),
}
#: The value of a line without a region, category, team or rep (the lifecycle analysis writes it the same).
NONE = "(none)"
#: Where each dimension's value may come from (table.column), in the order they are tried.
SOURCES = {
    "region": ("orders.region", "customers.region"),
    "category": ("orders.category", "products.category"),
    "rep": ("orders.rep_id",),
    "team": ("reps.team",),
}
DIMENSIONS = tuple(SOURCES)
CELL_COLUMNS = ["period", *DIMENSIONS, "y"]


def last_complete_day(period: Period, today: date | None = None) -> date:
    """The end of the last period of ``period``'s grain that ended on or before the period's end and on or
    before ``today`` (the current, partial period is never a point: it ends before the report period does
    only when the report period is the current one)."""
    if today is None or period.end <= today:
        return period.end
    return period.start - timedelta(days=1)


def _present(engine: Engine, qualified: str) -> bool:
    table, column = qualified.split(".")
    return engine.has_table(table) and column in engine.table(table).columns


def _dimension_lines(engine: Engine, orders: ir.Table) -> tuple[ir.Table, dict]:
    """Order lines joined with their customers' region, products' category and reps' team; and per dimension
    the expression of its value (None when none of its columns exists)."""
    lines = orders
    joins = {"region": ("customers", "customer_id"), "category": ("products", "product_id"),
             "team": ("reps", "rep_id")}
    for dimension, (table, key) in joins.items():
        if _present(engine, f"{table}.{dimension}") and key in orders.columns:
            lines = with_attributes(lines, engine.table(table), key, [dimension])
    values = {
        "region": _value(lines, "region"),
        "category": _value(lines, "category"),
        "rep": lines.rep_id if "rep_id" in lines.columns else None,
        "team": lines._team if "_team" in lines.columns else None,
    }
    return lines, values


def _value(lines: ir.Table, column: str) -> ir.Value | None:
    if column in lines.columns or f"_{column}" in lines.columns:
        return line_or_entity(lines, column)
    return None


def sales_cells(engine: Engine, period: Period, today: date | None = None) -> pd.DataFrame:
    """Net revenue per period and hierarchy cell, from one aggregate query.

    Parameters
    ----------
    engine : Engine
        Holds ``orders`` (and, when present, ``customers``, ``products``, ``reps``).
    period : Period
        The report period: its grain is the series' grain; lines after :func:`last_complete_day` are not read.
    today : datetime.date, optional
        The run date (when the report period is the current one, its partial period is left out).

    Returns
    -------
    DataFrame
        One row per (period, region, category, rep, team) with at least one counted line: ``period``
        (period-end Timestamp), ``region``, ``category``, ``rep``, ``team`` (str, ``(none)`` where the line
        has no value; ``(none)`` throughout for a dimension whose columns do not exist), ``y`` (net revenue,
        rounded to cents in the engine). Sorted by every column but ``y``.
    """
    unit, period_freq, _, _ = GRAINS[period.grain]
    cut = last_complete_day(period, today)
    orders = engine.table("orders")
    lines, values = _dimension_lines(engine, orders)
    lines = lines.filter(counted_line(lines), lines.order_date <= ibis.date(cut))
    keys = {"period": lines.order_date.truncate(unit).cast("date")}
    for dimension, value in values.items():
        keys[dimension] = value.cast("string").fill_null(NONE) if value is not None else ibis.literal(NONE)
    cells = engine.fetch(lines.group_by(**keys).aggregate(y=money(lines.amount.sum())))
    starts = pd.to_datetime(cells["period"])
    cells["period"] = starts.dt.to_period(period_freq).dt.end_time.dt.normalize().astype("datetime64[ns]")
    cells["y"] = cells["y"].astype(float)
    return cells[CELL_COLUMNS].sort_values(CELL_COLUMNS[:-1], ignore_index=True)


def sales_series(engine: Engine, period: Period, today: date | None = None) -> SalesSeries:
    """The report's series (total, regions, categories, their cells, teams and reps) and their summing
    structures: :func:`sales_cells` summed per series by
    :func:`salesperf.analyses.forecast.hierarchy.series_and_structures`.

    Returns
    -------
    SalesSeries
    """
    cells = sales_cells(engine, period, today)
    absent = tuple(
        (dimension, SOURCES[dimension])
        for dimension in DIMENSIONS
        if not any(_present(engine, source) for source in SOURCES[dimension])
        or (len(cells) and cells[dimension].eq(NONE).all())
    )
    _, _, freq, season = GRAINS[period.grain]
    cut = pd.Timestamp(last_complete_day(period, today))
    return series_and_structures(cells, period.grain, cut, [name for name, _ in absent],
                                 freq=freq, season_length=season, absent=absent)

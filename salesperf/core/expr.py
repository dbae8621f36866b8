"""The row rules every analysis shares, as engine-neutral Ibis expressions (they run unchanged in DuckDB,
PostgreSQL and Spark, see :mod:`salesperf.data.engine`).

* a line is **cancelled** when its status is one of :data:`CANCELLED`; cancelled lines count nowhere
  (validation already excludes them, and counts them);
* a line is **returned** when its status is one of :data:`RETURNED` (validation makes its amount negative);
* a **purchase line** is a line with ``amount > 0`` that is neither cancelled nor returned
  (:func:`purchase_line`); a **purchase occasion** is a distinct (customer_id, order_date) day with at least
  one purchase line. Frequency, recency, cohorts and the CLV models all count occasions;
* **revenue** is the sum of ``amount`` over the lines that are not cancelled (:func:`counted_line`): net of
  returns, which are negative lines.

Status words are matched exactly after validation, which lower-cases and trims them.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator

import ibis
import ibis.expr.types as ir
import pandas as pd

from salesperf.core.errors import UserError

CANCELLED = ("cancelled", "canceled", "void", "voided", "已取消", "作废")
RETURNED = ("returned", "return", "refunded", "refund", "退货", "已退货", "退款")


def as_date(value, name: str = "as_of") -> dt.date:
    """Parse a date-like value (``'2026-10-31'``, date, Timestamp) or raise UserError naming ``name``."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        stamp = pd.NaT
    if pd.isna(stamp):
        raise UserError(f"{name}: not a date: {value!r}", hint="use an ISO date such as 2026-10-31")
    return stamp.date()


def one_of(value: ir.Value, words) -> ir.BooleanValue:
    """True where ``value`` equals one of ``words`` (NULL where ``value`` is NULL), as ``isin(words)``.

    Written as equalities joined by OR because DuckDB plans an IN list of seven or more constants as a join
    that carries every row through it: 1.5 CPU-s per column of 10 M order lines in validation, against 0.2 s
    for the same test written out.
    """
    if not value.type().is_string():  # e.g. an all-NULL column of an empty frame, typed "unknown"
        value = value.cast("string")
    return functools.reduce(operator.or_, [value == word for word in words])


def with_middle(rows: ir.Table, by: str, columns: dict[str, str]) -> ir.Table:
    """``rows`` with a boolean column per entry of ``columns`` (flag name -> value column): True for the one
    or two middle non-NULL values of the column within each group of ``by``, so that the column's mean over
    them is the group's exact median (``rows[column].mean(where=rows[flag])``).

    Ranks by a window instead of ``median()``: with DuckDB's per-group quantile lifecycle's customer summary
    over 3.5 M purchase days of 850 k customers took 9 s, ranked 4.4 s; exact on every engine (an
    approximate quantile is not). Measure before using it elsewhere: segmentation's one wide aggregate keeps
    ``median()``, where the extra windows cost more than the quantile (14.7 s against 8.4 s).
    """
    counts = rows.group_by(by).aggregate(**{f"_n_{flag}": rows[col].count() for flag, col in columns.items()})
    rows = rows.join(counts, by)
    flags = {}
    for flag, column in columns.items():
        value, n = rows[column], rows[f"_n_{flag}"]
        rank = ibis.row_number().over(group_by=[rows[by], value.isnull()], order_by=value)  # from 0
        flags[flag] = value.notnull() & ((rank == (n - 1) // 2) | (rank == n // 2))
    return rows.mutate(**flags).drop(*[f"_n_{flag}" for flag in columns])


def purchase_line(orders: ir.Table) -> ir.BooleanValue:
    """True for the lines of ``orders`` that are purchases: a positive amount, neither cancelled nor
    returned."""
    rule = orders.amount > 0
    if "status" in orders.columns:
        rule &= orders.status.isnull() | ~one_of(orders.status, RETURNED + CANCELLED)
    return rule


def counted_line(orders: ir.Table) -> ir.BooleanValue:
    """True for the lines that count towards revenue: every line except cancelled ones (returns are
    negative lines and count)."""
    if "status" in orders.columns:
        return orders.status.isnull() | ~one_of(orders.status, CANCELLED)
    return ibis.literal(True)


def order_key(orders: ir.Table) -> ir.StringValue:
    """What identifies an order: its order_id; lines without one are one order per customer and day."""
    day = orders.order_date.cast("string")
    fallback = orders.customer_id.concat("@", day)
    return orders.order_id.fill_null(fallback) if "order_id" in orders.columns else fallback


def money(total: ir.NumericValue) -> ir.NumericValue:
    """A money sum rounded to cents in the engine: a parallel sum may differ in its last bit from run to run
    (and between engines); reports must not."""
    return total.round(2)


def between(column: ir.DateValue, start, end) -> ir.BooleanValue:
    """``start <= column <= end`` (both dates included)."""
    return column.between(ibis.date(start), ibis.date(end))


def with_attributes(orders: ir.Table, entity: ir.Table, key: str, columns) -> ir.Table:
    """``orders`` left-joined on ``key`` with one row per key of ``entity`` (customers, products) carrying
    each of its ``columns`` as ``_<column>`` (the smallest value where a key has several: the same on every
    engine). Read the joined value through :func:`line_or_entity`."""
    lookup = entity.filter(entity[key].notnull()).group_by(key)
    return orders.left_join(lookup.aggregate(**{f"_{c}": entity[c].min() for c in columns}), key)


def line_or_entity(lines: ir.Table, column: str) -> ir.Value:
    """A line's region, channel or category: the line's own ``column`` where it has one, else its customer's
    (product's) ``_<column>`` joined by :func:`with_attributes`; either of the two may be absent."""
    on_line, joined = column in lines.columns, f"_{column}" in lines.columns
    if on_line and joined:
        return lines[column].fill_null(lines[f"_{column}"])
    return lines[column] if on_line else lines[f"_{column}"]

"""The row rules of :mod:`salesperf.core.sql` as engine-neutral Ibis expressions.

A *purchase line*, a *counted line* and an *order* mean here exactly what that module says; these forms run
unchanged in DuckDB, PostgreSQL and Spark (:mod:`salesperf.data.engine`). Analyses moved to Ibis use these;
the SQL strings of :mod:`salesperf.core.sql` remain for the queries not moved yet.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from salesperf.core.sql import CANCELLED, RETURNED


def purchase_line(orders: ir.Table) -> ir.BooleanValue:
    """True for the lines of ``orders`` that are purchases: a positive amount, neither cancelled nor
    returned."""
    rule = orders.amount > 0
    if "status" in orders.columns:
        rule &= orders.status.isnull() | ~orders.status.isin(RETURNED + CANCELLED)
    return rule


def counted_line(orders: ir.Table) -> ir.BooleanValue:
    """True for the lines that count towards revenue: every line except cancelled ones (returns are
    negative lines and count)."""
    if "status" in orders.columns:
        return orders.status.isnull() | ~orders.status.isin(CANCELLED)
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

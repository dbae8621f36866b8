"""Engine work of the sales overview: KPIs of a period, monthly trend, revenue by dimension, attainment.

Every function takes the dataset's :class:`~salesperf.data.engine.Engine` (validated tables ``orders`` and,
when present, ``customers``, ``products``, ``reps`` and ``targets``), builds one engine-neutral Ibis query
and returns a small aggregated frame: the same figures on DuckDB and in a warehouse. Revenue is every counted
line's amount (net of returns); orders and customers count purchase lines only (:mod:`salesperf.core.expr`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import ibis
import ibis.expr.types as ir
import pandas as pd

from salesperf.core.expr import between, line_or_entity, money, order_key, purchase_line, with_attributes
from salesperf.core.periods import Period
from salesperf.data.engine import Engine


@dataclass(frozen=True)
class Kpis:
    """Headline figures of one period."""

    revenue: float
    orders: int
    customers: int

    @property
    def aov(self) -> float:
        """Average order value (revenue per order); NaN without orders."""
        return self.revenue / self.orders if self.orders else float("nan")


def _kpi_columns(orders: ir.Table) -> dict[str, ir.Scalar]:
    bought = purchase_line(orders)
    return {
        "revenue": money(orders.amount.sum()),
        "orders": order_key(orders).nunique(where=bought),
        "customers": orders.customer_id.nunique(where=bought),
    }


def period_kpis(engine: Engine, start: date, end: date) -> Kpis:
    """Revenue (net of returns), distinct orders and distinct buying customers between two dates
    (inclusive)."""
    orders = engine.table("orders")
    orders = orders.filter(between(orders.order_date, start, end))
    row = engine.fetch(orders.aggregate(**_kpi_columns(orders))).iloc[0]
    revenue = 0.0 if pd.isna(row["revenue"]) else float(row["revenue"])
    return Kpis(revenue, int(row["orders"]), int(row["customers"]))


def comparison(engine: Engine, period: Period) -> dict[str, Kpis]:
    """KPIs of the period, the previous period and the same period a year earlier (keys current, previous,
    year_ago).
    """
    return {
        "current": period_kpis(engine, period.start, period.end),
        "previous": period_kpis(engine, period.previous.start, period.previous.end),
        "year_ago": period_kpis(engine, period.year_ago.start, period.year_ago.end),
    }


def monthly(engine: Engine, end: date, months: int = 24) -> pd.DataFrame:
    """Monthly KPIs for the ``months`` months ending with the month of ``end``.

    Returns
    -------
    DataFrame
        One row per month from the month of the first order on (at most ``months`` of them; months without
        orders in between filled with zeros): month (Timestamp, first day), revenue, orders, customers, aov.
    """
    first = pd.Timestamp(end).to_period("M").start_time - pd.DateOffset(months=months - 1)
    orders = engine.table("orders")
    earliest = engine.scalar(orders.filter(orders.order_date <= ibis.date(end)).order_date.min())
    if earliest is not None:  # the trend starts where the data start: no empty months before the first order
        first = max(first, pd.Timestamp(earliest).to_period("M").start_time)
        months = (pd.Timestamp(end).to_period("M") - first.to_period("M")).n + 1
    orders = orders.filter(between(orders.order_date, first.date(), end))
    frame = engine.fetch(
        orders.group_by(month=orders.order_date.truncate("M")).aggregate(**_kpi_columns(orders)).order_by("month")
    )
    months_index = pd.DataFrame({"month": pd.date_range(first, periods=months, freq="MS")})
    frame["month"] = pd.to_datetime(frame["month"])
    out = months_index.merge(frame, on="month", how="left").fillna(
        {"revenue": 0.0, "orders": 0, "customers": 0}
    )
    out["orders"] = out["orders"].astype(int)
    out["customers"] = out["customers"].astype(int)
    out["aov"] = out["revenue"] / out["orders"].where(out["orders"] > 0)
    return out


#: Dimensions named by an id on the order line, and the table (and column) their display names come from.
_NAMED = {
    "customer": ("customer_id", "customers"),
    "product": ("product_id", "products"),
    "rep": ("rep_id", None),
}
#: Attributes that may sit on the order line or on the customer / product: the line's value where it has one.
_ATTRIBUTES = {"region": ("customers", "customer_id"), "channel": ("customers", "customer_id"),
               "category": ("products", "product_id")}
_EMPTY = ["key", "name", "revenue", "share", "previous", "change"]


def _holds(engine: Engine, table: str, column: str) -> bool:
    """Whether the dataset has ``table`` with ``column``."""
    return engine.has_table(table) and column in engine.table(table).columns


def _keyed_lines(engine: Engine, dimension: str, has_entity: bool) -> ir.Table | None:
    """Order lines with ``key`` and ``name`` of ``dimension``, or None when the data do not have it.

    Region, channel and category: the line's value where the line has one, else the customer's (product's).
    Customers and products: the id, named from the customers (products) table when given.
    """
    orders = engine.table("orders")
    if dimension in _ATTRIBUTES:
        table, key = _ATTRIBUTES[dimension]
        joined = has_entity and key in orders.columns and _holds(engine, table, dimension)
        if not joined and dimension not in orders.columns:
            return None
        lines = with_attributes(orders, engine.table(table), key, [dimension]) if joined else orders
        value = line_or_entity(lines, dimension)
        return lines.mutate(key=value, name=value)
    key, table = _NAMED[dimension]
    if key not in orders.columns:
        return None
    if not (table and has_entity and _holds(engine, table, "name")):
        return orders.mutate(key=orders[key], name=orders[key])
    lines = with_attributes(orders, engine.table(table), key, ["name"])
    return lines.mutate(key=lines[key], name=lines["_name"].fill_null(lines[key]))


def by_dimension(
    engine: Engine,
    dimension: str,
    period: Period,
    top: int | None = 10,
    has_customers: bool = True,
    has_products: bool = True,
) -> pd.DataFrame:
    """Revenue of the period and of the previous period per value of a dimension, largest first.

    Parameters
    ----------
    dimension : {'customer', 'product', 'category', 'region', 'channel', 'rep'}
        Region, channel and category are the line's where ``orders`` has them, else the customer's
        (product's).
    top : int or None
        Keep the largest ``top`` rows (None: all).
    has_customers, has_products : bool
        Whether the optional tables exist (names and attributes are joined from them).

    Returns
    -------
    DataFrame
        key, name, revenue, share (of the period's revenue), previous (revenue in the previous period), change
        (relative; NaN when previous is 0).
    """
    table = _ATTRIBUTES.get(dimension, (_NAMED.get(dimension, (None, None))[1],))[0]
    has_entity = {"customers": has_customers, "products": has_products}.get(table, False)
    lines = _keyed_lines(engine, dimension, has_entity)
    if lines is None:
        return pd.DataFrame(columns=_EMPTY)
    prev = period.previous
    lines = lines.filter(between(lines.order_date, prev.start, period.end), lines.key.notnull())
    frame = engine.fetch(
        lines.group_by("key").aggregate(
            name=lines.name.min(),
            revenue=money(lines.amount.sum(where=between(lines.order_date, period.start, period.end))),
            previous=money(lines.amount.sum(where=between(lines.order_date, prev.start, prev.end))),
        )
    )
    frame[["revenue", "previous"]] = frame[["revenue", "previous"]].fillna(0.0)
    total = frame["revenue"].sum()
    frame["share"] = frame["revenue"] / total if total else float("nan")
    frame["change"] = frame["revenue"] / frame["previous"].where(frame["previous"] != 0) - 1
    frame = frame.sort_values(["revenue", "key"], ascending=[False, True], ignore_index=True)[_EMPTY]
    return frame.head(top) if top else frame


def months_of(period: Period) -> list[str]:
    """The ``YYYY-MM`` labels of the months a period overlaps (a week may overlap two)."""
    months = pd.period_range(period.start, period.end, freq="M")
    return [str(m) for m in months]


def attainment(engine: Engine, period: Period, by: str | None = None) -> pd.DataFrame:
    """Revenue against quota for the period (targets per month, or stated for the period's own label).

    Weeks are not pro-rated: quotas are read for months and quarters (a week returns an empty frame).

    Parameters
    ----------
    by : {None, 'team', 'region'}
        Break down by the reps' team or region (needs the reps table).

    Returns
    -------
    DataFrame
        group (``all`` without ``by``), quota, revenue (orders of the target reps), attainment (revenue /
        quota).
    """
    if period.grain == "week":
        return pd.DataFrame(columns=["group", "quota", "revenue", "attainment"])
    targets = engine.table("targets")
    targets = targets.filter(targets.period.cast("string").isin(months_of(period) + [period.label]))
    if by:
        reps = engine.table("reps")
        teams = reps.group_by("rep_id").aggregate(_group=reps[by].min())
        targets = targets.left_join(teams, "rep_id")
        group = targets._group.fill_null("–")
    else:
        group = ibis.literal("all")
    quotas = targets.group_by(group=group, rep_id=targets.rep_id).aggregate(quota=targets.quota.sum())
    orders = engine.table("orders")
    orders = orders.filter(between(orders.order_date, period.start, period.end))
    sold = orders.group_by("rep_id").aggregate(revenue=money(orders.amount.sum()))
    joined = quotas.left_join(sold, "rep_id")
    frame = engine.fetch(
        joined.group_by("group")
        .aggregate(quota=joined.quota.sum(), revenue=joined.revenue.sum().fill_null(0))
        .order_by("group")
    )
    frame["attainment"] = frame["revenue"] / frame["quota"].where(frame["quota"] > 0)
    return frame

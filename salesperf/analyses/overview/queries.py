"""Engine work of the sales overview: KPIs of a period, monthly trend, revenue by dimension, attainment.

Every function takes the period's DuckDB connection (validated tables ``orders`` and, when present,
``customers``, ``products``, ``reps`` and ``targets``) and returns a small aggregated frame. Revenue is every
counted line's amount (net of returns); orders and customers count purchase lines only
(:mod:`salesperf.core.sql`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from salesperf.core.periods import Period
from salesperf.core.sql import purchase_predicate, relation_columns

#: An order is an order_id; lines without one count as one order per customer and day. Money sums are rounded
#: to cents in SQL: a parallel sum may differ in its last bit from run to run, and reports must not.
ORDER_KEY = "coalesce(order_id, customer_id || '@' || CAST(order_date AS VARCHAR))"


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


def period_kpis(con: duckdb.DuckDBPyConnection, start: date, end: date) -> Kpis:
    """Revenue (net of returns), distinct orders and distinct buying customers between two dates
    (inclusive)."""
    bought = purchase_predicate(relation_columns(con, "orders"))
    revenue, orders, customers = con.execute(
        f"SELECT round(coalesce(sum(amount), 0), 2), count(DISTINCT {ORDER_KEY}) FILTER (WHERE {bought}), "
        f"count(DISTINCT customer_id) FILTER (WHERE {bought}) FROM orders WHERE order_date BETWEEN ? AND ?",
        [start, end],
    ).fetchone()
    return Kpis(float(revenue), int(orders), int(customers))


def comparison(con: duckdb.DuckDBPyConnection, period: Period) -> dict[str, Kpis]:
    """KPIs of the period, the previous period and the same period a year earlier (keys current, previous,
    year_ago).
    """
    return {
        "current": period_kpis(con, period.start, period.end),
        "previous": period_kpis(con, period.previous.start, period.previous.end),
        "year_ago": period_kpis(con, period.year_ago.start, period.year_ago.end),
    }


def monthly(con: duckdb.DuckDBPyConnection, end: date, months: int = 24) -> pd.DataFrame:
    """Monthly KPIs for the ``months`` months ending with the month of ``end``.

    Returns
    -------
    DataFrame
        One row per month from the month of the first order on (at most ``months`` of them; months without
        orders in between filled with zeros): month (Timestamp, first day), revenue, orders, customers, aov.
    """
    first = pd.Timestamp(end).to_period("M").start_time - pd.DateOffset(months=months - 1)
    earliest = con.execute("SELECT min(order_date) FROM orders WHERE order_date <= ?", [end]).fetchone()[0]
    if earliest is not None:  # the trend starts where the data start: no empty months before the first order
        first = max(first, pd.Timestamp(earliest).to_period("M").start_time)
        months = (pd.Timestamp(end).to_period("M") - first.to_period("M")).n + 1
    bought = purchase_predicate(relation_columns(con, "orders"))
    frame = con.execute(
        f"SELECT date_trunc('month', order_date) AS month, round(sum(amount), 2) AS revenue, "
        f"count(DISTINCT {ORDER_KEY}) FILTER (WHERE {bought}) AS orders, "
        f"count(DISTINCT customer_id) FILTER (WHERE {bought}) AS customers "
        "FROM orders WHERE order_date BETWEEN ? AND ? GROUP BY 1 ORDER BY 1",
        [first.date(), end],
    ).df()
    months_index = pd.DataFrame({"month": pd.date_range(first, periods=months, freq="MS")})
    frame["month"] = pd.to_datetime(frame["month"])
    out = months_index.merge(frame, on="month", how="left").fillna(
        {"revenue": 0.0, "orders": 0, "customers": 0}
    )
    out["orders"] = out["orders"].astype(int)
    out["customers"] = out["customers"].astype(int)
    out["aov"] = out["revenue"] / out["orders"].where(out["orders"] > 0)
    return out


_DIMENSIONS = {
    "customer": (
        "o.customer_id",
        "coalesce(c.name, o.customer_id)",
        "LEFT JOIN customers c USING (customer_id)",
    ),
    "product": ("o.product_id", "coalesce(p.name, o.product_id)", "LEFT JOIN products p USING (product_id)"),
    "rep": ("o.rep_id", "o.rep_id", ""),
}
#: Attributes that may sit on the order line or on the customer / product: the line's value where it has one.
_ATTRIBUTES = {
    "region": ("customers", "c", "customer_id"),
    "channel": ("customers", "c", "customer_id"),
    "category": ("products", "p", "product_id"),
}


def attribute_source(con: duckdb.DuckDBPyConnection, column: str) -> tuple[str, str] | None:
    """(SQL expression, join) for ``column`` of an order line: ``orders.<column>`` where the line has it,
    else the customer's (region, channel) or the product's (category); None when neither table has it."""
    table, alias, key = _ATTRIBUTES[column]
    on_line = column in (relation_columns(con, "orders") or [])
    on_entity = column in (relation_columns(con, table) or []) and key in (
        relation_columns(con, "orders") or []
    )
    join = f"LEFT JOIN {table} {alias} USING ({key})" if on_entity else ""
    if on_line and on_entity:
        return f"coalesce(o.{column}, {alias}.{column})", join
    if on_line:
        return f"o.{column}", ""
    return (f"{alias}.{column}", join) if on_entity else None


def by_dimension(
    con: duckdb.DuckDBPyConnection,
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
        (product's): see :func:`attribute_source`.
    top : int or None
        Keep the largest ``top`` rows (None: all).
    has_customers, has_products : bool
        Whether the optional tables exist (names are joined from them).

    Returns
    -------
    DataFrame
        key, name, revenue, share (of the period's revenue), previous (revenue in the previous period), change
        (relative; NaN when previous is 0).
    """
    if dimension in _ATTRIBUTES:
        source = attribute_source(con, dimension)
        key, name, join = (source[0], source[0], source[1]) if source else (None, None, None)
    else:
        key, name, join = _DIMENSIONS[dimension]
    if key is not None and (
        (join and "customers" in join and not has_customers)
        or (join and "products" in join and not has_products)
    ):
        key, name, join = (key, key, "") if key.startswith("o.") else (None, None, None)
    if key is None:
        return pd.DataFrame(columns=["key", "name", "revenue", "share", "previous", "change"])
    prev = period.previous
    frame = con.execute(
        f"SELECT {key} AS key, any_value({name}) AS name, "
        "round(sum(amount) FILTER (WHERE order_date BETWEEN ? AND ?), 2) AS revenue, "
        "round(sum(amount) FILTER (WHERE order_date BETWEEN ? AND ?), 2) AS previous "
        f"FROM orders o {join} WHERE order_date BETWEEN ? AND ? AND {key} IS NOT NULL GROUP BY 1",
        [period.start, period.end, prev.start, prev.end, prev.start, period.end],
    ).df()
    frame[["revenue", "previous"]] = frame[["revenue", "previous"]].fillna(0.0)
    total = frame["revenue"].sum()
    frame["share"] = frame["revenue"] / total if total else float("nan")
    frame["change"] = frame["revenue"] / frame["previous"].where(frame["previous"] != 0) - 1
    frame = frame.sort_values(["revenue", "key"], ascending=[False, True], ignore_index=True)
    return frame.head(top) if top else frame


def months_of(period: Period) -> list[str]:
    """The ``YYYY-MM`` labels of the months a period overlaps (a week may overlap two)."""
    months = pd.period_range(period.start, period.end, freq="M")
    return [str(m) for m in months]


def attainment(con: duckdb.DuckDBPyConnection, period: Period, by: str | None = None) -> pd.DataFrame:
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
    labels = months_of(period) + [period.label]
    placeholders = ", ".join("?" for _ in labels)
    group = f"coalesce(r.{by}, '–')" if by else "'all'"
    join = "LEFT JOIN reps r USING (rep_id)" if by else ""
    frame = con.execute(
        f"WITH q AS (SELECT {group} AS grp, rep_id, sum(quota) AS quota FROM targets t {join} "
        f"WHERE CAST(t.period AS VARCHAR) IN ({placeholders}) GROUP BY 1, 2), "
        "s AS (SELECT rep_id, round(sum(amount), 2) AS revenue FROM orders "
        "WHERE order_date BETWEEN ? AND ? GROUP BY 1) "
        'SELECT grp AS "group", sum(quota) AS quota, coalesce(sum(s.revenue), 0) AS revenue '
        "FROM q LEFT JOIN s USING (rep_id) GROUP BY 1 ORDER BY 1",
        [*labels, period.start, period.end],
    ).df()
    frame["attainment"] = frame["revenue"] / frame["quota"].where(frame["quota"] > 0)
    return frame

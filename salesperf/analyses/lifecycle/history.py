"""The order history every lifecycle query starts from, as engine-neutral Ibis expressions.

Every lifecycle figure is an aggregate of the *counted lines* of ``orders`` (:mod:`salesperf.core.expr`: every
line but cancelled ones) up to an as-of day, read as *activity rows* of one shape:

``customer_id`` (string), ``order_date`` (date), ``net`` (the amount: returns are negative lines),
``gross`` (the amount of a purchase line, 0 otherwise), ``purchased`` (the row holds a purchase line).

:func:`counted_lines` gives one row per order line, :func:`daily` one per (customer, day) — the same sums, far
fewer rows. A lifecycle run builds the daily rows once (:func:`kept_days`: a temporary table on DuckDB) and
derives the customer summaries, the CLV summary, the cohort activity and the revenue windows from them instead
of scanning the order lines once per query; each query also accepts the order lines themselves, so that it can
run on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import ibis
import ibis.expr.types as ir
import pandas as pd

from salesperf.core.errors import UserError
from salesperf.core.expr import as_date, counted_line, purchase_line
from salesperf.data.engine import Engine, embedded

ORDER_COLUMNS = ("customer_id", "order_date", "amount")
ACTIVITY_COLUMNS = ("customer_id", "order_date", "net", "gross", "purchased")


def as_engine(source: Engine | duckdb.DuckDBPyConnection) -> Engine:
    """``source`` as an :class:`~salesperf.data.engine.Engine`: itself, or the embedded engine over a DuckDB
    connection (whose tables and views, not its registered frames, are then the canonical tables)."""
    if isinstance(source, Engine):
        return source
    if isinstance(source, duckdb.DuckDBPyConnection):
        return embedded(source)
    raise TypeError(f"expected an Engine or a DuckDB connection, got {type(source).__name__}")


def as_days(values) -> pd.Series:
    """Dates fetched from an engine (Arrow dates) as pandas datetimes of microsecond unit, NaT for none."""
    return pd.to_datetime(pd.Series(values)).astype("datetime64[us]")


def table(engine: Engine, name: str) -> ir.Table | None:
    """The canonical table ``name``, None when the dataset has none."""
    return engine.table(name) if engine.has_table(name) else None


def orders_table(engine: Engine) -> ir.Table:
    """The canonical ``orders`` table; UserError naming the first missing column of :data:`ORDER_COLUMNS`."""
    orders = table(engine, "orders")
    if orders is None:
        raise UserError("the lifecycle analysis needs the orders table")
    missing = [c for c in ORDER_COLUMNS if c not in orders.columns]
    if missing:
        present = ", ".join(orders.columns)
        raise UserError(f"orders: column {missing[0]!r} is missing; columns present: {present}")
    return orders


def counted_lines(engine: Engine, as_of, extra: tuple[str, ...] = ()) -> ir.Table:
    """The counted order lines up to ``as_of`` (inclusive) with a customer, as activity rows.

    Returns
    -------
    ibis.Table
        One row per order line: :data:`ACTIVITY_COLUMNS` and the ``extra`` columns of ``orders`` as they are.
    """
    day = as_date(as_of)
    orders = orders_table(engine)
    order_date = orders.order_date.cast("date")
    amount = orders.amount.cast("float64")
    bought = purchase_line(orders)
    lines = orders.filter(order_date <= ibis.date(day), counted_line(orders), orders.customer_id.notnull())
    return lines.select(
        customer_id=orders.customer_id.cast("string"),
        order_date=order_date,
        net=amount,
        gross=ibis.ifelse(bought, amount, 0.0),
        purchased=bought,
        **{column: orders[column] for column in extra},
    )


def daily(rows: ir.Table) -> ir.Table:
    """Activity rows summed per (customer, day).

    Returns
    -------
    ibis.Table
        One row per customer and day with a counted line: :data:`ACTIVITY_COLUMNS` (``net`` and ``gross`` the
        day's sums, ``purchased`` whether the day is a purchase occasion).
    """
    return rows.group_by("customer_id", "order_date").aggregate(
        net=rows.net.sum(), gross=rows.gross.sum(), purchased=rows.purchased.any()
    )


@dataclass(frozen=True)
class History:
    """The activity rows of one engine up to an as-of day: order lines, or daily rows already summed.

    Attributes
    ----------
    engine : Engine
    as_of : datetime.date
        The last day the rows hold.
    rows : ibis.Table
        :data:`ACTIVITY_COLUMNS`.
    is_daily : bool
        Whether ``rows`` already hold one row per (customer, day).
    """

    engine: Engine
    as_of: date
    rows: ir.Table
    is_daily: bool = False

    def days(self, as_of=None) -> ir.Table:
        """Daily rows (:func:`daily`) up to ``as_of`` (default: all)."""
        rows = self.up_to(as_of)
        return rows if self.is_daily else daily(rows)

    def up_to(self, as_of=None) -> ir.Table:
        """The rows up to ``as_of`` (default: all); UserError when ``as_of`` is after :attr:`as_of`."""
        if as_of is None:
            return self.rows
        day = as_date(as_of)
        if day > self.as_of:
            raise UserError(f"{day} is after the last day of the order history read ({self.as_of})")
        return self.rows if day == self.as_of else self.rows.filter(self.rows.order_date <= ibis.date(day))

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc) -> None:
        """Drop the engine's copy of kept rows (:func:`kept_days`); nothing to do for an expression."""
        release = getattr(self.rows, "release", None)  # only a cached Ibis table has one
        if callable(release):
            release()


def history_of(source, as_of) -> History:
    """``source`` as a :class:`History` up to ``as_of``: itself (cut at ``as_of``), or the counted lines of an
    Engine or a DuckDB connection."""
    day = as_date(as_of)
    if isinstance(source, History):
        return History(source.engine, day, source.up_to(day), source.is_daily)
    engine = as_engine(source)
    return History(engine, day, counted_lines(engine, day))


def kept_days(engine: Engine, as_of) -> History:
    """The daily rows up to ``as_of``, computed once (a few bytes per purchase day, instead of a scan of every
    order line per query): a temporary table of the session, in DuckDB or in the warehouse, or Spark's
    cache."""
    day = as_date(as_of)
    return History(engine, day, engine.cache(daily(counted_lines(engine, day))), is_daily=True)


def first_order_day(engine: Engine, as_of) -> date | None:
    """The day of the first order line (any status) up to ``as_of``; None without one."""
    orders = orders_table(engine)
    order_date = orders.order_date.cast("date")
    return engine.scalar(order_date.min(where=order_date <= ibis.date(as_date(as_of))))


def holds_values(source, name: str, column: str) -> bool:
    """Whether the table ``name`` has ``column`` with at least one value (a validated table carries every
    canonical column, empty where the source had none)."""
    engine = as_engine(source)
    rows = table(engine, name)
    if rows is None or column not in rows.columns:
        return False
    return bool(engine.scalar(rows[column].count() > 0))

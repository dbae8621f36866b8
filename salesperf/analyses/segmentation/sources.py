"""What the segmentation queries read: the engine, which tables and columns the data have, where a mix column
comes from, and date bounds that hold for DATE and TIMESTAMP columns alike."""

from __future__ import annotations

import datetime as dt

import duckdb
import ibis
import ibis.expr.types as ir

from salesperf.core.errors import UserError, examples
from salesperf.data.engine import Engine, embedded

#: The mixes of a customer's purchases: (column, share prefix, the table holding the column when a line has
#: none, its key on the line). The line's value wins where it has one (a store's export: a region per line).
MIXES = (
    ("category", "category_share__", "products", "product_id"),
    ("channel", "channel_share__", "customers", "customer_id"),
    ("region", "region_share__", "customers", "customer_id"),
)


def as_engine(source: Engine | duckdb.DuckDBPyConnection) -> Engine:
    """The :class:`~salesperf.data.engine.Engine` to run on: ``source`` itself, or the embedded engine over a
    DuckDB connection (for callers not moved to engines yet: the tables are that connection's)."""
    return source if isinstance(source, Engine) else embedded(source)


def columns_of(engine: Engine, table: str) -> tuple[str, ...]:
    """The columns of ``table``; empty when the dataset has no such table."""
    return tuple(engine.table(table).columns) if engine.has_table(table) else ()


def require_orders(engine: Engine, needed) -> tuple[str, ...]:
    """The columns of ``orders``.

    Raises
    ------
    UserError
        When the table or one of the ``needed`` columns is missing.
    """
    if not engine.has_table("orders"):
        raise UserError("orders: the table is missing", hint="register the canonical table 'orders'")
    columns = columns_of(engine, "orders")
    missing = [c for c in needed if c not in columns]
    if missing:
        raise UserError(
            f"orders: column {missing[0]!r} is missing; columns present: {examples(columns, 12)}"
        )
    return columns


def holds_values(engine: Engine, table: str, column: str) -> bool:
    """Whether ``table`` has ``column`` with at least one value (a validated table carries every canonical
    column, empty where the source had none)."""
    if column not in columns_of(engine, table):
        return False
    return bool(engine.scalar(engine.table(table)[column].count() > 0))


def mix_source(engine: Engine, column: str) -> tuple[bool, str | None]:
    """Where the ``column`` of a mix (:data:`MIXES`) comes from: (whether order lines hold it, the table that
    gives it to lines without one — ``customers`` or ``products`` — or None when that table does not).
    """
    engine = as_engine(engine)
    _, _, table, key = next(m for m in MIXES if m[0] == column)
    on_entity = key in columns_of(engine, "orders") and holds_values(engine, table, column)
    return holds_values(engine, "orders", column), table if on_entity else None


def upto(column: ir.Value, day: dt.date) -> ir.BooleanValue:
    """``column <= day`` for a DATE column, ``column <= day 00:00`` for a TIMESTAMP one (as SQL compares a
    timestamp with a date)."""
    if column.type().is_timestamp():
        return column <= ibis.timestamp(dt.datetime.combine(day, dt.time()))
    return column <= ibis.date(day)

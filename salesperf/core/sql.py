"""The one home of SQL helpers and of the *purchase occasion*: plain SQL that DuckDB and a warehouse both
accept.

Definitions used by every analysis (and by validation):

* a line is **cancelled** when its status is one of :data:`CANCELLED`; cancelled lines count nowhere
  (validation already excludes them, and counts them);
* a line is **returned** when its status is one of :data:`RETURNED` (validation makes its amount negative);
* a **purchase line** is a line with ``amount > 0`` that is neither cancelled nor returned
  (:func:`purchase_predicate`); a **purchase occasion** is a distinct (customer_id, order_date) day with at
  least one purchase line. Frequency, recency, cohorts and the CLV models all count occasions;
* **revenue** is the sum of ``amount`` over the lines that are not cancelled (:func:`counted_predicate`): net
  of returns, which are negative lines.

Status words are matched exactly after validation, which lower-cases and trims them.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from salesperf.core.errors import UserError, examples

CANCELLED = ("cancelled", "canceled", "void", "voided", "已取消", "作废")
RETURNED = ("returned", "return", "refunded", "refund", "退货", "已退货", "退款")


def quote_literal(value: str) -> str:
    """``O'Hara`` → ``'O''Hara'`` (a SQL string literal)."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_list(values) -> str:
    """``('a', 'b')`` for an IN clause."""
    return "(" + ", ".join(quote_literal(v) for v in values) + ")"


def date_literal(day: dt.date) -> str:
    """``DATE '2026-10-31'``."""
    return f"DATE '{day.isoformat()}'"


def relation_columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[str] | None:
    """Column names (lower case) of ``relation`` in ``con``, or None when it does not exist."""
    try:
        return [d[0].lower() for d in con.execute(f"SELECT * FROM {relation} LIMIT 0").description]
    except duckdb.Error:
        return None


def require_columns(con: duckdb.DuckDBPyConnection, relation: str, needed) -> list[str]:
    """Return the columns of ``relation``; raise UserError when it or one of ``needed`` is missing."""
    columns = relation_columns(con, relation)
    if columns is None:
        raise UserError(
            f"{relation}: the table is missing", hint=f"register the canonical table '{relation}'"
        )
    missing = [c for c in needed if c not in columns]
    if missing:
        raise UserError(
            f"{relation}: column {missing[0]!r} is missing; columns present: {examples(columns, 12)}"
        )
    return columns


def as_date(value, name: str = "as_of") -> dt.date:
    """Parse a date-like value (``'2026-10-31'``, date, Timestamp) or raise UserError naming ``name``."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        stamp = pd.NaT
    if pd.isna(stamp):
        raise UserError(f"{name}: not a date: {value!r}", hint="use an ISO date such as 2026-10-31")
    return stamp.date()


def purchase_predicate(columns) -> str:
    """SQL boolean over an orders relation with ``columns``: the line is a purchase line (see the module
    doc)."""
    if "status" in columns:
        return f"(amount > 0 AND (status IS NULL OR status NOT IN {sql_list(RETURNED + CANCELLED)}))"
    return "(amount > 0)"


def counted_predicate(columns) -> str:
    """SQL boolean: the line counts towards revenue (every line except cancelled ones)."""
    if "status" in columns:
        return f"(status IS NULL OR status NOT IN {sql_list(CANCELLED)})"
    return "TRUE"


def window_predicate(as_of: dt.date, lookback_days: int | None, date_col: str = "order_date") -> str:
    """SQL boolean: ``date_col`` lies in (as_of - lookback_days, as_of]; all history up to as_of when None."""
    clause = f"{date_col} <= {date_literal(as_of)}"
    if lookback_days is not None:
        clause += f" AND {date_col} > {date_literal(as_of - dt.timedelta(days=int(lookback_days)))}"
    return clause

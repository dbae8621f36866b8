"""Small SQL helpers shared by the engine-side segmentation queries (plain SQL a warehouse also accepts)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from salesperf.data.validate import CANCELLED, RETURNED
from salesperf.errors import UserError


def relation_columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[str] | None:
    """Column names of ``relation`` in ``con``, or None when it does not exist."""
    try:
        return [d[0] for d in con.execute(f"SELECT * FROM {relation} LIMIT 0").description]
    except duckdb.CatalogException:
        return None


def require_columns(con: duckdb.DuckDBPyConnection, relation: str, needed: list[str]) -> list[str]:
    """Return the columns of ``relation``; raise UserError when it or one of ``needed`` is missing."""
    columns = relation_columns(con, relation)
    if columns is None:
        raise UserError(f"{relation}: table not available to the segmentation queries",
                        hint=f"register the canonical table '{relation}' in the connection")
    missing = [c for c in needed if c not in columns]
    if missing:
        raise UserError(f"{relation}: column {missing[0]!r} missing; columns are: {', '.join(columns[:12])}")
    return columns


def as_date(value, name: str = "as_of") -> dt.date:
    """Parse a date-like value (``'2026-10-31'``, date, Timestamp) or raise UserError."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        stamp = pd.NaT
    if pd.isna(stamp):
        raise UserError(f"{name}: not a date: {value!r}", hint="use YYYY-MM-DD")
    return stamp.date()


def _status_list(words: tuple[str, ...]) -> str:
    return "(" + ", ".join(quote_literal(w) for w in words) + ")"


def purchase_predicate(columns: list[str]) -> str:
    """SQL boolean: the line is a purchase (positive amount, not returned or cancelled).

    The status words are validation's (:data:`salesperf.data.validate.CANCELLED` / ``RETURNED``), shared with the
    lifecycle analysis; on validated data cancelled lines are already gone and returns are negative.
    """
    if "status" in columns:
        return f"(amount > 0 AND COALESCE(status, 'completed') NOT IN {_status_list(RETURNED + CANCELLED)})"
    return "(amount > 0)"


def counted_predicate(columns: list[str]) -> str:
    """SQL boolean: the line counts towards revenue (everything except cancelled lines)."""
    if "status" in columns:
        return f"(COALESCE(status, 'completed') NOT IN {_status_list(CANCELLED)})"
    return "TRUE"


def window_predicate(as_of: dt.date, lookback_days: int | None, date_col: str = "order_date") -> str:
    """SQL boolean: ``date_col`` lies in (as_of - lookback_days, as_of]."""
    clause = f"{date_col} <= DATE '{as_of.isoformat()}'"
    if lookback_days is not None:
        start = as_of - dt.timedelta(days=int(lookback_days))
        clause += f" AND {date_col} > DATE '{start.isoformat()}'"
    return clause


def quote_literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"

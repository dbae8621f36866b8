"""Test helpers (tiny order frames, engines over DuckDB tables) and independent pandas versions of the per-customer aggregates, for checking the SQL on small frames.

Written from the definitions in ``salesperf/core/expr.py``'s docstring, not by calling salesperf: a line is cancelled
when its status is one of the cancel words and counts nowhere; a purchase line has amount > 0 and a status that is
neither a cancel nor a return word; frequency counts distinct purchase days; monetary sums every non-cancelled line.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from salesperf.data.engine import Engine, embedded

CANCEL_WORDS = {"cancelled", "canceled", "void", "voided", "已取消", "作废"}
RETURN_WORDS = {"returned", "return", "refunded", "refund", "退货", "已退货", "退款"}


def _lines(orders: pd.DataFrame, as_of) -> pd.DataFrame:
    status = orders["status"] if "status" in orders else pd.Series(None, index=orders.index, dtype=object)
    frame = pd.DataFrame(
        {
            "customer_id": orders["customer_id"].astype(str),
            "day": pd.to_datetime(orders["order_date"]),
            "amount": orders["amount"].astype(float),
            "status": status,
        }
    )
    frame = frame[(frame["day"] <= pd.Timestamp(as_of)) & ~frame["status"].isin(CANCEL_WORDS)]
    return frame.assign(buy=(frame["amount"] > 0) & ~frame["status"].isin(RETURN_WORDS))


def rfm(orders: pd.DataFrame, as_of, lookback_days: int | None = None) -> pd.DataFrame:
    """customer_id (index), recency, frequency, monetary of the customers with a purchase in the window."""
    lines = _lines(orders, as_of)
    if lookback_days is not None:
        lines = lines[lines["day"] > pd.Timestamp(as_of) - pd.Timedelta(days=lookback_days)]
    bought = lines[lines["buy"]].groupby("customer_id")["day"]
    out = pd.DataFrame(
        {"recency": (pd.Timestamp(as_of) - bought.max()).dt.days, "frequency": bought.nunique()}
    )
    out["monetary"] = lines.groupby("customer_id")["amount"].sum().reindex(out.index)
    return out.sort_index()


def period_revenue(orders: pd.DataFrame, start, end) -> pd.Series:
    """Net revenue per customer in (start, end]."""
    lines = _lines(orders, end)
    return lines[lines["day"] > pd.Timestamp(start)].groupby("customer_id")["amount"].sum()


def make_orders(rows) -> pd.DataFrame:
    """(customer_id, order_date, amount, status) rows as an orders frame."""
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount", "status"])
    return frame.assign(order_date=pd.to_datetime(frame["order_date"]))


def connect(**tables) -> Engine:
    """The embedded engine over a fresh DuckDB holding each frame as a table of its name (orders=...,
    customers=...)."""
    con = duckdb.connect()
    for name, frame in tables.items():
        con.register(f"_{name}", frame)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM _{name}")
        con.unregister(f"_{name}")
    return embedded(con)

"""The per-customer RFM summary the CLV models read, computed in DuckDB from the canonical ``orders``.

Purchase occasions are those of :mod:`salesperf.core.sql` (the same as cohorts and stages count): a distinct
(customer, day) with at least one purchase line (amount > 0, neither cancelled nor returned); an occasion is
worth the sum of its purchase lines.
"""

from __future__ import annotations

import pandas as pd

from salesperf.core.errors import UserError
from salesperf.core.sql import as_date, purchase_predicate, require_columns

TIME_UNIT_DAYS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}


def _unit_days(time_unit) -> float:
    if isinstance(time_unit, int | float) and not isinstance(time_unit, bool) and time_unit > 0:
        return float(time_unit)
    if time_unit in TIME_UNIT_DAYS:
        return TIME_UNIT_DAYS[time_unit]
    raise UserError(f"time_unit {time_unit!r} is not one of 'D', 'W', 'M' or a positive number of days")


def summary_sql(con, as_of, time_unit_days: float = 7.0, calibration_end=None) -> pd.DataFrame:
    """Per-customer frequency / recency / T / monetary_value (the standard BTYD set-up) over the relation
    ``orders``.

    One occasion per customer and purchase day (see the module doc); ``as_of`` is inclusive and T is measured
    to it in whole days. Plain SELECT / GROUP BY / window SQL: order lines never reach pandas.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection where ``orders`` (customer_id, order_date, amount, optionally status) is available.
    as_of : date-like
        End of observation (inclusive).
    time_unit_days : float or {'D', 'W', 'M'}
        Length of the model time unit in days (7 = weeks).
    calibration_end : date-like, optional
        When given, frequency / recency / T / monetary_value describe the calibration period up to this date
        (inclusive; only customers who first bought by then), and holdout columns describe (calibration_end,
        as_of].

    Returns
    -------
    DataFrame, one row per customer, indexed by ``customer_id`` (str) and sorted by it
        ``frequency`` (repeat occasions), ``recency``, ``T`` (model time units), ``monetary_value`` (mean
        value of the repeat occasions, 0 without one) and, with ``calibration_end``, ``frequency_holdout``,
        ``monetary_value_holdout``, ``duration_holdout``.
    """
    unit = _unit_days(time_unit_days)
    end = as_date(as_of, "as_of")
    cut = as_date(calibration_end, "calibration_end") if calibration_end is not None else end
    if cut > end:
        raise UserError(f"calibration_end {cut} is after as_of {end}")
    purchase = purchase_predicate(require_columns(con, "orders", ("customer_id", "order_date", "amount")))
    sql = f"""
        WITH occasions AS (
            SELECT CAST(customer_id AS VARCHAR) AS customer_id, CAST(order_date AS DATE) AS day,
                   SUM(CAST(amount AS DOUBLE)) AS value
            FROM orders
            WHERE {purchase} AND customer_id IS NOT NULL AND CAST(order_date AS DATE) <= CAST($as_of AS DATE)
            GROUP BY ALL
        ),
        dated AS (
            SELECT customer_id, day, value, MIN(day) OVER (PARTITION BY customer_id) AS first_day
            FROM occasions
        )
        SELECT
            customer_id,
            CAST(SUM(CASE WHEN day <= CAST($cut AS DATE) THEN 1 ELSE 0 END) - 1 AS DOUBLE) AS frequency,
            (MAX(CASE WHEN day <= CAST($cut AS DATE) THEN day END) - MIN(day)) / $unit AS recency,
            (CAST($cut AS DATE) - MIN(day)) / $unit AS "T",
            COALESCE(SUM(CASE WHEN day > first_day AND day <= CAST($cut AS DATE) THEN value END)
                     / NULLIF(SUM(CASE WHEN day <= CAST($cut AS DATE) THEN 1 ELSE 0 END) - 1, 0), 0.0)
                AS monetary_value,
            CAST(SUM(CASE WHEN day > CAST($cut AS DATE) THEN 1 ELSE 0 END) AS DOUBLE) AS frequency_holdout,
            COALESCE(AVG(CASE WHEN day > CAST($cut AS DATE) THEN value END), 0.0) AS monetary_value_holdout
        FROM dated
        WHERE first_day <= CAST($cut AS DATE)
        GROUP BY customer_id
        ORDER BY customer_id
    """
    summary = con.execute(sql, {"as_of": end, "cut": cut, "unit": unit}).df().set_index("customer_id")
    for column in ("recency", "T"):
        summary[column] = summary[column].astype(float)
    if calibration_end is None:
        return summary.drop(columns=["frequency_holdout", "monetary_value_holdout"])
    summary["duration_holdout"] = (end - cut).days / unit
    return summary

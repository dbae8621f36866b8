"""The per-customer RFM summary the CLV models read, one engine-neutral Ibis query over the canonical
``orders``.

Purchase occasions are those of :mod:`salesperf.core.expr` (the same as cohorts and stages count): a distinct
(customer, day) with at least one purchase line (amount > 0, neither cancelled nor returned); an occasion is
worth the sum of its purchase lines. The engine returns one row per customer (dates, counts, money sums
rounded to cents); the model time units are worked out in pandas on that frame.
"""

from __future__ import annotations

import ibis
import pandas as pd

from salesperf.analyses.lifecycle.history import history_of
from salesperf.core.errors import UserError
from salesperf.core.expr import as_date, money

TIME_UNIT_DAYS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}


def _unit_days(time_unit) -> float:
    if isinstance(time_unit, int | float) and not isinstance(time_unit, bool) and time_unit > 0:
        return float(time_unit)
    if time_unit in TIME_UNIT_DAYS:
        return TIME_UNIT_DAYS[time_unit]
    raise UserError(f"time_unit {time_unit!r} is not one of 'D', 'W', 'M' or a positive number of days")


def occasion_totals(source, as_of, cut) -> pd.DataFrame:
    """Per-customer occasion counts, dates and values before and after ``cut`` (one engine query).

    Parameters
    ----------
    source : Engine, History or duckdb.DuckDBPyConnection
    as_of, cut : datetime.date
        Occasions up to ``as_of``; customers whose first occasion is on or before ``cut``.

    Returns
    -------
    DataFrame
        One row per such customer, sorted by ``customer_id``: ``customer_id``, ``first_day``, ``last_day``
        (last occasion up to ``cut``), ``occasions`` (up to ``cut``), ``repeat_value`` (value of those after
        the first; NULL without one), ``holdout_occasions``, ``holdout_value`` (after ``cut``; NULL without
        one).
    """
    history = history_of(source, as_of)
    days = history.days()
    days = days.filter(days.purchased)
    days = days.mutate(first_day=days.order_date.min().over(group_by=days.customer_id))
    calibration = days.order_date <= ibis.date(cut)
    totals = days.group_by("customer_id").aggregate(
        first_day=days.first_day.min(),
        last_day=days.order_date.max(where=calibration),
        occasions=days.count(where=calibration),
        repeat_value=money(days.gross.sum(where=calibration & (days.order_date > days.first_day))),
        holdout_occasions=days.count(where=~calibration),
        holdout_value=money(days.gross.sum(where=~calibration)),
    )
    return history.engine.fetch(totals.filter(totals.first_day <= ibis.date(cut)), order_by="customer_id")


def summary_sql(source, as_of, time_unit_days: float = 7.0, calibration_end=None) -> pd.DataFrame:
    """Per-customer frequency / recency / T / monetary_value (the standard BTYD set-up) over the relation
    ``orders``.

    One occasion per customer and purchase day (see the module doc); ``as_of`` is inclusive and T is measured
    to it in whole days. The engine aggregates (:func:`occasion_totals`): order lines never reach pandas.

    Parameters
    ----------
    source : Engine, History or duckdb.DuckDBPyConnection
        Where ``orders`` (customer_id, order_date, amount, optionally status) is.
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
    totals = occasion_totals(source, end, cut)
    repeats = (totals["occasions"] - 1).astype(float)
    first = pd.to_datetime(totals["first_day"])
    summary = pd.DataFrame(
        {
            "frequency": repeats,
            "recency": (pd.to_datetime(totals["last_day"]) - first).dt.days / unit,
            "T": (pd.Timestamp(cut) - first).dt.days / unit,
            "monetary_value": (totals["repeat_value"] / repeats.where(repeats > 0)).fillna(0.0).astype(float),
            "frequency_holdout": totals["holdout_occasions"].astype(float),
            "monetary_value_holdout": (totals["holdout_value"] / totals["holdout_occasions"].where(
                totals["holdout_occasions"] > 0)).fillna(0.0).astype(float),
        },
    )
    summary.index = pd.Index(totals["customer_id"].astype(str), name="customer_id")
    for column in ("recency", "T"):
        summary[column] = summary[column].astype(float)
    if calibration_end is None:
        return summary.drop(columns=["frequency_holdout", "monetary_value_holdout"])
    summary["duration_holdout"] = (end - cut).days / unit
    return summary

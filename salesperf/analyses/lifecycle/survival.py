"""Time-to-event, pure: per-customer durations and Kaplan–Meier curves with Greenwood (log-log) bands.

Two events: *churn* (the day a customer's churn threshold passed without a purchase) and *second purchase*.
Customers without the event are censored at the as-of date, so the estimates are not biased towards short
times.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm
from statsmodels.duration.survfunc import SurvfuncRight

from salesperf.analyses.lifecycle.cohorts import period_label
from salesperf.analyses.lifecycle.stages import require
from salesperf.core.errors import UserError
from salesperf.core.expr import as_date

CURVE_COLUMNS = ["group", "time", "survival", "lower", "upper", "at_risk", "events"]
MEDIAN_COLUMNS = ["group", "customers", "events", "median_days", "median_lower", "median_upper"]


def lifetime_durations(
    stages: pd.DataFrame,
    as_of,
    event: str = "churn",
    group_col: str | None = None,
    cohort_grain: str | None = None,
) -> pd.DataFrame:
    """Per-customer durations and event flags for Kaplan–Meier.

    ``event='churn'``: a churned customer is lost the day the churn threshold passes without a purchase, so
    the duration is ``last_date + churn_after_days - first_date`` (event 1); everyone else is censored at
    ``as_of - first_date``. ``event='second_purchase'``: ``second_date - first_date`` (event 1), else censored
    at ``as_of - first_date``.

    Parameters
    ----------
    stages : DataFrame
        Per-customer stages (``second_purchase`` needs only ``first_date`` and ``second_date``).
    as_of : date-like
    event : {'churn', 'second_purchase'}
    group_col : str, optional
        Column of ``stages`` to split by.
    cohort_grain : {'month', 'quarter', 'year'}, optional
        Split by acquisition cohort instead (label of ``first_date``).

    Returns
    -------
    DataFrame
        ``customer_id``, ``group`` (``'all'`` without a split), ``duration_days`` (float, >= 0), ``event``
        (0/1).
    """
    day = pd.Timestamp(as_date(as_of))
    require(stages, ["customer_id", "first_date"], "stages")
    first = pd.to_datetime(stages["first_date"])
    censored = (day - first).dt.days.astype(float)
    if event == "churn":
        require(stages, ["stage", "last_date", "churn_after_days"], "stages")
        happened = stages["stage"].eq("churned")
        lost_after = (pd.to_datetime(stages["last_date"]) - first).dt.days + stages["churn_after_days"]
        duration = np.where(happened, lost_after, censored)
    elif event == "second_purchase":
        require(stages, ["second_date"], "stages")
        happened = stages["second_date"].notna()
        duration = np.where(happened, (pd.to_datetime(stages["second_date"]) - first).dt.days, censored)
    else:
        raise UserError(f"survival event {event!r} is not supported", hint="use churn or second_purchase")
    if cohort_grain is not None:
        group = period_label(first, cohort_grain)
    elif group_col is not None:
        require(stages, [group_col], "stages")
        group = stages[group_col].astype(object).where(stages[group_col].notna(), "(none)").astype(str)
    else:
        group = "all"
    return pd.DataFrame(
        {
            "customer_id": stages["customer_id"].to_numpy(),
            "group": group,
            "duration_days": np.minimum(duration.astype(float), censored),
            "event": happened.astype(int).to_numpy(),
        }
    )


@dataclass
class SurvivalCurves:
    """Kaplan–Meier curves per group.

    Attributes
    ----------
    curves : DataFrame
        One row per (group, time): ``group``, ``time`` (days), ``survival``, ``lower``, ``upper`` (pointwise
        log-log band from Greenwood's variance), ``at_risk``, ``events``; each group starts at time 0,
        survival 1.
    medians : DataFrame
        One row per group: ``group``, ``customers``, ``events``, ``median_days`` (NaN when the curve never
        reaches 0.5: "median not reached"), ``median_lower``, ``median_upper`` (confidence interval; upper may
        be inf).
    alpha : float
    """

    curves: pd.DataFrame
    medians: pd.DataFrame
    alpha: float


def kaplan_meier(durations, events) -> SurvfuncRight:
    """The Kaplan–Meier fit of one group (statsmodels; its standard errors are Greenwood's)."""
    return SurvfuncRight(np.asarray(durations, dtype=float), np.asarray(events, dtype=int))


def survival_curves(durations: pd.DataFrame, alpha: float = 0.05, min_customers: int = 5) -> SurvivalCurves:
    """Kaplan–Meier curves with log-log confidence bands and median lifetimes, per group.

    Parameters
    ----------
    durations : DataFrame
        ``group``, ``duration_days``, ``event`` (see :func:`lifetime_durations`).
    alpha : float
        1 - confidence level of the bands and of the median interval.
    min_customers : int
        Groups with fewer customers are left out (their curves are noise).

    Returns
    -------
    SurvivalCurves
    """
    require(durations, ["group", "duration_days", "event"], "durations")
    z = norm.ppf(1 - alpha / 2)
    curve_parts, median_rows = [], []
    for group, frame in durations.groupby("group", sort=True):
        if len(frame) < min_customers:
            continue
        fit = kaplan_meier(frame["duration_days"], frame["event"])
        survival, se = fit.surv_prob, fit.surv_prob_se
        with np.errstate(divide="ignore", invalid="ignore"):
            log_log = np.log(-np.log(survival))
            spread = z * se / np.abs(survival * np.log(survival))
            lower, upper = np.exp(-np.exp(log_log + spread)), np.exp(-np.exp(log_log - spread))
        lower = np.where(np.isfinite(lower), lower, survival)
        upper = np.where(np.isfinite(upper), upper, survival)
        curve_parts.append(
            pd.DataFrame(
                {
                    "group": group,
                    "time": np.r_[0.0, fit.surv_times],
                    "survival": np.r_[1.0, survival],
                    "lower": np.r_[1.0, lower],
                    "upper": np.r_[1.0, upper],
                    "at_risk": np.r_[len(frame), fit.n_risk],
                    "events": np.r_[0, fit.n_events],
                }
            )
        )
        median, (low, high) = _km_median(fit, alpha)
        median_rows.append(
            {
                "group": group,
                "customers": len(frame),
                "events": int(frame["event"].sum()),
                "median_days": median,
                "median_lower": low,
                "median_upper": high,
            }
        )
    curves = pd.concat(curve_parts, ignore_index=True) if curve_parts else pd.DataFrame(columns=CURVE_COLUMNS)
    return SurvivalCurves(curves, pd.DataFrame(median_rows, columns=MEDIAN_COLUMNS), alpha)


def _km_median(fit, alpha: float) -> tuple[float, tuple[float, float]]:
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # log(0) at the ends of the curve: no bound there
        median = float(fit.quantile(0.5))
        try:
            low, high = fit.quantile_ci(0.5, alpha=alpha, method="cloglog")
        except (ValueError, ZeroDivisionError):
            low, high = np.nan, np.nan
    return median, (float(low), float(high))


def event_time_quantile(durations: pd.DataFrame, quantile: float) -> tuple[float, float]:
    """The ``quantile`` of the time to the event among customers who have it within the observed horizon.

    From the Kaplan–Meier curve S over all customers (censored ones included): the smallest time t with
    ``1 - S(t) >= quantile * (1 - S(tau))``, tau the last observed time, so that customers still waiting are
    counted as waiting instead of being left out (leaving them out biases the time short).

    Parameters
    ----------
    durations : DataFrame
        ``duration_days`` and ``event`` (see :func:`lifetime_durations`).
    quantile : float
        In (0, 1).

    Returns
    -------
    (float, float)
        The time in days (NaN without any event) and ``1 - S(tau)``, the share that had the event by tau.
    """
    if not 0 < quantile < 1:
        raise UserError(f"quantile must be between 0 and 1, got {quantile!r}")
    if durations.empty or int(durations["event"].sum()) == 0:
        return float("nan"), 0.0
    fit = kaplan_meier(durations["duration_days"], durations["event"])
    reached = 1.0 - fit.surv_prob
    plateau = float(reached[-1])
    index = int(np.searchsorted(reached, quantile * plateau - 1e-12, side="left"))
    return float(fit.surv_times[min(index, len(reached) - 1)]), plateau

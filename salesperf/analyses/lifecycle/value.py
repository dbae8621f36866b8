"""Customer value at the as-of date (BG/NBD + Gamma-Gamma) and the holdout check, never crashing on small
data.

A fit that cannot be trusted gives no forecast: too few customers, no repeat buyers, an optimiser that did not
converge or ran to the edge of its search range, or parameters that describe no real customer base are
reported as a ``status`` (the text layer states it in words) and the values are NaN. Both models are judged by
one rule (:func:`_judge`); what counts as sound differs: BG/NBD shapes up to :data:`MAX_PLAUSIBLE_SHAPE`,
Gamma-Gamma ``q > 1`` (its mean spend ``p gamma / (q - 1)`` is finite only then). No warning of the optimiser
or of numpy reaches the caller.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from salesperf.analyses.lifecycle import clv
from salesperf.analyses.lifecycle.clv.likelihood import LOG_PARAM_BOUND
from salesperf.core.errors import UserError
from salesperf.core.expr import as_date

WEEK_DAYS = 7.0
MIN_CUSTOMERS = 30  # below this a four-parameter model is not identified
MIN_REPEATERS = 10  # Gamma-Gamma's three parameters on fewer repeat buyers are noise
#: BG/NBD shape parameters (r, a, b) above this describe customers who all buy, and all leave, alike: the
#: optimum of a likelihood that cannot tell them apart (one real export ended at r = 361, alpha = 12,701),
#: not a finding. Published fits sit far below it (CDNOW: r = 0.24, a = 0.79, b = 2.43; Fader, Hardie & Lee
#: 2005).
MAX_PLAUSIBLE_SHAPE = 100.0
VALUE_COLUMNS = ["customer_id", "p_alive", "expected_purchases", "clv"]


@dataclass
class CustomerValue:
    """Per-customer value at the as-of date.

    Attributes
    ----------
    frame : DataFrame
        :data:`VALUE_COLUMNS`: ``customer_id`` (str), ``p_alive``, ``expected_purchases`` (over the horizon),
        ``clv`` (discounted expected value over the horizon); NaN where the models could not be fitted.
    status : str
        ``fitted``; purchases forecast but no spend model (clv NaN): ``spend_too_few`` (fewer than
        :data:`MIN_REPEATERS` repeat buyers), ``spend_not_converged``, ``spend_at_bound``,
        ``spend_implausible`` (q <= 1: no finite mean spend; ``params['gamma_gamma']`` holds the fit); no
        forecast at all:
        ``too_few_customers``, ``no_repeat_buyers``, ``not_converged``, ``at_bound``, ``implausible`` (a
        converged fit on parameters beyond :data:`MAX_PLAUSIBLE_SHAPE`; ``params['bgnbd']`` holds them for the
        sentence).
    horizon_months : int
    params : dict
        Fitted parameters (``bgnbd`` and ``gamma_gamma`` when fitted).
    """

    frame: pd.DataFrame
    status: str
    horizon_months: int
    params: dict = field(default_factory=dict)

    @property
    def clv(self) -> pd.Series:
        """CLV per customer (index customer_id), without the NaN rows."""
        return self.frame.set_index("customer_id")["clv"].dropna()


def _quiet_fit(fit):
    """Run ``fit()`` with the optimiser's and numpy's warnings kept from the page; (model, converged)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", clv.ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        model = fit()
    return model, bool(model.converged_)


def implausible(params: dict) -> bool:
    """Whether fitted BG/NBD parameters are beyond what customers plausibly look like
    (:data:`MAX_PLAUSIBLE_SHAPE`)."""
    return any(not params.get(k, 0.0) <= MAX_PLAUSIBLE_SHAPE for k in ("r", "a", "b"))


def sound_spend(params: dict) -> bool:
    """Whether a Gamma-Gamma fit gives customers a finite mean spend: ``q > 1`` (E[M] = p gamma / (q - 1);
    Fader, Hardie & Lee 2005, JMR)."""
    return params.get("q", 0.0) > 1.0


def at_bound(params: dict) -> list[str]:
    """The parameters an optimiser left at the edge of its search range (exp(+-:data:`LOG_PARAM_BOUND`))."""
    edge = LOG_PARAM_BOUND - 1e-6
    return [k for k, v in params.items() if not (v > 0 and abs(np.log(v)) < edge)]


def _judge(fit, sound) -> tuple[object | None, str, dict]:
    """Fit quietly and judge the result: (model or None, status, parameters reached); the model only when
    ``fitted``. The statuses, in order: ``at_bound`` (a parameter at the search edge), ``not_converged``,
    ``implausible`` (``sound(params)`` is False), ``fitted``."""
    model, converged = _quiet_fit(fit)
    params = {k: float(v) for k, v in dict(getattr(model, "params_", {}) or {}).items()}
    if at_bound(params):
        return None, "at_bound", params
    if not converged:
        return None, "not_converged", params
    if not sound(params):
        return None, "implausible", params
    return model, "fitted", params


def _fit_purchases(summary: pd.DataFrame) -> tuple[clv.BetaGeo | None, str, dict]:
    """(model or None, status, parameters reached); the model only for a converged, plausible fit."""
    if len(summary) < MIN_CUSTOMERS:
        return None, "too_few_customers", {}
    if not (summary["frequency"] > 0).any():
        return None, "no_repeat_buyers", {}
    return _judge(
        lambda: clv.BetaGeo().fit(summary["frequency"], summary["recency"], summary["T"]),
        lambda params: not implausible(params),
    )


def _fit_spend(summary: pd.DataFrame) -> tuple[clv.GammaGamma | None, str, dict]:
    """(model or None, ``spend_`` status, parameters reached) of Gamma-Gamma on the repeat buyers; the model
    only for a converged fit with a finite mean spend (:func:`sound_spend`)."""
    repeaters = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    if len(repeaters) < MIN_REPEATERS:
        return None, "spend_too_few", {}
    model, status, params = _judge(
        lambda: clv.GammaGamma().fit(repeaters["frequency"], repeaters["monetary_value"]), sound_spend
    )
    return model, f"spend_{status}", params


def customer_value_sql(
    source, as_of, horizon_months: int = 12, monthly_discount_rate: float = 0.01
) -> CustomerValue:
    """Expected discounted value of each customer's purchases over the next months.

    Parameters
    ----------
    source : Engine, History or duckdb.DuckDBPyConnection
        Where ``orders`` are (see :func:`~salesperf.analyses.lifecycle.clv.summary_sql`).
    as_of : date-like
    horizon_months : int
        Months ahead (monthly discounting steps of 52/12 weeks).
    monthly_discount_rate : float

    Returns
    -------
    CustomerValue
        Every customer with a purchase occasion by ``as_of``; customers first seen on ``as_of`` carry no
        information and get NaN.
    """
    day = as_date(as_of)
    everyone = clv.summary_sql(source, day, time_unit_days=WEEK_DAYS)
    summary = everyone[everyone["T"] > 0]
    frame = pd.DataFrame(
        {
            "customer_id": everyone.index.astype(str),
            "p_alive": np.nan,
            "expected_purchases": np.nan,
            "clv": np.nan,
        }
    )
    purchases, status, reached = _fit_purchases(summary)
    if purchases is None:
        return CustomerValue(frame, status, horizon_months, {"bgnbd": reached} if reached else {})
    weeks = horizon_months * 52.0 / 12.0
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        p_alive = purchases.probability_alive(summary["frequency"], summary["recency"], summary["T"])
        expected = purchases.expected_purchases(weeks, summary["frequency"], summary["recency"], summary["T"])
    scored = pd.DataFrame(
        {"p_alive": np.asarray(p_alive, float), "expected_purchases": np.asarray(expected, float)},
        index=summary.index.astype(str),
    )
    params = {"bgnbd": dict(purchases.params_)}
    spend, status, reached = _fit_spend(summary)
    if reached:  # the sentence of a failed spend fit names what it reached
        params["gamma_gamma"] = reached
    if spend is not None:
        with np.errstate(all="ignore"):
            scored["clv"] = np.asarray(
                spend.customer_lifetime_value(
                    purchases,
                    summary["frequency"],
                    summary["recency"],
                    summary["T"],
                    summary["monetary_value"],
                    horizon=horizon_months,
                    discount_rate=monthly_discount_rate,
                    step=52.0 / 12.0,
                ),
                float,
            )
        status = "fitted"
    frame = frame[["customer_id"]].join(scored, on="customer_id")
    return CustomerValue(frame.reindex(columns=VALUE_COLUMNS), status, horizon_months, params)


@dataclass
class HoldoutCheck:
    """Predicted vs actual repeat purchases in a holdout period.

    Attributes
    ----------
    table : DataFrame
        One row per calibration frequency group (``'0'`` .. ``'7+'``) and ``'total'``: ``customers, actual,
        predicted, actual_mean, predicted_mean`` (see
        :func:`salesperf.analyses.lifecycle.clv.calibration_holdout`).
    params : dict
        Fitted BG/NBD parameters ``r, alpha (weeks), a, b``.
    calibration_end, as_of : datetime.date
    holdout_weeks : float
    headline : dict
        ``customers``, ``actual``, ``predicted``, ``error_pct``, ``holdout_weeks``.
    """

    table: pd.DataFrame
    params: dict
    calibration_end: date
    as_of: date
    holdout_weeks: float
    headline: dict


def calibration_holdout(source, calibration_end, as_of, max_frequency: int = 7) -> HoldoutCheck | str:
    """Fit BG/NBD on the orders up to ``calibration_end`` and compare its forecast with the holdout up to
    ``as_of``.

    ``source`` is an Engine, a :class:`~salesperf.analyses.lifecycle.history.History` or a DuckDB connection.

    Returns
    -------
    HoldoutCheck, or the status (see :class:`CustomerValue`) when the calibration data give no trustworthy
    fit.
    """
    cut, end = as_date(calibration_end, "calibration_end"), as_date(as_of)
    if cut >= end:
        raise UserError(f"calibration_end {cut} must be before as_of {end}", hint="leave a holdout period")
    summary = clv.summary_sql(source, end, time_unit_days=WEEK_DAYS, calibration_end=cut)
    summary = summary[summary["T"] > 0]
    model, status, _ = _fit_purchases(summary)
    if model is None:
        return status
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        table = clv.calibration_holdout(model, summary, max_frequency=max_frequency)
    total = table.loc["total"]
    weeks = (end - cut).days / WEEK_DAYS
    headline = {
        "customers": int(total["customers"]),
        "actual": float(total["actual"]),
        "predicted": float(total["predicted"]),
        "holdout_weeks": weeks,
        "error_pct": float((total["predicted"] - total["actual"]) / total["actual"] * 100)
        if total["actual"] > 0
        else float("nan"),
    }
    return HoldoutCheck(table, dict(model.params_), cut, end, weeks, headline)

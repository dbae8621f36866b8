"""Customer status (potential / active / at risk / churned / reactivated).

At risk, churned and reactivated are decided by the lifecycle stage rule
(:func:`salesperf.analyses.lifecycle.assign_stages`, thresholds in ``analyses/lifecycle/rules.yml``), with
lifecycle's ``new`` counted as active; ``potential`` (known to the CRM, never bought) is the one status only
segmentation has. A P(alive) per customer may replace the rule for active / at risk / churned.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salesperf.analyses import lifecycle
from salesperf.analyses.segmentation.base import (
    HISTORY_COLUMNS,
    STATUS_INPUT_COLUMNS,
    in_status,
    status_frame,
)
from salesperf.analyses.segmentation.queries import AggregateQuery
from salesperf.analyses.segmentation.rules import STATUSES, SegmentRules, StatusRules, load_rules
from salesperf.core.expr import as_date
from salesperf.data.engine import Engine


def _recent_days(lifecycle_rules: lifecycle.LifecycleRules | None) -> int:
    return (lifecycle_rules or lifecycle.load_rules()).reactivation_days


def status_inputs_sql(
    engine: Engine,
    as_of,
    period_start,
    lifecycle_rules: lifecycle.LifecycleRules | None = None,
) -> pd.DataFrame:
    """Per-customer purchase-day facts needed by :func:`customer_status`, computed in the engine.

    Uses ``orders`` and, when present, ``customers`` (created_at <= as_of) and ``opportunities`` (customer_id,
    created_at <= as_of) to list the customers known to the CRM without a purchase. The query is the status
    part of :class:`~salesperf.analyses.segmentation.queries.AggregateQuery` with its history part (the
    purchase rhythm of the lifecycle customer summary, from the same purchase days).

    Parameters
    ----------
    as_of : date-like
        End of this period (inclusive).
    period_start : date-like
        End of the previous period: this period is (period_start, as_of].
    lifecycle_rules : LifecycleRules, optional
        Its ``reactivation_days`` sets the recent window of the rhythm columns (pass the rules you give
        :func:`customer_status`).

    Returns
    -------
    DataFrame
        One row per customer, sorted by customer_id: customer_id, frequency (purchase days up to as_of; 0 for
        never-bought), first_purchase, last_purchase, frequency_before / last_before (purchase days up to
        period_start), first_in_period (first purchase day in the period, NaT if none), revenue_period (net
        amount in the period; 0 for never-bought), and the lifecycle rhythm columns occasions_before_recent,
        typical_gap_days, typical_gap_before_recent_days, recent_max_gap_days (0 / NaN for never-bought).
    """
    as_of, start = as_date(as_of), as_date(period_start, "period_start")
    query = (
        AggregateQuery(engine, as_of)
        .add_status("status_", as_of, start)
        .add_history("status_", as_of, _recent_days(lifecycle_rules))
    )
    return _normalise(status_frame(query.run(in_status)))


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reindex(columns=STATUS_INPUT_COLUMNS).copy()
    frame["customer_id"] = frame["customer_id"].astype(str)
    for col in ("frequency", "frequency_before", "occasions_before_recent"):
        frame[col] = frame[col].fillna(0).astype("int64")
    for col in ("first_purchase", "last_purchase", "last_before", "first_in_period"):
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    for col in HISTORY_COLUMNS[1:]:
        frame[col] = frame[col].astype("float64")
    frame["revenue_period"] = frame["revenue_period"].fillna(0.0).astype("float64")
    if frame["customer_id"].is_monotonic_increasing:
        return frame.reset_index(drop=True)
    return frame.sort_values("customer_id", ignore_index=True)


@dataclass
class CustomerStatus:
    """Result of :func:`customer_status`.

    Attributes
    ----------
    customers : DataFrame
        Per customer: customer_id, status, days_since_last, interval_days (the median gap between purchase
        days when the customer has a personal rhythm, else NaN), interval_source ('own' for a personal rhythm,
        'flat' for lifecycle's flat thresholds, '' for potential), at_risk_after_days, churned_after_days
        (lifecycle's thresholds for the customer), p_alive (NaN unless passed), revenue_period,
        lifecycle_stage (the lifecycle stage, with ``new`` kept; '' for potential).
    summary : DataFrame
        Per status: status, label_en, label_zh, customers, share, revenue_period.
    population_interval_days : float
        Median of the personal typical gaps of the customers with a rhythm (informative; the rule does not use
        it).
    as_of : date
    lifecycle_rules : LifecycleRules
        The stage rule applied (its thresholds are quoted by the text layer).
    status_rules : StatusRules
        Labels and the P(alive) thresholds.
    p_alive_given : bool
        Whether a P(alive) decided instead of the stage rule where given.
    facts : dict
        Counts and shares per status for the narrative.
    """

    customers: pd.DataFrame
    summary: pd.DataFrame
    population_interval_days: float
    as_of: dt.date
    lifecycle_rules: lifecycle.LifecycleRules
    status_rules: StatusRules
    p_alive_given: bool = False
    facts: dict = field(default_factory=dict)


_STATUS_NAMES = np.array(["active", "at_risk", "churned"], dtype=object)
_SOURCES = np.array(["", "own", "flat"], dtype=object)


def shared_strings(values: np.ndarray) -> np.ndarray:
    """The same object array of (few distinct) strings, each distinct value one Python object shared by its
    rows: a million rows of a status are then 8 MB of pointers, not 60 MB of strings."""
    codes, distinct = pd.factorize(values, use_na_sentinel=False)
    return np.asarray(distinct, dtype=object)[codes]


def lifecycle_summary(inputs: pd.DataFrame) -> pd.DataFrame:
    """The buyers of ``inputs`` as a :func:`salesperf.analyses.lifecycle.assign_stages` summary (the rhythm
    columns the stage rule reads; revenue columns and second_date, which it does not read, left empty)."""
    buyers = inputs[inputs["frequency"].to_numpy() > 0]
    empty = np.full(len(buyers), np.nan)
    return pd.DataFrame(
        {
            "customer_id": buyers["customer_id"].to_numpy(),
            "first_date": buyers["first_purchase"].to_numpy(),
            "second_date": pd.NaT,
            "last_date": buyers["last_purchase"].to_numpy(),
            "occasions": buyers["frequency"].to_numpy(),
            **{c: buyers[c].to_numpy() for c in HISTORY_COLUMNS},
            "revenue_net": empty,
            "revenue_gross": empty,
            "revenue_12m": empty,
        }
    )


def customer_status(
    inputs: pd.DataFrame,
    as_of,
    period_start,
    rules: SegmentRules | None = None,
    p_alive: pd.Series | None = None,
    *,
    lifecycle_rules: lifecycle.LifecycleRules | None = None,
    crm: bool = True,
) -> CustomerStatus:
    """Status per customer: the lifecycle stage (:func:`salesperf.analyses.lifecycle.assign_stages`) with new
    counted as active, and potential for customers known to the CRM who never bought.

    Parameters
    ----------
    inputs : DataFrame
        Output of :func:`status_inputs_sql` (built with the same ``lifecycle_rules``): one row per customer
        with the :data:`~salesperf.analyses.segmentation.base.STATUS_INPUT_COLUMNS`.
    as_of, period_start : date-like
        This period is (period_start, as_of]; ``revenue_period`` is the revenue in it.
    rules : SegmentRules, optional
        Labels and the P(alive) thresholds (``segments.yml`` → status).
    p_alive : Series, optional
        P(alive) per customer_id (e.g. from a BG/NBD model); where given it replaces the stage rule for
        active / at risk / churned (a reactivated customer stays reactivated unless P(alive) says churned).
    lifecycle_rules : LifecycleRules, optional
        The stage rule (defaults to lifecycle's ``rules.yml``).
    crm : bool
        Whether the data have a customers or opportunities table; without one nobody can be known as
        potential, and the summary leaves the potential row out instead of counting 0.

    Returns
    -------
    CustomerStatus
    """
    rules = rules or load_rules()
    lr = lifecycle_rules or lifecycle.load_rules()
    sr = rules.status
    as_of = pd.Timestamp(as_date(as_of))
    as_date(
        period_start, "period_start"
    )  # checked only: revenue_period in ``inputs`` already covers the period
    never = inputs["frequency"].to_numpy() == 0
    bought = ~never
    stages = lifecycle.assign_stages(lifecycle_summary(inputs), as_of, lr)

    def spread(column, fill):
        values = np.full(len(inputs), fill, dtype=object if isinstance(fill, str) else "float64")
        values[bought] = stages[column].to_numpy()
        return values

    stage = shared_strings(spread("stage", ""))
    status = stage.copy()
    status[stage == "new"] = "active"
    p = pd.Series(np.nan, index=inputs.index)
    if p_alive is not None:
        p = inputs["customer_id"].map(p_alive.astype("float64")).astype("float64")
        by_p = _STATUS_NAMES[
            np.select([p < sr.p_alive_churned_below, p < sr.p_alive_at_risk_below], [2, 1], 0)
        ]
        use_p = p.notna().to_numpy() & bought & ((status != "reactivated") | (by_p == "churned"))
        status[use_p] = by_p[use_p]
    status[never] = "potential"

    has_rhythm = spread("has_rhythm", np.nan) == 1
    gap = inputs["typical_gap_days"].to_numpy(dtype="float64")
    out = pd.DataFrame(
        copy=False,
        data={
            "customer_id": inputs["customer_id"].to_numpy(),
            "status": status,
            "days_since_last": spread("recency_days", np.nan),
            "interval_days": np.where(has_rhythm, gap, np.nan),
            "interval_source": _SOURCES[np.where(never, 0, np.where(has_rhythm, 1, 2))],
            "at_risk_after_days": spread("at_risk_after_days", np.nan),
            "churned_after_days": spread("churn_after_days", np.nan),
            "p_alive": p.to_numpy(),
            "revenue_period": inputs["revenue_period"].to_numpy(),
            "lifecycle_stage": stage,
        },
    )
    rhythm_gaps = gap[has_rhythm]
    population = float(np.median(rhythm_gaps)) if len(rhythm_gaps) else float("nan")
    summary = _summary(out, sr)
    if not crm:
        summary = summary[summary["status"] != "potential"].reset_index(drop=True)
    facts = {f"{r.status}_customers": int(r.customers) for r in summary.itertuples()}
    facts |= {f"{r.status}_share": float(r.share) for r in summary.itertuples()}
    facts["population_interval_days"] = population
    facts["revenue_period"] = float(out["revenue_period"].sum())
    return CustomerStatus(out, summary, population, as_of.date(), lr, sr, p_alive is not None, facts)


def _summary(out: pd.DataFrame, sr: StatusRules) -> pd.DataFrame:
    grouped = out.groupby("status")
    summary = pd.DataFrame({"customers": grouped.size(), "revenue_period": grouped["revenue_period"].sum()})
    summary = summary.reindex(list(STATUSES)).fillna(0)
    summary["customers"] = summary["customers"].astype("int64")
    summary["share"] = summary["customers"] / max(len(out), 1)
    summary.index.name = "status"
    summary = summary.reset_index()
    summary.insert(1, "label_en", summary["status"].map(lambda k: sr.labels[k].label_en))
    summary.insert(2, "label_zh", summary["status"].map(lambda k: sr.labels[k].label_zh))
    return summary[["status", "label_en", "label_zh", "customers", "share", "revenue_period"]]

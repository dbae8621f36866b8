"""Lifecycle stages, pure apart from :func:`lifecycle_snapshot`: assignment by rules, per-stage summary,
flows.

A customer's stage at the as-of date follows ``rules.yml`` (new, reactivated, active, at risk, churned, in
that order of precedence), with thresholds scaled by the customer's own purchase rhythm when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from salesperf.analyses.lifecycle.queries import SUMMARY_COLUMNS, customer_summary_sql
from salesperf.analyses.lifecycle.rules import ENTRY_STAGE, STAGES, LifecycleRules, load_rules
from salesperf.core.errors import UserError, examples
from salesperf.core.expr import as_date


def require(frame: pd.DataFrame, columns, what: str) -> None:
    """UserError naming the first of ``columns`` missing from ``frame``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise UserError(
            f"{what}: column {missing[0]!r} is missing; columns present: {examples(frame.columns, 8)}"
        )


def assign_stages(summary: pd.DataFrame, as_of, rules: LifecycleRules | None = None) -> pd.DataFrame:
    """Lifecycle stage of every customer at ``as_of``.

    Parameters
    ----------
    summary : DataFrame
        Customer summary (:func:`~salesperf.analyses.lifecycle.queries.customer_summary_sql`), one row per
        customer.
    as_of : date-like
        The date the stages describe (the summary's).
    rules : LifecycleRules, optional
        Defaults to :func:`load_rules`.

    Returns
    -------
    DataFrame
        The summary plus ``days_since_first``, ``recency_days``, ``has_rhythm``, ``at_risk_after_days``,
        ``churn_after_days`` (the customer's thresholds), ``lapse_after_days`` (the churn threshold of the
        rhythm before the recent window, which a comeback gap must exceed to count as reactivation),
        ``stage``, ``stage_label_en``, ``stage_label_zh``, ``treatment``, ``treatment_en``, ``treatment_zh``.
    """
    rules = rules or load_rules()
    require(summary, SUMMARY_COLUMNS, "customer summary")
    day = pd.Timestamp(as_date(as_of))
    out = summary.copy()
    out["days_since_first"] = (day - pd.to_datetime(out["first_date"])).dt.days
    out["recency_days"] = (day - pd.to_datetime(out["last_date"])).dt.days
    out["has_rhythm"], out["at_risk_after_days"], out["churn_after_days"] = _thresholds(
        out["occasions"], out["typical_gap_days"], rules
    )
    _, _, out["lapse_after_days"] = _thresholds(
        out["occasions_before_recent"], out["typical_gap_before_recent_days"], rules
    )
    conditions = [
        out["days_since_first"] < rules.new_days,
        out["recent_max_gap_days"].astype(float) > out["lapse_after_days"],
        out["recency_days"] <= out["at_risk_after_days"],
        out["recency_days"] <= out["churn_after_days"],
    ]
    out["stage"] = np.select(conditions, list(STAGES[:4]), default="churned")
    return _with_stage_labels(out, rules)


def _thresholds(occasions: pd.Series, typical_gap: pd.Series, rules: LifecycleRules):
    """(has rhythm, at-risk threshold, churn threshold) in days for each customer."""
    gap = typical_gap.astype(float)
    has_rhythm = rules.rhythm_enabled & (occasions >= rules.rhythm_min_occasions) & gap.notna()
    clip = {"lower": rules.rhythm_min_days, "upper": rules.rhythm_max_days}
    at_risk = np.where(has_rhythm, (gap * rules.rhythm_at_risk_multiple).clip(**clip), rules.at_risk_days)
    churn = np.maximum(
        at_risk, np.where(has_rhythm, (gap * rules.rhythm_churn_multiple).clip(**clip), rules.churn_days)
    )
    return has_rhythm, at_risk, churn


def _with_stage_labels(frame: pd.DataFrame, rules: LifecycleRules) -> pd.DataFrame:
    # dictionaries over the few stage values, not a Python call per customer
    stages = frame["stage"].unique()
    for lang in ("en", "zh"):
        frame[f"stage_label_{lang}"] = frame["stage"].map({s: rules.stage_label(s, lang) for s in stages})
    frame["treatment"] = frame["stage"].map({s: rules.stages[s]["treatment"] for s in stages})
    treatments = frame["treatment"].unique()
    for lang in ("en", "zh"):
        frame[f"treatment_{lang}"] = frame["treatment"].map(
            {t: rules.treatment_label(t, lang) for t in treatments}
        )
    return frame


def stage_summary(stages: pd.DataFrame, rules: LifecycleRules | None = None) -> pd.DataFrame:
    """Customers, share and revenue per lifecycle stage, with the recommended treatment.

    Returns
    -------
    DataFrame
        One row per stage in lifecycle order (all five, zero-filled): ``stage``, ``customers``, ``share``,
        ``revenue_12m``, ``revenue_net`` (lifetime), ``median_recency_days``, ``stage_label_en/zh``,
        ``treatment``, ``treatment_en/zh``.
    """
    rules = rules or load_rules()
    require(stages, ["stage", "revenue_12m", "revenue_net", "recency_days"], "stages")
    grouped = (
        stages.groupby("stage")
        .agg(
            customers=("stage", "size"),
            revenue_12m=("revenue_12m", "sum"),
            revenue_net=("revenue_net", "sum"),
            median_recency_days=("recency_days", "median"),
        )
        .reindex(list(STAGES))
    )
    money = ["customers", "revenue_12m", "revenue_net"]
    grouped[money] = grouped[money].fillna(0)
    grouped["customers"] = grouped["customers"].astype("int64")
    grouped["share"] = grouped["customers"] / max(int(grouped["customers"].sum()), 1)
    out = _with_stage_labels(grouped.rename_axis("stage").reset_index(), rules)
    return out[
        [
            "stage",
            "customers",
            "share",
            "revenue_12m",
            "revenue_net",
            "median_recency_days",
            "stage_label_en",
            "stage_label_zh",
            "treatment",
            "treatment_en",
            "treatment_zh",
        ]
    ]


def stage_flows(
    previous: pd.DataFrame, current: pd.DataFrame, rules: LifecycleRules | None = None
) -> pd.DataFrame:
    """Movements between lifecycle stages from the previous as-of date to this one.

    Parameters
    ----------
    previous, current : DataFrame
        Outputs of :func:`assign_stages` at the previous and at this as-of date.
    rules : LifecycleRules, optional
        For the labels.

    Returns
    -------
    DataFrame
        One row per observed (from_stage, to_stage): ``customers``, ``revenue`` (net revenue the movers
        brought in between the two dates), ``from_label_en/zh``, ``to_label_en/zh``. Customers who had not
        bought by the previous date come from the pseudo-stage ``none``. Ordered by lifecycle order of from,
        then to.
    """
    rules = rules or load_rules()
    require(previous, ["customer_id", "stage", "revenue_net"], "previous stages")
    require(current, ["customer_id", "stage", "revenue_net"], "current stages")
    before = previous.set_index("customer_id")[["stage", "revenue_net"]]
    moves = current.join(before, on="customer_id", rsuffix="_before")
    moves["from_stage"] = moves["stage_before"].fillna(ENTRY_STAGE)
    moves["revenue"] = (moves["revenue_net"] - moves["revenue_net_before"].fillna(0.0)).round(2)
    flows = (
        moves.groupby(["from_stage", "stage"])
        .agg(customers=("customer_id", "size"), revenue=("revenue", "sum"))
        .reset_index()
    )
    flows = flows.rename(columns={"stage": "to_stage"})
    order = {s: i for i, s in enumerate((ENTRY_STAGE, *STAGES))}
    flows = flows.sort_values(["from_stage", "to_stage"], key=lambda s: s.map(order), ignore_index=True)
    for side in ("from", "to"):
        for lang in ("en", "zh"):
            labels = {s: rules.stage_label(s, lang) for s in flows[f"{side}_stage"].unique()}
            flows[f"{side}_label_{lang}"] = flows[f"{side}_stage"].map(labels)
    return flows


FLOW_HEADLINE = {
    "active_to_at_risk": ("active", "at_risk"),
    "at_risk_to_churned": ("at_risk", "churned"),
    "reactivated_from_churned": ("churned", "reactivated"),
}


@dataclass
class LifecycleSnapshot:
    """Stages at the as-of date, their summary and the flows since the previous date.

    Attributes
    ----------
    as_of, previous_as_of : datetime.date
    customers : DataFrame
        Per-customer stages at ``as_of`` (see :func:`assign_stages`).
    summary : DataFrame
        Per-stage counts, revenue and treatments (see :func:`stage_summary`).
    flows : DataFrame or None
        Stage flows since ``previous_as_of`` (see :func:`stage_flows`), None without a previous date.
    headline : dict
        ``customers``, ``{stage}`` counts and ``{stage}_share``, and with flows ``active_to_at_risk``,
        ``at_risk_to_churned``, ``reactivated_from_churned``, ``newly_acquired``.
    """

    as_of: date
    previous_as_of: date | None
    customers: pd.DataFrame
    summary: pd.DataFrame
    flows: pd.DataFrame | None
    headline: dict = field(default_factory=dict)


def lifecycle_snapshot(
    source, as_of, previous_as_of=None, rules: LifecycleRules | None = None
) -> LifecycleSnapshot:
    """Stages at ``as_of`` (queried from ``orders``), their summary and the flows since ``previous_as_of``.

    Parameters
    ----------
    source : Engine, History or duckdb.DuckDBPyConnection
        Where ``orders`` are (a :class:`~salesperf.analyses.lifecycle.history.History` read once serves both
        dates).
    as_of : date-like
    previous_as_of : date-like, optional
        E.g. the end of the previous report period.
    rules : LifecycleRules, optional

    Returns
    -------
    LifecycleSnapshot
    """
    rules = rules or load_rules()
    day = as_date(as_of)
    current = assign_stages(customer_summary_sql(source, day, rules.reactivation_days), day, rules)
    summary = stage_summary(current, rules)
    headline: dict = {"customers": int(summary["customers"].sum()), "new_days": rules.new_days}
    for row in summary.itertuples():
        headline[row.stage] = int(row.customers)
        headline[f"{row.stage}_share"] = float(row.share)
    flows, before_day = None, None
    if previous_as_of is not None:
        before_day = as_date(previous_as_of, "previous_as_of")
        if before_day >= day:
            raise UserError(f"previous_as_of {before_day} is not before as_of {day}")
        previous = assign_stages(
            customer_summary_sql(source, before_day, rules.reactivation_days), before_day, rules
        )
        flows = stage_flows(previous, current, rules)
        count = flows.set_index(["from_stage", "to_stage"])["customers"]
        for name, key in FLOW_HEADLINE.items():
            headline[name] = int(count.get(key, 0))
        headline["newly_acquired"] = int(flows.loc[flows["from_stage"] == ENTRY_STAGE, "customers"].sum())
    return LifecycleSnapshot(day, before_day, current, summary, flows, headline)

"""Value tiers: ABC (Pareto) by revenue and the key / potential / ordinary grading (重要/潜在/普通客户)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salesperf.analyses.segmentation.base import window_revenue_frame
from salesperf.analyses.segmentation.queries import AggregateQuery
from salesperf.analyses.segmentation.rules import ABC_TIERS, SegmentRules, load_rules
from salesperf.core.expr import as_date
from salesperf.data.engine import Engine


@dataclass
class AbcTiers:
    """Result of :func:`abc_tiers`.

    Attributes
    ----------
    customers : DataFrame
        customer_id, revenue, share_before (revenue share of customers with strictly more revenue), abc_tier.
    summary : DataFrame
        Per tier: abc_tier, label_en, label_zh, customers, share, revenue, revenue_share, min_revenue.
    cutoffs : dict
        {'A': smallest revenue in tier A, 'B': smallest revenue in tier B} (NaN when a tier is empty).
    facts : dict
        a_share, b_share, cutoffs and customers / customer share per tier (for the text layer).
    """

    customers: pd.DataFrame
    summary: pd.DataFrame
    cutoffs: dict[str, float]
    facts: dict = field(default_factory=dict)


def abc_tiers(
    customers: pd.DataFrame,
    rules: SegmentRules | None = None,
    a_share: float | None = None,
    b_share: float | None = None,
    *,
    customer_col: str = "customer_id",
    revenue_col: str = "monetary",
) -> AbcTiers:
    """Pareto tiers: A = customers making the first ``a_share`` of revenue, B up to ``b_share``, C the rest.

    The total is the sum of positive revenues; a customer is in A when the revenue of the customers with
    strictly more revenue is below ``a_share`` of it (so the customer crossing the line is in A and equal
    revenues share a tier). Customers with zero or negative revenue are C.

    Parameters
    ----------
    customers : DataFrame
        One row per customer with ``customer_col`` and ``revenue_col``.
    a_share, b_share : float, optional
        Override the rules' cut-offs.

    Returns
    -------
    AbcTiers
    """
    rules = rules or load_rules()
    a = rules.abc.a_share if a_share is None else a_share
    b = rules.abc.b_share if b_share is None else b_share
    revenue = customers[revenue_col].astype("float64").to_numpy()
    positive = np.clip(revenue, 0, None)
    total = positive.sum()
    # revenue of customers with strictly more revenue = total positive revenue at or above the next larger
    # value
    values = np.unique(positive)[::-1]
    per_value = pd.Series(positive).groupby(positive).sum().reindex(values).to_numpy()
    before_by_value = np.concatenate([[0.0], np.cumsum(per_value)[:-1]])
    before = pd.Series(before_by_value, index=values).reindex(positive).to_numpy()
    share_before = before / total if total > 0 else np.ones_like(before)
    tier = np.where(revenue <= 0, "C", np.where(share_before < a, "A", np.where(share_before < b, "B", "C")))
    out = pd.DataFrame(
        {
            "customer_id": customers[customer_col].to_numpy(),
            "revenue": revenue,
            "share_before": share_before,
            "abc_tier": tier,
        }
    )
    grouped = out.groupby("abc_tier")
    summary = pd.DataFrame(
        {
            "customers": grouped.size(),
            "revenue": grouped["revenue"].sum(),
            "min_revenue": grouped["revenue"].min(),
        }
    ).reindex(list(ABC_TIERS))
    summary["customers"] = summary["customers"].fillna(0).astype("int64")
    summary["revenue"] = summary["revenue"].fillna(0.0)
    summary["share"] = summary["customers"] / max(len(out), 1)
    summary["revenue_share"] = summary["revenue"] / revenue.sum() if revenue.sum() else np.nan
    summary.index.name = "abc_tier"
    summary = summary.reset_index()
    summary.insert(1, "label_en", summary["abc_tier"].map(lambda t: rules.abc.labels[t].label_en))
    summary.insert(2, "label_zh", summary["abc_tier"].map(lambda t: rules.abc.labels[t].label_zh))
    summary = summary[
        ["abc_tier", "label_en", "label_zh", "customers", "share", "revenue", "revenue_share", "min_revenue"]
    ]
    cutoffs = {t: float(summary.set_index("abc_tier").loc[t, "min_revenue"]) for t in ("A", "B")}
    facts = {
        "a_share": a,
        "b_share": b,
        "cutoffs": cutoffs,
        **{f"{r.abc_tier}_customers": int(r.customers) for r in summary.itertuples()},
        **{f"{r.abc_tier}_customer_share": float(r.share) for r in summary.itertuples()},
    }
    return AbcTiers(out, summary, cutoffs, facts)


def share_below(values: pd.Series) -> pd.Series:
    """Share of customers with a strictly smaller value (0 for the smallest; ties share it). NaN stays NaN."""
    n = values.notna().sum()
    return (values.rank(method="min") - 1) / max(n, 1)


def revenue_growth(current: pd.Series, previous: pd.Series) -> pd.Series:
    """(current - previous) / previous; +inf when previous <= 0 < current (new in the window); NaN when
    neither > 0."""
    current, previous = (
        current.astype("float64"),
        previous.astype("float64").reindex(current.index).fillna(0.0),
    )
    growth = (current - previous) / previous.where(previous > 0)
    growth[(previous <= 0) & (current > 0)] = np.inf
    return growth


@dataclass
class Grades:
    """Result of :func:`grade_customers`.

    Attributes
    ----------
    customers : DataFrame
        customer_id, grade, growth, monetary_percentile, clv_percentile (NaN without CLV), rule (index of the
        rule).
    summary : DataFrame
        Per grade: grade, label_en, label_zh, customers, share, revenue, revenue_share.
    rules : SegmentRules
        The rules applied (the text layer words them).
    clv : str
        How the CLV rules went: 'applied', 'not_given' (no CLV series: those rules were skipped) or
        'no_values' (a series without a value for any graded customer: skipped too).
    facts : dict
        Customers and revenue share per grade.
    """

    customers: pd.DataFrame
    summary: pd.DataFrame
    rules: SegmentRules
    clv: str = "not_given"
    facts: dict = field(default_factory=dict)


def grade_customers(
    customers: pd.DataFrame,
    previous_revenue: pd.Series | None = None,
    clv: pd.Series | None = None,
    rules: SegmentRules | None = None,
    *,
    current_revenue: pd.Series | None = None,
    customer_col: str = "customer_id",
    revenue_col: str = "monetary",
    tier_col: str = "abc_tier",
) -> Grades:
    """Key / potential / ordinary grade per customer from the grading rules (first match wins).

    Parameters
    ----------
    customers : DataFrame
        One row per customer: ``customer_col``, ``revenue_col`` (this window), ``tier_col`` (from
        :func:`abc_tiers`).
    previous_revenue : Series, optional
        Revenue in the previous window, indexed by customer_id (missing = 0). Without it growth is NaN and
        growth conditions never hold.
    current_revenue : Series, optional
        Revenue in the current window (same length as the previous one), indexed by customer_id (missing = 0);
        default ``revenue_col``. Growth = current / previous - 1.
    clv : Series, optional
        Customer lifetime value indexed by customer_id (lifecycle's ``customer_value``); the percentile is the
        share of graded customers *with* a CLV that have a strictly smaller one; a customer without a value
        never meets a CLV condition. Rules with ``clv_percentile_min`` are skipped (``Grades.clv`` says why)
        when it is None or holds no value for any graded customer.

    Returns
    -------
    Grades
    """
    rules = rules or load_rules()
    frame = customers.set_index(customer_col)
    revenue = frame[revenue_col].astype("float64")
    window = current_revenue.reindex(frame.index).fillna(0.0) if current_revenue is not None else revenue
    growth = (
        revenue_growth(window, previous_revenue)
        if previous_revenue is not None
        else pd.Series(np.nan, index=frame.index)
    )
    money_pct = share_below(revenue)
    clv_state, clv_pct = "not_given", None
    if clv is not None:
        values = pd.to_numeric(clv, errors="coerce").astype("float64")
        values = values.groupby(level=0).first().reindex(frame.index)
        clv_state = "applied" if values.notna().any() else "no_values"
        clv_pct = share_below(values) if clv_state == "applied" else None
    grade = pd.Series(None, index=frame.index, dtype=object)
    which = pd.Series(-1, index=frame.index)
    for i, rule in enumerate(rules.grading):
        if rule.clv_percentile_min is not None and clv_pct is None:
            continue
        hit = grade.isna()
        if rule.abc_tier is not None:
            hit &= frame[tier_col].isin(rule.abc_tier)
        if rule.growth_min is not None:
            hit &= growth >= rule.growth_min
        if rule.monetary_percentile_min is not None:
            hit &= money_pct >= rule.monetary_percentile_min
        if rule.clv_percentile_min is not None:
            hit &= clv_pct >= rule.clv_percentile_min
        grade[hit], which[hit] = rule.grade, i
    out = pd.DataFrame(
        {
            "customer_id": frame.index,
            "grade": grade.to_numpy(),
            "growth": growth.to_numpy(),
            "monetary_percentile": money_pct.to_numpy(),
            "clv_percentile": clv_pct.to_numpy() if clv_pct is not None else np.nan,
            "rule": which.to_numpy(),
        }
    )
    grouped = pd.DataFrame({"grade": out["grade"], "revenue": revenue.to_numpy()}).groupby("grade")
    summary = pd.DataFrame({"customers": grouped.size(), "revenue": grouped["revenue"].sum()})
    summary = summary.reindex(list(rules.grades)).fillna(0)
    summary["customers"] = summary["customers"].astype("int64")
    summary["share"] = summary["customers"] / max(len(out), 1)
    summary["revenue_share"] = summary["revenue"] / revenue.sum() if revenue.sum() else np.nan
    summary.index.name = "grade"
    summary = summary.reset_index()
    summary.insert(1, "label_en", summary["grade"].map(lambda g: rules.grades[g].label_en))
    summary.insert(2, "label_zh", summary["grade"].map(lambda g: rules.grades[g].label_zh))
    summary = summary[["grade", "label_en", "label_zh", "customers", "share", "revenue", "revenue_share"]]
    facts = {f"{r.grade}_customers": int(r.customers) for r in summary.itertuples()}
    facts |= {f"{r.grade}_revenue_share": float(r.revenue_share) for r in summary.itertuples()}
    return Grades(out, summary, rules, clv_state, facts)


def window_revenue_sql(engine: Engine, ends: dict, days: int) -> pd.DataFrame:
    """Net revenue per customer in windows of ``days`` days ending on each date of ``ends``, in one scan (the
    window part of :class:`~salesperf.analyses.segmentation.queries.AggregateQuery`).

    Parameters
    ----------
    ends : dict
        {column name: window end date}; each window is (end - days, end].

    Returns
    -------
    DataFrame
        Index customer_id, one float column per key of ``ends`` (0 when nothing was bought in that window).
    """
    dates = {name: as_date(end, name) for name, end in ends.items()}
    query = AggregateQuery(engine, max(dates.values())).add_windows(dates, int(days))
    return window_revenue_frame(query.run())

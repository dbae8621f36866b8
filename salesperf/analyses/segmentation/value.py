"""Value tiers: ABC (Pareto) by revenue and the key / potential / ordinary grading (重要/潜在/普通客户)."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from salesperf.core import fmt
from salesperf.core.vocab import check_lang
from salesperf.core.sql import as_date
from salesperf.analyses.segmentation.base import AggregateQuery, window_revenue_frame
from salesperf.analyses.segmentation.rules import ABC_TIERS, GradingRule, SegmentRules, load_rules


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
    sentence : str
        In the language asked for (:func:`abc_sentence` gives the other).
    """

    customers: pd.DataFrame
    summary: pd.DataFrame
    cutoffs: dict[str, float]
    sentence: str
    facts: dict = field(default_factory=dict)


def abc_tiers(customers: pd.DataFrame, rules: SegmentRules | None = None, a_share: float | None = None,
              b_share: float | None = None, *, customer_col: str = "customer_id",
              revenue_col: str = "monetary", lang: str = "en", currency: str = "¥") -> AbcTiers:
    """Pareto tiers: A = customers making the first ``a_share`` of revenue, B up to ``b_share``, C the rest.

    The total is the sum of positive revenues; a customer is in A when the revenue of the customers with strictly
    more revenue is below ``a_share`` of it (so the customer crossing the line is in A and equal revenues share a
    tier). Customers with zero or negative revenue are C.

    Parameters
    ----------
    customers : DataFrame
        One row per customer with ``customer_col`` and ``revenue_col``.
    lang : {'en', 'zh'}
        Language of ``sentence``.
    currency : str
        Currency symbol for money in English sentences.

    Returns
    -------
    AbcTiers
    """
    check_lang(lang)
    rules = rules or load_rules()
    a = rules.abc.a_share if a_share is None else a_share
    b = rules.abc.b_share if b_share is None else b_share
    revenue = customers[revenue_col].astype("float64").to_numpy()
    positive = np.clip(revenue, 0, None)
    total = positive.sum()
    # revenue of customers with strictly more revenue = total positive revenue at or above the next larger value
    values = np.unique(positive)[::-1]
    per_value = pd.Series(positive).groupby(positive).sum().reindex(values).to_numpy()
    before_by_value = np.concatenate([[0.0], np.cumsum(per_value)[:-1]])
    before = pd.Series(before_by_value, index=values).reindex(positive).to_numpy()
    share_before = before / total if total > 0 else np.ones_like(before)
    tier = np.where(revenue <= 0, "C", np.where(share_before < a, "A", np.where(share_before < b, "B", "C")))
    out = pd.DataFrame({"customer_id": customers[customer_col].to_numpy(), "revenue": revenue,
                        "share_before": share_before, "abc_tier": tier})
    grouped = out.groupby("abc_tier")
    summary = pd.DataFrame({"customers": grouped.size(), "revenue": grouped["revenue"].sum(),
                            "min_revenue": grouped["revenue"].min()}).reindex(list(ABC_TIERS))
    summary["customers"] = summary["customers"].fillna(0).astype("int64")
    summary["revenue"] = summary["revenue"].fillna(0.0)
    summary["share"] = summary["customers"] / max(len(out), 1)
    summary["revenue_share"] = summary["revenue"] / revenue.sum() if revenue.sum() else np.nan
    summary.index.name = "abc_tier"
    summary = summary.reset_index()
    summary.insert(1, "label_en", summary["abc_tier"].map(lambda t: rules.abc.labels[t].label_en))
    summary.insert(2, "label_zh", summary["abc_tier"].map(lambda t: rules.abc.labels[t].label_zh))
    summary = summary[["abc_tier", "label_en", "label_zh", "customers", "share", "revenue", "revenue_share",
                       "min_revenue"]]
    cutoffs = {t: float(summary.set_index("abc_tier").loc[t, "min_revenue"]) for t in ("A", "B")}
    facts = {"a_share": a, "b_share": b, "cutoffs": cutoffs,
             **{f"{r.abc_tier}_customers": int(r.customers) for r in summary.itertuples()},
             **{f"{r.abc_tier}_customer_share": float(r.share) for r in summary.itertuples()}}
    result = AbcTiers(out, summary, cutoffs, "", facts)
    result.sentence = abc_sentence(result, lang, currency)
    return result


def abc_sentence(result: AbcTiers, lang: str = "en", currency: str = "¥") -> str:
    """Tier A's share of customers and revenue and the tier cut-offs, in ``lang``."""
    check_lang(lang)
    row_a = result.summary.set_index("abc_tier").loc["A"]
    a, b = result.facts["a_share"], result.facts["b_share"]
    start_a, start_b = (fmt.money(result.cutoffs[t], lang, currency) for t in ("A", "B"))
    if lang == "zh":
        return (f"{fmt.percent(row_a['share'])} 的客户（{row_a['customers']:,} 位）贡献了 "
                f"{fmt.percent(row_a['revenue_share'])} 的销售额（A 类客户：累计贡献前 {a:.0%} 的销售额，单客销售额 "
                f"{start_a}起）；B 类客户（累计至 {b:.0%}）单客销售额 {start_b}起。")
    return (f"{fmt.percent(row_a['share'])} of customers ({row_a['customers']:,}) make "
            f"{fmt.percent(row_a['revenue_share'])} of revenue (tier A: first {a:.0%} of revenue, from {start_a} "
            f"per customer up); tier B (up to {b:.0%}) starts at {start_b}.")


def share_below(values: pd.Series) -> pd.Series:
    """Share of customers with a strictly smaller value (0 for the smallest; ties share it). NaN stays NaN."""
    n = values.notna().sum()
    return (values.rank(method="min") - 1) / max(n, 1)


def revenue_growth(current: pd.Series, previous: pd.Series) -> pd.Series:
    """(current - previous) / previous; +inf when previous <= 0 < current (new in the window); NaN when neither > 0."""
    current, previous = current.astype("float64"), previous.astype("float64").reindex(current.index).fillna(0.0)
    growth = (current - previous) / previous.where(previous > 0)
    growth[(previous <= 0) & (current > 0)] = np.inf
    return growth


@dataclass
class Grades:
    """Result of :func:`grade_customers`.

    Attributes
    ----------
    customers : DataFrame
        customer_id, grade, growth, monetary_percentile, clv_percentile (NaN without CLV), rule (index of the rule).
    summary : DataFrame
        Per grade: grade, label_en, label_zh, customers, share, revenue, revenue_share.
    rules_text : list of str
        The rules, one sentence each, as applied.
    sentences : list of str
        Customers and revenue share of each grade.

    Both texts are in the language asked for (:func:`grades_sentences` gives the other).
    """

    customers: pd.DataFrame
    summary: pd.DataFrame
    rules_text: list[str]
    facts: dict = field(default_factory=dict)
    sentences: list[str] = field(default_factory=list)


def grade_customers(customers: pd.DataFrame, previous_revenue: pd.Series | None = None,
                    clv: pd.Series | None = None, rules: SegmentRules | None = None, *,
                    current_revenue: pd.Series | None = None, customer_col: str = "customer_id",
                    revenue_col: str = "monetary", tier_col: str = "abc_tier", lang: str = "en") -> Grades:
    """Key / potential / ordinary grade per customer from the grading rules (first match wins).

    Parameters
    ----------
    customers : DataFrame
        One row per customer: ``customer_col``, ``revenue_col`` (this window), ``tier_col`` (from :func:`abc_tiers`).
    previous_revenue : Series, optional
        Revenue in the previous window, indexed by customer_id (missing = 0). Without it growth is NaN and growth
        conditions never hold.
    current_revenue : Series, optional
        Revenue in the current window (same length as the previous one), indexed by customer_id (missing = 0);
        default ``revenue_col``. Growth = current / previous - 1.
    clv : Series, optional
        Customer lifetime value indexed by customer_id; rules with ``clv_percentile_min`` are skipped without it.
    lang : {'en', 'zh'}
        Language of ``rules_text`` and ``sentences``.

    Returns
    -------
    Grades
    """
    check_lang(lang)
    rules = rules or load_rules()
    frame = customers.set_index(customer_col)
    revenue = frame[revenue_col].astype("float64")
    window = (current_revenue.reindex(frame.index).fillna(0.0) if current_revenue is not None else revenue)
    growth = (revenue_growth(window, previous_revenue) if previous_revenue is not None
              else pd.Series(np.nan, index=frame.index))
    money_pct = share_below(revenue)
    clv_pct = share_below(clv.reindex(frame.index).astype("float64")) if clv is not None else None
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
    out = pd.DataFrame({"customer_id": frame.index, "grade": grade.to_numpy(), "growth": growth.to_numpy(),
                        "monetary_percentile": money_pct.to_numpy(),
                        "clv_percentile": clv_pct.to_numpy() if clv_pct is not None else np.nan,
                        "rule": which.to_numpy()})
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
    facts["clv_given"] = clv is not None
    result = Grades(out, summary, [], facts)
    result.rules_text, result.sentences = grades_sentences(result, rules, lang)
    return result


def grades_sentences(result: Grades, rules: SegmentRules | None = None, lang: str = "en") -> \
        tuple[list[str], list[str]]:
    """(the grading rules, one sentence per grade with its customers and revenue share), in ``lang``."""
    check_lang(lang)
    rules = rules or load_rules()
    text = [grading_rule_sentence(r, rules, result.facts.get("clv_given", True), lang) for r in rules.grading]
    sentences = []
    for row in result.summary.itertuples():
        if lang == "zh":
            sentences.append(f"{row.label_zh}：{row.customers:,} 位（占 {fmt.percent(row.share)}），贡献 "
                             f"{fmt.percent(row.revenue_share)} 的销售额。")
        else:
            sentences.append(f"{row.label_en}: {row.customers:,} customers ({fmt.percent(row.share)}), "
                             f"{fmt.percent(row.revenue_share)} of revenue.")
    return text, sentences


def grading_rule_sentence(rule: GradingRule, rules: SegmentRules, clv_given: bool = True, lang: str = "en") -> str:
    """One grading rule in plain words, e.g. 'Key (重要客户): ABC tier A.' / '重要客户：ABC 分类为 A 类。'"""
    check_lang(lang)
    label = rules.grades[rule.grade]
    parts = []
    if lang == "zh":
        if rule.abc_tier:
            parts.append("ABC 分类为 " + " 或 ".join(f"{t} 类" for t in rule.abc_tier))
        if rule.growth_min is not None:
            parts.append(f"销售额较上一窗口增长至少 {rule.growth_min:+.0%}（新客户计入）")
        if rule.monetary_percentile_min is not None:
            parts.append(f"销售额高于 {rule.monetary_percentile_min:.0%} 的客户")
        if rule.clv_percentile_min is not None:
            parts.append(f"客户终身价值（CLV）高于 {rule.clv_percentile_min:.0%} 的客户"
                         + ("" if clv_given else "（未提供 CLV，此条跳过）"))
        return f"{label.label_zh}：" + ("且".join(parts) if parts else "其余客户") + "。"
    if rule.abc_tier:
        parts.append("ABC tier " + " or ".join(rule.abc_tier))
    if rule.growth_min is not None:
        parts.append(f"revenue growth vs the previous window at least {rule.growth_min:+.0%} (new customers count)")
    if rule.monetary_percentile_min is not None:
        parts.append(f"revenue above {rule.monetary_percentile_min:.0%} of customers")
    if rule.clv_percentile_min is not None:
        parts.append(f"CLV above {rule.clv_percentile_min:.0%} of customers" + ("" if clv_given else
                                                                                  " (skipped: no CLV given)"))
    return f"{label.label_en} ({label.label_zh}): " + (" and ".join(parts) if parts else "everyone else") + "."


def window_revenue_sql(con: duckdb.DuckDBPyConnection, ends: dict, days: int) -> pd.DataFrame:
    """Net revenue per customer in windows of ``days`` days ending on each date of ``ends``, in one scan (the window
    part of :class:`~salesperf.analyses.segmentation.base.AggregateQuery`).

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
    query = AggregateQuery(con, max(dates.values())).add_windows(dates, int(days))
    return window_revenue_frame(query.run("1 = 1"))

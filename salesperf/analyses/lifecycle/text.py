"""Generated sentences and KPI tiles of the lifecycle report, computed from :mod:`salesperf.analyses.lifecycle` results."""

from __future__ import annotations

import math

import pandas as pd

from salesperf.core import fmt


def _n(x) -> str:
    return fmt.number(x)


def stage_tiles(headline: dict, cohorts: dict, lang: str) -> list[dict]:
    """Tiles: customers, active (incl. new and reactivated), at risk, churned, 12-period retention."""
    zh = lang == "zh"
    engaged = headline["active"] + headline["new"] + headline["reactivated"]
    retention = cohorts.get("retention_age12", float("nan"))
    return [
        {"label": "客户数" if zh else "Customers", "value": _n(headline["customers"]),
         "delta": (f"新增 {_n(headline['newly_acquired'])}" if zh else f"{_n(headline['newly_acquired'])} new this period")},
        {"label": "活跃客户" if zh else "Active", "value": _n(engaged),
         "delta": fmt.percent(engaged / headline["customers"]) if headline["customers"] else "", "tone": "good"},
        {"label": "流失预警客户" if zh else "At risk", "value": _n(headline["at_risk"]),
         "delta": fmt.percent(headline["at_risk_share"]), "tone": "bad"},
        {"label": "流失客户" if zh else "Churned", "value": _n(headline["churned"]),
         "delta": fmt.percent(headline["churned_share"]), "tone": "neutral"},
        {"label": "第12期留存率" if zh else "Retention at age 12", "value": fmt.percent(retention)},
    ]


def cohort_sentence(h: dict, grain: str, lang: str, currency: str) -> str:
    """How cohorts keep buying: retention at age 1 and 12 and revenue per acquired customer."""
    unit = {"month": ("month", "个月"), "quarter": ("quarter", "个季度")}[grain]
    age_far = 12 if grain == "month" else 4
    far = h.get(f"retention_age{age_far}")
    cum = h.get(f"cumulative_revenue_per_customer_age{age_far}")
    if far is None or math.isnan(far):
        age_far = 1
        far, cum = h.get("retention_age1"), h.get("cumulative_revenue_per_customer_age1")
    if far is None or math.isnan(far):
        return ""
    if lang == "zh":
        return (f"{_n(h['cohorts'])} 个同期群共获客 {_n(h['customers_acquired'])} 名：次{unit[1][-1]}复购的比例为 "
                f"{fmt.percent(h['retention_age1'])}，第 {age_far} {unit[1]}仍在购买的比例为 {fmt.percent(far)}；"
                f"每名新客在此期间累计贡献 {fmt.money(cum, lang)}。")
    return (f"Of {_n(h['customers_acquired'])} customers acquired in {_n(h['cohorts'])} {unit[0]}ly cohorts, "
            f"{fmt.percent(h['retention_age1'])} bought again in the {unit[0]} after their first purchase and "
            f"{fmt.percent(far)} were still buying {age_far} {unit[0]}s on; an acquired customer brought "
            f"{fmt.money(cum, lang, currency)} on average over that time.")


def comparison_sentence(curves: pd.DataFrame, by: str, by_label: str, lang: str, currency: str, age: int = 12) -> str:
    """Which value of a dimension (channel, region...) yields the most revenue per acquired customer by ``age``.

    ``by`` is the column of ``curves``; ``by_label`` its name in the report language.
    """
    if curves is None or curves.empty or by not in curves:
        return ""
    ages = curves.groupby(by)["age"].max().min()
    age = min(age, int(ages))
    at = curves[curves["age"] == age].dropna(subset=["cumulative_revenue_per_customer"])
    if len(at) < 2:
        return ""
    best = at.loc[at["cumulative_revenue_per_customer"].idxmax()]
    worst = at.loc[at["cumulative_revenue_per_customer"].idxmin()]
    ratio = best["cumulative_revenue_per_customer"] / worst["cumulative_revenue_per_customer"]
    if lang == "zh":
        return (f"按{by_label}比较：{best[by]} 获客的客户在第 {age} 期累计贡献 {fmt.money(best['cumulative_revenue_per_customer'], lang)}，"
                f"是 {worst[by]}（{fmt.money(worst['cumulative_revenue_per_customer'], lang)}）的 {ratio:.1f} 倍。")
    return (f"By {by_label.lower()}: customers first bought through {best[by]} brought "
            f"{fmt.money(best['cumulative_revenue_per_customer'], lang, currency)} each by age {age}, "
            f"{ratio:.1f}× those of {worst[by]} ({fmt.money(worst['cumulative_revenue_per_customer'], lang, currency)}).")


def stage_sentences(h: dict, versus: str, lang: str) -> list[str]:
    """Where customers stand and how they moved since the previous period."""
    if lang == "zh":
        return [
            (f"{_n(h['customers'])} 名客户中：活跃 {_n(h['active'])}，新客户 {_n(h['new'])}，回流 {_n(h['reactivated'])}，"
            f"流失预警 {_n(h['at_risk'])}，已流失 {_n(h['churned'])}。"),
            (f"与{versus}相比，{_n(h['active_to_at_risk'])} 名活跃客户转为流失预警，{_n(h['at_risk_to_churned'])} 名预警客户流失，"
            f"{_n(h['reactivated_from_churned'])} 名流失客户回流。"),
        ]
    return [
        (f"Of {_n(h['customers'])} customers, {_n(h['active'])} are active, {_n(h['new'])} new, "
        f"{_n(h['reactivated'])} reactivated, {_n(h['at_risk'])} at risk and {_n(h['churned'])} churned."),
        (f"Since {versus}, {_n(h['active_to_at_risk'])} active customers slipped to at risk, "
        f"{_n(h['at_risk_to_churned'])} at-risk customers churned and {_n(h['reactivated_from_churned'])} churned "
        "customers came back."),
    ]


def survival_sentence(medians: pd.DataFrame, lang: str) -> str:
    """Median time to churn of the longest- and shortest-lived groups with their confidence intervals."""
    known = medians.dropna(subset=["median_days"])
    if known.empty:
        return "尚无分组达到流失中位时间。" if lang == "zh" else "No group has reached its median time to churn yet."
    best, worst = known.loc[known["median_days"].idxmax()], known.loc[known["median_days"].idxmin()]

    def ci(row) -> str:
        upper = "∞" if math.isinf(row["median_upper"]) else _n(row["median_upper"])
        return f"{_n(row['median_lower'])}–{upper}"

    if lang == "zh":
        return (f"{best['group']} 组客户的流失中位时间最长，为 {_n(best['median_days'])} 天（95% 置信区间 {ci(best)}）；"
                f"{worst['group']} 组最短，为 {_n(worst['median_days'])} 天（{ci(worst)}）。")
    return (f"Median time to churn is longest for {best['group']} at {_n(best['median_days'])} days (95% CI {ci(best)}) "
            f"and shortest for {worst['group']} at {_n(worst['median_days'])} days ({ci(worst)}).")


def holdout_sentence(h: dict, calibration_end, lang: str) -> str:
    """How well the BG/NBD model fitted on older data predicted the repeat purchases that followed."""
    weeks = round(h["holdout_weeks"])
    sign = fmt.signed_percent(h["error_pct"] / 100)
    if lang == "zh":
        return (f"以 {calibration_end} 之前的数据拟合 BG/NBD 模型，预测其后 {weeks} 周复购 {_n(h['predicted'])} 次，"
                f"实际 {_n(h['actual'])} 次（误差 {sign}）。")
    return (f"Fitted on purchases up to {calibration_end}, the BG/NBD model predicted {_n(h['predicted'])} repeat "
            f"purchases in the following {weeks} weeks against {_n(h['actual'])} actual ({sign}).")


def value_sentence(values: pd.Series, stages: pd.DataFrame, lang: str, currency: str) -> str:
    """Expected value over the horizon: total, and the share held by at-risk customers."""
    if values.empty:
        return ""
    total = values.sum()
    at_risk_ids = stages.loc[stages["stage"] == "at_risk", "customer_id"]
    at_risk = values.reindex(at_risk_ids).sum()
    top_decile = values.sort_values(ascending=False).head(max(1, len(values) // 10)).sum() / total if total else float("nan")
    if lang == "zh":
        return (f"未来 12 个月客户预期价值合计 {fmt.money(total, lang)}，其中流失预警客户占 {fmt.money(at_risk, lang)}；"
                f"价值最高的 10% 客户贡献 {fmt.percent(top_decile)}。")
    return (f"Customers are expected to bring {fmt.money(total, lang, currency)} over the next 12 months; at-risk "
            f"customers hold {fmt.money(at_risk, lang, currency)} of it, and the top 10% of customers "
            f"{fmt.percent(top_decile)}.")


def actions_sentence(actions: pd.DataFrame, lang: str, currency: str) -> str:
    """The value at stake on the win-back list and who leads it."""
    if actions.empty:
        return ""
    first = actions.iloc[0]
    name = first.get("name") if isinstance(first.get("name"), str) else first["customer_id"]
    owner = first["owner_rep_id"] if isinstance(first.get("owner_rep_id"), str) else "–"
    total = actions["value_at_stake"].sum()
    if lang == "zh":
        return (f"名单中 {_n(len(actions))} 名客户的待挽回价值合计 {fmt.money(total, lang)}；"
                f"排名第一的是 {name}（负责人 {owner}，{fmt.money(first['value_at_stake'], lang)}）。")
    return (f"The {_n(len(actions))} customers on this list hold {fmt.money(total, lang, currency)} of value at stake; "
            f"{name} leads (owner {owner}, {fmt.money(first['value_at_stake'], lang, currency)}).")

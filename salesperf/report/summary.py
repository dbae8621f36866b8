"""Executive summary: headline KPIs against target, the top finding of each analysis, links to the reports.

Each analysis contributes its findings through a function returning sentences; the summary only gathers them.
"""

from __future__ import annotations

import math

import pandas as pd

from salesperf.analyses import overview
from salesperf.data.dataset import Dataset
from salesperf.core import fmt, narrative
from salesperf.report.config import load_report_set
from salesperf.core.vocab import term

METHODS = {
    "en": "Attainment = revenue of the reps with a quota in the period / their summed quota (monthly quotas; a quarter "
          "sums its months; weeks are not pro-rated). Findings are computed by the detailed reports' own functions on "
          "the same validated data, cut at the period end.",
    "zh": "目标完成率 = 报告期内有目标的销售代表的销售额 / 其目标之和（按月目标；季度为各月之和；周报不折算）。各项发现由详细报告的同一套函数，"
          "基于截至报告期末的同一份已校验数据计算。",
}


def headline_tiles(kpis: dict, target: pd.DataFrame | None, lang: str, currency: str) -> list[dict]:
    """The overview tiles, with an attainment tile first when targets exist."""
    tiles = narrative.comparison_tiles(kpis["current"], kpis["previous"], kpis["year_ago"], lang, currency)
    if target is not None and not target.empty and not math.isnan(target["attainment"].iloc[0]):
        row = target.iloc[0]
        tiles.insert(0, {
            "label": term("attainment", lang),
            "value": fmt.percent(row["attainment"]),
            "delta": f"{term('target', lang)} {fmt.money(row['quota'], lang, currency)}",
            "tone": "good" if row["attainment"] >= 1 else "bad",
        })
    return tiles


def attainment_sentence(target: pd.DataFrame | None, lang: str, currency: str) -> str:
    """"Reps with a quota sold ¥469.9 k against ¥465.5 k, 100.9% of target (+¥4.4 k)."."""
    if target is None or target.empty or math.isnan(target["attainment"].iloc[0]):
        return ""
    row = target.iloc[0]
    gap = fmt.signed_money(row["revenue"] - row["quota"], lang, currency)
    if lang == "zh":
        return (f"有目标的销售代表完成销售额 {fmt.money(row['revenue'], lang)}，目标 {fmt.money(row['quota'], lang)}，"
                f"完成率 {fmt.percent(row['attainment'])}（{gap}）。")
    return (f"Reps with a quota sold {fmt.money(row['revenue'], lang, currency)} against "
            f"{fmt.money(row['quota'], lang, currency)}, {fmt.percent(row['attainment'])} of target ({gap}).")


def attainment_spread_sentence(groups: pd.DataFrame, lang: str) -> str:
    """Name the groups furthest above and below target."""
    groups = groups.dropna(subset=["attainment"])
    if len(groups) < 2:
        return ""
    best, worst = groups.loc[groups["attainment"].idxmax()], groups.loc[groups["attainment"].idxmin()]
    below = int((groups["attainment"] < 1).sum())
    if lang == "zh":
        return (f"{best['group']} 完成率最高（{fmt.percent(best['attainment'])}），{worst['group']} 最低"
                f"（{fmt.percent(worst['attainment'])}）；{len(groups)} 个团队中 {below} 个未达标。")
    return (f"{best['group']} leads at {fmt.percent(best['attainment'])} of target and {worst['group']} trails at "
            f"{fmt.percent(worst['attainment'])}; {below} of {len(groups)} teams are below target.")


def findings(ds: Dataset, lang: str, currency: str) -> list[str]:
    """The top finding of each analysis, as sentences (an analysis whose data is missing says nothing)."""
    period = ds.period
    sentences = []
    if ds.has("customers", "region"):
        regions = overview.by_dimension(ds.con, "region", period, top=None)
        sentences.append(narrative.driver_sentence(regions, term("region", lang), lang, currency))
    products = overview.by_dimension(ds.con, "product", period, top=None, has_products=ds.has("products"))
    sentences.append(narrative.concentration_sentence(products, term("product", lang), lang))
    sentences.append(_lifecycle_finding(ds, lang))
    sentences.append(_segmentation_finding(ds, lang, currency))
    return [s for s in sentences if s]


def _segmentation_finding(ds: Dataset, lang: str, currency: str) -> str:
    """The largest move between RFM segments since the previous period, with the revenue at stake."""
    from salesperf.analyses.segmentation import load_rules, migration, rfm_sql, segment_rfm, window_revenue_sql

    rules = load_rules()
    now = segment_rfm(rfm_sql(ds.con, ds.period.end), rules).customers.set_index("customer_id")["segment"]
    before = segment_rfm(rfm_sql(ds.con, ds.period.previous.end), rules).customers.set_index("customer_id")["segment"]
    at_stake = window_revenue_sql(ds.con, {"at_previous": ds.period.previous.end}, 365)["at_previous"]
    moves = migration(before, now, at_stake, order=list(rules.segment_labels()), labels=rules.segment_labels(),
                      lang=lang, currency=currency)
    movers = [s for s in moves.sentences if "→" in s or "moved" in s or "转为" in s]
    return movers[0] if movers else ""


def _lifecycle_finding(ds: Dataset, lang: str) -> str:
    """How many customers moved towards churn, and back, since the previous period."""
    from salesperf.analyses import lifecycle
    from salesperf.analyses.lifecycle.text import stage_sentences

    snapshot = lifecycle.lifecycle_snapshot(ds.con, ds.period.end, ds.period.previous.end)
    return stage_sentences(snapshot.headline, ds.period.previous.label_in(lang), lang)[1]


def report_links(grain: str, lang: str) -> list[tuple[str, str]]:
    """(title, file) of the other reports of the set that run for this period grain."""
    specs = load_report_set()
    return [(term(rid, lang), f"{rid}.html") for rid, spec in specs.items() if rid != "summary" and spec.runs_for(grain)]

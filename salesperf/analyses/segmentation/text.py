"""KPI tiles of the segmentation report, computed from a :class:`salesperf.analyses.segmentation.SegmentationAnalysis`.

The analysis itself returns its sentences (in the language asked for); this module only shapes the headline tiles.
"""

from __future__ import annotations

from salesperf.core import fmt


def segmentation_tiles(analysis, lang: str) -> list[dict]:
    """Tiles: customers, the largest revenue segment, at-risk customers, tier-A concentration."""
    zh = lang == "zh"
    rfm = analysis.rfm.summary
    top = rfm.loc[rfm["revenue_share"].idxmax()]
    status = analysis.status.summary.set_index("status")
    at_risk = int(status["customers"].get("at_risk", 0))
    tier_a = analysis.abc.summary.set_index("abc_tier").loc["A"]
    return [
        {"label": "客户数" if zh else "Customers", "value": fmt.number(int(status["customers"].sum())),
         "delta": (f"其中潜在客户 {fmt.number(int(status['customers'].get('potential', 0)))}" if zh else
                   f"{fmt.number(int(status['customers'].get('potential', 0)))} potential")},
        {"label": top[f"label_{lang}"], "value": fmt.percent(top["revenue_share"]),
         "delta": (f"{fmt.number(top['customers'])} 名客户的销售额占比" if zh else
                   f"of revenue from {fmt.number(top['customers'])} customers")},
        {"label": "流失预警客户" if zh else "At risk", "value": fmt.number(at_risk),
         "delta": fmt.percent(status["share"].get("at_risk", 0)), "tone": "bad"},
        {"label": "A类客户" if zh else "Tier A", "value": fmt.percent(tier_a["revenue_share"]),
         "delta": (f"{fmt.number(tier_a['customers'])} 名客户贡献的销售额" if zh else
                   f"of revenue from {fmt.number(tier_a['customers'])} customers")},
    ]

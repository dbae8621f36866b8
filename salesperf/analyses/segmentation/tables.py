"""Tables of the segmentation report: which columns each table shows, with which headers and formats, and the
display frames whose rule keys are replaced by their names in the report's language."""

from __future__ import annotations

import pandas as pd

from salesperf.analyses.segmentation.text import rule_label, word
from salesperf.core.present import TableSpec, table


def segments_table(lang: str) -> TableSpec:
    """RFM segment summary (``rfm.summary``) and, with the same spec, the eight classes
    (``rfm.summary_cn8``)."""
    return table(
        (f"label_{lang}", word("segment", lang)),
        ("customers", word("customers", lang), "int"),
        ("share", word("share", lang), "pct"),
        ("revenue", word("revenue", lang), "money"),
        ("revenue_share", word("revenue_share", lang), "pct"),
        ("median_recency", word("median_recency", lang), "int"),
        ("median_frequency", word("median_frequency", lang), "float"),
        ("median_monetary", word("median_monetary", lang), "money"),
    )


def scores_table(lang: str) -> TableSpec:
    """Score distribution (``rfm.score_distribution.reset_index()``)."""
    return table(
        ("score", word("score", lang), "int"),
        ("r_score", word("r_score", lang), "pct"),
        ("f_score", word("f_score", lang), "pct"),
        ("m_score", word("m_score", lang), "pct"),
    )


def status_table(lang: str) -> TableSpec:
    """Status summary (``status.summary``)."""
    return table(
        (f"label_{lang}", word("status", lang)),
        ("customers", word("customers", lang), "int"),
        ("share", word("share", lang), "pct"),
        ("revenue_period", word("revenue_period", lang), "money"),
    )


def abc_table(lang: str) -> TableSpec:
    """ABC tier summary (``abc.summary``)."""
    return table(
        (f"label_{lang}", word("group", lang)),
        ("customers", word("customers", lang), "int"),
        ("share", word("share", lang), "pct"),
        ("revenue", word("revenue", lang), "money"),
        ("revenue_share", word("revenue_share", lang), "pct"),
        ("min_revenue", word("min_revenue", lang), "money"),
    )


def grades_table(lang: str) -> TableSpec:
    """Grade summary (``grades.summary``)."""
    return table(
        (f"label_{lang}", word("group", lang)),
        ("customers", word("customers", lang), "int"),
        ("share", word("share", lang), "pct"),
        ("revenue", word("revenue", lang), "money"),
        ("revenue_share", word("revenue_share", lang), "pct"),
    )


def cluster_profiles_table(lang: str) -> TableSpec:
    """Cluster profiles (``cluster_profiles``: one row per cluster in ``group``)."""
    return table(
        ("group", word("cluster", lang)),
        ("customers", word("customers", lang), "int"),
        ("share", word("share", lang), "pct"),
        ("revenue_share", word("revenue_share", lang), "pct"),
        ("avg_order_value", word("avg_order_value", lang), "money"),
        ("top_categories", word("top_categories", lang)),
        ("top_channels", word("top_channels", lang)),
    )


def segment_profiles(seg, lang: str) -> pd.DataFrame:
    """``seg.segment_profiles`` with the segment names of ``lang`` in ``group``."""
    labels = seg.rules.segment_labels()
    return seg.segment_profiles.assign(
        group=[rule_label(labels, g, lang) for g in seg.segment_profiles["group"]]
    )


def profiles_table(lang: str) -> TableSpec:
    """Segment profiles; the top_* and mean_csat columns exist only when the data have categories, channels,
    regions, owners or feedback (absent columns are left out)."""
    return table(
        ("group", word("segment", lang)),
        ("customers", word("customers", lang), "int"),
        ("revenue", word("revenue", lang), "money"),
        ("avg_order_value", word("avg_order_value", lang), "money"),
        ("top_categories", word("top_categories", lang)),
        ("top_channels", word("top_channels", lang)),
        ("top_regions", word("top_regions", lang)),
        ("top_owner_reps", word("top_owner_reps", lang)),
        ("mean_csat", word("mean_csat", lang), "float"),
    )


def migration_matrix(seg, lang: str) -> pd.DataFrame:
    """Segment transition counts with segment names of ``lang`` on both axes (for the heatmap)."""
    labels = seg.rules.segment_labels()
    counts = seg.segment_migration.counts
    return counts.rename(
        index=lambda k: rule_label(labels, k, lang), columns=lambda k: rule_label(labels, k, lang)
    )


def migration_flows(seg, lang: str) -> pd.DataFrame:
    """``seg.segment_migration.flows`` with segment names of ``lang``."""
    labels = seg.rules.segment_labels()
    flows = seg.segment_migration.flows
    return flows.assign(
        from_state=[rule_label(labels, s, lang) for s in flows["from_state"]],
        to_state=[rule_label(labels, s, lang) for s in flows["to_state"]],
    )


def flows_table(lang: str) -> TableSpec:
    """Migration flows (:func:`migration_flows`)."""
    return table(
        ("from_state", word("from_state", lang)),
        ("to_state", word("to_state", lang)),
        ("customers", word("customers", lang), "int"),
        ("share_of_from", word("share_of_from", lang), "pct"),
        ("revenue_at_stake", word("revenue_at_stake", lang), "money"),
        max_rows=10,
    )


def top_customers(seg, lang: str) -> pd.DataFrame:
    """The export table, largest revenue first, with segment names of ``lang`` and product names for
    suggestions."""
    labels = seg.rules.segment_labels()
    out = seg.customers.sort_values("monetary", ascending=False, kind="stable")
    out = out.assign(segment=[None if pd.isna(s) else rule_label(labels, s, lang) for s in out["segment"]])
    for col in ("suggestion_1", "suggestion_2", "suggestion_3"):
        out[col] = out[col].map(lambda p: seg.product_names.get(p, p))
    return out


def customers_table(lang: str, rows: int = 20) -> TableSpec:
    """The customers with their suggestions (:func:`top_customers`)."""
    return table(
        ("customer_id", word("customer_id", lang)),
        ("segment", word("segment", lang)),
        ("suggestion_1", word("suggestion_1", lang)),
        ("suggestion_2", word("suggestion_2", lang)),
        ("suggestion_3", word("suggestion_3", lang)),
        ("owner_rep_id", word("owner_rep_id", lang)),
        max_rows=rows,
    )

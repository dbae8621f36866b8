"""Every word of the segmentation report: tiles, sentences, table specs and display labels, computed from the
results.

The computations (:mod:`~salesperf.analyses.segmentation.rfm`, ``status``, ``value``, ``clusters``,
``migration``, ``suggest``) return numbers and frames only. Here each sentence's numbers are computed once and
formatted into the English or Chinese template of ``vocab.yml``; names of segments, statuses, tiers and grades
come from ``rules.yml``. Every function returns plain text (the page escapes it) or an empty list / string
when there is nothing to say.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from salesperf.analyses.segmentation.migration import NONE, Migration
from salesperf.core import fmt
from salesperf.core.present import TableSpec, Tile, table
from salesperf.core.vocab import CORE, Vocabulary, check_lang

WORDS = Vocabulary(__package__, CORE)

#: vocabulary key of each cluster trait (:data:`~salesperf.analyses.segmentation.clusters.TRAITS`) and of
#: "typical"
_TRAIT_KEYS = {
    "typical": "trait_typical",
    "one_time": "trait_one_time",
    "frequent": "trait_frequent",
    "infrequent": "trait_infrequent",
    "high_spending": "trait_high_spending",
    "low_spending": "trait_low_spending",
    "lapsed": "trait_lapsed",
    "recently_active": "trait_recently_active",
    "long_standing": "trait_long_standing",
    "newer": "trait_newer",
    "often_contacted": "trait_often_contacted",
    "rarely_contacted": "trait_rarely_contacted",
}
_SPLIT_KEYS = {"mean": "split_mean", "median": "split_median"}
_CLV_SKIPPED_KEYS = {"not_given": "clv_skipped_not_given", "no_values": "clv_skipped_no_values"}


def _w(key: str, lang: str, **values) -> str:
    return WORDS(key, check_lang(lang), **values)


def _label(labels: dict, key, lang: str) -> str:
    """The display name of a rule key (a Label of rules.yml), the key itself when unknown."""
    if key == NONE:
        return _w("no_state", lang)
    found = labels.get(key)
    if found is None:
        return str(key)
    return found.label_zh if lang == "zh" else found.label_en


# -- tiles and findings --------------------------------------------------------------------------------------


def tiles(seg, lang: str) -> list[Tile]:
    """Headline tiles: customers (with potential), the top revenue segment, at-risk customers, tier A's
    share."""
    status = seg.status.summary.set_index("status")
    rfm = seg.rfm.summary
    out = [
        Tile(
            _w("customers", lang),
            fmt.number(int(status["customers"].sum())),
            _w("tile_potential", lang, n=fmt.number(int(status["customers"].get("potential", 0)))),
        )
    ]
    if rfm["customers"].sum() > 0:
        top = rfm.loc[rfm["revenue_share"].idxmax()]
        out.append(
            Tile(
                top[f"label_{lang}"],
                fmt.percent(top["revenue_share"]),
                _w("tile_top_segment", lang, n=fmt.number(top["customers"])),
            )
        )
    out.append(
        Tile(
            _w("tile_at_risk", lang),
            fmt.number(int(status["customers"].get("at_risk", 0))),
            fmt.percent(status["share"].get("at_risk", 0.0)),
            tone="bad",
        )
    )
    tier_a = seg.abc.summary.set_index("abc_tier").loc["A"]
    out.append(
        Tile(
            _w("tile_tier_a", lang),
            fmt.percent(tier_a["revenue_share"]),
            _w("tile_top_segment", lang, n=fmt.number(tier_a["customers"])),
        )
    )
    return out


def largest_move(m: Migration, labels: dict, previous: str, lang: str, currency: str) -> str:
    """The largest flow between two segments (customers present at both dates), with the revenue at stake."""
    flows = m.flows[(m.flows["from_state"] != NONE) & (m.flows["to_state"] != NONE)]
    if flows.empty:
        return ""
    row = flows.iloc[0]  # flows are sorted by customers, then revenue at stake
    return _w(
        "migration_largest_move",
        lang,
        previous=previous,
        n=fmt.number(row["customers"]),
        source=_label(labels, row["from_state"], lang),
        target=_label(labels, row["to_state"], lang),
        share=f"{row['share_of_from']:.0%}",
        at_stake=fmt.money(row["revenue_at_stake"], lang, currency),
    )


def findings(seg, previous: str, lang: str, currency: str) -> list[str]:
    """Most important first: the largest move between RFM segments since ``previous`` (the previous period's
    name) with the revenue at stake, the status picture, the concentration of revenue in tier A."""
    move = largest_move(seg.segment_migration, seg.rules.segment_labels(), previous, lang, currency)
    mix = status_sentences(seg.status, lang, currency)[1:]
    return [s for s in [move, *mix, abc_sentence(seg.abc, lang, currency)] if s]


# -- RFM -----------------------------------------------------------------------------------------------------


def rfm_sentences(rfm, lang: str, currency: str) -> list[str]:
    """The top revenue segment, the largest segment, the eight-class split and the one-time buyers' F
    score."""
    facts = rfm.facts
    n = facts.get("customers", 0)
    if n == 0:
        return [_w("rfm_nobody", lang)]
    label = f"label_{lang}"
    top = rfm.summary.set_index("segment").loc[facts["top_revenue_segment"]]
    biggest = rfm.summary.set_index("segment").loc[facts["largest_segment"]]
    cn8 = rfm.summary_cn8.set_index("segment_cn8").loc[facts["top_revenue_cn8"]]
    th = rfm.cn8_thresholds
    out = [
        _w(
            "rfm_top_segment",
            lang,
            segment=top[label],
            share=fmt.percent(top["share"]),
            n=fmt.number(n),
            revenue_share=fmt.percent(top["revenue_share"]),
            frequency=f"{top['median_frequency']:g}",
            recency=f"{top['median_recency']:g}",
        ),
        _w("rfm_largest_segment", lang, segment=biggest[label], share=fmt.percent(biggest["share"])),
        _w(
            "rfm_cn8_top",
            lang,
            split=_w(_SPLIT_KEYS[rfm.cn8_split], lang),
            recency=f"{th['recency']:.0f}",
            frequency=f"{th['frequency']:.2f}",
            monetary=fmt.money(th["monetary"], lang, currency),
            class_zh=cn8["label_zh"],
            class_en=cn8["label_en"],
            revenue_share=fmt.percent(cn8["revenue_share"]),
        ),
    ]
    if facts["one_time_share"] > 0:
        out.append(
            _w(
                "rfm_one_time",
                lang,
                share=fmt.percent(facts["one_time_share"]),
                score=facts["one_time_f_score"],
            )
        )
    return out


def segments_table(lang: str) -> TableSpec:
    """RFM segment summary (``rfm.summary``) and, with the same spec, the eight classes
    (``rfm.summary_cn8``)."""
    return table(
        (f"label_{lang}", _w("segment", lang)),
        ("customers", _w("customers", lang), "int"),
        ("share", _w("share", lang), "pct"),
        ("revenue", _w("revenue", lang), "money"),
        ("revenue_share", _w("revenue_share", lang), "pct"),
        ("median_recency", _w("median_recency", lang), "int"),
        ("median_frequency", _w("median_frequency", lang), "float"),
        ("median_monetary", _w("median_monetary", lang), "money"),
    )


def scores_table(lang: str) -> TableSpec:
    """Score distribution (``rfm.score_distribution.reset_index()``)."""
    return table(
        ("score", _w("score", lang), "int"),
        ("r_score", _w("r_score", lang), "pct"),
        ("f_score", _w("f_score", lang), "pct"),
        ("m_score", _w("m_score", lang), "pct"),
    )


# -- status --------------------------------------------------------------------------------------------------


def status_rule(status, lang: str) -> str:
    """The status rule (lifecycle's stage rule) with the thresholds actually used."""
    lr, sr = status.lifecycle_rules, status.status_rules
    since = status.as_of - dt.timedelta(days=lr.reactivation_days - 1)
    flat = _w("status_flat", lang, at_risk=lr.at_risk_days, churn=lr.churn_days)
    if lr.rhythm_enabled:
        text = _w(
            "status_rule_rhythm",
            lang,
            occasions=lr.rhythm_min_occasions,
            flat=flat,
            at_risk_multiple=f"{lr.rhythm_at_risk_multiple:g}",
            churn_multiple=f"{lr.rhythm_churn_multiple:g}",
            min_days=lr.rhythm_min_days,
            max_days=lr.rhythm_max_days,
        )
    else:
        text = _w("status_rule_flat", lang, flat=flat)
    text += _w(
        "status_rule_rest",
        lang,
        new_days=lr.new_days,
        since=since.isoformat(),
        reactivation_days=lr.reactivation_days,
    )
    if status.p_alive_given:
        text += _w(
            "status_rule_p_alive",
            lang,
            at_risk=f"{sr.p_alive_at_risk_below:g}",
            churned=f"{sr.p_alive_churned_below:g}",
        )
    return text


def status_sentences(status, lang: str, currency: str) -> list[str]:
    """The rule, the status mix and the revenue of reactivated customers."""
    summary = status.summary.set_index("status")
    mix = _w("list_sep", lang).join(
        _w("status_mix_item", lang, share=fmt.percent(row["share"]), status=row[f"label_{lang}"].lower())
        for _, row in summary.iterrows()
    )
    back = summary.loc["reactivated", "revenue_period"]
    total = status.facts.get("revenue_period", float(summary["revenue_period"].sum()))
    return [
        status_rule(status, lang),
        _w("status_mix", lang, n=fmt.number(int(summary["customers"].sum())), mix=mix),
        _w(
            "status_reactivated_revenue",
            lang,
            revenue=fmt.money(back, lang, currency),
            share=fmt.percent(back / total) if total > 0 else "–",
        ),
    ]


def status_table(lang: str) -> TableSpec:
    """Status summary (``status.summary``)."""
    return table(
        (f"label_{lang}", _w("status", lang)),
        ("customers", _w("customers", lang), "int"),
        ("share", _w("share", lang), "pct"),
        ("revenue_period", _w("revenue_period", lang), "money"),
    )


# -- value tiers and grades ----------------------------------------------------------------------------------


def abc_sentence(abc, lang: str, currency: str) -> str:
    """Tier A's share of customers and revenue and the tier cut-offs."""
    row = abc.summary.set_index("abc_tier").loc["A"]
    return _w(
        "abc_sentence",
        lang,
        share=fmt.percent(row["share"]),
        n=fmt.number(row["customers"]),
        revenue_share=fmt.percent(row["revenue_share"]),
        a_share=f"{abc.facts['a_share']:.0%}",
        b_share=f"{abc.facts['b_share']:.0%}",
        start_a=fmt.money(abc.cutoffs["A"], lang, currency),
        start_b=fmt.money(abc.cutoffs["B"], lang, currency),
    )


def grading_rules(grades, lang: str) -> list[str]:
    """Each grading rule in plain words, saying when (and why) a CLV rule was skipped."""
    out = []
    for rule in grades.rules.grading:
        parts = []
        if rule.abc_tier:
            tiers = _w("or_sep", lang).join(_w("grading_tier", lang, tier=t) for t in rule.abc_tier)
            parts.append(_w("grading_abc", lang, tiers=tiers))
        if rule.growth_min is not None:
            parts.append(_w("grading_growth", lang, growth=f"{rule.growth_min:+.0%}"))
        if rule.monetary_percentile_min is not None:
            parts.append(_w("grading_monetary", lang, share=f"{rule.monetary_percentile_min:.0%}"))
        if rule.clv_percentile_min is not None:
            skipped = "" if grades.clv == "applied" else _w(_CLV_SKIPPED_KEYS[grades.clv], lang)
            parts.append(_w("grading_clv", lang, share=f"{rule.clv_percentile_min:.0%}") + skipped)
        label = grades.rules.grades[rule.grade]
        conditions = _w("and_sep", lang).join(parts) if parts else _w("grading_everyone_else", lang)
        out.append(
            _w("grading_rule", lang, label_en=label.label_en, label_zh=label.label_zh, conditions=conditions)
        )
    return out


def grade_sentences(grades, lang: str) -> list[str]:
    """Customers and revenue share of each grade."""
    return [
        _w(
            "grade_sentence",
            lang,
            grade=row[f"label_{lang}"],
            n=fmt.number(row["customers"]),
            share=fmt.percent(row["share"]),
            revenue_share=fmt.percent(row["revenue_share"]),
        )
        for _, row in grades.summary.iterrows()
    ]


def abc_table(lang: str) -> TableSpec:
    """ABC tier summary (``abc.summary``)."""
    return table(
        (f"label_{lang}", _w("group", lang)),
        ("customers", _w("customers", lang), "int"),
        ("share", _w("share", lang), "pct"),
        ("revenue", _w("revenue", lang), "money"),
        ("revenue_share", _w("revenue_share", lang), "pct"),
        ("min_revenue", _w("min_revenue", lang), "money"),
    )


def grades_table(lang: str) -> TableSpec:
    """Grade summary (``grades.summary``)."""
    return table(
        (f"label_{lang}", _w("group", lang)),
        ("customers", _w("customers", lang), "int"),
        ("share", _w("share", lang), "pct"),
        ("revenue", _w("revenue", lang), "money"),
        ("revenue_share", _w("revenue_share", lang), "pct"),
    )


# -- clusters ------------------------------------------------------------------------------------------------


def cluster_description(row, lang: str, currency: str) -> str:
    """The plain-words description of one row of ``describe_clusters`` (traits, named category / channel,
    numbers)."""
    traits = [_w(_TRAIT_KEYS[t], lang) for t in row["traits"] or ("typical",)]
    text = _w("cluster_buyers", lang, traits=_w("traits_sep", lang).join(traits))
    has_category, has_channel = "top_category" in row, "top_channel" in row
    if has_category:
        text += (
            _w("cluster_named_category", lang, category=row["top_category"])
            if row["named_category"]
            else _w("cluster_mixed_categories", lang)
        )
    if has_channel:
        text += (
            _w("cluster_named_channel", lang, channel=row["top_channel"])
            if row["named_channel"]
            else _w("cluster_mixed_channels", lang)
        )
    numbers = [
        _w("cluster_n_frequency", lang, n=f"{row['median_frequency']:.0f}"),
        _w("cluster_n_spend", lang, spend=fmt.money(row["median_monetary"], lang, currency)),
        _w("cluster_n_recency", lang, n=f"{row['median_recency']:.0f}"),
    ]
    if has_category:
        numbers.append(
            _w(
                "cluster_n_category",
                lang,
                share=f"{row['top_category_share']:.0%}",
                category=row["top_category"],
            )
        )
    if has_channel:
        numbers.append(
            _w("cluster_n_channel", lang, share=f"{row['top_channel_share']:.0%}", channel=row["top_channel"])
        )
    text = text[0].upper() + text[1:]
    return _w("cluster_description", lang, text=text, numbers=_w("numbers_sep", lang).join(numbers))


def cluster_sentences(clusters, lang: str, currency: str) -> list[str]:
    """How k was chosen, the stability, and one sentence per cluster with its description."""
    if clusters is None:
        return [_w("too_few_customers", lang)]
    model, k = clusters.model, clusters.k
    scores = clusters.silhouette.set_index("k")
    low, high = model.k_range
    if model.k_selection == "prediction_strength":
        how = _w(
            "cluster_k_by_strength",
            lang,
            k=k,
            threshold=f"{model.strength_threshold:g}",
            low=low,
            high=high,
            strength=f"{scores.loc[k, 'prediction_strength']:.2f}",
        )
    else:
        how = _w(
            "cluster_k_by_silhouette",
            lang,
            k=k,
            silhouette=f"{scores.loc[k, 'silhouette']:.2f}",
            low=low,
            high=high,
        )
    if not np.isnan(clusters.stability):
        how += _w("cluster_stability", lang, ari=f"{clusters.stability:.2f}")
    out = [how + _w("sentence_end", lang)]
    for _, row in clusters.profiles.iterrows():
        out.append(
            _w(
                "cluster_sentence",
                lang,
                cluster=row["cluster"],
                share=f"{row['share']:.0%}",
                revenue_share=f"{row['revenue_share']:.0%}",
                description=cluster_description(row, lang, currency),
            )
        )
    return out


def cluster_profiles_table(lang: str) -> TableSpec:
    """Cluster profiles (``cluster_profiles``: one row per cluster in ``group``)."""
    return table(
        ("group", _w("cluster", lang)),
        ("customers", _w("customers", lang), "int"),
        ("share", _w("share", lang), "pct"),
        ("revenue_share", _w("revenue_share", lang), "pct"),
        ("avg_order_value", _w("avg_order_value", lang), "money"),
        ("top_categories", _w("top_categories", lang)),
        ("top_channels", _w("top_channels", lang)),
    )


# -- profiles ------------------------------------------------------------------------------------------------


def segment_profiles(seg, lang: str) -> pd.DataFrame:
    """``seg.segment_profiles`` with the segment names of ``lang`` in ``group``."""
    labels = seg.rules.segment_labels()
    return seg.segment_profiles.assign(group=[_label(labels, g, lang) for g in seg.segment_profiles["group"]])


def profiles_table(lang: str) -> TableSpec:
    """Segment profiles; the top_* and mean_csat columns exist only when the data have categories, channels,
    regions, owners or feedback (absent columns are left out)."""
    return table(
        ("group", _w("segment", lang)),
        ("customers", _w("customers", lang), "int"),
        ("revenue", _w("revenue", lang), "money"),
        ("avg_order_value", _w("avg_order_value", lang), "money"),
        ("top_categories", _w("top_categories", lang)),
        ("top_channels", _w("top_channels", lang)),
        ("top_regions", _w("top_regions", lang)),
        ("top_owner_reps", _w("top_owner_reps", lang)),
        ("mean_csat", _w("mean_csat", lang), "float"),
    )


# -- migration -----------------------------------------------------------------------------------------------


def migration_sentences(m: Migration, labels: dict, lang: str, currency: str, top: int = 5) -> list[str]:
    """The share that kept its state and the ``top`` biggest flows (state names from ``labels``, rule
    Labels)."""
    out = []
    if not np.isnan(m.stayed_share):
        out.append(_w("migration_stayed", lang, share=f"{m.stayed_share:.0%}"))
    for _, row in m.flows.head(top).iterrows():
        values = {
            "n": fmt.number(row["customers"]),
            "share": f"{row['share_of_from']:.0%}",
            "source": _label(labels, row["from_state"], lang),
            "target": _label(labels, row["to_state"], lang),
            "at_stake": fmt.money(row["revenue_at_stake"], lang, currency),
        }
        if row["from_state"] == NONE:
            out.append(_w("migration_entered", lang, newcomers=fmt.number(m.newcomers), **values))
        elif row["to_state"] == NONE:
            out.append(_w("migration_left", lang, **values))
        else:
            out.append(_w("migration_moved", lang, **values))
    return out


def segment_migration_sentences(seg, lang: str, currency: str, top: int = 3) -> list[str]:
    """Segment migration sentences, then the status flows (without repeating the share that kept its
    state)."""
    segments = migration_sentences(seg.segment_migration, seg.rules.segment_labels(), lang, currency, top)
    status = migration_sentences(seg.status_migration, seg.rules.status.labels, lang, currency, top)
    return segments + status[1:]


def migration_matrix(seg, lang: str) -> pd.DataFrame:
    """Segment transition counts with segment names of ``lang`` on both axes (for the heatmap)."""
    labels = seg.rules.segment_labels()
    counts = seg.segment_migration.counts
    return counts.rename(index=lambda k: _label(labels, k, lang), columns=lambda k: _label(labels, k, lang))


def migration_flows(seg, lang: str) -> pd.DataFrame:
    """``seg.segment_migration.flows`` with segment names of ``lang``."""
    labels = seg.rules.segment_labels()
    flows = seg.segment_migration.flows
    return flows.assign(
        from_state=[_label(labels, s, lang) for s in flows["from_state"]],
        to_state=[_label(labels, s, lang) for s in flows["to_state"]],
    )


def flows_table(lang: str) -> TableSpec:
    """Migration flows (:func:`migration_flows`)."""
    return table(
        ("from_state", _w("from_state", lang)),
        ("to_state", _w("to_state", lang)),
        ("customers", _w("customers", lang), "int"),
        ("share_of_from", _w("share_of_from", lang), "pct"),
        ("revenue_at_stake", _w("revenue_at_stake", lang), "money"),
        max_rows=10,
    )


# -- suggestions ---------------------------------------------------------------------------------------------


def suggestion_sentence(evaluation, lang: str) -> str:
    """The holdout hit rates of co-purchase suggestions and of the popularity baseline."""
    if evaluation is None or evaluation.popularity_hit_rate <= 0:
        return ""
    rate, base = evaluation.hit_rate, evaluation.popularity_hit_rate
    return _w(
        "suggestion_holdout",
        lang,
        rate=f"{rate:.1%}",
        n=fmt.number(evaluation.customers_evaluated),
        k=evaluation.n,
        base=f"{base:.1%}",
        lift=f"{rate / base:.2f}",
    )


def top_customers(seg, lang: str) -> pd.DataFrame:
    """The export table, largest revenue first, with segment names of ``lang`` and product names for
    suggestions."""
    labels = seg.rules.segment_labels()
    out = seg.customers.sort_values("monetary", ascending=False, kind="stable")
    out = out.assign(segment=[None if pd.isna(s) else _label(labels, s, lang) for s in out["segment"]])
    for col in ("suggestion_1", "suggestion_2", "suggestion_3"):
        out[col] = out[col].map(lambda p: seg.product_names.get(p, p))
    return out


def customers_table(lang: str, rows: int = 20) -> TableSpec:
    """The customers with their suggestions (:func:`top_customers`)."""
    return table(
        ("customer_id", _w("customer_id", lang)),
        ("segment", _w("segment", lang)),
        ("suggestion_1", _w("suggestion_1", lang)),
        ("suggestion_2", _w("suggestion_2", lang)),
        ("suggestion_3", _w("suggestion_3", lang)),
        ("owner_rep_id", _w("owner_rep_id", lang)),
        max_rows=rows,
    )

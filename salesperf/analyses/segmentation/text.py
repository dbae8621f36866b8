"""The words of the segmentation report: tiles, findings and sentences, computed from the results (table specs
and labelled display frames are in :mod:`.tables`).

The computations (:mod:`~salesperf.analyses.segmentation.rfm`, ``status``, ``value``, ``clusters``,
``migration``, ``suggest``) return numbers and frames only. Here each sentence's numbers are computed once and
formatted into the English or Chinese template of ``vocab.yml``; names of segments, statuses, tiers and grades
come from ``rules.yml``. Every function returns plain text (the page escapes it) or an empty list / string
when there is nothing to say.

The clusters' sentences are in :mod:`.cluster_text`; the vocabulary and the ``word`` helper in :mod:`.words`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

# the notebook calls every sentence through this module: the clusters' sentences live apart
from salesperf.analyses.segmentation.cluster_text import cluster_description as cluster_description
from salesperf.analyses.segmentation.cluster_text import cluster_sentences as cluster_sentences
from salesperf.analyses.segmentation.migration import NONE, Migration
from salesperf.analyses.segmentation.queries import mix_source
from salesperf.analyses.segmentation.words import WORDS as WORDS
from salesperf.analyses.segmentation.words import word
from salesperf.core import fmt
from salesperf.core.present import Tile

_SPLIT_KEYS = {"mean": "split_mean", "median": "split_median"}
_CLV_SKIPPED_KEYS = {"not_given": "clv_skipped_not_given", "no_values": "clv_skipped_no_values"}


def rule_label(labels: dict, key, lang: str) -> str:
    """The display name of a rule key (a Label of rules.yml), the key itself when unknown."""
    if key == NONE:
        return word("no_state", lang)
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
    potential = status["customers"].get("potential")  # no row without a CRM table: nothing to say
    out = [
        Tile(
            word("customers", lang),
            fmt.number(int(status["customers"].sum())),
            "" if potential is None else word("tile_potential", lang, n=fmt.number(int(potential))),
        )
    ]
    if rfm["customers"].sum() > 0:
        top = rfm.loc[rfm["revenue_share"].idxmax()]
        out.append(
            Tile(
                top[f"label_{lang}"],
                fmt.percent(top["revenue_share"]),
                word("tile_top_segment", lang, n=fmt.number(top["customers"])),
            )
        )
    out.append(
        Tile(
            word("tile_at_risk", lang),
            fmt.number(int(status["customers"].get("at_risk", 0))),
            fmt.percent(status["share"].get("at_risk", 0.0)),
            tone="bad",
        )
    )
    tier_a = seg.abc.summary.set_index("abc_tier").loc["A"]
    out.append(
        Tile(
            word("tile_tier_a", lang),
            fmt.percent(tier_a["revenue_share"]),
            word("tile_top_segment", lang, n=fmt.number(tier_a["customers"])),
        )
    )
    return out


def largest_move(m: Migration, labels: dict, previous: str, lang: str, currency: str) -> str:
    """The largest flow between two segments (customers present at both dates), with the revenue at stake."""
    flows = m.flows[(m.flows["from_state"] != NONE) & (m.flows["to_state"] != NONE)]
    if flows.empty:
        return ""
    row = flows.iloc[0]  # flows are sorted by customers, then revenue at stake
    return word(
        "migration_largest_move",
        lang,
        previous=previous,
        n=fmt.number(row["customers"]),
        source=rule_label(labels, row["from_state"], lang),
        target=rule_label(labels, row["to_state"], lang),
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
        return [word("rfm_nobody", lang)]
    label = f"label_{lang}"
    top = rfm.summary.set_index("segment").loc[facts["top_revenue_segment"]]
    biggest = rfm.summary.set_index("segment").loc[facts["largest_segment"]]
    cn8 = rfm.summary_cn8.set_index("segment_cn8").loc[facts["top_revenue_cn8"]]
    th = rfm.cn8_thresholds
    out = [
        word(
            "rfm_top_segment",
            lang,
            segment=top[label],
            share=fmt.percent(top["share"]),
            n=fmt.number(n),
            revenue_share=fmt.percent(top["revenue_share"]),
            frequency=f"{top['median_frequency']:g}",
            recency=f"{top['median_recency']:g}",
        ),
        word("rfm_largest_segment", lang, segment=biggest[label], share=fmt.percent(biggest["share"])),
        word(
            "rfm_cn8_top",
            lang,
            split=word(_SPLIT_KEYS[rfm.cn8_split], lang),
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
            word(
                "rfm_one_time",
                lang,
                share=fmt.percent(facts["one_time_share"]),
                score=facts["one_time_f_score"],
            )
        )
    return out


# -- status --------------------------------------------------------------------------------------------------


def status_rule(status, lang: str) -> str:
    """The status rule (lifecycle's stage rule) with the thresholds actually used."""
    lr, sr = status.lifecycle_rules, status.status_rules
    since = status.as_of - dt.timedelta(days=lr.reactivation_days - 1)
    flat = word("status_flat", lang, at_risk=lr.at_risk_days, churn=lr.churn_days)
    if lr.rhythm_enabled:
        text = word(
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
        text = word("status_rule_flat", lang, flat=flat)
    text += word(
        "status_rule_rest",
        lang,
        new_days=lr.new_days,
        since=since.isoformat(),
        reactivation_days=lr.reactivation_days,
    )
    if status.p_alive_given:
        text += word(
            "status_rule_p_alive",
            lang,
            at_risk=f"{sr.p_alive_at_risk_below:g}",
            churned=f"{sr.p_alive_churned_below:g}",
        )
    return text


def status_sentences(status, lang: str, currency: str) -> list[str]:
    """The rule, the status mix and the revenue of reactivated customers."""
    summary = status.summary.set_index("status")
    mix = word("list_sep", lang).join(
        word("status_mix_item", lang, share=fmt.percent(row["share"]), status=row[f"label_{lang}"].lower())
        for _, row in summary.iterrows()
    )
    back = summary.loc["reactivated", "revenue_period"]
    total = status.facts.get("revenue_period", float(summary["revenue_period"].sum()))
    return [
        status_rule(status, lang),
        word("status_mix", lang, n=fmt.number(int(summary["customers"].sum())), mix=mix),
        word(
            "status_reactivated_revenue",
            lang,
            revenue=fmt.money(back, lang, currency),
            share=fmt.percent(back / total) if total > 0 else "–",
        ),
    ]


# -- value tiers and grades ----------------------------------------------------------------------------------


def abc_sentence(abc, lang: str, currency: str) -> str:
    """Tier A's share of customers and revenue and the tier cut-offs."""
    row = abc.summary.set_index("abc_tier").loc["A"]
    return word(
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
            tiers = word("or_sep", lang).join(word("grading_tier", lang, tier=t) for t in rule.abc_tier)
            parts.append(word("grading_abc", lang, tiers=tiers))
        if rule.growth_min is not None:
            parts.append(word("grading_growth", lang, growth=f"{rule.growth_min:+.0%}"))
        if rule.monetary_percentile_min is not None:
            parts.append(word("grading_monetary", lang, share=f"{rule.monetary_percentile_min:.0%}"))
        if rule.clv_percentile_min is not None:
            skipped = "" if grades.clv == "applied" else word(_CLV_SKIPPED_KEYS[grades.clv], lang)
            parts.append(word("grading_clv", lang, share=f"{rule.clv_percentile_min:.0%}") + skipped)
        label = grades.rules.grades[rule.grade]
        conditions = word("and_sep", lang).join(parts) if parts else word("grading_everyone_else", lang)
        out.append(
            word(
                "grading_rule", lang, label_en=label.label_en, label_zh=label.label_zh, conditions=conditions
            )
        )
    return out


def grade_sentences(grades, lang: str) -> list[str]:
    """Customers and revenue share of each grade."""
    return [
        word(
            "grade_sentence",
            lang,
            grade=row[f"label_{lang}"],
            n=fmt.number(row["customers"]),
            share=fmt.percent(row["share"]),
            revenue_share=fmt.percent(row["revenue_share"]),
        )
        for _, row in grades.summary.iterrows()
    ]


# -- migration -----------------------------------------------------------------------------------------------


def migration_sentences(m: Migration, labels: dict, lang: str, currency: str, top: int = 5) -> list[str]:
    """The share that kept its state and the ``top`` biggest flows (state names from ``labels``, rule
    Labels)."""
    out = []
    if not np.isnan(m.stayed_share):
        out.append(word("migration_stayed", lang, share=f"{m.stayed_share:.0%}"))
    for _, row in m.flows.head(top).iterrows():
        values = {
            "n": fmt.number(row["customers"]),
            "share": f"{row['share_of_from']:.0%}",
            "source": rule_label(labels, row["from_state"], lang),
            "target": rule_label(labels, row["to_state"], lang),
            "at_stake": fmt.money(row["revenue_at_stake"], lang, currency),
        }
        if row["from_state"] == NONE:
            out.append(word("migration_entered", lang, newcomers=fmt.number(m.newcomers), **values))
        elif row["to_state"] == NONE:
            out.append(word("migration_left", lang, **values))
        else:
            out.append(word("migration_moved", lang, **values))
    return out


def segment_migration_sentences(seg, lang: str, currency: str, top: int = 3) -> list[str]:
    """Segment migration sentences, then the status flows (without repeating the share that kept its
    state)."""
    segments = migration_sentences(seg.segment_migration, seg.rules.segment_labels(), lang, currency, top)
    status = migration_sentences(seg.status_migration, seg.rules.status.labels, lang, currency, top)
    return segments + status[1:]


# -- suggestions ---------------------------------------------------------------------------------------------


def suggestion_sentence(evaluation, lang: str) -> str:
    """The holdout hit rates of co-purchase suggestions and of the popularity baseline."""
    if evaluation is None or evaluation.popularity_hit_rate <= 0:
        return ""
    rate, base = evaluation.hit_rate, evaluation.popularity_hit_rate
    return word(
        "suggestion_holdout",
        lang,
        rate=f"{rate:.1%}",
        n=fmt.number(evaluation.customers_evaluated),
        k=evaluation.n,
        base=f"{base:.1%}",
        lift=f"{rate / base:.2f}",
    )


def missing(ds, section: str, lang: str) -> list[str]:
    """The stated line ("missing_need") for each optional table or column of ``section`` that ``ds`` lacks,
    from the analysis's ``needs`` (the one place it lists them); for the profiles, then where their regions
    come from (:func:`region_source`)."""
    from salesperf.analyses import registry  # the registry imports this package

    lines = registry.get(__package__.rsplit(".", 1)[-1]).missing_lines(ds, section, lang)
    return lines + (region_source(ds, lang) if section == "segment_profiles" else [])


def region_source(ds, lang: str) -> list[str]:
    """Which region the profiles' region mix uses: the order line's, the customer's where a line has none,
    or the customer's alone (:func:`~.queries.mix_source`); nothing without a region."""
    on_line, table = mix_source(ds.engine, "region")
    if not on_line and table is None:
        return []
    key = "regions_from_lines" if table is None else "regions_from_lines_else_customer"
    return [word(key if on_line else "regions_from_customers", lang)]

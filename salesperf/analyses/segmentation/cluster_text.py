"""The clusters' sentences: how k was chosen, how stable the clusters are, and each cluster in plain words."""

from __future__ import annotations

import numpy as np

from salesperf.analyses.segmentation.words import word
from salesperf.core import fmt

#: vocabulary key of each cluster trait (:data:`.cluster_profiles.TRAITS`) and of "typical"
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


def cluster_description(row, lang: str, currency: str) -> str:
    """The plain-words description of one row of ``describe_clusters`` (traits, named category / channel,
    numbers)."""
    traits = [word(_TRAIT_KEYS[t], lang) for t in row["traits"] or ("typical",)]
    text = word("cluster_buyers", lang, traits=word("traits_sep", lang).join(traits))
    has_category, has_channel = "top_category" in row, "top_channel" in row
    if has_category:
        text += (
            word("cluster_named_category", lang, category=row["top_category"])
            if row["named_category"]
            else word("cluster_mixed_categories", lang)
        )
    if has_channel:
        text += (
            word("cluster_named_channel", lang, channel=row["top_channel"])
            if row["named_channel"]
            else word("cluster_mixed_channels", lang)
        )
    numbers = [
        word("cluster_n_frequency", lang, n=f"{row['median_frequency']:.0f}"),
        word("cluster_n_spend", lang, spend=fmt.money(row["median_monetary"], lang, currency)),
        word("cluster_n_recency", lang, n=f"{row['median_recency']:.0f}"),
    ]
    if has_category:
        numbers.append(
            word(
                "cluster_n_category",
                lang,
                share=f"{row['top_category_share']:.0%}",
                category=row["top_category"],
            )
        )
    if has_channel:
        numbers.append(
            word(
                "cluster_n_channel", lang, share=f"{row['top_channel_share']:.0%}", channel=row["top_channel"]
            )
        )
    text = text[0].upper() + text[1:]
    return word("cluster_description", lang, text=text, numbers=word("numbers_sep", lang).join(numbers))


def cluster_sentences(clusters, lang: str, currency: str) -> list[str]:
    """How k was chosen, the stability, and one sentence per cluster with its description."""
    if clusters is None:
        return [word("too_few_customers", lang)]
    model, k = clusters.model, clusters.k
    scores = clusters.silhouette.set_index("k")
    low, high = model.k_range
    if model.k_selection == "prediction_strength":
        how = word(
            "cluster_k_by_strength",
            lang,
            k=k,
            threshold=f"{model.strength_threshold:g}",
            low=low,
            high=high,
            strength=f"{scores.loc[k, 'prediction_strength']:.2f}",
        )
    else:
        how = word(
            "cluster_k_by_silhouette",
            lang,
            k=k,
            silhouette=f"{scores.loc[k, 'silhouette']:.2f}",
            low=low,
            high=high,
        )
    if not np.isnan(clusters.stability):
        how += word("cluster_stability", lang, ari=f"{clusters.stability:.2f}")
    out = [how + word("sentence_end", lang)]
    for _, row in clusters.profiles.iterrows():
        out.append(
            word(
                "cluster_sentence",
                lang,
                cluster=row["cluster"],
                share=f"{row['share']:.0%}",
                revenue_share=f"{row['revenue_share']:.0%}",
                description=cluster_description(row, lang, currency),
            )
        )
    return out

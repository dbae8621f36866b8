"""What each behavioural cluster is like: size, revenue, typical behaviour (traits) and its category and
channel mix, from the features and the cluster labels (pure; the words for the traits are in :mod:`.text`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesperf.analyses.segmentation.features import (
    CATEGORY_PREFIX,
    CHANNEL_PREFIX,
    VALUE_FEATURES,
    share_columns,
)

# -- descriptions --------------------------------------------------------------------------------------------
#: feature: (trait when clearly above the population, trait when clearly below); the text layer words each
#: trait
TRAITS = {
    "frequency": ("frequent", "infrequent"),
    "monetary": ("high_spending", "low_spending"),
    "recency": ("lapsed", "recently_active"),
    "tenure_days": ("long_standing", "newer"),
    "interaction": ("often_contacted", "rarely_contacted"),
}


def describe_clusters(
    features: pd.DataFrame,
    labels: np.ndarray,
    interaction_col: str | None = None,
    threshold_sd: float = 0.5,
    mix_lift: float = 1.25,
    mix_share: float = 0.4,
) -> pd.DataFrame:
    """Profile of each cluster versus the population and the traits that tell it apart (words come from
    ``text``).

    A behaviour trait is kept when the cluster mean of the log1p feature lies more than ``threshold_sd``
    population standard deviations from the population mean. A category is named when its mean share
    (customers weighted equally) in the cluster is at least ``mix_share`` and ``mix_lift`` times the
    population's mean share; a channel is named ("mostly direct") when its mean share is at least 0.5 and 1.1
    times the population's.

    Parameters
    ----------
    features : DataFrame
        One row per customer (see :func:`customer_features_sql`).
    labels : array of int
        Cluster per row.

    Returns
    -------
    DataFrame
        One row per cluster: cluster, customers, share, revenue, revenue_share, median_recency,
        median_frequency, median_monetary, median_tenure_days, top_category, top_category_share,
        top_category_lift, top_channel, top_channel_share, top_channel_lift (the mix columns only when the
        features hold mixes), z_<feature> for the behaviour features, traits (tuple of :data:`TRAITS` values,
        plus 'one_time' when the median customer bought on one day), named_category and named_channel (bool).
    """
    cluster = np.asarray(labels)
    behaviour = [c for c in VALUE_FEATURES if c in features] + ([interaction_col] if interaction_col else [])
    logged = np.log1p(features[behaviour].clip(lower=0).astype("float64"))
    z = (logged - logged.mean()) / logged.std(ddof=0).replace(0, np.nan)
    z_means = z.groupby(cluster).mean()
    grouped = features.groupby(cluster)
    total_revenue = features["monetary"].sum()
    out = pd.DataFrame({"customers": grouped.size(), "revenue": grouped["monetary"].sum()})
    out["share"] = out["customers"] / len(features)
    out["revenue_share"] = out["revenue"] / total_revenue if total_revenue else np.nan
    for col in ("recency", "frequency", "monetary", "tenure_days"):
        if col in features:
            out[f"median_{col}"] = grouped[col].median()
    for prefix, name in ((CATEGORY_PREFIX, "category"), (CHANNEL_PREFIX, "channel")):
        cols = share_columns(features, prefix)
        if not cols:
            continue
        shares = features[list(cols)].fillna(0.0)
        cluster_mix = shares.groupby(cluster).mean().rename(columns=cols)
        population_mix = shares.mean().rename(index=cols)
        out[f"top_{name}"] = cluster_mix.idxmax(axis=1)
        out[f"top_{name}_share"] = cluster_mix.max(axis=1)
        out[f"top_{name}_lift"] = [
            cluster_mix.loc[c, out.loc[c, f"top_{name}"]] / population_mix[out.loc[c, f"top_{name}"]]
            for c in out.index
        ]
    for col in behaviour:
        out[f"z_{col}"] = z_means[col]
    out["traits"] = [_traits(row, behaviour, threshold_sd) for _, row in out.iterrows()]
    out["named_category"] = (
        out["top_category_share"].ge(mix_share) & out["top_category_lift"].ge(mix_lift)
        if "top_category" in out
        else False
    )
    out["named_channel"] = (
        out["top_channel_share"].ge(0.5) & out["top_channel_lift"].ge(1.1) if "top_channel" in out else False
    )
    out.index.name = "cluster"
    return out.reset_index()


def _traits(row: pd.Series, behaviour: list[str], threshold_sd: float) -> tuple[str, ...]:
    """The :data:`TRAITS` of one cluster row, in the order of :data:`TRAITS` (then other interaction
    columns)."""
    traits = []
    for col in [c for c in TRAITS if c in behaviour] + [c for c in behaviour if c not in TRAITS]:
        high, low = TRAITS.get(col, TRAITS["interaction"])
        zval = row[f"z_{col}"]
        if zval >= threshold_sd:
            traits.append(high)
        elif zval <= -threshold_sd:
            traits.append(low)
    if row.get("median_frequency") == 1 and "frequent" not in traits:
        traits = ["one_time"] + [t for t in traits if t != "infrequent"]
    return tuple(traits)

"""Per-customer behavioural features in one engine query (for clusters and segment profiles)."""

from __future__ import annotations

import pandas as pd

from salesperf.analyses.segmentation.base import bought, features_frame
from salesperf.analyses.segmentation.queries import (
    CATEGORY_PREFIX,
    CHANNEL_PREFIX,
    OTHER,
    REGION_PREFIX,
    AggregateQuery,
    mix_source,
)
from salesperf.core.expr import as_date
from salesperf.data.engine import Engine

__all__ = [
    "CATEGORY_PREFIX",
    "CHANNEL_PREFIX",
    "OTHER",
    "REGION_PREFIX",
    "customer_features_sql",
    "mix_source",
    "share_columns",
]


#: The value features of every customer (the behavioural clusters standardise their logarithms).
VALUE_FEATURES = ("recency", "frequency", "monetary", "tenure_days")


def share_columns(features: pd.DataFrame, prefix: str) -> dict[str, str]:
    """{column: level} for the share columns with ``prefix`` (e.g. category_share__Hardware -> Hardware)."""
    return {c: c[len(prefix) :] for c in features.columns if c.startswith(prefix)}


def customer_features_sql(
    engine: Engine,
    as_of,
    lookback_days: int | None = None,
    max_categories: int = 8,
    max_channels: int = 6,
) -> pd.DataFrame:
    """Per-customer features for clustering and profiles, computed in the engine in one query.

    Uses ``orders`` (category, channel and region when present) and, when available, ``customers``
    (region, owner_rep_id; channel and region of lines that have none), ``products`` (category of lines
    that have none), ``activities`` (count per customer in the window) and ``feedback`` (mean CSAT and NPS
    scores). Category / channel / region levels beyond the ``max_*`` largest by revenue are pooled as
    'Other'. The query is the RFM and feature parts of
    :class:`~salesperf.analyses.segmentation.queries.AggregateQuery`.

    Parameters
    ----------
    engine : Engine
    as_of : date-like
    lookback_days : int, optional
        Window for recency/frequency/monetary and the mixes; tenure always uses all history.

    Returns
    -------
    DataFrame
        One row per customer with a purchase in the window, sorted by customer_id: customer_id, recency,
        frequency, monetary, n_orders (orders with a purchase line, counted on each of their purchase days),
        gross_revenue (purchase lines only), tenure_days, category_share__<level>...,
        channel_share__<level>..., region_share__<level>... (shares of gross purchase amount, summing to 1;
        each line counts under its own value, see :func:`mix_source`), when available region (the customer's),
        owner_rep_id, activities, csat, nps_score, and top_category, top_channel.
    """
    as_of = as_date(as_of)
    query = (
        AggregateQuery(engine, as_of)
        .add_rfm("", as_of, lookback_days)
        .add_features(lookback_days, max_categories, max_channels)
    )
    return features_frame(query.run(bought), as_of)

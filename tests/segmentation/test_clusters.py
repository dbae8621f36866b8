"""Behavioural clusters on planted blobs: k by prediction strength, determinism, descriptions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.metrics import adjusted_rand_score

from salesperf.analyses.segmentation import cluster_customers, text
from salesperf.analyses.segmentation.clusters import BehaviourClusters, prediction_strength
from salesperf.core.errors import UserError


def _blobs(n_per=150, seed=0):
    rng = np.random.default_rng(seed)
    specs = [  # frequency, monetary, recency, Hardware share, direct share
        (1, 100, 400, 0.9, 0.1),
        (12, 20000, 10, 0.1, 0.9),
        (4, 1500, 60, 0.5, 0.5),
    ]
    rows = []
    for g, (fr, mo, rec, hw, di) in enumerate(specs):
        for _ in range(n_per):
            rows.append(
                {
                    "frequency": max(1, round(fr * rng.lognormal(0, 0.1))),
                    "monetary": mo * rng.lognormal(0, 0.1),
                    "recency": rec * rng.lognormal(0, 0.1),
                    "tenure_days": 500 * rng.lognormal(0, 0.1),
                    "category_share__Hardware": hw,
                    "category_share__Software": 1 - hw,
                    "channel_share__direct": di,
                    "channel_share__online": 1 - di,
                    "truth": g,
                }
            )
    frame = pd.DataFrame(rows)
    frame.insert(0, "customer_id", [f"c{i:04d}" for i in range(len(frame))])
    frame["gross_revenue"] = frame["monetary"]
    return frame


def test_clusters_find_separated_groups_deterministically_and_describe_them():
    frame = _blobs()
    result = cluster_customers(frame, k_range=(2, 6), sample_size=300, n_bootstrap=3, random_state=7)
    assert result.k == 3 and len(result.silhouette) == 5
    assert adjusted_rand_score(frame["truth"], result.labels["cluster"]) == pytest.approx(1.0)
    assert result.stability == pytest.approx(1.0)
    again = cluster_customers(frame, k_range=(2, 6), sample_size=300, n_bootstrap=3, random_state=7)
    assert (again.labels["cluster"] == result.labels["cluster"]).all()
    big = result.profiles.loc[result.profiles["median_monetary"].idxmax()]
    assert text.cluster_description(big, "en", "¥").startswith(
        "Frequent, high-spending, recently active buyers of Software, mostly direct"
    )
    assert text.cluster_description(big, "zh", "¥").startswith(
        "高频、高消费、近期活跃的客户，主要购买 Software，主要通过 direct 渠道"
    )
    small = result.profiles.loc[result.profiles["median_monetary"].idxmin()]
    assert small["traits"] == ("one_time", "low_spending", "lapsed")
    assert text.cluster_description(small, "en", "¥").startswith(
        "One-time, low-spending, lapsed buyers of Hardware, mostly online"
    )


def test_prediction_strength_is_one_for_separated_groups_and_low_for_noise():
    model = BehaviourClusters(k_range=(2, 6), sample_size=300, n_bootstrap=0, random_state=7).fit(_blobs())
    strength = model.silhouette_.set_index("k")["prediction_strength"]
    # Three separated blobs: every split reproduces the 3 clusters exactly; 4 or more split a blob arbitrarily.
    assert strength[3] == 1.0 and strength[[4, 5, 6]].max() < 0.8 and model.k_ == 3
    # Uniform noise has no reproducible clusters beyond a 2-way cut.
    noise = np.random.default_rng(0).uniform(size=(400, 3))
    assert max(prediction_strength(noise, k) for k in (3, 4, 5)) < 0.6
    with pytest.raises(UserError, match="k_selection"):
        BehaviourClusters(k_selection="elbow").fit(_blobs(10))


def test_clusters_predict_before_fit_and_bad_k_range():
    with pytest.raises(NotFittedError):
        BehaviourClusters().predict(_blobs(10))
    with pytest.raises(UserError, match="k_range"):
        BehaviourClusters(k_range=(1, 3)).fit(_blobs(10))

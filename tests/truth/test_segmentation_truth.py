"""Planted effects of the demo company that segmentation must find (truth.json written by the generator)."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from salesperf.analyses.segmentation import segmentation_analysis
from salesperf.analyses.segmentation.suggest import evaluate_suggestions, incidence_sql
from salesperf.data import demo as demo_company

TABLES = ("orders", "customers", "opportunities", "activities", "feedback")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = demo_company.generate(tmp_path_factory.mktemp("demo"), customers=2000, seed=0, end="2026-10-31")
    con = duckdb.connect()
    for table in TABLES:
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{path / (table + '.parquet')}')")
    return con, json.loads((path / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def demo_analysis(demo):
    con, _ = demo
    return segmentation_analysis(con, "2026-10-31", "2026-09-30", "2026-08-31")


def test_demo_every_buyer_and_prospect_is_classified(demo, demo_analysis):
    # Exact, no tolerance: truth.json counts buyers (85 % of customers) and prospects (open deal, no order).
    _, truth = demo
    table = demo_analysis.customers
    assert len(table) == truth["customers"]
    assert (table["status"] != "potential").sum() == truth["buyers"]
    assert demo_analysis.status.summary.set_index("status").loc["potential", "customers"] == truth["prospects"]


def test_demo_clusters_recover_planted_groups(demo, demo_analysis):
    _, truth = demo
    labels = demo_analysis.clusters.labels
    planted = labels["customer_id"].map(truth["customer_segment"])
    ari = adjusted_rand_score(planted, labels["cluster"])
    # The planted groups differ in channel and category mix as well as in rhythm and spend. Measured on the demo
    # company (KMeans on standardised features, k by prediction strength): ARI 0.71 here (seed 0, 2,000 customers,
    # k = 3), 0.68-0.75 over seeds 0-7 at this size except seed 3 (k = 2, 0.38: this fixture's seed is fixed), and
    # 0.73 at 10,000 customers (k = 4, seeds 0-2). The supervised ceiling - a
    # random forest trained ON THE TRUE LABELS with the same features, 5-fold CV - is ARI 0.78 here (0.75-0.79 over
    # the seeds, 92 % accuracy): one-time buyers of the two small-spending groups stay alike. Tolerance: 0.62, i.e.
    # 80 % of that ceiling. It fails for the 2-cluster split (ARI 0.37-0.40), for the 6-8 clusters silhouette picks
    # (0.46-0.61), and for the earlier block weighting that counted each mix as 1.5 features (0.35).
    assert ari >= 0.62
    assert demo_analysis.clusters.k in (3, 4)
    shuffled = np.random.default_rng(0).permutation(labels["cluster"].to_numpy())
    assert adjusted_rand_score(planted, shuffled) < 0.02


@pytest.fixture(scope="module")
def demo_10k(tmp_path_factory):
    path = demo_company.generate(tmp_path_factory.mktemp("demo10k"), customers=10_000, seed=0, end="2026-10-31")
    con = duckdb.connect()
    con.execute(f"CREATE VIEW orders AS SELECT * FROM read_parquet('{path / 'orders.parquet'}')")
    return con


def test_demo_suggestions_beat_popularity_on_planted_bundles(demo, demo_analysis, demo_10k):
    _, truth = demo
    assert len(truth["product_bundles"]["pairs"]) >= 4
    assert demo_analysis.suggestion_evaluation.customers_evaluated > 100  # the analysis runs the holdout
    # The demo plants co-purchase: after a customer's first purchase of a trigger product, the next order holds its
    # complement with probability 0.7 (truth["product_bundles"]). On 10,000 customers with a one-year holdout
    # (~1,700 customers evaluated), hit rate at 3 of confidence co-purchase was 9.0-12.8 points above the n most
    # popular products over seeds 0-5 (e.g. 63.7 % vs 54.7 % for seed 0). Before the bundles were planted it was
    # -0.3..+0.2 points. The standard error of this paired difference is below 1.7 points, so requiring +5 points
    # (about half the planted lift, three standard errors) fails without the planted effect and not by chance.
    cutoff = "2025-10-31"
    train, test = incidence_sql(demo_10k, cutoff), incidence_sql(demo_10k, "2026-10-31", since=cutoff)
    assert list(train.products) == sorted(train.products)  # fixed columns: tie-breaks are the same on every run
    result = evaluate_suggestions(train, test)
    assert result.customers_evaluated > 1500
    assert result.hit_rate >= result.popularity_hit_rate + 0.05
    # 'lift' divides by both popularities and buries the planted complements under rare products: 26 % here.
    assert evaluate_suggestions(train, test, similarity="lift").hit_rate < result.popularity_hit_rate - 0.1

"""Behavioural features (one DuckDB query) and segment profiles, hand-computed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from oracle import connect

from salesperf.analyses.segmentation.features import customer_features_sql
from salesperf.analyses.segmentation.profiles import group_profiles


def _feature_orders():
    return pd.DataFrame(
        {
            "order_id": ["o1", "o1", "o2", "o3", "o4"],
            "customer_id": ["A", "A", "A", "B", "B"],
            "order_date": pd.to_datetime(
                ["2026-01-01", "2026-01-01", "2026-01-21", "2025-12-01", "2026-01-10"]
            ),
            "amount": [30.0, 10.0, 60.0, 100.0, -20.0],
            "category": ["Hardware", "Software", "Hardware", "Services", "Services"],
            "channel": ["online", "online", "direct", "direct", "direct"],
            "status": ["completed", "completed", "completed", "completed", "returned"],
        }
    )


def test_customer_features_sql_hand_computed():
    customers = pd.DataFrame(
        {"customer_id": ["A", "B"], "region": ["North", "East"], "owner_rep_id": ["R1", "R2"]}
    )
    activities = pd.DataFrame({"customer_id": ["A", "A", "B"], "at": pd.to_datetime(["2026-01-02"] * 3)})
    feedback = pd.DataFrame(
        {
            "customer_id": ["A", "A"],
            "responded_at": pd.to_datetime(["2026-01-05"] * 2),
            "score": [4.0, 8.0],
            "kind": ["csat", "nps"],
        }
    )
    con = connect(orders=_feature_orders(), customers=customers, activities=activities, feedback=feedback)
    f = customer_features_sql(con, "2026-01-31").set_index("customer_id")
    # A: purchases 30 + 10 + 60 = 100 -> Hardware 90 %, Software 10 %; online 40 %, direct 60 %; first buy 30 days ago
    assert f.loc["A", ["recency", "frequency", "monetary", "n_orders", "tenure_days"]].tolist() == [
        10,
        2,
        100,
        2,
        30,
    ]
    assert f.loc["A", "category_share__Hardware"] == pytest.approx(0.9)
    assert f.loc["A", "channel_share__direct"] == pytest.approx(0.6)
    assert f.loc[
        "A", ["top_category", "top_channel", "region", "activities", "csat", "nps_score"]
    ].tolist() == ["Hardware", "direct", "North", 2, 4.0, 8.0]
    # B: one purchase (100) and a return (-20): monetary 80, gross 100, all Services
    assert f.loc["B", ["frequency", "monetary", "gross_revenue", "category_share__Services"]].tolist() == [
        1,
        80,
        100,
        1,
    ]


def test_group_profiles_hand_computed():
    frame = pd.DataFrame(
        {
            "segment": ["s", "s", "t"],
            "monetary": [100.0, 50.0, 10.0],
            "n_orders": [2, 1, 1],
            "gross_revenue": [100.0, 50.0, 10.0],
            "category_share__Hw": [1.0, 0.0, 0.5],
            "category_share__Sw": [0.0, 1.0, 0.5],
            "region": ["N", "N", "E"],
            "owner_rep_id": ["R1", "R2", "R1"],
            "csat": [4.0, np.nan, 2.0],
        }
    )
    p = group_profiles(frame).set_index("group")
    assert p.loc["s", "avg_order_value"] == 50.0 and p.loc["s", "revenue_share"] == pytest.approx(150 / 160)
    assert p.loc["s", "top_categories"] == "Hw 67%, Sw 33%"  # spend-weighted: 100 of 150 on Hw
    assert p.loc["s", "top_regions"] == "N 100%" and p.loc["s", "top_owner_reps"] == "R1 50%, R2 50%"
    assert p.loc["s", "mean_csat"] == 4.0 and p.loc["t", "top_categories"] == "Hw 50%, Sw 50%"

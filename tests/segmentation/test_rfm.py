"""RFM: hand-computed values from tiny order frames, tie-aware scores, missing values, segments and the 8 classes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from oracle import connect, make_orders
from oracle import rfm as oracle_rfm

from salesperf.analyses.segmentation import rfm_sql, segment_rfm
from salesperf.analyses.segmentation.rfm import (
    assign_cn8,
    assign_segments,
    rank_scores,
    rfm_scores,
    score_distribution,
    segment_summary,
)

TINY = make_orders(
    [
        ("A", "2026-01-01", 60.0, "completed"),
        ("A", "2026-01-01", 40.0, "completed"),  # one occasion, two lines
        ("A", "2026-01-11", 50.0, "completed"),
        ("A", "2026-01-15", -30.0, "returned"),
        ("B", "2025-12-02", 200.0, "completed"),
        ("B", "2026-01-20", 500.0, "cancelled"),
        ("C", "2026-01-31", 10.0, "completed"),
        ("C", "2026-02-05", 999.0, "completed"),  # after as_of
        ("D", "2026-01-05", -20.0, "returned"),  # a return only: no purchase, not a customer here
    ]
)


def test_rfm_sql_hand_computed():
    rfm = rfm_sql(connect(orders=TINY), "2026-01-31").set_index("customer_id")
    # A: last purchase Jan 11 -> 20 days; purchase days Jan 1 and Jan 11; 60 + 40 + 50 - 30 = 120
    # B: Dec 2 -> 60 days; the cancelled line is ignored. C: bought on as_of; the Feb line is in the future.
    assert rfm.index.tolist() == ["A", "B", "C"]
    assert rfm["recency"].tolist() == [20, 60, 0]
    assert rfm["frequency"].tolist() == [2, 1, 1]
    assert rfm["monetary"].tolist() == [120.0, 200.0, 10.0]
    # 30-day look-back = (Jan 1, Jan 31]: A keeps Jan 11 and the return (50 - 30), B drops out.
    window = rfm_sql(connect(orders=TINY), "2026-01-31", lookback_days=30).set_index("customer_id")
    assert window.index.tolist() == ["A", "C"]
    assert window.loc["A", ["recency", "frequency", "monetary"]].tolist() == [20, 1, 20.0]


def test_every_cancel_and_return_word_is_honoured_by_the_sql():
    # The old pandas twin knew only "cancelled" / "returned": it counted E's void line as revenue, F's refunded line
    # as a purchase day and G's "canceled" (US spelling) line as both. The query uses the one list of core.expr.
    orders = make_orders(
        [
            ("E", "2026-01-10", 100.0, "completed"),
            ("E", "2026-01-20", 500.0, "void"),
            ("F", "2026-01-05", 80.0, "completed"),
            ("F", "2026-01-25", 30.0, "refunded"),
            ("G", "2026-01-02", 40.0, "completed"),
            ("G", "2026-01-30", 70.0, "canceled"),
            ("H", "2026-01-15", 25.0, None),  # no status: an ordinary purchase
        ]
    )
    rfm = rfm_sql(connect(orders=orders), "2026-01-31").set_index("customer_id")
    # E: only Jan 10 counts -> 21 days, 1 day, 100. F: the refunded line is no purchase day, but a non-cancelled
    # line: 1 day (Jan 5 -> 26 days), 80 + 30 = 110. G: Jan 2 -> 29 days, 40. H: 16 days, 25.
    assert rfm.loc[:, ["recency", "frequency", "monetary"]].values.tolist() == [
        [21, 1, 100.0],
        [26, 1, 110.0],
        [29, 1, 40.0],
        [16, 1, 25.0],
    ]
    pd.testing.assert_frame_equal(
        rfm[["recency", "frequency", "monetary"]],
        oracle_rfm(orders, "2026-01-31"),
        check_dtype=False,
        check_names=False,
    )


@pytest.mark.parametrize("lookback", [None, 30])
def test_rfm_sql_agrees_with_the_independent_oracle(lookback):
    got = rfm_sql(connect(orders=TINY), "2026-01-31", lookback).set_index("customer_id")
    pd.testing.assert_frame_equal(
        got[["recency", "frequency", "monetary"]],
        oracle_rfm(TINY, "2026-01-31", lookback),
        check_dtype=False,
        check_names=False,
    )


def test_rank_scores_hand_computed_with_ties():
    # 6 of 10 customers bought once: nobody is below them -> all score 1; frequency 2 has 6 below -> 1 + floor(3) = 4
    freq = pd.Series([1, 1, 1, 1, 1, 1, 2, 2, 3, 5])
    assert rank_scores(freq).tolist() == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]
    # recency: fewer days is better; 0 days beats 3 of 4 -> 1 + floor(5 * 3 / 4) = 4
    assert rank_scores(pd.Series([0, 10, 10, 30]), higher_is_better=False).tolist() == [4, 2, 2, 1]
    # without ties: equal fifths
    assert rank_scores(pd.Series(range(1, 11))).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_rank_scores_keep_a_missing_value_missing(rules):
    # Before: NaN ranked as NaN, floor(NaN) cast to int64 gave -9,223,372,036,854,775,808 as a score.
    # Now the missing value stays missing and the others are ranked among themselves (n = 4):
    # 10 -> 1, 20 -> 1 + floor(5 * 1/4) = 2, 30 -> 1 + floor(5 * 2/4) = 3, 40 -> 1 + floor(5 * 3/4) = 4.
    scores = rank_scores(pd.Series([10.0, np.nan, 20.0, 30.0, 40.0], index=list("abcde")))
    assert scores.isna().tolist() == [False, True, False, False, False]
    assert scores.dropna().tolist() == [1, 2, 3, 4]
    assert (scores.dropna() >= 1).all()
    scored = rfm_scores(
        pd.DataFrame({"recency": [1, 2, 3], "frequency": [1, 2, 3], "monetary": [5.0, np.nan, 9.0]})
    )
    assert pd.isna(scored.loc[1, "m_score"]) and pd.isna(scored.loc[1, "fm_score"])
    segments = assign_segments(scored, rules)
    assert segments[1] is None and segments[[0, 2]].notna().all()


def test_heavy_ties_one_time_buyers_share_score_1_and_the_distribution_shows_it():
    n = 1000
    rng = np.random.default_rng(0)
    rfm = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "recency": rng.permutation(n),
            "frequency": np.where(np.arange(n) < 700, 1, 2),
            "monetary": rng.permutation(n) + 1.0,
        }
    )
    scored = rfm_scores(rfm)
    dist = score_distribution(scored)
    # 700 tied at 1 -> score 1; frequency 2 has 700 of 1,000 below -> 1 + floor(3.5) = 4
    assert dist["f_score"].tolist() == pytest.approx([0.7, 0, 0, 0.3, 0])
    assert dist["m_score"].tolist() == pytest.approx([0.2] * 5)  # distinct values: fifths
    assert segment_rfm(rfm).facts["one_time_share"] == pytest.approx(0.7)


@pytest.mark.parametrize(
    "r, f, m, expected",
    [
        (5, 5, 5, "champions"),
        (5, 1, 1, "new"),
        (4, 1, 2, "promising"),
        (3, 1, 1, "about_to_sleep"),
        (1, 5, 4, "cant_lose"),
        (2, 3, 4, "at_risk"),
        (1, 1, 2, "lost"),
        (2, 1, 1, "hibernating"),
        (3, 2, 3, "need_attention"),
        (4, 2, 2, "potential_loyalists"),
        (3, 3, 3, "loyal"),
        (5, 3, 4, "loyal"),
    ],
)
def test_assign_segments_hand_picked(rules, r, f, m, expected):
    scored = pd.DataFrame({"r_score": [r], "fm_score": [(f + m) / 2]})
    assert assign_segments(scored, rules).iloc[0] == expected


def test_every_score_combination_gets_a_segment_and_all_eleven_are_reachable(rules):
    grid = pd.DataFrame(
        [(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)],
        columns=["r_score", "f_score", "m_score"],
    )
    grid["fm_score"] = (grid["f_score"] + grid["m_score"]) / 2
    segments = assign_segments(grid, rules)
    assert segments.notna().all() and set(segments) == {s.key for s in rules.rfm_segments}


def test_cn8_hand_computed(rules):
    rfm = pd.DataFrame({"recency": [10, 100], "frequency": [5, 1], "monetary": [1000.0, 100.0]})
    # means 55 days, 3 purchase days, 550: first customer high on all three, second low on all three
    assert assign_cn8(rfm, rules).tolist() == ["important_value", "general_winback"]
    combos = pd.DataFrame(
        [(r, f, m) for r in (0, 100) for f in (1, 9) for m in (1.0, 9.0)],
        columns=["recency", "frequency", "monetary"],
    )
    keys = assign_cn8(combos, rules, {"recency": 50, "frequency": 5, "monetary": 5.0})
    assert keys.iloc[0] == "general_development" and keys.iloc[1] == "important_development"
    assert keys.iloc[3] == "important_value" and keys.iloc[7] == "important_retention" and keys.nunique() == 8
    three = pd.DataFrame(
        {
            "customer_id": list("xyz"),
            "recency": [1, 2, 3],
            "frequency": [1, 1, 2],
            "monetary": [1.0, 2.0, 3.0],
        }
    )
    assert segment_rfm(three, cn8_split="median").cn8_thresholds["frequency"] == 1


def test_segment_summary_hand_computed():
    customers = pd.DataFrame(
        {
            "segment": ["a", "a", "b", "b", "b"],
            "recency": [1, 3, 10, 20, 30],
            "frequency": [4, 2, 1, 1, 1],
            "monetary": [60.0, 20.0, 5.0, 10.0, 5.0],
        }
    )
    summary = segment_summary(customers).set_index("segment")
    assert summary.loc["a", "customers"] == 2 and summary.loc["a", "share"] == pytest.approx(0.4)
    assert summary.loc["a", "revenue_share"] == pytest.approx(0.8)
    assert summary.loc["a", ["median_recency", "median_frequency", "median_monetary"]].tolist() == [2, 3, 40]

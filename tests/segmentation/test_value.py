"""ABC tiers and grades on bases where the boundary decides, and the CLV rule applied when a CLV is given."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesperf.analyses.base import Result
from salesperf.analyses.segmentation import abc_tiers, clv_series, grade_customers, text


def test_abc_boundary_customer_crossing_the_line_is_in_a():
    # revenue 50, 30, 10, 5, 3, 2 (total 100). Revenue of customers above each: 0, 50, 80, 90, 95, 98.
    # A while that is < 80 %: 50 and 30 (30 crosses the line: 50 + 30 = 80). B while < 95 %: 10 and 5. C: 3 and 2.
    frame = pd.DataFrame({"customer_id": list("uvwxyz"), "monetary": [50.0, 30, 10, 5, 3, 2]})
    result = abc_tiers(frame)
    assert result.customers["abc_tier"].tolist() == ["A", "A", "B", "B", "C", "C"]
    assert result.cutoffs == {"A": 30.0, "B": 5.0}
    # Move the line by one unit: with a_share 0.5 only u (0 above) is A; v has 50 above = 50 %, not < 50 % -> B.
    assert abc_tiers(frame, a_share=0.5, b_share=0.95).customers["abc_tier"].tolist() == [
        "A",
        "B",
        "B",
        "B",
        "C",
        "C",
    ]
    # A's revenue share here is 80 %, not "at least 80 %" by construction: with 50, 45, 5 it is 95 %.
    other = abc_tiers(pd.DataFrame({"customer_id": list("abc"), "monetary": [50.0, 45, 5]}))
    assert other.summary.set_index("abc_tier").loc["A", "revenue_share"] == pytest.approx(0.95)


def test_abc_ties_share_a_tier_and_negative_revenue_is_c():
    frame = pd.DataFrame({"customer_id": list("abcd"), "monetary": [40.0, 40.0, 20.0, -5.0]})
    # both 40s have nobody above them (share before 0 < 50 %) -> A; 20 has 80 of 100 above it
    assert abc_tiers(frame, a_share=0.5, b_share=0.9).customers["abc_tier"].tolist() == ["A", "A", "B", "C"]
    assert abc_tiers(frame, a_share=0.5, b_share=0.8).customers["abc_tier"].tolist() == ["A", "A", "C", "C"]


FRAME = pd.DataFrame(
    {
        "customer_id": ["X", "Y", "Z", "W", "V"],
        "monetary": [100.0, 30.0, 40.0, 5.0, 1.0],
        "abc_tier": ["A", "B", "C", "C", "C"],
    }
)
PREVIOUS = pd.Series({"X": 100.0, "Y": 25.0, "W": 5.0, "V": 1.0})  # Z is new in this window


def test_grades_hand_computed_without_clv():
    grades = grade_customers(FRAME, PREVIOUS)
    # X: tier A -> key. Y: tier B, growth 30/25 - 1 = +20 % >= 10 % -> potential. Z: new (infinite growth),
    # revenue above 3 of 5 customers (0.6 >= 0.5) -> potential. W, V: flat -> ordinary.
    assert grades.customers["grade"].tolist() == ["key", "potential", "potential", "ordinary", "ordinary"]
    assert grades.customers["growth"].tolist()[:3] == pytest.approx([0.0, 0.2, np.inf])
    assert grades.clv == "not_given"
    assert "skipped: the lifecycle analysis gave no CLV" in text.grading_rules(grades, "en")[1]


def test_the_clv_rule_is_applied_when_a_clv_is_given_and_the_percentile_boundary_decides():
    # CLV percentile = share of customers with a CLV that have a strictly smaller one; the rule needs >= 0.8.
    # W 10 has 4 of 5 below -> 0.8 -> potential (although ordinary by revenue); V 9 has 3 of 5 -> 0.6 -> ordinary.
    # U has no CLV (NaN): it is not counted in n and never meets the condition.
    clv = pd.Series({"X": 1.0, "Y": 2.0, "Z": 3.0, "W": 10.0, "V": 9.0, "U": np.nan})
    frame = pd.concat([FRAME, pd.DataFrame({"customer_id": ["U"], "monetary": [0.5], "abc_tier": ["C"]})])
    grades = grade_customers(frame, PREVIOUS, clv=clv)
    assert grades.clv == "applied"
    got = grades.customers.set_index("customer_id")
    assert got["clv_percentile"][["W", "V", "X"]].tolist() == pytest.approx([0.8, 0.6, 0.0])
    assert np.isnan(got.loc["U", "clv_percentile"])
    assert got["grade"].to_dict() == {
        "X": "key",
        "Y": "potential",
        "Z": "potential",
        "W": "potential",
        "V": "ordinary",
        "U": "ordinary",
    }
    assert got.loc["W", "rule"] == 1  # the CLV rule, not a revenue rule
    assert "skipped" not in text.grading_rules(grades, "en")[1]


def test_an_all_missing_clv_skips_the_rule_and_says_why():
    grades = grade_customers(FRAME, PREVIOUS, clv=pd.Series({"X": np.nan, "Q": 5.0}))
    assert grades.clv == "no_values" and grades.customers["grade"].tolist()[3] == "ordinary"
    assert "no graded customer has a CLV" in text.grading_rules(grades, "en")[1]
    assert "没有客户有 CLV 值" in text.grading_rules(grades, "zh")[1]


def test_lifecycle_customer_value_reaches_grading_through_the_result():
    value = pd.DataFrame(
        {
            "customer_id": ["W", "V"],
            "p_alive": [0.9, 0.5],
            "expected_purchases": [2.0, 1.0],
            "clv": [10.0, np.nan],
        }
    )
    clv = clv_series({"lifecycle": Result("lifecycle", shared={"customer_value": value})})
    assert clv.to_dict() == pytest.approx({"W": 10.0, "V": np.nan}, nan_ok=True)
    assert clv_series({}) is None and clv_series({"lifecycle": Result("lifecycle")}) is None

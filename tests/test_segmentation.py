"""Tests of salesperf.analyses.segmentation: hand-computed tiny cases, tie behaviour, rule validation, demo-company recovery."""

from __future__ import annotations

import copy
import json
import re

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.exceptions import NotFittedError
from sklearn.metrics import adjusted_rand_score

from salesperf.core.errors import UserError
from salesperf.analyses.lifecycle import assign_stages, lifecycle_snapshot
from salesperf.analyses.lifecycle import customer_summary as lifecycle_customer_summary
from salesperf.analyses.lifecycle import load_rules as load_lifecycle_rules
from salesperf.core import fmt
from salesperf.analyses.segmentation import (
    EXPORT_COLUMNS,
    BehaviourClusters,
    CoPurchaseSuggester,
    abc_tiers,
    assign_cn8,
    assign_segments,
    cluster_customers,
    customer_base_sql,
    customer_features_sql,
    customer_status,
    customer_table,
    evaluate_suggestions,
    grade_customers,
    group_profiles,
    incidence_from_pairs,
    incidence_sql,
    load_rules,
    migration,
    prediction_strength,
    rank_scores,
    rfm_from_orders,
    rfm_scores,
    rfm_sql,
    rules_from_dict,
    score_distribution,
    segment_rfm,
    segment_summary,
    segmentation_analysis,
    status_inputs_from_orders,
    status_inputs_sql,
    window_revenue_sql,
)

RULES = load_rules()


def _orders(rows):
    return pd.DataFrame(rows, columns=["customer_id", "order_date", "amount", "status"]).assign(
        order_date=lambda f: pd.to_datetime(f["order_date"]))


def _con(**tables):
    con = duckdb.connect()
    for name, frame in tables.items():
        con.register(f"_{name}", frame)
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM _{name}")
    return con


# ----------------------------------------------------------------------------------------------------------------
# Rules
# ----------------------------------------------------------------------------------------------------------------

def _raw_rules():
    from importlib import resources
    return yaml.safe_load(resources.files("salesperf").joinpath("conf", "segments.yml").read_text(encoding="utf-8"))


def test_default_rules_have_eleven_segments_and_eight_classes_with_both_labels():
    assert [s.label_en for s in RULES.rfm_segments] == [
        "Champions", "Loyal", "Potential loyalists", "New", "Promising", "Need attention", "About to sleep",
        "Can't lose", "At risk", "Hibernating", "Lost"]
    assert {c.label_zh for c in RULES.cn8_classes} == {
        "重要价值客户", "重要发展客户", "重要保持客户", "重要挽留客户", "一般价值客户", "一般发展客户", "一般保持客户", "一般挽留客户"}
    assert RULES.status.labels["reactivated"].label_zh == "回流客户"
    assert RULES.grades["key"].label_zh == "重要客户"


@pytest.mark.parametrize("mutate, key", [
    (lambda d: d["rfm_segments"][0].update(r=[4, 9]), "custom.yml: rfm_segments[0].r"),
    (lambda d: d["rfm_segments"].pop(), "custom.yml: rfm_segments: no rule covers R score 1 with FM score 1"),
    (lambda d: d["rfm_segments"][1].update(key="champions"), "custom.yml: rfm_segments: key 'champions'"),
    (lambda d: d["rfm_segments"][2].pop("label_zh"), "custom.yml: rfm_segments[2].label_zh"),
    (lambda d: d["cn8"]["classes"][0].update(r="low"), "custom.yml: cn8.classes"),
    (lambda d: d["cn8"].update(split="mode"), "custom.yml: cn8.split"),
    (lambda d: d["status"].update(p_alive_churned_below=0.9), "custom.yml: status.p_alive_churned_below"),
    (lambda d: d["status"].update(churned_multiple=3.0), "custom.yml: status.churned_multiple: no longer used"),
    (lambda d: d["status"]["labels"].pop("reactivated"), "custom.yml: status.labels"),
    (lambda d: d["abc"].update(a_share=0.99), "custom.yml: abc.b_share"),
    (lambda d: d["grading"]["rules"][-1].update(abc_tier=["C"]), "custom.yml: grading.rules[4]"),
    (lambda d: d["grading"]["rules"][0].update(size="big"), "custom.yml: grading.rules[0].size"),
    (lambda d: d["grading"]["rules"][0].update(grade="vip"), "custom.yml: grading.rules[0].grade"),
    (lambda d: d["scores"].update(bins=1), "custom.yml: scores.bins"),
])
def test_rule_table_errors_name_the_file_and_key(mutate, key):
    data = copy.deepcopy(_raw_rules())
    mutate(data)
    with pytest.raises(UserError) as info:
        rules_from_dict(data, source="custom.yml")
    assert str(info.value).startswith(key)


def test_rule_file_errors(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_rules(tmp_path / "missing.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("scores: [1,\n", encoding="utf-8")
    with pytest.raises(UserError, match="^bad.yml: not valid YAML"):
        load_rules(bad)
    good = tmp_path / "mine.yml"
    good.write_text(yaml.safe_dump(_raw_rules(), allow_unicode=True), encoding="utf-8")
    assert load_rules(good).source == "mine.yml"


# ----------------------------------------------------------------------------------------------------------------
# RFM
# ----------------------------------------------------------------------------------------------------------------

TINY = _orders([
    ("A", "2026-01-01", 60.0, "completed"), ("A", "2026-01-01", 40.0, "completed"),  # one occasion, two lines
    ("A", "2026-01-11", 50.0, "completed"), ("A", "2026-01-15", -30.0, "returned"),
    ("B", "2025-12-02", 200.0, "completed"), ("B", "2026-01-20", 500.0, "cancelled"),
    ("C", "2026-01-31", 10.0, "completed"), ("C", "2026-02-05", 999.0, "completed"),  # after as_of
    ("D", "2026-01-05", -20.0, "returned"),  # a return only: no purchase, not a customer here
])


def test_rfm_from_orders_hand_computed():
    rfm = rfm_from_orders(TINY, "2026-01-31").set_index("customer_id")
    # A: last purchase Jan 11 -> 20 days; purchase days Jan 1 and Jan 11; 60 + 40 + 50 - 30 = 120
    # B: Dec 2 -> 60 days; the cancelled line is ignored. C: bought on as_of; the Feb line is in the future.
    assert rfm.index.tolist() == ["A", "B", "C"]
    assert rfm["recency"].tolist() == [20, 60, 0]
    assert rfm["frequency"].tolist() == [2, 1, 1]
    assert rfm["monetary"].tolist() == [120.0, 200.0, 10.0]
    # 30-day look-back = (Jan 1, Jan 31]: A keeps Jan 11 and the return (50 - 30), B drops out.
    window = rfm_from_orders(TINY, "2026-01-31", lookback_days=30).set_index("customer_id")
    assert window.index.tolist() == ["A", "C"]
    assert window.loc["A", ["recency", "frequency", "monetary"]].tolist() == [20, 1, 20.0]


@pytest.mark.parametrize("lookback", [None, 30])
def test_rfm_sql_agrees_with_pure_side(lookback):
    con = _con(orders=TINY)
    pd.testing.assert_frame_equal(rfm_sql(con, "2026-01-31", lookback), rfm_from_orders(TINY, "2026-01-31", lookback))


def test_rank_scores_hand_computed_with_ties():
    # 6 of 10 customers bought once: nobody is below them -> all score 1; frequency 2 has 6 below -> 1 + floor(3) = 4
    freq = pd.Series([1, 1, 1, 1, 1, 1, 2, 2, 3, 5])
    assert rank_scores(freq).tolist() == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]
    # recency: fewer days is better; 0 days beats 3 of 4 -> 1 + floor(5 * 3 / 4) = 4
    assert rank_scores(pd.Series([0, 10, 10, 30]), higher_is_better=False).tolist() == [4, 2, 2, 1]
    # without ties: equal fifths
    assert rank_scores(pd.Series(range(1, 11))).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_heavy_ties_all_one_time_buyers_share_score_1_and_distribution_is_reported():
    rng = np.random.default_rng(0)
    n = 1000
    frequency = np.where(np.arange(n) < 700, 1, rng.integers(2, 20, n))
    rfm = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "recency": rng.integers(0, 900, n),
                        "frequency": frequency, "monetary": rng.gamma(2, 100, n)})
    scored = rfm_scores(rfm)
    assert (scored.loc[scored["frequency"] == 1, "f_score"] == 1).all()
    dist = score_distribution(scored)
    assert dist.loc[1, "f_score"] == pytest.approx(0.7)
    assert dist.loc[2, "f_score"] == 0 and dist.loc[3, "f_score"] == 0  # the tied block swallows scores 2..3
    assert dist["m_score"].tolist() == pytest.approx([0.2] * 5)  # no ties -> fifths
    result = segment_rfm(rfm)
    assert result.facts["one_time_share"] == pytest.approx(0.7)
    assert result.customers["segment"].notna().all()


@pytest.mark.parametrize("r, f, m, expected", [
    (5, 5, 5, "champions"), (5, 1, 1, "new"), (4, 1, 2, "promising"), (3, 1, 1, "about_to_sleep"),
    (1, 5, 4, "cant_lose"), (2, 3, 4, "at_risk"), (1, 1, 2, "lost"), (2, 1, 1, "hibernating"),
    (3, 2, 3, "need_attention"), (4, 2, 2, "potential_loyalists"), (3, 3, 3, "loyal"), (5, 3, 4, "loyal"),
])
def test_assign_segments_hand_picked(r, f, m, expected):
    scored = pd.DataFrame({"r_score": [r], "fm_score": [(f + m) / 2]})
    assert assign_segments(scored, RULES).iloc[0] == expected


def test_every_score_combination_gets_exactly_the_first_matching_segment():
    grid = pd.DataFrame([(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)],
                        columns=["r_score", "f_score", "m_score"])
    grid["fm_score"] = (grid["f_score"] + grid["m_score"]) / 2
    segments = assign_segments(grid, RULES)
    assert segments.notna().all()
    assert set(segments) == {s.key for s in RULES.rfm_segments}  # all eleven are reachable


def test_cn8_hand_computed_and_all_classes_reachable():
    rfm = pd.DataFrame({"recency": [10, 100], "frequency": [5, 1], "monetary": [1000.0, 100.0]})
    # means 55 days, 3 purchase days, 550: first customer high on all three, second low on all three
    assert assign_cn8(rfm, RULES).tolist() == ["important_value", "general_winback"]
    combos = pd.DataFrame([(r, f, m) for r in (0, 100) for f in (1, 9) for m in (1.0, 9.0)],
                          columns=["recency", "frequency", "monetary"])
    thresholds = {"recency": 50, "frequency": 5, "monetary": 5.0}
    keys = assign_cn8(combos, RULES, thresholds)
    # rows run r (0 days = high, 100 = low) x f (1 = low, 9 = high) x m (1 = low, 9 = high)
    assert keys.iloc[0] == "general_development" and keys.iloc[1] == "important_development"
    assert keys.iloc[3] == "important_value" and keys.iloc[7] == "important_retention"
    assert keys.nunique() == 8
    # median split: median frequency 1 when most buy once -> "F high" means bought on 2+ days
    three = pd.DataFrame({"recency": [1, 2, 3], "frequency": [1, 1, 2], "monetary": [1.0, 2.0, 3.0]})
    assert segment_rfm(three.assign(customer_id=list("xyz")), cn8_split="median").cn8_thresholds["frequency"] == 1


def test_segment_summary_hand_computed():
    customers = pd.DataFrame({"segment": ["a", "a", "b", "b", "b"], "recency": [1, 3, 10, 20, 30],
                              "frequency": [4, 2, 1, 1, 1], "monetary": [60.0, 20.0, 5.0, 10.0, 5.0]})
    summary = segment_summary(customers).set_index("segment")
    assert summary.loc["a", "customers"] == 2 and summary.loc["a", "share"] == pytest.approx(0.4)
    assert summary.loc["a", "revenue_share"] == pytest.approx(0.8)
    assert summary.loc["a", ["median_recency", "median_frequency", "median_monetary"]].tolist() == [2, 3, 40]
    assert summary.loc["b", "median_monetary"] == 5


# ----------------------------------------------------------------------------------------------------------------
# Status
# ----------------------------------------------------------------------------------------------------------------

def _buys(customer, *days):
    return [(customer, day, 10, "completed") for day in days]


# Status is lifecycle's stage (lifecycle.yml defaults: new < 90 days since the first purchase; a rhythm from 3 purchase
# days with at risk / churned after 3x / 6x the median gap, clipped to 30..730 days; flat 120 / 365 days otherwise;
# reactivated = a purchase in the last 90 days (after 2026-01-01 for as_of 2026-03-31) after a gap longer than the
# churn threshold of the rhythm before that window), with new counted as active.
STATUS_ORDERS = _orders([
    *_buys("A", "2025-12-01", "2025-12-21", "2026-01-10", "2026-01-30", "2026-02-19", "2026-03-11"),
    *_buys("B", "2025-10-20", "2025-11-09", "2025-11-29", "2025-12-19"),
    *_buys("C", "2025-06-01", "2025-06-21", "2025-07-11", "2025-07-31"),
    *_buys("D", "2025-09-01", "2025-09-11", "2025-09-21", "2026-03-20"),
    *_buys("E", "2026-03-30"),
    *_buys("F", "2025-11-01"),
    *_buys("G", "2025-05-01", "2025-05-11", "2025-05-21", "2026-01-15"),
    *_buys("H", "2025-01-15"),
])


def test_customer_status_is_the_lifecycle_stage_hand_computed():
    inputs = status_inputs_from_orders(STATUS_ORDERS, "2026-03-31", "2026-02-28", known_customers=["A", "P"])
    result = customer_status(inputs, "2026-03-31", "2026-02-28")
    got = result.customers.set_index("customer_id")
    # A: gaps 20 -> thresholds 60 / 120; last purchase 20 days ago -> active (first purchase 120 days ago: not new).
    # B: gaps 20 -> 60 / 120; 102 days since Dec 19 -> at risk (the old 2x / 3x mean-interval rule said churned).
    # C: gaps 20; 243 days since Jul 31 > 120 -> churned.
    # D: rhythm before the window: gaps 10, 10 -> churn threshold 6 x 10 = 60 days; comeback Sep 21 -> Mar 20 = 180 days
    #    > 60 -> reactivated (overall median gap of 10, 10, 180 = 10 -> thresholds clipped to 30 / 60).
    # E: first purchase 1 day ago -> lifecycle 'new', counted as active.
    # F: one purchase 150 days ago: no rhythm -> flat 120 / 365 -> at risk.
    # G: gaps 10, 10 then May 21 -> Jan 15 = 239 days > 60, within the last 90 days -> reactivated, although the comeback
    #    was before this period (Feb 28, Mar 31] and 75 days since it exceed its own churn threshold of 60.
    # H: one purchase 440 days ago > 365 -> churned. P: known to the CRM, never bought -> potential.
    assert got["status"].to_dict() == {"A": "active", "B": "at_risk", "C": "churned", "D": "reactivated",
                                       "E": "active", "F": "at_risk", "G": "reactivated", "H": "churned",
                                       "P": "potential"}
    assert got.loc["E", "lifecycle_stage"] == "new" and got.loc["P", "lifecycle_stage"] == ""
    assert got.loc["B", ["days_since_last", "interval_days", "at_risk_after_days", "churned_after_days"]].tolist() \
        == [102, 20, 60, 120]
    assert got.loc["D", ["interval_days", "at_risk_after_days", "churned_after_days"]].tolist() == [10, 30, 60]
    assert got.loc["F", ["at_risk_after_days", "churned_after_days"]].tolist() == [120, 365]
    assert np.isnan(got.loc["F", "interval_days"]) and got.loc["F", "interval_source"] == "flat"
    assert got.loc["A", "interval_source"] == "own" and got.loc["P", "interval_source"] == ""
    assert np.isnan(got.loc["P", "days_since_last"])
    assert result.population_interval_days == 20  # median of the rhythm gaps 20, 20, 20, 10, 10
    summary = result.summary.set_index("status")
    assert summary["customers"].to_dict() == {"potential": 1, "active": 2, "at_risk": 2, "churned": 2,
                                              "reactivated": 2}
    # Revenue in the period (Feb 28, Mar 31]: A Mar 11, E Mar 30 (active), D Mar 20 (reactivated), 10 each.
    assert summary["revenue_period"].to_dict() == {"potential": 0, "active": 20, "at_risk": 0, "churned": 0,
                                                   "reactivated": 10}
    assert "3 × its median gap" in result.rule and "6 ×" in result.rule and "after 120 days" in result.rule
    assert "2026-01-01 (the last 90 days)" in result.rule and "P(alive)" not in result.rule
    assert "3 倍" in result.rule_zh and "2026-01-01" in result.rule_zh


def test_customer_status_agrees_with_assign_stages_under_custom_lifecycle_rules():
    # One rule: changing lifecycle.yml thresholds changes status the same way. Flat thresholds only (rhythm off),
    # at risk after 30 days, churned after 100: A (20 days) active, B (102) churned, F (150) churned.
    custom = load_lifecycle_rules(overrides={"rhythm": {"enabled": False},
                                             "thresholds": {"at_risk_days": 30, "churn_days": 100}})
    inputs = status_inputs_from_orders(STATUS_ORDERS, "2026-03-31", "2026-02-28", lifecycle_rules=custom)
    got = customer_status(inputs, "2026-03-31", "2026-02-28", lifecycle_rules=custom).customers.set_index(
        "customer_id")
    stages = assign_stages(lifecycle_customer_summary(STATUS_ORDERS, "2026-03-31", 90), "2026-03-31", custom)
    expected = stages.set_index("customer_id")["stage"].replace({"new": "active"})
    assert got["status"].to_dict() == expected.to_dict()
    assert (got.loc["A", "status"], got.loc["B", "status"], got.loc["F", "status"]) == ("active", "churned", "churned")
    assert "at risk after 30 days without a purchase and churned after 100" in customer_status(
        inputs, "2026-03-31", "2026-02-28", lifecycle_rules=custom).rule


def test_customer_status_p_alive_overrides_the_stage_rule():
    inputs = status_inputs_from_orders(STATUS_ORDERS, "2026-03-31", "2026-02-28")
    result = customer_status(inputs, "2026-03-31", "2026-02-28",
                             p_alive=pd.Series({"A": 0.1, "B": 0.9, "C": 0.3, "D": 0.4, "G": 0.1}))
    got = result.customers.set_index("customer_id")["status"]
    # thresholds 0.2 and 0.5; D stays reactivated (0.4 is only 'at risk'), G is churned by P(alive).
    assert got[["A", "B", "C", "D", "G"]].tolist() == ["churned", "active", "at_risk", "reactivated", "churned"]
    assert got["F"] == "at_risk"  # no P(alive): the stage rule
    assert "P(alive)" in result.rule


def test_status_inputs_sql_agrees_with_pure_side():
    customers = pd.DataFrame({"customer_id": ["A", "P", "Q"],
                              "created_at": pd.to_datetime(["2025-01-01", "2026-01-01", "2026-06-01"])})
    con = _con(orders=STATUS_ORDERS, customers=customers)
    sql = status_inputs_sql(con, "2026-03-31", "2026-02-28")
    pure = status_inputs_from_orders(STATUS_ORDERS, "2026-03-31", "2026-02-28", known_customers=["A", "P"])
    pd.testing.assert_frame_equal(sql, pure, check_dtype=False)  # Q was created after as_of


# ----------------------------------------------------------------------------------------------------------------
# Value tiers
# ----------------------------------------------------------------------------------------------------------------

def test_abc_tiers_hand_computed():
    frame = pd.DataFrame({"customer_id": list("uvwxyz"), "monetary": [50.0, 30, 10, 5, 3, 2]})
    result = abc_tiers(frame)
    # revenue before each customer: 0, 50, 80, 90, 95, 98 of 100 -> A while < 80 %, B while < 95 %
    assert result.customers["abc_tier"].tolist() == ["A", "A", "B", "B", "C", "C"]
    assert result.cutoffs == {"A": 30.0, "B": 5.0}
    assert result.summary.set_index("abc_tier").loc["A", "revenue_share"] == pytest.approx(0.8)


def test_abc_ties_share_a_tier_and_negative_revenue_is_c():
    frame = pd.DataFrame({"customer_id": list("abcd"), "monetary": [40.0, 40.0, 20.0, -5.0]})
    # both 40s have nobody above them (share before 0 < 50 %) -> A; 20 has 80 of 100 above it
    assert abc_tiers(frame, a_share=0.5, b_share=0.9).customers["abc_tier"].tolist() == ["A", "A", "B", "C"]
    assert abc_tiers(frame, a_share=0.5, b_share=0.8).customers["abc_tier"].tolist() == ["A", "A", "C", "C"]


def test_abc_sentence_hand_computed_in_both_languages():
    frame = pd.DataFrame({"customer_id": list("uvwxyz"), "monetary": [50.0, 30, 10, 5, 3, 2]})
    # tier A = u, v: 2 of 6 customers, 80 of 100 revenue; A starts at 30, B at 5
    assert abc_tiers(frame).sentence == (
        "33.3% of customers (2) make 80.0% of revenue (tier A: first 80% of revenue, from ¥30 per customer up); "
        "tier B (up to 95%) starts at ¥5.")
    assert abc_tiers(frame, lang="zh").sentence == (
        "33.3% 的客户（2 位）贡献了 80.0% 的销售额（A 类客户：累计贡献前 80% 的销售额，单客销售额 30 元起）；"
        "B 类客户（累计至 95%）单客销售额 5 元起。")
    # Amounts of 10,000 and more read in 万 / 亿 in Chinese (glossary), compactly in English.
    big = frame.assign(monetary=frame["monetary"] * 10_000)
    assert "单客销售额 30.0 万元起" in abc_tiers(big, lang="zh").sentence
    assert "from €300.0 k per customer up" in abc_tiers(big, currency="€").sentence
    with pytest.raises(UserError, match="language 'fr'"):
        abc_tiers(frame, lang="fr")


def test_grade_customers_hand_computed():
    frame = pd.DataFrame({"customer_id": ["X", "Y", "Z", "W", "V"], "monetary": [100.0, 30.0, 40.0, 5.0, 1.0],
                          "abc_tier": ["A", "B", "C", "C", "C"]})
    previous = pd.Series({"X": 100.0, "Y": 25.0, "W": 5.0, "V": 1.0})  # Z is new in this window
    grades = grade_customers(frame, previous)
    # X: tier A -> key. Y: tier B, growth 30/25 - 1 = +20 % >= 10 % -> potential.
    # Z: new (infinite growth), revenue above 3 of 5 customers (0.6 >= 0.5) -> potential. W, V: flat -> ordinary.
    assert grades.customers["grade"].tolist() == ["key", "potential", "potential", "ordinary", "ordinary"]
    assert grades.customers["growth"].tolist()[:3] == pytest.approx([0.0, 0.2, np.inf])
    assert grades.summary.set_index("grade")["customers"].tolist() == [1, 2, 2]
    # W has the highest CLV: 4 of 5 below = 0.8 >= 0.8 -> potential; V stays ordinary
    with_clv = grade_customers(frame, previous, clv=pd.Series({"X": 1, "Y": 2, "Z": 3, "W": 10.0, "V": 0.0}))
    assert with_clv.customers["grade"].tolist() == ["key", "potential", "potential", "potential", "ordinary"]
    assert "skipped" in grades.rules_text[1] and "skipped" not in with_clv.rules_text[1]


# ----------------------------------------------------------------------------------------------------------------
# Migration, profiles, features
# ----------------------------------------------------------------------------------------------------------------

def test_migration_hand_computed():
    previous = pd.Series({"a": "s1", "b": "s1", "c": "s2", "d": "s2"})
    current = pd.Series({"a": "s1", "b": "s2", "c": "s2", "e": "s1"})
    result = migration(previous, current, pd.Series({"a": 10.0, "b": 20.0, "c": 30.0, "d": 40.0}), order=["s1", "s2"])
    assert result.counts.loc["s1", "s2"] == 1 and result.counts.loc["s2", "(none)"] == 1
    assert result.counts.loc["(none)", "s1"] == 1 and result.counts.to_numpy().sum() == 5
    assert result.revenue.loc["s2", "(none)"] == 40.0
    assert result.flows[["from_state", "to_state"]].values.tolist() == [["s2", "(none)"], ["s1", "s2"],
                                                                       ["(none)", "s1"]]
    assert result.flows["share_of_from"].tolist() == [0.5, 0.5, 1.0]
    assert result.stayed_share == pytest.approx(2 / 3)


def test_migration_sentences_hand_computed_in_both_languages():
    previous = pd.Series({"a": "s1", "b": "s1", "c": "s2", "d": "s2"})
    current = pd.Series({"a": "s1", "b": "s2", "c": "s2", "e": "s1"})
    revenue = pd.Series({"a": 10.0, "b": 20.0, "c": 30.0, "d": 40.0})
    # a, c stay (2 of the 3 present at both dates); b s1 -> s2 (20); d leaves s2 (40); e is new in s1
    assert migration(previous, current, revenue, order=["s1", "s2"]).sentences == [
        "67% of customers present at both dates kept their state.",
        "1 customers left s2 without a new state (50% of s2), with ¥40 of previous-window revenue.",
        "1 customers moved from s1 to s2 (50% of s1), with ¥20 of previous-window revenue.",
        "1 customers entered as s1 (100% of the 1 newcomers)."]
    assert migration(previous, current, revenue, order=["s1", "s2"], lang="zh").sentences == [
        "两个时点都在的客户中，67% 保持原状态。",
        "1 位s2退出（占s2的 50%），涉及上一窗口销售额 40 元。",
        "1 位客户从s1转为s2（占s1的 50%），涉及上一窗口销售额 20 元。",
        "1 位新出现的客户归入s1（占新出现客户 1 位的 100%）。"]


def _feature_orders():
    return pd.DataFrame({
        "order_id": ["o1", "o1", "o2", "o3", "o4"],
        "customer_id": ["A", "A", "A", "B", "B"],
        "order_date": pd.to_datetime(["2026-01-01", "2026-01-01", "2026-01-21", "2025-12-01", "2026-01-10"]),
        "amount": [30.0, 10.0, 60.0, 100.0, -20.0],
        "category": ["Hardware", "Software", "Hardware", "Services", "Services"],
        "channel": ["online", "online", "direct", "direct", "direct"],
        "status": ["completed", "completed", "completed", "completed", "returned"],
    })


def test_customer_features_sql_hand_computed():
    customers = pd.DataFrame({"customer_id": ["A", "B"], "region": ["North", "East"], "owner_rep_id": ["R1", "R2"]})
    activities = pd.DataFrame({"customer_id": ["A", "A", "B"], "at": pd.to_datetime(["2026-01-02"] * 3)})
    feedback = pd.DataFrame({"customer_id": ["A", "A"], "responded_at": pd.to_datetime(["2026-01-05"] * 2),
                             "score": [4.0, 8.0], "kind": ["csat", "nps"]})
    con = _con(orders=_feature_orders(), customers=customers, activities=activities, feedback=feedback)
    f = customer_features_sql(con, "2026-01-31").set_index("customer_id")
    # A: purchases 30 + 10 + 60 = 100 -> Hardware 90 %, Software 10 %; online 40 %, direct 60 %; first buy 30 days ago
    assert f.loc["A", ["recency", "frequency", "monetary", "n_orders", "tenure_days"]].tolist() == [10, 2, 100, 2, 30]
    assert f.loc["A", "category_share__Hardware"] == pytest.approx(0.9)
    assert f.loc["A", "channel_share__direct"] == pytest.approx(0.6)
    assert f.loc["A", ["top_category", "top_channel", "region", "activities", "csat", "nps_score"]].tolist() == [
        "Hardware", "direct", "North", 2, 4.0, 8.0]
    # B: one purchase (100) and a return (-20): monetary 80, gross 100, all Services
    assert f.loc["B", ["frequency", "monetary", "gross_revenue", "category_share__Services"]].tolist() == [1, 80, 100, 1]


def test_group_profiles_hand_computed():
    frame = pd.DataFrame({"segment": ["s", "s", "t"], "monetary": [100.0, 50.0, 10.0], "n_orders": [2, 1, 1],
                          "gross_revenue": [100.0, 50.0, 10.0], "category_share__Hw": [1.0, 0.0, 0.5],
                          "category_share__Sw": [0.0, 1.0, 0.5], "region": ["N", "N", "E"],
                          "owner_rep_id": ["R1", "R2", "R1"], "csat": [4.0, np.nan, 2.0]})
    p = group_profiles(frame).set_index("group")
    assert p.loc["s", "avg_order_value"] == 50.0 and p.loc["s", "revenue_share"] == pytest.approx(150 / 160)
    assert p.loc["s", "top_categories"] == "Hw 67%, Sw 33%"  # spend-weighted: 100 of 150 on Hw
    assert p.loc["s", "top_regions"] == "N 100%" and p.loc["s", "top_owner_reps"] == "R1 50%, R2 50%"
    assert p.loc["s", "mean_csat"] == 4.0 and p.loc["t", "top_categories"] == "Hw 50%, Sw 50%"


# ----------------------------------------------------------------------------------------------------------------
# Clusters
# ----------------------------------------------------------------------------------------------------------------

def _blobs(n_per=150, seed=0):
    rng = np.random.default_rng(seed)
    specs = [  # frequency, monetary, recency, Hardware share, direct share
        (1, 100, 400, 0.9, 0.1), (12, 20000, 10, 0.1, 0.9), (4, 1500, 60, 0.5, 0.5)]
    rows = []
    for g, (fr, mo, rec, hw, di) in enumerate(specs):
        for _ in range(n_per):
            rows.append({"frequency": max(1, round(fr * rng.lognormal(0, 0.1))), "monetary": mo * rng.lognormal(0, 0.1),
                         "recency": rec * rng.lognormal(0, 0.1), "tenure_days": 500 * rng.lognormal(0, 0.1),
                         "category_share__Hardware": hw, "category_share__Software": 1 - hw,
                         "channel_share__direct": di, "channel_share__online": 1 - di, "truth": g})
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
    big = result.profiles.loc[result.profiles["median_monetary"].idxmax(), "description"]
    assert big.startswith("Frequent, high-spending, recently active buyers of Software, mostly direct")
    small = result.profiles.loc[result.profiles["median_monetary"].idxmin(), "description"]
    assert small.startswith("One-time, low-spending, lapsed buyers of Hardware, mostly online")


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


# ----------------------------------------------------------------------------------------------------------------
# Suggestions
# ----------------------------------------------------------------------------------------------------------------

def test_copurchase_similarity_and_suggestions_hand_computed():
    pairs = pd.DataFrame({"customer_id": ["u1", "u1", "u2", "u2", "u3", "u3", "u4", "u5", "u5"],
                          "product_id": ["a", "b", "a", "b", "a", "c", "d", "d", "c"]})
    inc = incidence_from_pairs(pairs)
    model = CoPurchaseSuggester(n=2, similarity="cosine").fit(inc)
    # buyers: a 3, b 2, c 2, d 2; co(a, b) = 2 -> cosine 2 / sqrt(6); co(a, c) = 1 -> 1 / sqrt(6)
    sim = pd.DataFrame(model.similarity_, index=inc.products, columns=inc.products)
    assert sim.loc["a", "b"] == pytest.approx(2 / np.sqrt(6)) and sim.loc["a", "a"] == 0
    conf = CoPurchaseSuggester(n=2).fit(inc)
    assert conf.similarity_[0, 1] == pytest.approx(2 / 3)  # P(b | a) = 2 of a's 3 buyers
    got = model.suggest(inc).set_index("customer_id")
    # u4 owns d: co-purchased with c only (via u5) -> c; then popularity fallback -> a (3 buyers)
    assert got.loc["u4"].tolist() == ["c", "a"]
    # u1 owns a, b: c scores 1/sqrt(6) from a, d scores 0 -> c then d (only products left)
    assert got.loc["u1"].tolist() == ["c", "d"]


def test_suggestions_beat_popularity_on_planted_bundles():
    rng = np.random.default_rng(3)
    rows = []
    # "p0".."p9" popular singles; bundles (x1, x2), (y1, y2): who buys x1 later buys x2
    for u in range(600):
        for p in rng.choice(10, 2, replace=False, p=np.linspace(2, 1, 10) / 15):
            rows.append((f"u{u}", f"p{p}", "train"))
        bundle = ("x1", "x2") if u % 2 else ("y1", "y2")
        if u % 3:
            rows.append((f"u{u}", bundle[0], "train"))
            rows.append((f"u{u}", bundle[1], "train" if u < 300 else "test"))
    frame = pd.DataFrame(rows, columns=["customer_id", "product_id", "when"])
    train = incidence_from_pairs(frame[frame["when"] == "train"])
    test = incidence_from_pairs(frame[frame["when"] == "test"])
    result = evaluate_suggestions(train, test)
    assert result.customers_evaluated == 200
    assert result.hit_rate == 1.0 and result.popularity_hit_rate < 0.5


def test_customer_table_hand_built():
    rfm = pd.DataFrame({"customer_id": ["b", "a"], "recency": [5, 50], "frequency": [3, 1], "monetary": [90.0, 10.0],
                        "r_score": [5, 1], "f_score": [5, 1], "m_score": [5, 1], "segment": ["champions", "lost"],
                        "segment_cn8": ["important_value", "general_winback"]})
    status = pd.DataFrame({"customer_id": ["a", "b", "p"], "status": ["churned", "active", "potential"]})
    table = customer_table(rfm, status, abc=pd.DataFrame({"customer_id": ["a", "b"], "abc_tier": ["C", "A"]}),
                           clusters=pd.DataFrame({"customer_id": ["a", "b"], "cluster": [1, 0]}),
                           owners=pd.DataFrame({"customer_id": ["a", "p"], "owner_rep_id": ["R1", "R2"]}))
    assert list(table.columns) == EXPORT_COLUMNS
    assert table["customer_id"].tolist() == ["a", "b", "p"]  # the never-bought CRM customer is kept
    assert table["status"].tolist() == ["churned", "active", "potential"]
    assert table["segment"].tolist()[:2] == ["lost", "champions"] and pd.isna(table.loc[2, "segment"])
    assert table["cluster"].tolist()[:2] == [1, 0] and pd.isna(table.loc[2, "cluster"])
    assert table["owner_rep_id"].tolist()[0] == "R1" and pd.isna(table.loc[1, "owner_rep_id"])
    assert table["grade"].isna().all() and table["suggestion_1"].isna().all()  # inputs not given


# ----------------------------------------------------------------------------------------------------------------
# Demo company
# ----------------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    demo_module = pytest.importorskip("salesperf.data.demo")
    path = demo_module.generate(tmp_path_factory.mktemp("demo"), customers=2000, seed=0, end="2026-10-31")
    con = duckdb.connect()
    for table in ("orders", "customers", "opportunities", "activities", "feedback"):
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{path / (table + '.parquet')}')")
    truth = json.loads((path / "truth.json").read_text(encoding="utf-8"))
    return con, truth


@pytest.fixture(scope="module")
def demo_analysis(demo):
    con, _ = demo
    return segmentation_analysis(con, "2026-10-31", "2026-09-30")


@pytest.fixture(scope="module")
def demo_analysis_zh(demo):
    con, _ = demo
    return segmentation_analysis(con, "2026-10-31", "2026-09-30", lang="zh")


def test_customer_base_matches_the_pure_side_at_both_dates(demo):
    # One query computes RFM, status, windows and features at both dates; check each against the pandas twins
    # (written independently) and the single-part queries, with a 365-day look-back so that windows matter.
    con, _ = demo
    lines = con.execute("SELECT customer_id, order_date, amount, status FROM orders").df()
    base = customer_base_sql(con, "2026-10-31", "2026-09-30", lookback_days=365)
    assert base.before_previous.isoformat() == "2026-08-30"  # the previous period is as long as this one (31 days)
    pd.testing.assert_frame_equal(base.rfm("current"), rfm_from_orders(lines, "2026-10-31", 365))
    pd.testing.assert_frame_equal(base.rfm("previous"), rfm_from_orders(lines, "2026-09-30", 365))
    known = con.execute("""SELECT customer_id FROM customers WHERE created_at <= DATE '2026-09-30' UNION
                           SELECT customer_id FROM opportunities WHERE created_at <= DATE '2026-09-30'""").df()
    pd.testing.assert_frame_equal(base.status_inputs("previous"),
                                  status_inputs_from_orders(lines, "2026-09-30", "2026-08-30", known["customer_id"]))
    pd.testing.assert_frame_equal(base.status_inputs("current"), status_inputs_sql(con, "2026-10-31", "2026-09-30"))
    pd.testing.assert_frame_equal(base.features(), customer_features_sql(con, "2026-10-31", 365))
    windows = window_revenue_sql(con, {"current": "2026-10-31", "at_previous": "2026-09-30",
                                       "before": "2025-10-31"}, 365)
    pd.testing.assert_frame_equal(base.window_revenue().loc[windows.index], windows)


@pytest.mark.parametrize("recent_days", [90, 30])
def test_customer_base_history_is_the_lifecycle_customer_summary_at_both_dates(demo, recent_days):
    # The rhythm columns come from the purchase days of the one aggregate query; they must equal
    # salesperf.analyses.lifecycle.customer_summary_sql (its own pass over the order lines) at each date.
    from salesperf.analyses.lifecycle import customer_summary_sql
    from salesperf.analyses.segmentation.base import HISTORY_COLUMNS
    con, _ = demo
    rules = load_lifecycle_rules(overrides={"thresholds": {"reactivation_days": recent_days}})
    base = customer_base_sql(con, "2026-10-31", "2026-09-30", lifecycle_rules=rules)
    for which, day in (("current", "2026-10-31"), ("previous", "2026-09-30")):
        inputs = base.status_inputs(which)
        summary = customer_summary_sql(con, day, recent_days)
        buyers = inputs[inputs["frequency"] > 0].reset_index(drop=True)
        assert len(buyers) == len(summary) and (inputs["frequency"] == 0).any()
        pd.testing.assert_frame_equal(buyers[["customer_id"] + HISTORY_COLUMNS],
                                      summary[["customer_id"] + HISTORY_COLUMNS], check_dtype=False)
        never = inputs[inputs["frequency"] == 0]
        assert (never["occasions_before_recent"] == 0).all() and never[HISTORY_COLUMNS[1:]].isna().all().all()


def _sentences(analysis) -> dict[str, list[str]]:
    return {
        "rfm": analysis.rfm.sentences, "status": analysis.status.sentences, "abc": [analysis.abc.sentence],
        "grading rules": analysis.grades.rules_text, "grades": analysis.grades.sentences,
        "clusters": analysis.clusters.sentences + list(analysis.clusters.profiles["description"]),
        "segment migration": analysis.segment_migration.sentences,
        "status migration": analysis.status_migration.sentences,
        "suggestions": [analysis.suggestion_evaluation.sentence],
    }


def test_every_sentence_exists_in_english_and_chinese_with_the_same_numbers(demo_analysis, demo_analysis_zh):
    chinese = re.compile("[\u4e00-\u9fff]")
    english, zh = _sentences(demo_analysis), _sentences(demo_analysis_zh)
    for section, sentences in english.items():
        assert sentences and len(sentences) == len(zh[section]), section
        for en_text, zh_text in zip(sentences, zh[section], strict=True):
            assert en_text and chinese.search(zh_text), (section, zh_text)
            assert not re.search(r"\b(customers|revenue|buyers|of the)\b", zh_text), (section, zh_text)
            # Computed from the same numbers: the same percentages in both languages.
            percentages = re.compile(r"\d+(?:\.\d+)?%")
            assert set(percentages.findall(en_text)) == set(percentages.findall(zh_text)), (en_text, zh_text)
            # Money in Chinese narrative: 万元 / 亿元 from 10,000 up, never ¥ or k / M.
            assert "¥" not in zh_text and not re.search(r"\d{2,},\d{3}(\.\d+)? 元|\d [kM]\b", zh_text), zh_text
    cutoff = demo_analysis.abc.cutoffs["A"]
    assert fmt.money(cutoff, "zh") in demo_analysis_zh.abc.sentence and "万元" in demo_analysis_zh.abc.sentence
    assert fmt.money(cutoff, "en") in demo_analysis.abc.sentence
    # Glossary terms.
    assert any(c.label_zh in " ".join(zh["rfm"]) for c in RULES.cn8_classes)
    assert all(term in " ".join(zh["status"]) for term in ("活跃客户", "流失预警客户", "流失客户", "回流客户", "潜在客户"))
    assert "重要客户" in " ".join(zh["grades"])


def test_demo_rfm_sql_agrees_with_pure_side(demo):
    con, _ = demo
    lines = con.execute("SELECT customer_id, order_date, amount, status FROM orders").df()
    pd.testing.assert_frame_equal(rfm_sql(con, "2026-10-31", 365), rfm_from_orders(lines, "2026-10-31", 365))


def test_demo_analysis_assigns_everyone(demo, demo_analysis):
    _, truth = demo
    a = demo_analysis
    table = a.customers
    assert list(table.columns) == EXPORT_COLUMNS
    assert len(table) == truth["customers"]  # buyers and CRM prospects
    buyers = table[table["status"] != "potential"]
    assert len(buyers) == truth["buyers"]
    for col in ("segment", "segment_cn8", "abc_tier", "grade", "cluster", "suggestion_1", "owner_rep_id"):
        assert buyers[col].notna().all(), col
    assert (table.loc[table["status"] == "potential", "frequency"]).isna().all()
    assert a.segment_summary["customers"].sum() == truth["buyers"]
    assert a.abc.summary.set_index("abc_tier").loc["A", "revenue_share"] >= 0.8


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
    demo_module = pytest.importorskip("salesperf.data.demo")
    path = demo_module.generate(tmp_path_factory.mktemp("demo10k"), customers=10_000, seed=0, end="2026-10-31")
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


def test_demo_status_is_the_lifecycle_stage(demo, demo_analysis):
    # The status of every buyer is lifecycle_snapshot's stage with new counted as active (one rule, one function).
    con, _ = demo
    stages = lifecycle_snapshot(con, "2026-10-31").customers.set_index("customer_id")["stage"]
    status = demo_analysis.status.customers.set_index("customer_id")["status"]
    buyers = status[status != "potential"]
    assert set(buyers.index) == set(stages.index)
    assert (buyers == stages.reindex(buyers.index).replace({"new": "active"})).all()
    assert {"active", "at_risk", "churned", "reactivated"} <= set(buyers)


def test_demo_status_and_migration(demo, demo_analysis):
    _, truth = demo
    a = demo_analysis
    assert a.status.summary.set_index("status").loc["potential", "customers"] == truth["prospects"]
    counts = a.segment_migration.counts
    assert counts.to_numpy().sum() == len(set(a.rfm.customers["customer_id"]) | set(a.previous_rfm.customers["customer_id"]))
    assert a.segment_migration.flows["customers"].is_monotonic_decreasing

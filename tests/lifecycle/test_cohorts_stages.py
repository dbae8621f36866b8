"""Hand-computed cohorts, stages, flows, Kaplan-Meier and action lists of salesperf.analyses.lifecycle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tiny_company import TINY, engine_of

from salesperf.analyses import lifecycle as lc
from salesperf.core.errors import UserError
from salesperf.data.engine import Engine

NAN = np.nan


# ------------------------------------------------------------------------------------------------ tiny cohort company
# Five customers, January-March 2026 (as of 2026-03-31, every month complete):
#   A  Jan 05 100 online | Feb 10 50 | Mar 15 30                        -> cohort Jan, active at ages 0, 1, 2
#   B  Jan 20 200 direct | Mar 02 -50 returned                          -> cohort Jan; the March return is not activity
#   C  Jan 25 80 cancelled (ignored) | Feb 03 120 online | Feb 20 60   -> cohort Feb (the cancelled line does not count)
#   D  Feb 14 40 direct + 10 online (same day) | Mar 30 40              -> cohort Feb, channel direct (largest line)
#   E  Mar 01 70 online                                                 -> cohort Mar


def _orders(rows) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["customer_id", "order_date", "amount", "status", "channel"][: len(rows[0])]
    )
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    return frame


def _con(orders: pd.DataFrame, customers: pd.DataFrame | None = None) -> Engine:
    return engine_of(orders, customers)


def _matrix(rows: dict) -> pd.DataFrame:
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name, frame.columns.name = "cohort", "age"
    return frame.astype(float)


@pytest.fixture(scope="module")
def tiny_activity() -> pd.DataFrame:
    return lc.cohort_activity_sql(_con(_orders(TINY)), "2026-03-31")


def test_cohort_activity_long_frame_by_hand(tiny_activity):
    expected = pd.DataFrame(
        {
            "cohort": ["2026-01", "2026-01", "2026-01", "2026-02", "2026-02", "2026-03"],
            "age": [0, 1, 2, 0, 1, 0],
            "customers": [2, 1, 1, 2, 1, 1],
            "revenue_net": [
                300.0,
                50.0,
                -20.0,
                230.0,
                40.0,
                70.0,
            ],  # Jan cohort age 2: A's 30 minus B's return 50
            "revenue_gross": [300.0, 50.0, 30.0, 230.0, 40.0, 70.0],
            "cohort_size": [2, 2, 2, 2, 2, 1],
            "is_complete": [True] * 6,
        }
    )
    pd.testing.assert_frame_equal(tiny_activity, expected, check_dtype=False)


def test_retention_triangle_by_hand(tiny_activity):
    expected = _matrix({"2026-01": [1, 1 / 2, 1 / 2], "2026-02": [1, 1 / 2, NAN], "2026-03": [1, NAN, NAN]})
    pd.testing.assert_frame_equal(lc.retention_triangle(tiny_activity), expected, check_names=False)


def test_cohort_revenue_retention_nets_the_return_line(tiny_activity):
    net = _matrix(
        {"2026-01": [1, 50 / 300, -20 / 300], "2026-02": [1, 40 / 230, NAN], "2026-03": [1, NAN, NAN]}
    )
    gross = _matrix(
        {"2026-01": [1, 50 / 300, 30 / 300], "2026-02": [1, 40 / 230, NAN], "2026-03": [1, NAN, NAN]}
    )
    pd.testing.assert_frame_equal(lc.cohort_revenue_retention(tiny_activity, "net"), net, check_names=False)
    pd.testing.assert_frame_equal(
        lc.cohort_revenue_retention(tiny_activity, "gross"), gross, check_names=False
    )


def test_cumulative_revenue_per_customer_by_hand(tiny_activity):
    expected = _matrix({"2026-01": [150, 175, 165], "2026-02": [115, 135, NAN], "2026-03": [70, NAN, NAN]})
    pd.testing.assert_frame_equal(
        lc.cumulative_revenue_per_customer(tiny_activity), expected, check_names=False
    )


def test_pooled_curves_use_only_cohorts_that_reached_the_age(tiny_activity):
    curves = lc.cohort_curves(tiny_activity).set_index("age")
    assert curves.loc[1, "customers_acquired"] == 4  # Jan (2) + Feb (2); March has not reached age 1
    assert curves.loc[1, "retention"] == pytest.approx(2 / 4)
    assert curves.loc[1, "cohort_revenue_retention_net"] == pytest.approx((50 + 40) / (300 + 230))
    # per-age means added up: age 0 600/5 = 120, age 1 (50 + 40)/4 = 22.5, age 2 -20/2 (B's return) = -10
    assert curves["cumulative_revenue_per_customer"].tolist() == pytest.approx([120, 142.5, 132.5])
    report = lc.cohort_tables(tiny_activity, "month")
    assert report.headline["customers_acquired"] == 5 and report.headline["largest_cohort_size"] == 2
    assert report.headline["retention_age1"] == pytest.approx(0.5)


def test_cohorts_by_first_order_channel_by_hand():
    activity = lc.cohort_activity_sql(_con(_orders(TINY)), "2026-03-31", by="channel")
    triangle = lc.retention_triangle(activity)
    # direct: Jan {B} never back, Feb {D} back in March; online: Jan {A} every month, Feb {C} not back, Mar {E}.
    expected = pd.DataFrame(
        [[1, 0, 0], [1, 1, NAN], [1, 1, 1], [1, 0, NAN], [1, NAN, NAN]],
        index=pd.MultiIndex.from_tuples(
            [
                ("direct", "2026-01"),
                ("direct", "2026-02"),
                ("online", "2026-01"),
                ("online", "2026-02"),
                ("online", "2026-03"),
            ],
            names=["channel", "cohort"],
        ),
        columns=pd.Index([0, 1, 2], name="age"),
        dtype=float,
    )
    pd.testing.assert_frame_equal(triangle, expected)
    direct_jan = activity[(activity["channel"] == "direct") & (activity["cohort"] == "2026-01")]
    assert direct_jan["revenue_net"].tolist() == [200.0, 0.0, -50.0]


def test_running_period_is_flagged_and_blanked():
    activity = lc.cohort_activity_sql(_con(_orders(TINY)), "2026-03-20")
    assert (
        activity.loc[activity["age"] + activity["cohort"].str[-2:].astype(int) == 3, "is_complete"]
        .eq(False)
        .all()
    )
    assert (
        activity.loc[(activity["cohort"] == "2026-02") & (activity["age"] == 1), "customers"].item() == 0
    )  # D's
    # March 30 order is after the as-of date
    triangle = lc.retention_triangle(activity)
    assert np.isnan(triangle.loc["2026-01", 2]) and triangle.loc["2026-01", 1] == 0.5
    assert lc.retention_triangle(activity, complete_only=False).loc["2026-01", 2] == 0.5  # A bought March 15


def test_quarter_grain_by_hand(tiny_activity):
    activity = lc.cohort_activity_sql(_con(_orders(TINY)), "2026-03-31", grain="quarter")
    assert activity[["cohort", "age", "customers", "revenue_net", "cohort_size"]].values.tolist() == [
        ["2026-Q1", 0, 5, 670.0, 5]
    ]  # 180 + 150 + 180 + 90 + 70


def test_no_orders_give_empty_tables_not_errors():
    empty = _orders(TINY).iloc[:0]
    report = lc.cohort_report(_con(empty), "2026-03-31")
    assert report.headline["cohorts"] == 0 and report.headline["customers_acquired"] == 0
    assert np.isnan(report.headline["retention_12m"]) and report.retention.empty
    snapshot = lc.lifecycle_snapshot(_con(empty), "2026-03-31", "2026-02-28")
    assert snapshot.summary["customers"].sum() == 0 and snapshot.flows.empty


def test_bad_grain_and_dimension_are_user_errors():
    con = _con(_orders(TINY))
    with pytest.raises(UserError, match="grain"):
        lc.cohort_activity_sql(con, "2026-03-31", grain="fortnight")
    with pytest.raises(UserError, match="region"):
        lc.cohort_activity_sql(con, "2026-03-31", by="region")
    with pytest.raises(UserError, match="not a date"):
        lc.cohort_activity_sql(con, "31/03/2026x")


# ----------------------------------------------------------------------------------------------------------- stages
# As of 2026-10-31 with the default rules (new 90 d, reactivation 90 d, at risk after 120 d, churned after 365 d;
# rhythm from 3 occasions: at risk after 3x, churned after 6x the median gap, clipped to 30..730 d).
STAGE_CASES = [
    # customer, purchase days, expected stage, why
    ("new", ["2026-09-01"], "new", "first purchase 60 days ago"),
    ("active", ["2025-06-01", "2026-08-01"], "active", "91 days silent <= 120, no rhythm (2 occasions)"),
    ("back", ["2025-01-10", "2026-10-01"], "reactivated", "came back 30 days ago after 629 days > 365"),
    ("risk", ["2025-12-01", "2026-05-01"], "at_risk", "183 days silent: 120 < 183 <= 365"),
    ("gone", ["2025-01-01", "2025-06-01"], "churned", "517 days silent > 365"),
    (
        "monthly",
        ["2026-04-04", "2026-05-04", "2026-06-03", "2026-07-03"],
        "at_risk",
        "gaps 30: at risk after 90, churned after 180; 120 days silent",
    ),
    (
        "weekly",
        ["2026-06-01", "2026-06-08", "2026-06-15", "2026-06-22"],
        "churned",
        "gaps 7: at risk after max(30, 21) = 30, churned after 42; 131 days silent",
    ),
    (
        "fortnightly_back",
        ["2025-07-01", "2025-07-15", "2025-07-29", "2026-10-15"],
        "reactivated",
        "rhythm before the window: gap 14, lapse after 6 x 14 = 84 days; came back after 443",
    ),
]


def _stage_orders() -> pd.DataFrame:
    rows = [(c, d, 100.0, "completed") for c, days, _, _ in STAGE_CASES for d in days]
    rows += [("returner", "2026-01-10", 100.0, "completed"), ("returner", "2026-10-20", -100.0, "returned")]
    return _orders(rows)


def test_stage_rules_on_tiny_cases():
    stages = lc.assign_stages(lc.customer_summary_sql(_con(_stage_orders()), "2026-10-31"), "2026-10-31")
    got = stages.set_index("customer_id")["stage"]
    for customer, _, expected, why in STAGE_CASES:
        assert got[customer] == expected, f"{customer}: {why}"
    assert got["returner"] == "at_risk"  # a return is not a purchase: last purchase 294 days ago
    monthly = stages.set_index("customer_id").loc["monthly"]
    assert (monthly["at_risk_after_days"], monthly["churn_after_days"]) == (90, 180)
    assert stages.set_index("customer_id").loc["gone", "treatment"] == "win_back"
    assert stages.set_index("customer_id").loc["new", "stage_label_zh"] == "新客户"


def test_without_rhythm_the_flat_thresholds_apply():
    rules = lc.load_rules(overrides={"rhythm": {"enabled": False}})
    summary = lc.customer_summary(_stage_orders(), "2026-10-31")
    got = lc.assign_stages(summary, "2026-10-31", rules).set_index("customer_id")["stage"]
    assert got["monthly"] == "active"  # 120 <= 120
    assert got["weekly"] == "at_risk"  # 120 < 131 <= 365


def test_stage_summary_and_treatments():
    stages = lc.assign_stages(lc.customer_summary(_stage_orders(), "2026-10-31"), "2026-10-31")
    summary = lc.stage_summary(stages).set_index("stage")
    assert summary["customers"].to_dict() == {
        "new": 1,
        "reactivated": 2,
        "active": 1,
        "at_risk": 3,
        "churned": 2,
    }
    assert summary["share"].sum() == pytest.approx(1.0)
    assert (
        summary.loc["churned", "treatment"] == "win_back" and summary.loc["new", "treatment"] == "onboarding"
    )
    assert summary.loc["active", "treatment_zh"]


def test_stage_flows_counts_and_revenue():
    orders = _orders(
        [
            ("back", "2025-01-10", 100.0, "completed"),
            ("back", "2026-10-01", 250.0, "completed"),
            ("gone", "2025-01-01", 100.0, "completed"),
            ("gone", "2025-06-01", 100.0, "completed"),
            ("risk", "2025-12-01", 100.0, "completed"),
            ("risk", "2026-05-01", 100.0, "completed"),
            ("risk", "2026-10-05", -40.0, "returned"),
            ("fresh", "2026-10-10", 80.0, "completed"),
        ]
    )
    snapshot = lc.lifecycle_snapshot(_con(orders), "2026-10-31", "2026-09-30")
    flows = snapshot.flows.set_index(["from_stage", "to_stage"])
    assert flows["customers"].to_dict() == {
        ("none", "new"): 1,
        ("at_risk", "at_risk"): 1,
        ("churned", "reactivated"): 1,
        ("churned", "churned"): 1,
    }
    assert flows.loc[("churned", "reactivated"), "revenue"] == 250.0
    assert flows.loc[("at_risk", "at_risk"), "revenue"] == -40.0
    assert flows.loc[("none", "new"), "from_label_en"] == "Not yet a customer"
    assert snapshot.headline["reactivated_from_churned"] == 1 and snapshot.headline["newly_acquired"] == 1


def test_rules_file_overrides_and_validation(tmp_path):
    path = tmp_path / "lifecycle.yml"
    path.write_text("thresholds:\n  churn_days: 200\n", encoding="utf-8")
    rules = lc.load_rules(path)
    assert rules.churn_days == 200 and rules.at_risk_days == 120
    with pytest.raises(UserError, match="churn_days"):
        lc.load_rules(overrides={"thresholds": {"churn_days": 60}})
    with pytest.raises(UserError, match="unknown key 'churn'"):
        lc.load_rules(overrides={"thresholds": {"churn": 60}})
    with pytest.raises(UserError, match="positive"):
        lc.load_rules(overrides={"thresholds": {"new_days": -1}})
    with pytest.raises(UserError, match="label_zh"):
        lc.load_rules(overrides={"stages": {"new": {"label_en": "New", "treatment": "onboarding"}}})


# --------------------------------------------------------------------------------------------------------- survival


def test_kaplan_meier_median_by_hand():
    # Times 1, 2+, 3, 4, 5 (2 censored): S(1) = 4/5, S(3) = 4/5 * 2/3 = 0.533, S(4) = 0.533 * 1/2 = 0.267, S(5) = 0
    # -> the median (first time S <= 0.5) is 4.
    durations = pd.DataFrame({"group": "g", "duration_days": [1.0, 2, 3, 4, 5], "event": [1, 0, 1, 1, 1]})
    result = lc.survival_curves(durations)
    curve = result.curves.set_index("time")
    assert curve["survival"].tolist() == pytest.approx([1.0, 0.8, 0.8 * 2 / 3, 0.8 * 2 / 3 / 2, 0.0])
    assert curve["at_risk"].tolist() == [5, 5, 3, 2, 1]
    assert (curve["lower"] <= curve["survival"]).all() and (curve["survival"] <= curve["upper"]).all()
    assert result.medians.loc[0, "median_days"] == 4.0 and result.medians.loc[0, "events"] == 4


def test_kaplan_meier_median_not_reached_and_small_groups_left_out():
    durations = pd.DataFrame(
        {
            "group": ["a"] * 6 + ["b"] * 2,
            "duration_days": [1.0, 2, 3, 4, 5, 6, 1, 2],
            "event": [1, 0, 0, 0, 0, 0, 1, 1],
        }
    )
    result = lc.survival_curves(durations, min_customers=5)
    assert result.medians["group"].tolist() == ["a"] and np.isnan(result.medians.loc[0, "median_days"])


def test_lifetime_durations_by_hand():
    stages = lc.assign_stages(lc.customer_summary(_stage_orders(), "2026-10-31"), "2026-10-31").set_index(
        "customer_id", drop=False
    )
    churn = lc.lifetime_durations(stages, "2026-10-31", "churn").set_index("customer_id")
    assert churn.loc["gone"].tolist() == ["all", 151 + 365, 1]  # lost 365 days after the last purchase
    assert churn.loc["new"].tolist() == ["all", 60, 0]  # censored at the as-of date
    assert churn.loc["weekly"].tolist() == ["all", 21 + 42, 1]  # personal threshold 6 x 7 days
    second = lc.lifetime_durations(stages, "2026-10-31", "second_purchase", cohort_grain="year").set_index(
        "customer_id"
    )
    assert second.loc["back"].tolist() == ["2025", 629, 1] and second.loc["new"].tolist() == ["2026", 60, 0]


# ----------------------------------------------------------------------------------------------------- action lists


def test_at_risk_actions_ranked_by_value_with_owner():
    stages = lc.assign_stages(lc.customer_summary(_stage_orders(), "2026-10-31"), "2026-10-31")
    owners = pd.DataFrame({"customer_id": ["risk", "gone"], "owner_rep_id": ["R1", "R2"]})
    actions = lc.at_risk_actions(stages, customers=owners)
    # historical value = net revenue per year of activity (at least one year): risk 200, gone 200 * 365/365 = 200,
    # weekly 400, returner 0, monthly 400.
    assert actions["customer_id"].tolist() == ["monthly", "weekly", "gone", "risk", "returner"]
    assert actions["value_at_stake"].tolist() == [400.0, 400.0, 200.0, 200.0, 0.0]
    owner = actions.set_index("customer_id")["owner_rep_id"]
    assert (owner["gone"], owner["risk"]) == ("R2", "R1")
    assert actions["owner_rep_id"].isna().sum() == 3
    model = pd.Series({"returner": 999.0})
    ranked = lc.at_risk_actions(stages, value=model, top=2)
    assert ranked["customer_id"].tolist() == ["returner", "monthly"]
    assert ranked["value_basis"].tolist() == ["clv", "historical"]
    assert lc.at_risk_actions(stages)["owner_rep_id"].isna().all()  # no customers table


def test_second_purchase_due():
    orders = _orders(
        [
            ("r1", "2026-01-01", 10.0, "completed"),
            ("r1", "2026-01-11", 10.0, "completed"),  # 10 days to 2nd
            ("r2", "2026-02-01", 10.0, "completed"),
            ("r2", "2026-02-21", 10.0, "completed"),  # 20
            ("r3", "2026-03-01", 10.0, "completed"),
            ("r3", "2026-03-31", 10.0, "completed"),  # 30 -> median 20
            ("due", "2026-10-06", 10.0, "completed"),  # 25 days ago > 20
            ("early", "2026-10-26", 10.0, "completed"),  # 5 days ago
            ("lost", "2025-06-01", 10.0, "completed"),  # churned: win-back list, not this one
        ]
    )
    stages = lc.assign_stages(lc.customer_summary(orders, "2026-10-31"), "2026-10-31")
    due = lc.second_purchase_due(stages, "2026-10-31")
    # Kaplan-Meier over all 6 customers: events at 10, 20, 30 days; "early" (5 days), "due" (25) and "lost" (517)
    # are censored. S(10) = 4/5 (5 at risk: "early" left at 5), S(20) = 4/5 * 3/4 = 3/5, S(30) = 3/5 * 1/2 = 3/10.
    # 1 - S(tau) = 0.7; the median among eventual repeaters is the first t with 1 - S(t) >= 0.35: t = 20.
    # (The old quantile of observed gaps also said 20 here; the test below shows where they differ.)
    assert due.typical_days == 20.0 and due.repeaters == 3 and due.repeat_share == pytest.approx(0.7)
    assert due.customers["customer_id"].tolist() == ["due"] and due.customers["days_overdue"].tolist() == [
        5.0
    ]


def test_one_channel_by_dimension_equals_the_whole_company(tiny_activity):
    """The double count of the review: with every line in one channel, the by-channel report must show the
    company's own numbers (the old code gave 292.5 per customer at age 1 by channel vs 152.5 without)."""
    one_channel = [(*row[:4], "web") for row in TINY]
    by = lc.cohort_tables(lc.cohort_activity_sql(_con(_orders(one_channel)), "2026-03-31", by="channel"), "month",
                          "channel")
    whole = lc.cohort_tables(tiny_activity, "month")
    web = by.curves[by.curves["channel"] == "web"].drop(columns="channel").reset_index(drop=True)
    pd.testing.assert_frame_equal(web, whole.curves.reset_index(drop=True), check_like=True)
    assert web["cumulative_revenue_per_customer"].tolist() == pytest.approx([120, 142.5, 132.5])

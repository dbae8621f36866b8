"""Status is lifecycle's stage rule seen through segmentation (new counted as active, plus potential): hand cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
from oracle import connect, make_orders

from salesperf.analyses.lifecycle import load_rules as load_lifecycle_rules
from salesperf.analyses.segmentation import customer_status, status_inputs_sql, text


def _buys(customer, *days):
    return [(customer, day, 10, "completed") for day in days]


# lifecycle rules.yml defaults: new < 90 days since the first purchase; a rhythm from 3 purchase days with at risk /
# churned after 3x / 6x the median gap, clipped to 30..730 days; flat 120 / 365 days otherwise; reactivated = a
# purchase in the last 90 days (from 2026-01-01 for as_of 2026-03-31) after a gap longer than the churn threshold
# of the rhythm before that window.
ORDERS = make_orders(
    [
        *_buys("A", "2025-12-01", "2025-12-21", "2026-01-10", "2026-01-30", "2026-02-19", "2026-03-11"),
        *_buys("B", "2025-10-20", "2025-11-09", "2025-11-29", "2025-12-19"),
        *_buys("C", "2025-06-01", "2025-06-21", "2025-07-11", "2025-07-31"),
        *_buys("D", "2025-09-01", "2025-09-11", "2025-09-21", "2026-03-20"),
        *_buys("E", "2026-03-30"),
        *_buys("F", "2025-11-01"),
        *_buys("G", "2025-05-01", "2025-05-11", "2025-05-21", "2026-01-15"),
        *_buys("H", "2025-01-15"),
    ]
)
CRM = pd.DataFrame(
    {"customer_id": ["A", "P", "Q"], "created_at": pd.to_datetime(["2025-01-01", "2026-01-01", "2026-06-01"])}
)


def _status(lifecycle_rules=None, p_alive=None):
    inputs = status_inputs_sql(
        connect(orders=ORDERS, customers=CRM), "2026-03-31", "2026-02-28", lifecycle_rules
    )
    return customer_status(
        inputs, "2026-03-31", "2026-02-28", p_alive=p_alive, lifecycle_rules=lifecycle_rules
    )


def test_status_hand_cases_of_the_stage_rule():
    result = _status()
    got = result.customers.set_index("customer_id")
    # A: gaps 20 -> thresholds 60 / 120; last purchase 20 days ago -> active (first purchase 120 days ago: not new).
    # B: gaps 20 -> 60 / 120; 102 days since Dec 19 -> at risk. C: gaps 20; 243 days since Jul 31 > 120 -> churned.
    # D: rhythm before the window: gaps 10, 10 -> churn threshold 6 x 10 = 60 days; comeback Sep 21 -> Mar 20 = 180
    #    days > 60 -> reactivated. E: first purchase 1 day ago -> lifecycle 'new', counted as active.
    # F: one purchase 150 days ago: no rhythm -> flat 120 / 365 -> at risk.
    # G: gaps 10, 10 then May 21 -> Jan 15 = 239 days > 60, within the last 90 days -> reactivated.
    # H: one purchase 440 days ago > 365 -> churned. P: in the CRM since Jan 1, never bought -> potential.
    # Q: created after as_of -> not a customer yet.
    assert got["status"].to_dict() == {
        "A": "active",
        "B": "at_risk",
        "C": "churned",
        "D": "reactivated",
        "E": "active",
        "F": "at_risk",
        "G": "reactivated",
        "H": "churned",
        "P": "potential",
    }
    assert got.loc["E", "lifecycle_stage"] == "new" and got.loc["P", "lifecycle_stage"] == ""
    assert got.loc[
        "B", ["days_since_last", "interval_days", "at_risk_after_days", "churned_after_days"]
    ].tolist() == [102, 20, 60, 120]
    assert got.loc["D", ["interval_days", "at_risk_after_days", "churned_after_days"]].tolist() == [
        10,
        30,
        60,
    ]
    assert got.loc["F", ["at_risk_after_days", "churned_after_days"]].tolist() == [120, 365]
    assert np.isnan(got.loc["F", "interval_days"]) and got.loc["F", "interval_source"] == "flat"
    summary = result.summary.set_index("status")
    # Revenue in the period (Feb 28, Mar 31]: A Mar 11, E Mar 30 (active), D Mar 20 (reactivated), 10 each.
    assert summary["revenue_period"].to_dict() == {
        "potential": 0,
        "active": 20,
        "at_risk": 0,
        "churned": 0,
        "reactivated": 10,
    }


def test_status_follows_custom_lifecycle_thresholds():
    # Flat thresholds only (rhythm off), at risk after 30 days, churned after 100: A (20 days) active, B (102)
    # churned, E (1 day, new) active, F (150) churned; D came back after Sep 21 -> Mar 20 = 180 days > 100 (the flat
    # churn threshold) within the last 90 days -> reactivated.
    custom = load_lifecycle_rules(
        overrides={"rhythm": {"enabled": False}, "thresholds": {"at_risk_days": 30, "churn_days": 100}}
    )
    result = _status(custom)
    got = result.customers.set_index("customer_id")["status"]
    assert got[["A", "B", "E", "F", "D"]].tolist() == [
        "active",
        "churned",
        "active",
        "churned",
        "reactivated",
    ]
    assert "at risk after 30 days without a purchase and churned after 100" in text.status_rule(result, "en")


def test_p_alive_overrides_the_stage_rule():
    result = _status(p_alive=pd.Series({"A": 0.1, "B": 0.9, "C": 0.3, "D": 0.4, "G": 0.1}))
    got = result.customers.set_index("customer_id")["status"]
    # thresholds 0.2 and 0.5; D stays reactivated (0.4 is only 'at risk'), G is churned by P(alive).
    assert got[["A", "B", "C", "D", "G"]].tolist() == [
        "churned",
        "active",
        "at_risk",
        "reactivated",
        "churned",
    ]
    assert got["F"] == "at_risk"  # no P(alive): the stage rule
    assert "P(alive)" in text.status_rule(result, "en") and "P(alive)" not in text.status_rule(
        _status(), "en"
    )

"""Each number the lifecycle page got wrong, against a hand computation (issue 8)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from tiny_company import TINY, engine_of

from salesperf.analyses import lifecycle as lc
from salesperf.analyses.lifecycle import text
from salesperf.data.engine import Engine


def _con(rows, columns=("customer_id", "order_date", "amount", "status", "channel")) -> Engine:
    frame = pd.DataFrame(rows, columns=list(columns)[: len(rows[0])])
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    return engine_of(frame)


def test_splitting_by_a_dimension_does_not_change_the_headline():
    # Before: 155 without by, 297.5 with by="channel" (each cohort's dimension rows were cumulated together).
    # Hand: age 0 pools all five customers, 600 / 5 = 120; age 1 pools Jan and Feb (4 customers), (50 + 40) / 4.
    con = _con(TINY)
    plain = lc.cohort_report(con, "2026-03-31").headline
    split = lc.cohort_report(con, "2026-03-31", by="channel").headline
    assert plain["cumulative_revenue_per_customer_age1"] == pytest.approx(120 + 22.5)
    assert split["cumulative_revenue_per_customer_age1"] == pytest.approx(120 + 22.5)


def test_cumulative_curve_by_dimension_never_falls_when_old_cohorts_were_small_spenders():
    # online: an old cohort (Jan) of a low spender reaches age 2; a young cohort (Feb) of a big spender only age 1.
    # Pooling only the cohorts that reached each age made the curve fall at age 2 (only the small spender's cohort
    # is that old); adding per-age means gives 105 at age 0, 105 + (0.5 + 100) / 2 = 155.25 at age 1, + 0 at age 2.
    rows = [
        ("s", "2026-01-10", 10.0, "completed", "online"),
        ("b", "2026-02-10", 200.0, "completed", "online"),
        ("b", "2026-03-10", 100.0, "completed", "online"),
        ("s", "2026-02-11", 0.5, "completed", "online"),
    ]
    curves = lc.cohort_report(_con(rows), "2026-03-31", by="channel").curves.set_index("age")
    assert curves["cumulative_revenue_per_customer"].is_monotonic_increasing
    assert curves.loc[1, "cumulative_revenue_per_customer"] == pytest.approx(105 + (0.5 + 100) / 2)


def test_nrr_and_grr_as_finance_defines_them():
    customers = pd.DataFrame(
        {
            "customer_id": ["X", "Y", "Z"],
            "revenue_base": [100.0, 100.0, 0.0],
            "revenue_now": [300.0, 0.0, 500.0],
        }
    )  # Z is new: not in the base
    got = lc.revenue_retention(customers).iloc[0]
    assert got["nrr"] == pytest.approx(1.5) and got["grr"] == pytest.approx(0.5)
    assert got["customers_base"] == 2 and got["customers_kept"] == 1


def test_revenue_windows_from_orders_by_hand():
    rows = [
        ("X", "2025-03-15", 100.0),
        ("X", "2026-02-01", 300.0),
        ("Y", "2025-02-01", 100.0),
        ("Z", "2026-03-01", 500.0),
        ("X", "2024-02-01", 999.0),
    ]  # 2024: before both windows
    frame = lc.customer_period_revenue_sql(_con(rows, ("customer_id", "order_date", "amount")), "2026-03-31")
    by_id = frame.set_index("customer_id")
    assert by_id["revenue_base"].to_dict() == {"X": 100.0, "Y": 100.0, "Z": 0.0}
    assert by_id["revenue_now"].to_dict() == {"X": 300.0, "Y": 0.0, "Z": 500.0}


def test_revenue_windows_of_several_period_ends_from_one_scan():
    # The same orders at two period ends. At 2026-03-31 the base window is (2024-03-31, 2025-03-31]: X 100, Y 100;
    # the current one (2025-03-31, 2026-03-31]: X 300, Z 500 (X's 2024-02-01 is in neither). At 2025-03-31 Z has not
    # bought yet (left out); current (2024-03-31, 2025-03-31]: X 100, Y 100; base (2023-03-31, 2024-03-31]: X 999.
    rows = [
        ("X", "2025-03-15", 100.0),
        ("X", "2026-02-01", 300.0),
        ("Y", "2025-02-01", 100.0),
        ("Z", "2026-03-01", 500.0),
        ("X", "2024-02-01", 999.0),
    ]
    con = _con(rows, ("customer_id", "order_date", "amount"))
    frames = lc.customer_period_revenues_sql(con, ["2025-03-31", "2026-03-31"])
    early = frames[pd.Timestamp("2025-03-31").date()].set_index("customer_id")
    late = frames[pd.Timestamp("2026-03-31").date()].set_index("customer_id")
    assert early["revenue_base"].to_dict() == {"X": 999.0, "Y": 0.0}
    assert early["revenue_now"].to_dict() == {"X": 100.0, "Y": 100.0}
    assert str(early.loc["X", "first_date"].date()) == "2024-02-01"
    assert late["revenue_base"].to_dict() == {"X": 100.0, "Y": 100.0, "Z": 0.0}
    assert late["revenue_now"].to_dict() == {"X": 300.0, "Y": 0.0, "Z": 500.0}


def test_typical_time_to_second_purchase_counts_customers_still_waiting():
    # Repeaters at 10, 20 and 30 days; two customers have waited 25 days. The old quantile of observed gaps said 20.
    # Kaplan-Meier: S(10) = 4/5, S(20) = 3/5, the two censored at 25 leave 1 at risk, S(30) = 0: median 30.
    rows = [
        ("r1", "2026-01-01", 10.0),
        ("r1", "2026-01-11", 10.0),
        ("r2", "2026-01-01", 10.0),
        ("r2", "2026-01-21", 10.0),
        ("r3", "2026-01-01", 10.0),
        ("r3", "2026-01-31", 10.0),
        ("w1", "2026-03-07", 10.0),
        ("w2", "2026-03-07", 10.0),
    ]
    con = _con(rows, ("customer_id", "order_date", "amount"))
    stages = lc.assign_stages(lc.customer_summary_sql(con, "2026-04-01"), "2026-04-01")
    due = lc.second_purchase_due(stages, "2026-04-01")
    assert due.typical_days == 30.0 and due.customers.empty


def test_kaplan_meier_band_is_greenwoods_log_log_interval():
    durations = pd.DataFrame(
        {
            "group": "all",
            "duration_days": [5, 8, 8, 12, 15, 20, 22, 30, 31, 40],
            "event": [1, 1, 0, 1, 0, 1, 1, 0, 1, 0],
        }
    )
    curve = lc.survival_curves(durations, alpha=0.05).curves.iloc[1:]
    z = norm.ppf(0.975)
    s, total = 1.0, 0.0
    for row in curve.itertuples():
        at_risk = (durations["duration_days"] >= row.time).sum()
        deaths = ((durations["duration_days"] == row.time) & (durations["event"] == 1)).sum()
        s *= 1 - deaths / at_risk
        total += deaths / (at_risk * (at_risk - deaths)) if at_risk > deaths else np.inf
        assert row.survival == pytest.approx(s)
        if 0 < s < 1 and np.isfinite(total):
            spread = z * np.sqrt(total) / abs(np.log(s))  # Greenwood on the log(-log S) scale
            assert row.lower == pytest.approx(s ** np.exp(spread), rel=1e-6)
            assert row.upper == pytest.approx(s ** np.exp(-spread), rel=1e-6)


def test_retention_tile_reads_12_months_at_the_quarter_grain():
    rows = [(c, d, 10.0) for c in ("A", "B") for d in ("2025-01-10", "2026-01-10")] + [
        ("C", "2025-02-01", 5.0)
    ]
    report = lc.cohort_report(_con(rows, ("customer_id", "order_date", "amount")), "2026-03-31", "quarter")
    # Q1 2025 cohort (A, B, C): age 4 = Q1 2026, A and B bought: 2/3. Before: the tile looked up age 12 ("–").
    assert report.headline["retention_12m"] == pytest.approx(2 / 3)


def test_small_orders_only_company_gets_stated_lines_not_a_crash():
    rows = [(f"c{i}", f"2026-0{1 + i % 9}-1{i % 10}", 10.0 + i) for i in range(20)]
    con = _con(rows, ("customer_id", "order_date", "amount"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = lc.customer_value_sql(con, "2026-10-31")
        holdout = lc.calibration_holdout(con, "2025-10-31", "2026-10-31")
    assert (
        value.status == "too_few_customers" and value.frame["p_alive"].isna().all() and len(value.frame) == 20
    )
    assert list(value.frame.columns) == ["customer_id", "p_alive", "expected_purchases", "clv"]
    assert isinstance(holdout, str)
    assert "no value forecast" in text.WORDS(f"clv_{value.status}", "en")

"""Pipeline outlook on a hand-computable company: learned stage win rates, close timing, expected bookings per
team with their range, the gap to quota, the CRM's figures beside them; point in time; graceful without stage
history or opportunities.

The company (as of 2026-10-31, weekly as-of points 10-31, 10-24, 10-17, ...):

* 10 closed deals C01..C10, created 10-21 (in stage A), closed 10-30: each is open at exactly one as-of point,
  10-24. C05..C10 entered stage B on 10-23, so at 10-24 C01..C04 are in A and C05..C10 in B. Won: C01 (A) and
  C05..C08 (B); lost: C02..C04 (A), C09, C10 (B). The won deals' history ends with "Closed Won" on the close
  day (a closing stage, never an open one).
* 4 open deals: O1 (A since 10-31, amount 1000, team North, CRM 0.1, expected close 11-15), O2 (B since 10-27,
  created 10-20, 2000, North, CRM 0.5, expected 12-05), O3 (B since 10-31, 4000, South, CRM 0.5, no expected
  date), O4 (B since 10-01, created 09-25, 500, North, CRM 0.5, expected 10-20: overdue).
* Quotas for 2026-11: R1 (North) 5000, R2 (South) 3000; R3 (North) has a quota but owns no deal: 1000.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from salesperf.analyses.forecast import pipeline as pl
from salesperf.analyses.forecast import pipeline_queries as q
from salesperf.data.dataset import open_dataset

END = date(2026, 10, 31)
D = pd.Timestamp
CLOSED_IDS = [f"C{i:02d}" for i in range(1, 11)]
WON = {"C01", "C05", "C06", "C07", "C08"}
IN_B = {f"C{i:02d}" for i in range(5, 11)}


def _opportunities() -> pd.DataFrame:
    closed = pd.DataFrame(
        {
            "opportunity_id": CLOSED_IDS,
            "rep_id": "R1",
            "created_at": D("2026-10-21"),
            "expected_close_date": D("2026-10-30"),
            "closed_at": D("2026-10-30"),
            "stage": ["Closed Won" if c in WON else "Closed Lost" for c in CLOSED_IDS],
            "status": ["won" if c in WON else "lost" for c in CLOSED_IDS],
            "amount": 100.0,
            "probability": [1.0 if c in WON else 0.0 for c in CLOSED_IDS],
        }
    )
    open_ = pd.DataFrame(
        {
            "opportunity_id": ["O1", "O2", "O3", "O4"],
            "rep_id": ["R1", "R1", "R2", "R1"],
            "created_at": [D("2026-10-31"), D("2026-10-20"), D("2026-10-31"), D("2026-09-25")],
            "expected_close_date": [D("2026-11-15"), D("2026-12-05"), pd.NaT, D("2026-10-20")],
            "closed_at": pd.NaT,
            "stage": ["A", "B", "B", "B"],
            "status": "open",
            "amount": [1000.0, 2000.0, 4000.0, 500.0],
            "probability": [0.1, 0.5, 0.5, 0.5],
        }
    )
    return pd.concat([closed, open_], ignore_index=True)


def _history() -> pd.DataFrame:
    rows = [(c, "A", "2026-10-21") for c in CLOSED_IDS]
    rows += [(c, "B", "2026-10-23") for c in sorted(IN_B)]
    rows += [(c, "Closed Won", "2026-10-30") for c in sorted(WON)]
    rows += [("O1", "A", "2026-10-31"), ("O2", "A", "2026-10-20"), ("O2", "B", "2026-10-27")]
    rows += [("O3", "A", "2026-10-31"), ("O3", "B", "2026-10-31"), ("O4", "A", "2026-09-25")]
    rows += [("O4", "B", "2026-10-01")]
    frame = pd.DataFrame(rows, columns=["opportunity_id", "stage", "entered_at"])
    return frame.assign(entered_at=pd.to_datetime(frame["entered_at"]))


def _company(folder, history: bool = True, opportunities: bool = True):
    folder.mkdir()
    pd.DataFrame(
        {
            "customer_id": ["K1", "K2"],
            "order_date": [D("2026-10-02"), D("2026-10-03")],
            "amount": [10.0, 20.0],
        }
    ).to_parquet(folder / "orders.parquet", index=False)
    pd.DataFrame({"rep_id": ["R1", "R2", "R3"], "team": ["North", "South", "North"]}).to_parquet(
        folder / "reps.parquet", index=False
    )
    pd.DataFrame(
        {
            "rep_id": ["R1", "R2", "R3", "R1"],
            "period": ["2026-11", "2026-11", "2026-11", "2026-10"],
            "quota": [5000.0, 3000.0, 1000.0, 9999.0],
        }
    ).to_parquet(folder / "targets.parquet", index=False)
    if opportunities:
        _opportunities().to_parquet(folder / "opportunities.parquet", index=False)
    if opportunities and history:
        _history().to_parquet(folder / "opportunity_history.parquet", index=False)
    return open_dataset(folder, "2026-10", "2026-11-27")


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    return _company(tmp_path_factory.mktemp("pipeline") / "c")


@pytest.fixture(scope="module")
def outlook(company):
    return q.read_outlook(company.engine, END, "month", 3)


def test_stage_observations_are_counted_at_the_as_of_points(company):
    # each closed deal is open at one as-of point (10-24): A holds C01..C04 (C01 won), B C05..C10 (C05..C08 won)
    obs = q.stage_observations(company.engine, END)
    assert obs.to_dict("list") == {
        "pipeline": ["", ""],  # no pipeline column: one pipeline
        "stage": ["A", "B"],
        "observations": [4, 6],
        "won_observations": [1, 4],
        "deals": [4, 6],
        "won_deals": [1, 4],
    }


def test_learned_win_rates_by_hand(outlook):
    # overall 5 won of 10 = 0.5; Beta prior worth 10 deals at 0.5:
    # A: (4 x 1/4 + 10 x 0.5) / (4 + 10) = 6/14; B: (6 x 4/6 + 10 x 0.5) / (6 + 10) = 9/16
    stages = outlook.stages.set_index("stage")
    assert outlook.status == "ok" and outlook.overall_rate == 0.5
    assert stages.loc["A", "win_rate"] == pytest.approx(6 / 14)
    assert stages.loc["B", "win_rate"] == pytest.approx(9 / 16)
    assert stages.loc["A", "raw_rate"] == pytest.approx(0.25)
    assert stages["deals"].to_dict() == {"A": 4, "B": 6}


def test_stage_table_shows_the_crm_probability_and_the_stale_deals(outlook):
    # open: A = O1 (1000); B = O2, O3, O4 (6500); CRM mean in B (0.5 + 0.5 + 0.5) / 3; O4 has been in B for
    # 30 days, longer than any won deal (7 days from entering B to close): stale
    stages = outlook.stages.set_index("stage")
    assert stages["open_deals"].to_dict() == {"A": 1, "B": 3}
    assert stages["open_amount"].to_dict() == {"A": 1000.0, "B": 6500.0}
    assert stages["crm_probability"].to_dict() == {"A": pytest.approx(0.1), "B": pytest.approx(0.5)}
    assert stages["stale_deals"].to_dict() == {"A": 0, "B": 1} and stages.loc["B", "stale_amount"] == 500.0
    assert "stale_deals" in outlook.notes


def test_expected_bookings_and_their_range_by_hand(outlook):
    # won deals close 9 days after entering A and 7 after entering B: O1 (age 0 in A) in 9 days, O2 (age 4 in
    # B) in 3, O3 (age 0 in B) in 7: all in November (period 1), nothing later.
    # North = 1000 x 6/14 + 2000 x 9/16 = 1553.571; South = 4000 x 9/16 = 2250
    # var North = 1000^2 x 6/14 x 8/14 + 2000^2 x 9/16 x 7/16 = 244 898.0 + 984 375 = 1 229 273.0
    b = outlook.bookings.set_index(["team", "period"])
    assert b.loc[("North", 1), "expected"] == pytest.approx(1000 * 6 / 14 + 2000 * 9 / 16)
    assert b.loc[("South", 1), "expected"] == pytest.approx(2250.0)
    assert b.loc[(pl.ALL_TEAMS, 1), "expected"] == pytest.approx(1000 * 6 / 14 + 2000 * 9 / 16 + 2250)
    var_north = 1e6 * (6 / 14) * (8 / 14) + 4e6 * (9 / 16) * (7 / 16)
    assert b.loc[("North", 1), "sd"] == pytest.approx(math.sqrt(var_north))
    sd_all = math.sqrt(var_north + 16e6 * (9 / 16) * (7 / 16))
    assert b.loc[(pl.ALL_TEAMS, 1), "sd"] == pytest.approx(sd_all)
    # South: sd = 4000 x sqrt(9/16 x 7/16) = 1984.31; 80 % range 2250 ± 1.28155 x 1984.31, floored at 0
    assert b.loc[("South", 1), "high"] == pytest.approx(2250 + 1.2815515655 * 4000 * math.sqrt(63) / 16)
    assert b.loc[("South", 1), "low"] == 0.0
    assert b.loc[("North", 2), "expected"] == 0 and b.loc[("North", 3), "high"] == 0
    assert list(b.loc["North", "label"]) == ["2026-11", "2026-12", "2027-01"]


def test_the_crm_weighted_pipeline_by_its_expected_close_date(outlook):
    # North Nov: O1 1000 x 0.1 + O4 500 x 0.5 (overdue: counted in the next period) = 350; Dec: O2 2000 x 0.5
    b = outlook.bookings.set_index(["team", "period"])["crm_expected"]
    assert b[("North", 1)] == pytest.approx(350.0) and b[("North", 2)] == pytest.approx(1000.0)
    assert b[("South", 1)] == 0.0  # O3 has no expected close date


def test_gap_to_quota_by_hand(outlook):
    # North Nov quota 5000 + 1000 (R3) = 6000, gap 6000 - 1553.571; South 3000 - 2250 = 750; the October
    # quota is not a next period's
    g = outlook.gaps.set_index(["team", "period"])
    assert g.loc[("North", 1), "quota"] == 6000.0
    assert g.loc[("North", 1), "gap"] == pytest.approx(6000 - 1000 * 6 / 14 - 2000 * 9 / 16)
    assert g.loc[("South", 1), "gap"] == pytest.approx(750.0)
    assert g.loc[(pl.ALL_TEAMS, 1), "quota"] == 9000.0
    assert (g["gap_low"] <= g["gap"]).all() and (g["gap"] <= g["gap_high"]).all()
    assert set(g.index.get_level_values("period")) == {1}


def test_a_deal_closed_after_the_as_of_date_is_open_then(company):
    # as of 10-27 the closed deals (closed 10-30) are open: C01..C04 in A, C05..C10 in B (entered 10-23);
    # O2 (B since 10-27) and O4 too; O1, O3 do not exist yet; nothing is closed to learn from
    as_of = date(2026, 10, 27)
    cells = q.open_deal_cells(company.engine, as_of)
    assert cells.groupby("stage")["deals"].sum().to_dict() == {"A": 4, "B": 8}
    assert q.stage_observations(company.engine, as_of).empty
    outlook = q.read_outlook(company.engine, as_of)
    assert outlook.status == "no_closed_history" and outlook.bookings.empty
    assert outlook.stages["open_deals"].sum() == 12


def test_without_stage_history_one_overall_rate_and_timing_from_creation(tmp_path):
    # closed deals' current stages are closing stages: no stage split; overall 5/10 = 0.5 for every stage.
    # timing: won deals close 9 days after creation; O1 and O3 (created 10-31, age 0) close in November;
    # O2 (age 11) and O4 (age 36) are older than any won deal: stale.
    outlook = q.read_outlook(_company(tmp_path / "c", history=False).engine, END)
    assert {"no_stage_history", "overall_rate_only", "stale_deals"} <= set(outlook.notes)
    assert outlook.stages.set_index("stage").loc[["A", "B"], "win_rate"].tolist() == [0.5, 0.5]
    total = outlook.bookings.set_index(["team", "period"]).loc[(pl.ALL_TEAMS, 1), "expected"]
    assert total == pytest.approx((1000 + 4000) * 0.5)


def test_no_opportunities_is_one_stated_status(tmp_path):
    outlook = q.read_outlook(_company(tmp_path / "c", opportunities=False).engine, END)
    assert outlook.status == "no_opportunities" and outlook.bookings.empty and outlook.stages.empty


def test_close_shares_spread_over_the_periods_by_hand():
    # stage S, won deals as (days in S, days from entering S to close): (5, 10) x 2, (30, 40), (90, 100).
    # As of 2026-10-31, month grain, horizon 2:
    # age 0 → all four: residuals 10, 10 (Nov), 40 (Dec 10), 100 (Feb 8: later) → 1/2, 1/4, 1/4
    # age 8 → only the deals that stayed more than 8 days in S: residuals 32 (Dec 2), 92 (later) → 0, 1/2, 1/2
    #         (not 10 - 8 = 2 days: a deal 8 days into S has not skipped the stages after it)
    # age 90 → no won deal stayed longer in S: stale, no rows
    days = pd.DataFrame(
        {"stage": "S", "stage_days": [5, 30, 90], "days": [10, 40, 100], "won_deals": [2, 1, 1]}
    )
    ages = pd.DataFrame({"stage": "S", "age_days": [0, 8, 90]})
    shares = pl.close_shares(days, ages, END, "month", 2).set_index(["age_days", "period"])["share"]
    assert shares.loc[0].tolist() == [0.5, 0.25, 0.25]
    assert shares.loc[8].tolist() == [0.0, 0.5, 0.5]
    assert 90 not in shares.index.get_level_values("age_days")


def test_won_days_to_close_count_the_time_in_each_stage(company):
    # C01: A 10-21 → Closed Won 10-30 (9 days in A, 9 to close); C05..C08: A 10-21 → B 10-23 (2 days in A,
    # 9 to close), B → Closed Won 10-30 (7 and 7); the closing stage itself is no open stage
    days = q.won_days_to_close(company.engine, END)
    assert days.to_dict("list") == {
        "stage": ["A", "A", "B"],
        "stage_days": [2, 9, 7],
        "days": [9, 9, 7],
        "won_deals": [4, 1, 4],
    }


def test_without_a_stage_split_on_current_stages_where_meaningful():
    # no history, but a CRM that keeps lost and won deals in an open stage "P": P's own rate is used
    obs = pd.DataFrame(
        {
            "pipeline": "",
            "stage": ["P", "Closed Won"],
            "observations": [4, 2],
            "won_observations": [1, 2],
            "deals": [4, 2],
            "won_deals": [1, 2],
        }
    )
    open_stages = pd.DataFrame({"pipeline": [""], "stage": ["P"]})
    rates, overall, split = pl.win_rates(obs, open_stages, by_stage=False, prior_deals=0)
    assert split and overall == 0.5 and rates.set_index("stage").loc["P", "win_rate"] == 0.25


def test_rates_are_learned_per_pipeline_and_a_pipeline_without_history_gets_none():
    # Renewal: stage X 3 won of 4 (deals 4), Y 1 of 4 → Renewal overall 4/8 = 0.5; New: stage X 0 of 2 → 0.
    # prior 2 deals: Renewal X (4 x 0.75 + 2 x 0.5) / 6 = 2/3; New X (2 x 0 + 2 x 0) / 4 = 0; a third pipeline
    # "Partner" has open deals but no closed one: NaN (not forecast)
    obs = pd.DataFrame(
        {
            "pipeline": ["Renewal", "Renewal", "New"],
            "stage": ["X", "Y", "X"],
            "observations": [4, 4, 2],
            "won_observations": [3, 1, 0],
            "deals": [4, 4, 2],
            "won_deals": [3, 1, 0],
        }
    )
    open_stages = pd.DataFrame({"pipeline": ["Renewal", "Partner"], "stage": ["Z", "X"]})
    rates, overall, _ = pl.win_rates(obs, open_stages, prior_deals=2)
    rate = rates.set_index(["pipeline", "stage"])["win_rate"]
    assert overall == 0.4  # 4 won of 10 observations
    assert rate[("Renewal", "X")] == pytest.approx(2 / 3) and rate[("New", "X")] == 0.0
    assert rate[("Renewal", "Z")] == 0.5  # a stage without history: the pipeline's overall rate
    assert np.isnan(rate[("Partner", "X")])


def test_next_periods_at_each_grain():
    assert pl.next_periods(END, "quarter", 2)["label"].tolist() == ["2027-Q1", "2027-Q2"]
    assert pl.next_periods(END, "quarter", 1)["months"][0] == ("2027-01", "2027-02", "2027-03")
    weeks = pl.next_periods(END, "week", 2)  # 2026-10-31 is a Saturday of ISO week 44
    assert weeks["label"].tolist() == ["2026-W45", "2026-W46"] and weeks["start"][0] == date(2026, 11, 2)


def test_an_export_with_only_the_required_columns_says_what_it_lacks(tmp_path):
    # opportunities with only the required columns (no status, close date, amount, probability, expected close
    # date), no history, reps or targets: the open deals are listed by stage, nothing can be learned
    folder = tmp_path / "c"
    folder.mkdir()
    pd.DataFrame({"customer_id": ["K1"], "order_date": [D("2026-10-02")], "amount": [10.0]}).to_parquet(
        folder / "orders.parquet", index=False
    )
    pd.DataFrame(
        {
            "opportunity_id": ["X1", "X2", "X3"],
            "rep_id": "R1",
            "created_at": [D("2026-09-01"), D("2026-10-01"), D("2026-11-05")],  # X3: after the period
            "stage": ["A", "A", "B"],
        }
    ).to_parquet(folder / "opportunities.parquet", index=False)
    outlook = q.read_outlook(open_dataset(folder, "2026-10", "2026-11-27").engine, END)
    assert outlook.status == "no_closed_history" and outlook.bookings.empty and outlook.gaps.empty
    assert {
        "no_stage_history",
        "no_status",
        "no_probability",
        "no_expected_close",
        "no_amount",
        "no_reps",
        "no_targets",
    } <= set(outlook.notes)
    assert outlook.stages[["stage", "open_deals"]].to_dict("list") == {"stage": ["A"], "open_deals": [2]}


def test_quarter_gaps_add_the_months_of_each_quarter():
    # Q1 2027 = 2027-01..03: North 100 + 200 + 300 = 600, minus 150 expected = 450; 2027-04 is Q2's
    periods = pl.next_periods(END, "quarter", 2)
    quotas = pd.DataFrame(
        {
            "team": "North",
            "month": ["2027-01", "2027-02", "2027-03", "2027-04"],
            "quota": [100.0, 200, 300, 50],
        }
    )
    bookings = pd.DataFrame(
        {
            "team": "North",
            "period": [1, 2],
            "label": ["2027-Q1", "2027-Q2"],
            "expected": [150.0, 0.0],
            "low": [100.0, 0.0],
            "high": [200.0, 0.0],
        }
    )
    gaps = pl.quota_gaps(bookings, quotas, periods).set_index(["team", "period"])
    assert gaps.loc[("North", 1), ["quota", "gap", "gap_low", "gap_high"]].tolist() == [
        600.0,
        450.0,
        400.0,
        500.0,
    ]
    assert gaps.loc[("North", 2), "quota"] == 50.0 and gaps.loc[(pl.ALL_TEAMS, 1), "quota"] == 600.0


def test_a_close_day_still_in_the_current_period_counts_in_the_first_next_one():
    # as of Saturday 2026-10-31, week grain: its ISO week ends on Sunday 11-01; a close in 1 day is counted in
    # the first next week rather than lost
    assert pl.period_of_delay(END, [1, 2, 9, 30], "week", 2).tolist() == [1, 1, 2, 3]

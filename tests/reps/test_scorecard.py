"""The rep scorecard on the hand-made sales team (tests/reps/tiny_sales_team.py: every expected figure below is
computed by hand in its docstring), its roll-ups, thin exports (orders only; no rep on the lines), and the
AdventureWorks reseller sales slice against an independent pandas computation on the fixture files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tiny_sales_team as tiny

from salesperf.analyses.reps import queries
from salesperf.analyses.reps.scorecard import ADDITIVE, build_scorecard
from salesperf.core.periods import parse_period
from salesperf.data.dataset import open_dataset
from salesperf.data.importer import run_import

ROOT = Path(__file__).resolve().parents[2]
AW = ROOT / "tests" / "fixtures" / "real" / "adventureworks"
AW_MAPPING = ROOT / "examples" / "mappings" / "adventureworks_dw2020_reseller_sales.yml"


def _card(ds, trend_months: int = 6):
    return build_scorecard(queries.scorecard_inputs(ds.engine, ds.period, trend_months))


@pytest.fixture(scope="module")
def card(tmp_path_factory):
    return _card(tiny.dataset(tmp_path_factory.mktemp("tiny") / "all"))


def _kpi(card, window: str, column: str) -> dict:
    rows = card.kpis.loc[card.kpis["window"] == window].set_index("rep_id")[column]
    return {rep: (None if pd.isna(v) else round(float(v), 6)) for rep, v in rows.items()}


def _group(card, level: str, window: str, column: str) -> dict:
    rows = card.rollups.loc[(card.rollups["level"] == level) & (card.rollups["window"] == window)]
    return {
        g: (None if pd.isna(v) else round(float(v), 6)) for g, v in rows.set_index("group")[column].items()
    }


def test_only_reps_with_figures_are_scored(card):
    # M1 (a manager without figures), L1 (left before the year) and the team key "Alpha" of the targets are not reps
    assert sorted(card.kpis["rep_id"].unique()) == ["A1", "A2", "B1", "B2"]
    names = card.kpis.loc[card.kpis["window"] == "year"].set_index("rep_id")["name"].to_dict()
    assert names == {"A1": "Ann", "A2": "Bob", "B1": "Cai", "B2": "Dee"}
    assert card.kpis.set_index(["rep_id", "window"]).loc[("A1", "year"), "team"] == "Alpha"
    assert card.missing == {}


def test_bookings_net_of_returns_without_cancelled_or_later_lines(card):
    assert _kpi(card, "period", "bookings") == {"A1": 1100.0, "A2": 600.0, "B1": 0.0, "B2": 900.0}
    assert _kpi(card, "year", "bookings") == {"A1": 1600.0, "A2": 600.0, "B1": 400.0, "B2": 900.0}
    assert _kpi(card, "period", "returns") == {"A1": -100.0, "A2": 0.0, "B1": 0.0, "B2": 0.0}
    assert _kpi(card, "year", "orders") == {"A1": 2.0, "A2": 2.0, "B1": 1.0, "B2": 1.0}
    assert card.unassigned.set_index("window")["bookings"].to_dict() == {"period": 50.0, "year": 50.0}


def test_attainment_and_coverage(card):
    assert _kpi(card, "period", "attainment") == {"A1": 1.1, "A2": 0.6, "B1": 0.0, "B2": 1.8}
    year = _kpi(card, "year", "attainment")
    assert year == {"A1": round(1600 / 12000, 6), "A2": 0.05, "B1": round(400 / 12000, 6), "B2": 0.18}
    assert _kpi(card, "period", "coverage") == {"A1": 2.0, "A2": 3.0, "B1": 0.0, "B2": 0.0}
    assert card.conventions["coverage_base"] == "following_period"


def test_deals_closed_after_the_period_end_are_open(card):
    assert _kpi(card, "period", "win_rate") == {"A1": 0.5, "A2": None, "B1": None, "B2": 1.0}
    assert _kpi(card, "year", "win_rate") == {"A1": 0.5, "A2": 1.0, "B1": 0.5, "B2": 1.0}
    assert _kpi(card, "year", "avg_deal") == {"A1": 1000.0, "A2": 800.0, "B1": 600.0, "B2": 900.0}
    assert _kpi(card, "year", "cycle_median_days") == {"A1": 71.0, "A2": 30.0, "B1": 40.0, "B2": 20.0}
    assert _kpi(card, "period", "pipeline_created") == {"A1": 2000.0, "A2": 3000.0, "B1": 0.0, "B2": 0.0}
    assert _kpi(card, "year", "pipeline_created") == {"A1": 3500.0, "A2": 3800.0, "B1": 1000.0, "B2": 900.0}
    assert _kpi(card, "year", "open_amount") == {"A1": 2000.0, "A2": 3000.0, "B1": 0.0, "B2": 0.0}


def test_activities_new_customers_retention_and_satisfaction(card):
    assert _kpi(card, "period", "activities") == {"A1": 3.0, "A2": 1.0, "B1": 0.0, "B2": 0.0}
    assert _kpi(card, "year", "activities") == {"A1": 4.0, "A2": 1.0, "B1": 2.0, "B2": 0.0}
    mix = card.activity_mix
    a1 = mix.loc[(mix["rep_id"] == "A1") & (mix["window"] == "period")].set_index("type")["share"]
    assert a1.round(6).to_dict() == {"call": round(2 / 3, 6), "visit": round(1 / 3, 6)}
    assert _kpi(card, "period", "new_customers") == {"A1": 0.0, "A2": 0.0, "B1": 0.0, "B2": 1.0}
    assert _kpi(card, "year", "new_customers") == {"A1": 1.0, "A2": 0.0, "B1": 1.0, "B2": 1.0}
    assert _kpi(card, "year", "nrr") == {"A1": 1.2, "A2": 0.375, "B1": 0.0, "B2": None}
    assert _kpi(card, "year", "grr") == {"A1": 1.0, "A2": 0.375, "B1": 0.0, "B2": None}
    assert _kpi(card, "year", "nps") == {"A1": 0.0, "A2": 0.0, "B1": 1.0, "B2": None}
    assert _kpi(card, "period", "nps") == {"A1": 1.0, "A2": 0.0, "B1": 1.0, "B2": None}
    assert _kpi(card, "year", "csat_mean") == {"A1": None, "A2": None, "B1": 4.0, "B2": 5.0}


def test_months_employed_and_rates_per_month(card):
    # B2 was hired on 2026-01-01: 10 months of the trailing year; the others all 12
    assert _kpi(card, "year", "rep_months") == {"A1": 12.0, "A2": 12.0, "B1": 12.0, "B2": 10.0}
    assert _kpi(card, "period", "rep_months") == {"A1": 1.0, "A2": 1.0, "B1": 1.0, "B2": 1.0}
    assert _kpi(card, "year", "pipeline_per_month")["B2"] == 90.0  # 900 / 10
    assert _kpi(card, "year", "activities_per_month")["A1"] == round(4 / 12, 6)
    # Beta: (1000 + 900) / (12 + 10) rep-months
    assert _group(card, "team", "year", "pipeline_per_month")["Beta"] == round(1900 / 22, 6)


def test_trend_of_bookings_and_attainment(card):
    a1 = card.trend.loc[card.trend["rep_id"] == "A1"].set_index("month")
    assert list(a1.index) == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    assert a1["bookings"].tolist() == [0.0, 500.0, 0.0, 0.0, 0.0, 1100.0]
    assert a1["attainment"].tolist() == [0.0, 0.5, 0.0, 0.0, 0.0, 1.1]
    assert set(card.trend["rep_id"]) == {"A1", "A2", "B1", "B2"}


def test_rollups_add_up_and_recompute_rates(card):
    assert _group(card, "team", "period", "bookings") == {"Alpha": 1700.0, "Beta": 900.0}
    assert _group(card, "region", "period", "bookings") == {"North": 1100.0, "South": 1500.0}
    assert _group(card, "team", "period", "attainment") == {"Alpha": 0.85, "Beta": 0.6}
    # a recomputed ratio, not the mean of the reps' rates (0.5 and 1.0)
    assert _group(card, "team", "year", "win_rate")["Alpha"] == round(2 / 3, 6)
    assert _group(card, "team", "period", "coverage")["Alpha"] == 2.5
    assert _group(card, "team", "year", "nrr")["Alpha"] == round(1500 / 1800, 6)
    assert _group(card, "team", "year", "grr")["Alpha"] == round(1300 / 1800, 6)
    assert _group(card, "company", "period", "attainment") == {"all": round(2600 / 3500, 6)}
    for window in ("period", "year"):
        reps = card.kpis.loc[card.kpis["window"] == window, list(ADDITIVE)].sum()
        for level in ("team", "region", "company"):
            groups = card.rollups.loc[(card.rollups["level"] == level) & (card.rollups["window"] == window)]
            np.testing.assert_allclose(groups[list(ADDITIVE)].sum().to_numpy(), reps.to_numpy(), atol=0.005)


def test_orders_only_still_gives_bookings_and_says_what_is_missing(tmp_path):
    card = _card(tiny.dataset(tmp_path / "orders", only=("orders",)))
    assert _kpi(card, "period", "bookings") == {"A1": 1100.0, "A2": 600.0, "B1": 0.0, "B2": 900.0}
    assert card.missing == {
        "attainment": "no_targets",
        "coverage": "no_targets",
        "win_rate": "no_opportunities",
        "deal_size": "no_opportunities",
        "cycle": "no_opportunities",
        "pipeline": "no_opportunities",
        "activities": "no_activities",
        "satisfaction": "no_feedback",
        "rep_names": "no_rep_table",
        "team": "no_teams",
        "region": "no_regions",
    }
    assert card.kpis["attainment"].isna().all() and card.kpis["win_rate"].isna().all()
    assert set(card.rollups["level"]) == {"company"}
    names = card.kpis.loc[card.kpis["window"] == "year"].set_index("rep_id")["name"].to_dict()
    assert names == {"A1": "A1", "A2": "A2", "B1": "B1", "B2": "B2"}
    # the book comes from the orders alone: C4 is B1's (400 > 300), C1 A1's
    assert _kpi(card, "year", "nrr") == {"A1": 1.2, "A2": 0.375, "B1": 0.0, "B2": None}
    assert card.conventions["book_source"] == "largest_revenue"


def test_without_a_rep_on_the_lines_bookings_are_the_won_deals(tmp_path):
    ds = tiny.dataset(tmp_path / "deals", only=("orders", "opportunities"), drop={"orders": ["rep_id"]})
    card = _card(ds)
    assert card.conventions["bookings_source"] == "won_opportunities"
    # won deals closed in October: P1 1000 (A1), P8 900 (B2); P5 closes after the end
    assert _kpi(card, "period", "bookings") == {"A1": 1000.0, "A2": 0.0, "B1": 0.0, "B2": 900.0}
    assert _kpi(card, "year", "bookings") == {"A1": 1000.0, "A2": 800.0, "B1": 600.0, "B2": 900.0}
    assert card.missing["new_customers"] == "no_rep_on_orders" and card.missing["retention"] == "no_book"


def _aw_expected(period_end: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Bookings and quota per rep (EmployeeID) for the month of ``period_end`` and the 12 months to it, from the
    raw fixture files: Sales.csv lines -> Salesperson.csv (EmployeeKey -> EmployeeID); Targets.csv by month."""
    sales = pd.read_csv(AW / "Sales.csv", sep="|", dtype=str)
    people = pd.read_csv(AW / "Salesperson.csv", sep="|", dtype=str)
    targets = pd.read_csv(AW / "Targets.csv", sep="|", dtype=str)
    lines = sales.merge(people[["EmployeeKey", "EmployeeID"]], on="EmployeeKey")
    lines["month"] = pd.to_datetime(lines["OrderDate"], format="%Y/%m/%d").dt.to_period("M")
    lines["Sales"] = lines["Sales"].astype(float)
    targets["month"] = pd.to_datetime(targets["TargetMonth"], format="%Y/%m/%d").dt.to_period("M")
    targets["TargetAmount"] = targets["TargetAmount"].astype(float)
    end = pd.Period(period_end, "M")
    out = {}
    for window, first in (("period", end), ("year", end - 11)):
        sold = lines.loc[lines["month"].between(first, end)].groupby("EmployeeID")["Sales"].sum()
        quota = targets.loc[targets["month"].between(first, end)].groupby("EmployeeID")["TargetAmount"].sum()
        out[window] = pd.DataFrame({"bookings": sold, "quota": quota}).fillna(0.0)
    return out["period"], out["year"]


def test_adventureworks_bookings_and_attainment_equal_pandas(tmp_path):
    run_import([AW], tmp_path / "aw", mapping=AW_MAPPING)
    ds = open_dataset(tmp_path / "aw", "2019-06", "2020-07-01")
    card = _card(ds)
    assert card.conventions["bookings_source"] == "orders" and "attainment" not in card.missing
    period, year = _aw_expected("2019-06")
    scored = year.index[(year["bookings"] != 0) | (year["quota"] != 0)]
    assert len(scored) == 15  # of the 18 sales people, 3 have neither a sale nor a target in the 12 months
    for window, expected in (("period", period), ("year", year)):
        got = card.kpis.loc[card.kpis["window"] == window].set_index("rep_id")
        assert sorted(got.index) == sorted(scored)
        expected = expected.reindex(scored, fill_value=0.0)
        for rep, row in expected.iterrows():
            assert got.loc[rep, "bookings"] == pytest.approx(row["bookings"], abs=0.01), (window, rep)
            assert got.loc[rep, "quota"] == pytest.approx(row["quota"], abs=0.01), (window, rep)
            if row["quota"] > 0:
                assert got.loc[rep, "attainment"] == pytest.approx(row["bookings"] / row["quota"], rel=1e-9)
        assert got["bookings"].sum() == pytest.approx(expected["bookings"].sum(), abs=0.05)
    assert card.missing.get("win_rate") == "no_opportunities"
    assert set(card.rollups.loc[card.rollups["level"] == "team", "group"]) >= {"Sales Representative"}


def test_a_week_has_no_attainment(tmp_path):
    ds = tiny.dataset(tmp_path / "week")
    inputs = queries.scorecard_inputs(ds.engine, parse_period("2026-W43"))
    card = build_scorecard(inputs)
    assert card.missing["attainment"] == "weekly_period"
    assert card.kpis["attainment"].isna().all()


def test_closed_deals_as_they_stood_at_the_period_end(tmp_path):
    ds = tiny.dataset(tmp_path / "c")
    deals = queries.closed_deals(ds.engine, ds.period.end)
    # P3 is open, P5 closed after the end (open then), P9 was created after it
    assert deals["opportunity_id"].tolist() == ["P1", "P10", "P2", "P4", "P6", "P7", "P8"]
    assert deals.set_index("opportunity_id")["won"].to_dict() == {
        "P1": True,
        "P10": True,
        "P2": False,
        "P4": True,
        "P6": False,
        "P7": True,
        "P8": True,
    }
    year = queries.closed_deals(ds.engine, ds.period.end, start=pd.Timestamp("2025-11-01").date())
    assert "P10" not in set(year["opportunity_id"]) and len(year) == 6


def test_rep_month_panel(tmp_path):
    ds = tiny.dataset(tmp_path / "c")
    panel = queries.rep_month_panel(ds.engine, pd.Timestamp("2026-01-01").date(), ds.period.end)
    a1 = panel.loc[panel["rep_id"] == "A1"].set_index("period")
    # June: O3 500; August: P1 created (won by the end); September: P2 (lost); October: O2 + O4 = 1100 and P3
    # created (open)
    assert a1["bookings"].to_dict() == {"2026-06": 500.0, "2026-08": 0.0, "2026-09": 0.0, "2026-10": 1100.0}
    assert a1["created"].tolist() == [0, 1, 1, 1] and a1["deals"].tolist() == [0, 1, 1, 0]
    assert a1["wins"].tolist() == [0, 1, 0, 0]
    # A2's P5 (October) closed after the end: created, not a closed deal
    a2 = panel.loc[(panel["rep_id"] == "A2") & (panel["period"] == "2026-10")].iloc[0]
    assert (a2["created"], a2["deals"], a2["pipeline_created"]) == (1, 0, 3000.0)


def test_commission_lines_link_a_return_to_its_order(tmp_path):
    orders = pd.DataFrame(
        {
            "order_id": ["X1", "X1", "X1", "X2"],
            "customer_id": ["C1", "C1", "C1", "C2"],
            "order_date": ["2026-09-10", "2026-09-10", "2026-10-05", "2026-10-20"],
            "amount": [100.0, 50.0, -40.0, -10.0],
            "rep_id": ["A1", "A1", "A1", "A1"],
            "category": ["Bikes", "Parts", "Bikes", "Parts"],
            "status": ["completed", "completed", "returned", "returned"],
        }
    )
    folder = tmp_path / "lines"
    folder.mkdir()
    orders.to_csv(folder / "orders.csv", index=False)
    ds = open_dataset(folder, "2026-10", "2026-11-27")
    bookings, returns = queries.commission_lines(ds.engine, pd.Timestamp("2026-09-01").date(), ds.period.end)
    assert bookings.to_dict("records") == [
        {"rep_id": "A1", "period": "2026-09", "category": "Bikes", "amount": 100.0},
        {"rep_id": "A1", "period": "2026-09", "category": "Parts", "amount": 50.0},
    ]
    # X1's return goes back to September; X2 has no purchase: its own month
    assert returns.to_dict("records") == [
        {
            "rep_id": "A1",
            "period": "2026-10",
            "order_period": "2026-09",
            "category": "Bikes",
            "amount": -40.0,
        },
        {
            "rep_id": "A1",
            "period": "2026-10",
            "order_period": "2026-10",
            "category": "Parts",
            "amount": -10.0,
        },
    ]


def test_northwind_employees_bookings_equal_pandas(tmp_path):
    folder = ROOT / "tests" / "fixtures" / "real" / "northwind"
    run_import([folder], tmp_path / "nw", mapping=ROOT / "examples" / "mappings" / "northwind.yml")
    card = _card(open_dataset(tmp_path / "nw", "1997-12", "1998-06-01"))
    orders = pd.read_csv(folder / "orders.csv", dtype=str, keep_default_na=False)
    details = pd.read_csv(folder / "order_details.csv", dtype={"OrderID": str})
    lines = orders.merge(details, on="OrderID")
    lines["net"] = lines["UnitPrice"] * lines["Quantity"] * (1 - lines["Discount"])
    lines["day"] = pd.to_datetime(lines["OrderDate"])
    for window, first in (("period", "1997-12-01"), ("year", "1997-01-01")):
        inside = lines.loc[lines["day"].between(pd.Timestamp(first), pd.Timestamp("1997-12-31"))]
        expected = inside.groupby("EmployeeID")["net"].sum()
        got = card.kpis.loc[card.kpis["window"] == window].set_index("rep_id")["bookings"]
        assert (
            sorted(got.index) == sorted(expected.index) and len(got) == 9
        )  # the 9 employees, Fuller included
        for rep, amount in expected.items():
            # Northwind's discounted lines have fractions of a cent; the engine rounds each rep-month to the
            # cent and a window is the sum of its months (as the trend shows them): at most 12 x 0.005 apart
            assert got[rep] == pytest.approx(amount, abs=0.06), (window, rep)
    assert {"attainment", "win_rate", "activities", "satisfaction"} <= set(card.missing)
    assert card.missing["attainment"] == "no_targets" and "team" not in card.missing
    teams = card.rollups.loc[(card.rollups["level"] == "team") & (card.rollups["window"] == "year")]
    assert teams["bookings"].sum() == pytest.approx(expected.sum(), abs=0.5)


def test_deals_without_amounts_still_give_win_rates(tmp_path):
    ds = tiny.dataset(
        tmp_path / "d", only=("orders", "opportunities", "targets"), drop={"opportunities": ["amount"]}
    )
    card = _card(ds)
    assert card.missing["deal_size"] == card.missing["pipeline"] == "no_deal_amounts"
    assert _kpi(card, "year", "win_rate") == {"A1": 0.5, "A2": 1.0, "B1": 0.5, "B2": 1.0}
    assert card.kpis["avg_deal"].isna().all() and card.kpis["coverage"].isna().all()
    assert _kpi(card, "period", "attainment") == {"A1": 1.1, "A2": 0.6, "B1": 0.0, "B2": 1.8}


def test_a_quarter_as_it_stood_at_its_end(tmp_path):
    # Q3 2026 (July .. September), read from data that go on to October: nothing after 2026-09-30 counts
    ds = tiny.dataset(tmp_path / "q")
    card = build_scorecard(queries.scorecard_inputs(ds.engine, parse_period("2026-Q3")))
    assert card.conventions["year_start"] == pd.Timestamp("2025-10-01").date()
    # B1's O7 (September) is the quarter's only booking; quotas 3 x 1000 (B2: 3 x 500)
    assert _kpi(card, "period", "bookings") == {"A1": 0.0, "A2": 0.0, "B1": 400.0, "B2": 0.0}
    assert _kpi(card, "period", "attainment")["B1"] == round(400 / 3000, 6)
    # P1 and P2 closed in October: both open at the quarter's end; no deal closed in the quarter
    assert _kpi(card, "period", "open_amount") == {"A1": 1500.0, "A2": 0.0, "B1": 0.0, "B2": 900.0}
    assert _kpi(card, "period", "win_rate") == {"A1": None, "A2": None, "B1": None, "B2": None}
    # coverage base: the next quarter's quotas the targets hold (October and November: 2000; B2 1000)
    assert card.conventions["coverage_base"] == "following_period"
    assert _kpi(card, "period", "coverage") == {"A1": 0.75, "A2": 0.0, "B1": 0.0, "B2": 0.9}
    # the year to September: A1's O3 (June) 500; C2, C4 first bought in the year (A1, B1); C6 not yet
    assert _kpi(card, "year", "bookings") == {"A1": 500.0, "A2": 0.0, "B1": 400.0, "B2": 0.0}
    assert _kpi(card, "year", "new_customers") == {"A1": 1.0, "A2": 0.0, "B1": 1.0, "B2": 0.0}

"""The forecast series from one engine query, against a tiny company worked out by hand.

The company (report period November 2026, run on 2026-11-15: November is the partial current month, so the last
complete period is October 2026):

=====  ========  ==========  =======  =======  ====  =========================  ==========================
line   customer  date        amount   product  rep   line region / category     counts as
=====  ========  ==========  =======  =======  ====  =========================  ==========================
L1     C1        2026-07-05   100.00  P1       R1    –                          East / Software / R1, Jul
L2     C1        2026-07-20    50.00  P2       R1    –                          East / Hardware / R1, Jul
L3     C2        2026-09-10   200.00  P1       R2    North / –                  North / Software / R2, Sep
L4     C1        2026-09-12   -30.00  P1       R1    – (returned)               East / Software / R1, Sep
L5     C2        2026-10-03    80.00  P2       R2    – (cancelled)              not counted
L6     C2        2026-10-08    40.00  P2       R2    – / Services               West / Services / R2, Oct
L7     C1        2026-11-05   999.00  P1       R1    –                          partial November: not used
L8     C1        2026-12-01   500.00  P1       R1    –                          after the period: not used
L9     C3        2026-10-20    25.00  P9       –     –                          (none) everywhere, Oct
=====  ========  ==========  =======  =======  ====  =========================  ==========================

C1 is in East, C2 in West, C3 has no customer record; P1 is Software, P2 Hardware, P9 unknown; R1 is in
Team East, R2 in Team West.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
import pytest

from salesperf.analyses.forecast.queries import last_complete_day, sales_cells, sales_series
from salesperf.core.periods import parse_period
from salesperf.data.engine import embedded

ORDERS = pd.DataFrame(
    [
        ("L1", "C1", "2026-07-05", 100.00, "P1", "R1", None, None, "completed"),
        ("L2", "C1", "2026-07-20", 50.00, "P2", "R1", None, None, "completed"),
        ("L3", "C2", "2026-09-10", 200.00, "P1", "R2", "North", None, "completed"),
        ("L4", "C1", "2026-09-12", -30.00, "P1", "R1", None, None, "returned"),
        ("L5", "C2", "2026-10-03", 80.00, "P2", "R2", None, None, "cancelled"),
        ("L6", "C2", "2026-10-08", 40.00, "P2", "R2", None, "Services", "completed"),
        ("L7", "C1", "2026-11-05", 999.00, "P1", "R1", None, None, "completed"),
        ("L8", "C1", "2026-12-01", 500.00, "P1", "R1", None, None, "completed"),
        ("L9", "C3", "2026-10-20", 25.00, "P9", None, None, None, "completed"),
    ],
    columns=["order_id", "customer_id", "order_date", "amount", "product_id", "rep_id", "region", "category",
             "status"],
).astype({"order_date": "datetime64[ns]", "region": "string", "category": "string", "rep_id": "string"})
CUSTOMERS = pd.DataFrame({"customer_id": ["C1", "C2"], "region": ["East", "West"]})
PRODUCTS = pd.DataFrame({"product_id": ["P1", "P2"], "category": ["Software", "Hardware"]})
REPS = pd.DataFrame({"rep_id": ["R1", "R2"], "team": ["Team East", "Team West"]})
NOVEMBER, RUN_DAY = parse_period("2026-11"), date(2026, 11, 15)
JUL, AUG, SEP, OCT = (pd.Timestamp(d) for d in ("2026-07-31", "2026-08-31", "2026-09-30", "2026-10-31"))

#: Every series by hand: (unique_id, {period end: y}); zero-filled from the first activity to October (every
#: series had activity within the last 12 months, so all are active up to the last complete period).
EXPECTED = {
    "total": {JUL: 150.0, AUG: 0.0, SEP: 170.0, OCT: 65.0},  # 100+50; -; 200-30; 40+25 (L5 cancelled)
    "region/East": {JUL: 150.0, AUG: 0.0, SEP: -30.0, OCT: 0.0},
    "region/North": {SEP: 200.0, OCT: 0.0},  # the line's own region before the customer's West
    "region/West": {OCT: 40.0},
    "region/(none)": {OCT: 25.0},
    "category/Software": {JUL: 100.0, AUG: 0.0, SEP: 170.0, OCT: 0.0},
    "category/Hardware": {JUL: 50.0, AUG: 0.0, SEP: 0.0, OCT: 0.0},
    "category/Services": {OCT: 40.0},  # the line's own category before the product's Hardware
    "category/(none)": {OCT: 25.0},
    "region/East/category/Software": {JUL: 100.0, AUG: 0.0, SEP: -30.0, OCT: 0.0},
    "region/East/category/Hardware": {JUL: 50.0, AUG: 0.0, SEP: 0.0, OCT: 0.0},
    "region/North/category/Software": {SEP: 200.0, OCT: 0.0},
    "region/West/category/Services": {OCT: 40.0},
    "region/(none)/category/(none)": {OCT: 25.0},
    "team/Team East": {JUL: 150.0, AUG: 0.0, SEP: -30.0, OCT: 0.0},
    "team/Team East/rep/R1": {JUL: 150.0, AUG: 0.0, SEP: -30.0, OCT: 0.0},
    "team/Team West": {SEP: 200.0, OCT: 40.0},
    "team/Team West/rep/R2": {SEP: 200.0, OCT: 40.0},
    "team/(none)": {OCT: 25.0},
    "team/(none)/rep/(none)": {OCT: 25.0},
}


def engine_of(**tables):
    """An embedded engine holding the given frames as tables (the validated shape: statuses lower-case,
    returns negative)."""
    con = duckdb.connect()
    for name, frame in tables.items():
        con.register("frame", frame)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
        con.unregister("frame")
    return embedded(con)


@pytest.fixture(scope="module")
def company():
    return engine_of(orders=ORDERS, customers=CUSTOMERS, products=PRODUCTS, reps=REPS)


def as_dict(history: pd.DataFrame) -> dict:
    return {uid: dict(zip(rows["ds"], rows["y"], strict=True)) for uid, rows in history.groupby("unique_id")}


def test_every_series_is_worked_out_by_hand(company):
    series = sales_series(company, NOVEMBER, RUN_DAY)
    assert as_dict(series.history) == EXPECTED
    assert series.last_period == OCT and series.absent == ()
    assert (series.freq, series.season_length, series.grain) == ("ME", 12, "month")
    assert series.levels["active"].all()
    levels = series.levels.set_index("unique_id")["level"]
    assert levels["total"] == "total" and levels["region/East/category/Software"] == "cell"
    assert levels["team/Team West"] == "team" and levels["team/Team West/rep/R2"] == "rep"


def test_one_row_per_cell_and_period_from_the_engine(company):
    cells = sales_cells(company, NOVEMBER, RUN_DAY)
    # Jul: (East, Software, R1), (East, Hardware, R1); Sep: (North, Software, R2), (East, Software, R1);
    # Oct: (West, Services, R2), ((none) x4)
    assert len(cells) == 6 and cells["y"].sum() == pytest.approx(385.0)  # 150 + 170 + 65
    assert cells["period"].max() == OCT


def test_a_closed_report_period_is_its_own_last_point(company):
    october = parse_period("2026-10")
    assert last_complete_day(october, RUN_DAY) == date(2026, 10, 31)
    assert last_complete_day(NOVEMBER, RUN_DAY) == date(2026, 10, 31)  # November is partial on the 15th
    assert last_complete_day(NOVEMBER, date(2026, 11, 30)) == date(2026, 11, 30)
    series = sales_series(company, parse_period("2026-09"), RUN_DAY)
    assert as_dict(series.history)["total"] == {JUL: 150.0, AUG: 0.0, SEP: 170.0}


def test_quarters_end_on_the_quarter_end(company):
    # Q3 2026 ended on 30 September, before the run day: one point, 150 + 170; Q4 (partial) is not a point
    series = sales_series(company, parse_period("2026-Q3"), RUN_DAY)
    assert as_dict(series.history)["total"] == {pd.Timestamp("2026-09-30"): 320.0}
    assert series.freq == "QE" and series.season_length == 4


def test_weeks_end_on_sunday(company):
    # week 41 of 2026 is 5-11 October: L6 (Thu 8 Oct) is its only line; week 40 (28 Sep-4 Oct) holds the
    # cancelled L5 only, week 37 (7-13 Sep) L3 and L4: 200 - 30
    series = sales_series(company, parse_period("2026-W41"), RUN_DAY)
    total = as_dict(series.history)["total"]
    assert min(total) == pd.Timestamp("2026-07-05")  # Sunday ending the week of L1
    assert total[pd.Timestamp("2026-09-13")] == 170.0 and total[pd.Timestamp("2026-10-11")] == 40.0
    assert total[pd.Timestamp("2026-10-04")] == 0.0 and max(total) == pd.Timestamp("2026-10-11")
    assert series.freq == "W-SUN" and all(d.dayofweek == 6 for d in total)


def test_orders_only_has_the_total_alone_and_says_which_levels_are_missing():
    orders = ORDERS[["customer_id", "order_date", "amount", "status"]]
    series = sales_series(engine_of(orders=orders), NOVEMBER, RUN_DAY)
    assert as_dict(series.history) == {"total": EXPECTED["total"]}
    assert series.absent == (
        ("region", ("orders.region", "customers.region")),
        ("category", ("orders.category", "products.category")),
        ("rep", ("orders.rep_id",)),
        ("team", ("reps.team",)),
    )
    assert list(series.structures) == ["cuts"] and series.structures["cuts"].bottom == ["total"]


def test_reps_without_teams_hang_under_the_total(company):
    orders = ORDERS.drop(columns=["region", "category"])
    series = sales_series(engine_of(orders=orders, customers=CUSTOMERS), NOVEMBER, RUN_DAY)
    ids = set(series.history["unique_id"])
    assert ids == {"total", "region/East", "region/West", "region/(none)", "rep/R1", "rep/R2", "rep/(none)"}
    assert as_dict(series.history)["region/East"] == {JUL: 150.0, AUG: 0.0, SEP: -30.0, OCT: 0.0}
    assert [name for name, _ in series.absent] == ["category", "team"]


def test_no_line_before_the_cut_gives_empty_series():
    series = sales_series(engine_of(orders=ORDERS[ORDERS["order_id"] == "L8"]), NOVEMBER, RUN_DAY)
    assert series.history.empty and series.last_period is None and series.structures == {}


def test_the_summing_matrices_sum_the_cells(company):
    series = sales_series(company, NOVEMBER, RUN_DAY)
    cuts = series.structures["cuts"]
    S = cuts.S.set_index("unique_id")
    assert list(S.index[:1]) == ["total"] and list(S.index[-len(cuts.bottom):]) == cuts.bottom
    assert S.loc["category/Software"].to_dict() == {
        b: float(b.endswith("/category/Software")) for b in cuts.bottom
    }
    assert sorted(cuts.tags) == ["category", "cell", "region", "total"]
    reps = series.structures["reps"].S.set_index("unique_id")
    assert reps.loc["team/Team West"].sum() == 1 and reps.loc["total"].sum() == 3

"""Commission plans: every payroll component on a hand-computed fixture, the what-if, and validation errors
that name the file and the key."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from salesperf.analyses.reps.incentives import (
    TOTAL,
    add_total_row,
    check_payroll,
    load_plan,
    payroll,
    plan_from_dict,
    what_if,
)
from salesperf.core.errors import UserError
from salesperf.core.expr import counted_line
from salesperf.data.dataset import open_dataset
from salesperf.data.importer import run_import

REPO = Path(__file__).resolve().parents[2]

PLAN = {
    "name": "Test plan",
    "base": {"rate": 0.05},
    "decelerator": {"below_attainment": 0.5, "rate": 0.025},
    "accelerators": [{"above_attainment": 1.0, "rate": 0.08}, {"above_attainment": 1.5, "rate": 0.10}],
    "cap": {"attainment": 2.0, "payout": 250},
    "product_bonus": {"Software": 0.02},
    "team_bonus": {"team_attainment": 1.0, "amount": 100},
    "clawback": {"share": 1.0},
}
FLAT = {"name": "Flat 6 %", "base": {"rate": 0.06}}

BOOKINGS = pd.DataFrame(
    [
        ("A", "2026-01", "Hardware", 1200.0),
        ("A", "2026-01", "Software", 300.0),
        ("B", "2026-01", "Hardware", 400.0),
        ("C", "2026-01", "Hardware", 5000.0),
        ("D", "2026-01", "Hardware", 999.99),
        ("A", "2026-02", "Hardware", 800.0),
        ("C", "2026-02", "Hardware", 2000.0),
        ("D", "2026-02", "Hardware", 500.0),
    ],
    columns=["rep_id", "period", "category", "amount"],
)
QUOTAS = pd.DataFrame(
    [
        ("A", "2026-01", 1000.0),
        ("B", "2026-01", 1000.0),
        ("C", "2026-01", 2000.0),
        ("D", "2026-01", 1000.0),
        ("A", "2026-02", 1000.0),
        ("B", "2026-02", 1000.0),
        ("C", "2026-02", 2000.0),
    ],  # D has no quota in February
    columns=["rep_id", "period", "quota"],
)
RETURNS = pd.DataFrame(
    [
        ("A", "2026-02", "2026-02", "Hardware", 100.0),  # same month: netted in February's bookings
        ("A", "2026-02", "2026-01", "Software", -300.0),  # January's order: clawback (sign ignored)
        ("B", "2026-02", "2026-01", "Hardware", 300.0),  # B's January returns add up to 600 > 400 booked
        ("B", "2026-03", "2026-01", "Hardware", 300.0),
        ("E", "2026-02", "2025-12", "Hardware", 50.0),  # an order of a month the payroll never paid
    ],
    columns=["rep_id", "period", "order_period", "category", "amount"],
)
TEAMS = pd.DataFrame({"rep_id": ["A", "B", "C", "D", "E"], "team": ["T1", "T1", "T1", "T2", "T2"]})


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return payroll(plan_from_dict(PLAN), BOOKINGS, QUOTAS, RETURNS, TEAMS).set_index(["rep_id", "period"])


def test_base_and_accelerator_tiers(table):
    # A, January: booked 1,200 + 300 = 1,500 on a 1,000 quota -> attainment 1.5
    #   base = 5 % x 1,000 = 50.00; accelerator = 8 % x (1,500 - 1,000) = 40.00 (the 10 % band starts at 1,500)
    a = table.loc[("A", "2026-01")]
    assert (a.bookings, a.quota, a.attainment) == (1500.0, 1000.0, 1.5)
    assert (a.base, a.accelerator) == (50.00, 40.00)
    # C, February: 2,000 on 2,000 -> exactly 100 %: base 5 % x 2,000 = 100.00, no accelerator
    assert (table.loc[("C", "2026-02")].base, table.loc[("C", "2026-02")].accelerator) == (100.00, 0.0)


def test_attainment_cap_and_payout_cap(table):
    # C, January: 5,000 on 2,000 (250 %), counted up to cap.attainment 2.0 x 2,000 = 4,000
    #   base 5 % x 2,000 = 100.00; accelerator 8 % x 1,000 (100-150 %) + 10 % x 1,000 (150-200 %) = 180.00
    #   base + accelerator + product bonus = 280.00 > cap.payout 250 -> capped = -30.00
    c = table.loc[("C", "2026-01")]
    assert (c.base, c.accelerator, c.product_bonus, c.capped) == (100.00, 180.00, 0.0, -30.00)
    assert c.payout == 100 + 180 - 30 + 100  # + the team bonus (below): 350.00


def test_decelerator(table):
    # B, January: 400 on 1,000 (40 % < 50 %) -> the decelerated 2.5 %: 0.025 x 400 = 10.00
    assert table.loc[("B", "2026-01")].base == 10.00


def test_product_bonus(table):
    # A, January: Software 300 x 2 % = 6.00; Hardware has no bonus
    assert table.loc[("A", "2026-01")].product_bonus == 6.00


def test_team_bonus(table):
    # T1, January: booked 1,500 + 400 + 5,000 = 6,900 >= quota 1,000 + 1,000 + 2,000 = 4,000 -> 100 each
    # T1, February: 700 + 0 + 2,000 = 2,700 < 4,000 -> none
    # T2, January: D alone, 999.99 < 1,000 -> none; D in February has no quota -> never a team bonus
    assert [table.loc[(r, "2026-01")].team_bonus for r in "ABCD"] == [100.0, 100.0, 100.0, 0.0]
    assert [table.loc[(r, "2026-02")].team_bonus for r in "ABCD"] == [0.0, 0.0, 0.0, 0.0]


def test_same_month_return_nets_and_no_quota_earns_the_base_rate(table):
    # A, February: 800 booked - 100 returned the same month = 700 -> 5 % = 35.00 (70 %: no decelerator)
    a = table.loc[("A", "2026-02")]
    assert (a.bookings, a.attainment, a.base) == (700.0, 0.7, 35.00)
    # D, February: no quota -> 5 % of 500 = 25.00, attainment unknown
    d = table.loc[("D", "2026-02")]
    assert d.base == 25.00 and np.isnan(d.quota) and np.isnan(d.attainment)


def test_rounding_to_the_cent(table):
    # D, January: 5 % x 999.99 = 49.9995 -> 50.00 (nearest cent, halves away from zero)
    assert table.loc[("D", "2026-01")].base == 50.00


def test_clawback(table):
    # A: January paid 50 + 40 + 6 = 96.00 on 1,500 booked (0.064 per unit); 300 returned -> -19.20
    assert table.loc[("A", "2026-02")].clawback == -19.20
    assert table.loc[("A", "2026-02")].payout == 35.00 - 19.20
    # B: January paid 10.00 on 400 (0.025 per unit); 300 returned in February -> -7.50; another 300 in March
    # would take 7.50 more, but only 10.00 - 7.50 = 2.50 is left of what January paid -> -2.50
    assert table.loc[("B", "2026-02")].clawback == -7.50
    assert table.loc[("B", "2026-03")].clawback == -2.50
    # E: December 2025 is outside the payroll, nothing was paid by it -> nothing taken back
    assert table.loc[("E", "2026-02")].clawback == 0.0


def test_payroll_adds_up_to_the_total(table):
    # Jan A 50 + 40 + 6 + 100 = 196; B 10 + 100 = 110; C 350; D 50
    # Feb A 35 - 19.20 = 15.80; B -7.50; C 100; D 25; E 0;  Mar B -2.50  -> 836.80
    with_total = add_total_row(table.reset_index())
    check_payroll(with_total)
    total = with_total[with_total["rep_id"] == TOTAL].iloc[0]
    assert total.payout == pytest.approx(836.80, abs=1e-9)
    assert total.clawback == pytest.approx(-29.20, abs=1e-9)
    broken = with_total.copy()
    broken.loc[0, "payout"] += 0.01
    with pytest.raises(ValueError, match="does not add up"):
        check_payroll(broken)


def test_what_if():
    # Flat 6 % on commissionable bookings, nothing else:
    #   A 1,500 + 700 = 2,200 -> 132.00 (was 196 + 15.80 = 211.80: -79.80)
    #   B 400 -> 24.00 (was 110 - 7.50 - 2.50 = 100.00: -76.00)
    #   C 5,000 + 2,000 -> 420.00 (was 350 + 100 = 450: -30.00)
    #   D 999.99 x 6 % = 59.9994 -> 60.00, + 500 x 6 % = 30.00 -> 90.00 (was 75.00: +15.00); E 0 -> 0
    #   totals 836.80 -> 666.00: -170.80
    result = what_if(plan_from_dict(PLAN), plan_from_dict(FLAT), BOOKINGS, QUOTAS, RETURNS, TEAMS)
    diff = result.per_rep.set_index("rep_id")["difference"]
    assert diff.to_dict() == {"D": 15.0, "E": 0.0, "C": -30.0, "B": -76.0, "A": -79.8}
    s = result.summary
    assert (s.total_current, s.total_alternative, s.difference) == (836.80, 666.00, -170.80)
    assert (s.reps_gaining, s.reps_losing, s.reps_unchanged) == (1, 3, 1)
    assert s.largest_gain == ("D", 15.0) and s.largest_loss == ("A", -79.8)
    # booked 1,500 + 400 + 5,000 + 999.99 + 700 + 2,000 + 500 = 11,099.99
    assert s.cost_share_alternative == pytest.approx(666.00 / 11_099.99)


def test_packaged_and_example_plans_are_valid():
    standard, accelerated = load_plan(), load_plan(REPO / "examples/plans/accelerated.yml")
    assert standard.base_rate == 0.05 and [t.above_attainment for t in standard.accelerators] == [1.0, 1.5]
    assert accelerated.name == "Accelerated plan" and accelerated.cap_payout is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"base": {"rate": 1.5}}, "base.rate: expected a number in [0.0, 1.0], got 1.5"),
        ({"base": None}, "base: missing or not a mapping"),
        (
            {"decelerator": {"below_attainment": 0.5, "rate": 0.06}},
            "decelerator.rate: 0.06 is above base.rate",
        ),
        (
            {
                "accelerators": [
                    {"above_attainment": 1.2, "rate": 0.1},
                    {"above_attainment": 1.1, "rate": 0.1},
                ]
            },
            "accelerators[1].above_attainment: 1.1 is not above the previous tier's 1.2",
        ),
        ({"accelerators": [{"above_attainment": 1.0, "rate": -0.1}]}, "accelerators[0].rate: expected"),
        ({"accelerators": [{"above_attainment": 0.9, "rate": 0.1}]}, "accelerators[0].above_attainment"),
        ({"accelerators": [{"above_attainment": 2.5, "rate": 0.1}]}, "is not below cap.attainment 2.0"),
        ({"cap": {"attainment": 0.8}}, "cap.attainment: expected a number in [1.0, inf], got 0.8"),
        ({"product_bonus": {"Software": "2 %"}}, "product_bonus.Software: expected a number"),
        ({"team_bonus": {"amount": 100}}, "team_bonus.team_attainment: missing"),
        ({"clawback": {"share": 2}}, "clawback.share: expected a number in [0.0, 1.0], got 2"),
        ({"clawback": {"shar": 1}}, "clawback: unknown key 'shar'"),
        ({"acelerators": []}, "unknown key 'acelerators'"),
    ],
)
def test_validation_names_the_file_and_key(tmp_path, change, message):
    path = tmp_path / "myplan.yml"
    path.write_text(yaml.safe_dump({**PLAN, **change}), encoding="utf-8")
    with pytest.raises(UserError) as caught:
        load_plan(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in caught.value.message
    assert "\n" not in str(caught.value)


def test_a_key_given_twice_and_a_missing_file(tmp_path):
    path = tmp_path / "twice.yml"
    path.write_text("base:\n  rate: 0.05\nbase:\n  rate: 0.06\n", encoding="utf-8")
    with pytest.raises(UserError, match="twice.yml.*'base'"):
        load_plan(path)
    with pytest.raises(UserError, match="nofile.yml: commission plan file not found"):
        load_plan(tmp_path / "nofile.yml")


AW = REPO / "tests" / "fixtures" / "real" / "adventureworks"
AW_MAPPING = REPO / "examples" / "mappings" / "adventureworks_dw2020_reseller_sales.yml"


def test_adventureworks_payroll_equals_an_independent_computation(tmp_path):
    """The AdventureWorks reseller slice (real sales people, monthly targets, product categories; no returns)
    imported through its mapping, bookings per rep, month and category from an Ibis query, paid under a plan
    of 3 % base and 1 % on Bikes: the payroll equals 3 % of each rep-month's Sales + 1 % of its Bikes Sales,
    computed with pandas from the CSV files, to the cent per row."""
    run_import([AW], tmp_path / "aw", mapping=AW_MAPPING)
    ds = open_dataset(tmp_path / "aw", "2020-05", "2020-07-01")
    lines = ds.engine.table("orders")
    lines = lines.filter(counted_line(lines) & (lines.amount > 0))
    month = lines.order_date.year() * 100 + lines.order_date.month()
    booked = ds.engine.fetch(
        lines.group_by(rep_id=lines.rep_id, month=month, category=lines.category).aggregate(
            amount=lines.amount.sum()
        )
    )
    booked["period"] = [f"{m // 100}-{m % 100:02d}" for m in booked["month"]]
    quotas = ds.engine.fetch(ds.engine.table("targets").select("rep_id", "period", "quota"))
    plan = plan_from_dict({"base": {"rate": 0.03}, "product_bonus": {"Bikes": 0.01}})
    table = payroll(plan, booked, quotas).set_index(["rep_id", "period"])

    sales = pd.read_csv(AW / "Sales.csv", sep="|", dtype={"EmployeeKey": str, "ProductKey": str})
    people = pd.read_csv(AW / "Salesperson.csv", sep="|", dtype=str)
    products = pd.read_csv(AW / "Product.csv", sep="|", dtype={"ProductKey": str})
    sales = sales.merge(people[["EmployeeKey", "EmployeeID"]]).merge(products[["ProductKey", "Category"]])
    sales["period"] = sales["OrderDate"].str[:7].str.replace("/", "-")
    sales["bikes"] = sales["Sales"].where(sales["Category"] == "Bikes", 0.0)
    expected = sales.groupby(["EmployeeID", "period"])[["Sales", "bikes"]].sum()
    assert expected["Sales"].sum() > 0 and len(expected) > 100
    for (rep, period), row in expected.iterrows():
        got = table.loc[(rep, period)]
        assert got.bookings == pytest.approx(row["Sales"], abs=0.005)
        assert got.base == pytest.approx(round(0.03 * row["Sales"], 2), abs=0.011)  # float sums: 1 cent
        assert got.product_bonus == pytest.approx(round(0.01 * row["bikes"], 2), abs=0.011)
    # rep-months with a target and no sale are in the payroll with nothing to pay
    idle = table[table["bookings"] == 0]
    assert len(idle) > 0 and (idle["payout"] == 0).all() and idle["quota"].notna().all()
    check_payroll(add_total_row(table.reset_index()))


def test_thin_inputs_orders_only():
    # no category, no returns, no teams: A 1,000 on 800 (125 %) under the packaged plan:
    #   base 5 % x 800 = 40.00; accelerator 8 % x 200 = 16.00 -> 56.00; no product or team bonus
    # B has no quota: 5 % x 50 = 2.50
    bookings = pd.DataFrame({"rep_id": ["A", "B"], "period": ["2026-01"] * 2, "amount": [1000.0, 50.0]})
    quotas = pd.DataFrame({"rep_id": ["A"], "period": ["2026-01"], "quota": [800.0]})
    table = payroll(load_plan(), bookings, quotas)
    assert table["payout"].tolist() == [56.00, 2.50]
    assert (
        table["team"].isna().all() and (table[["product_bonus", "team_bonus", "clawback"]] == 0).all().all()
    )

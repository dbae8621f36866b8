"""Property-based tests of commission plans: generated valid plans and histories. Every plan that passes
validation is monotone (rates are at least 0 and the decelerated rate is at most the base rate), so: more
bookings on the same quota (higher attainment) never pay less; clawbacks never take back more than was paid on
the returned orders; the payroll adds up to the total to the cent.

Frames are tiny and there is no engine: the file runs in a few seconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesperf.analyses.reps.incentives import (
    COMPONENTS,
    TOTAL,
    add_total_row,
    check_payroll,
    payroll,
    plan_from_dict,
)

SETTINGS = settings(
    max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
CATEGORIES = ("Hardware", "Software", "Services")
PERIODS = ("2026-01", "2026-02", "2026-03", "2026-04")
money = st.integers(0, 5_000_000).map(lambda cents: cents / 100)  # 0.00 .. 50,000.00
rates = st.integers(0, 300).map(lambda x: x / 1000)  # 0 .. 30 %


@st.composite
def plans(draw) -> dict:
    """A valid plan with any subset of the optional parts."""
    base = draw(rates)
    plan: dict = {"name": "generated", "base": {"rate": base}}
    if draw(st.booleans()):
        below = draw(st.integers(1, 100)) / 100
        plan["decelerator"] = {"below_attainment": below, "rate": draw(st.integers(0, 1000)) / 1000 * base}
    steps = draw(st.lists(st.integers(1, 50), max_size=3))
    thresholds = list(np.cumsum([0, *steps[1:]]) / 100 + 1.0) if steps else []
    plan["accelerators"] = [{"above_attainment": float(t), "rate": draw(rates)} for t in thresholds]
    if draw(st.booleans()):
        low = thresholds[-1] if thresholds else 1.0
        plan["cap"] = {"attainment": low + draw(st.integers(1, 150)) / 100}
        if draw(st.booleans()):
            plan["cap"]["payout"] = draw(money)
    plan["product_bonus"] = {c: draw(rates) for c in draw(st.sets(st.sampled_from(CATEGORIES)))}
    if draw(st.booleans()):
        plan["team_bonus"] = {"team_attainment": draw(st.integers(50, 150)) / 100, "amount": draw(money)}
    plan["clawback"] = {"share": draw(st.integers(0, 100)) / 100}
    return plan


def _bookings(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["rep_id", "period", "category", "amount"])


@SETTINGS
@given(plans(), money.filter(lambda q: q > 0), st.lists(money, min_size=3, max_size=3), st.sampled_from(CATEGORIES),
       money)  # fmt: skip
def test_more_bookings_never_pay_less(plan, quota, amounts, category, extra):
    """On the same quota, adding ``extra`` to one category (attainment up) never lowers the payout, nor any
    component but the (negative) cap."""
    rules = plan_from_dict(plan)
    quotas = pd.DataFrame({"rep_id": ["A"], "period": ["2026-01"], "quota": [quota]})
    teams = pd.DataFrame({"rep_id": ["A"], "team": ["T"]})
    before = _bookings([("A", "2026-01", c, a) for c, a in zip(CATEGORIES, amounts, strict=True)])
    after = before.assign(amount=before["amount"] + np.where(before["category"] == category, extra, 0.0))
    low, high = (payroll(rules, b, quotas, teams=teams).iloc[0] for b in (before, after))
    assert high.attainment >= low.attainment
    assert high.payout >= low.payout
    for part in ("base", "accelerator", "product_bonus", "team_bonus"):
        assert high[part] >= low[part]


@st.composite
def histories(draw) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Bookings, quotas and returns of reps A and B over four months; returns (of orders of any earlier or the
    same month) can add up to more than was booked."""
    booked, quotas, returned = [], [], []
    for rep in ("A", "B"):
        for i, period in enumerate(PERIODS):
            for category in draw(st.sets(st.sampled_from(CATEGORIES))):
                booked.append((rep, period, category, draw(money)))
            if draw(st.booleans()):
                quotas.append((rep, period, draw(money)))
            for _ in range(draw(st.integers(0, 3))):
                order_period = PERIODS[draw(st.integers(0, i))]
                returned.append((rep, period, order_period, draw(st.sampled_from(CATEGORIES)), draw(money)))
    return (
        _bookings(booked),
        pd.DataFrame(quotas, columns=["rep_id", "period", "quota"]),
        pd.DataFrame(returned, columns=["rep_id", "period", "order_period", "category", "amount"]),
    )


TEAMS = pd.DataFrame({"rep_id": ["A", "B"], "team": ["T", "T"]})


@SETTINGS
@given(plans(), histories(), st.sampled_from(["A", "B"]), st.sampled_from(PERIODS[:-1]))
def test_clawbacks_never_exceed_what_was_paid(plan, history, rep, order_period):
    """The clawbacks of the returns of ``rep``'s orders of ``order_period`` never exceed what that month paid
    (base + accelerator + product bonus after the cap), nor ``share`` x the returned amount x what it paid per
    unit booked. Only those returns (and same-month ones, which claw nothing back) are passed, so every
    clawback of the payroll is theirs."""
    bookings, quotas, returns = history
    rules = plan_from_dict(plan)
    late = returns[(returns["rep_id"] == rep) & (returns["order_period"] == order_period)]
    late = late[late["period"] > order_period]
    same_month = returns[returns["period"] == returns["order_period"]]
    table = payroll(rules, bookings, quotas, pd.concat([late, same_month]), TEAMS)
    table = table.set_index(["rep_id", "period"])
    taken = -table["clawback"].sum()
    assert taken >= 0
    if (rep, order_period) not in table.index:
        assert taken == 0
        return
    month = table.loc[(rep, order_period)]
    paid = month.base + month.accelerator + month.product_bonus + month.capped
    assert taken <= paid + 1e-9
    per_unit = paid / month.bookings if month.bookings > 0 else 0.0
    # each return row is rounded to the cent: at most half a cent more per row
    assert taken <= rules.clawback_share * late["amount"].sum() * per_unit + 0.005 * len(late) + 1e-9


@SETTINGS
@given(plans(), histories())
def test_payroll_adds_up_to_the_total(plan, history):
    """Every row's payout is the sum of its components in whole cents, and the total row is the sum of the
    rows, for every column."""
    bookings, quotas, returns = history
    table = payroll(plan_from_dict(plan), bookings, quotas, returns, TEAMS)
    cents = {c: np.round(table[c].to_numpy() * 100).astype(np.int64) for c in (*COMPONENTS, "payout")}
    for column, values in cents.items():
        assert np.allclose(table[column].to_numpy(), values / 100, rtol=0, atol=1e-9)  # whole cents
    assert (sum(cents[c] for c in COMPONENTS) == cents["payout"]).all()
    with_total = add_total_row(table)
    check_payroll(with_total)
    total = with_total[with_total["rep_id"] == TOTAL].iloc[0]
    assert round(total.payout * 100) == cents["payout"].sum()
    assert not table.duplicated(["rep_id", "period"]).any()

"""Quota fairness and next quotas: hand-computed fixtures, and the demo company's planted quota stretch."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from salesperf.analyses.reps.quotas import (
    ALL,
    attainment,
    attainment_spread,
    implied_stretch,
    quota_vs_potential,
    split_potential,
    suggest_quotas,
    team_of,
)
from salesperf.core.expr import counted_line
from salesperf.data.dataset import open_dataset

BOOKINGS = pd.DataFrame(
    [
        ("R1", "2026-01", 900.0),
        ("R1", "2026-02", 1100.0),
        ("R1", "2026-03", 1300.0),
        ("R2", "2026-01", 500.0),
        ("R2", "2026-02", 500.0),  # R2 books nothing in March
        ("R3", "2026-01", 2000.0),
        ("R3", "2026-02", 1000.0),
        ("R3", "2026-03", 1500.0),
        ("M", "2026-01", 700.0),  # a manager covering a vacancy: no quota, left out
    ],
    columns=["rep_id", "period", "bookings"],
)
QUOTAS = pd.DataFrame(
    [
        (r, p, q)
        for r, q in (("R1", 1000.0), ("R2", 1000.0), ("R3", 1500.0))
        for p in ("2026-01", "2026-02", "2026-03")
    ]
    + [("R4", "2026-03", 0.0)],  # a zero quota is no quota
    columns=["rep_id", "period", "quota"],
)
TEAMS = pd.DataFrame({"rep_id": ["R1", "R2", "R3", "R5"], "team": ["T1", "T1", "T2", "T2"]})


@pytest.fixture(scope="module")
def months() -> pd.DataFrame:
    return attainment(BOOKINGS, QUOTAS)


def test_attainment_per_month(months):
    # R1 900/1000, 1100/1000, 1300/1000; R2 500/1000, 500/1000, 0/1000; R3 2000/1500, 1000/1500, 1500/1500
    expected = [0.9, 1.1, 1.3, 0.5, 0.5, 0.0, 4 / 3, 2 / 3, 1.0]
    assert months["attainment"].tolist() == pytest.approx(expected)
    assert set(months["rep_id"]) == {"R1", "R2", "R3"}


def test_implied_stretch(months):
    # quota 3,000 + 3,000 + 4,500 = 10,500 over bookings 3,300 + 1,000 + 4,500 = 8,800 (M's 700 had no quota)
    assert implied_stretch(months) == pytest.approx(10_500 / 8_800)


def test_attainment_spread(months):
    spread = attainment_spread(months, TEAMS)
    # per rep: R1 3,300/3,000 = 1.1; R3 4,500/4,500 = 1.0; R2 1,000/3,000 = 1/3
    assert spread.per_rep["rep_id"].tolist() == ["R1", "R3", "R2"]
    assert spread.per_rep["attainment"].tolist() == pytest.approx([1.1, 1.0, 1 / 3])
    # company: 2 of 3 at >= 100 %; sorted [1/3, 1, 1.1]: median 1.0, p25 = 1/3 + 0.5 x (1 - 1/3) = 2/3,
    # p75 = 1 + 0.5 x 0.1 = 1.05 (linear interpolation), spread 1.05 - 2/3
    assert (spread.reps, spread.share_at_or_above, spread.median) == (3, pytest.approx(2 / 3), 1.0)
    assert spread.spread == pytest.approx(1.05 - 2 / 3)
    teams = spread.by_team.set_index("team")
    # T1 = R1 + R2: 1 of 2 at >= 100 %, median (1.1 + 1/3) / 2, team attainment 4,300 / 6,000
    assert teams.loc["T1", "at_or_above"] == 0.5
    assert teams.loc["T1", "median"] == pytest.approx((1.1 + 1 / 3) / 2)
    assert teams.loc["T1", "attainment"] == pytest.approx(4_300 / 6_000)
    assert teams.loc[ALL, "attainment"] == pytest.approx(8_800 / 10_500)
    assert (teams.loc["T2", "reps"], teams.loc[ALL, "lowest"]) == (1, pytest.approx(1 / 3))


def test_quota_vs_potential():
    quotas = pd.DataFrame({"rep_id": ["R1", "R2", "R3", "R5"], "quota": [3000.0, 3000.0, 4500.0, 1200.0]})
    potential = pd.DataFrame({"rep_id": ["R1", "R2", "R3"], "potential": [2500.0, 1250.0, 5000.0]})
    per_rep, by_team = quota_vs_potential(quotas, potential, TEAMS)
    reps = per_rep.set_index("rep_id")
    # company ratio over the reps with a potential: 10,500 / 8,750 = 1.2
    # R1 3,000/2,500 = 1.2 -> relative 1.0, in line; R2 3,000/1,250 = 2.4 -> 2.0 > 1.25, far above;
    # R3 4,500/5,000 = 0.9 -> 0.75 < 1/1.25 = 0.8, far below; R5 has no potential
    assert reps["ratio"].tolist()[:3] == pytest.approx([2.4, 1.2, 0.9])
    assert reps["relative"].tolist()[:3] == pytest.approx([2.0, 1.0, 0.75])
    assert reps["flag"].to_dict() == {
        "R2": "far_above",
        "R1": "in_line",
        "R3": "far_below",
        "R5": "no_potential",
    }
    teams = by_team.set_index("team")
    # T1: 6,000 / 3,750 = 1.6 (relative 1.6 / 1.2); T2: R3 only has a potential: 4,500 / 5,000 = 0.9
    assert teams.loc["T1", "ratio"] == pytest.approx(1.6)
    assert teams.loc["T1", "relative"] == pytest.approx(1.6 / 1.2)
    assert (teams.loc["T2", "ratio"], teams.loc["T2", "quota"]) == (pytest.approx(0.9), 5700.0)
    assert (teams.loc[ALL, "ratio"], teams.loc[ALL, "far_above"], teams.loc[ALL, "far_below"]) == (
        pytest.approx(1.2),
        1,
        1,
    )


def test_split_potential():
    # North 1,000 split by trailing bookings 300 : 100 : 0 (a negative net counts as 0) -> 750, 250, 0;
    # South has no bookings: split evenly, 400 / 2; West has no potential: its rep is left out
    history = pd.DataFrame(
        {
            "rep_id": ["N1", "N2", "N3", "S1", "S2", "W1"],
            "group": ["North", "North", "North", "South", "South", "West"],
            "bookings": [300.0, 100.0, -50.0, 0.0, 0.0, 10.0],
        }
    )
    regions = pd.DataFrame({"group": ["North", "South"], "potential": [1000.0, 400.0]})
    out = split_potential(regions, history).set_index("rep_id")
    assert out["potential"].to_dict() == pytest.approx(
        {"N1": 750.0, "N2": 250.0, "N3": 0.0, "S1": 200.0, "S2": 200.0}
    )


def test_suggest_quotas():
    current = pd.DataFrame({"rep_id": ["R1", "R2", "R3", "R6"], "quota": [1000.0, 1000.0, 1500.0, np.nan]})
    potential = pd.DataFrame(
        {"rep_id": ["R1", "R2", "R3", "R6"], "potential": [1000.0, 400.0, 1400.0, 800.0]}
    )
    trailing = pd.DataFrame({"rep_id": ["R1", "R2", "R3"], "attainment": [1.1, 1 / 3, 1.0]})
    out, method = suggest_quotas(current, potential, trailing, stretch=1.1, teams=TEAMS)
    rows = out.set_index("rep_id")
    # R1: potential 1.1 x 1,000 = 1,100; history 1.1 x 1,000 x 1.1 = 1,210; blend 1,155 > 1,000 x 1.15 -> 1,150
    # R2: 1.1 x 400 = 440; 1.1 x 1,000 / 3 = 366.67; blend 403.33 < 1,000 x 0.85 -> 850
    # R3: 1.1 x 1,400 = 1,540; 1.1 x 1,500 x 1.0 = 1,650; blend 1,595, inside [1,275, 1,725] -> 1,595 (+6.33 %)
    # R6: no current quota: 1.1 x 800 = 880, no limit
    assert rows["blended"].tolist() == pytest.approx([1155.0, (440 + 1100 / 3) / 2, 1595.0, 880.0])
    assert rows["suggested_quota"].tolist() == pytest.approx([1150.0, 850.0, 1595.0, 880.0])
    assert rows["limited"].tolist() == [True, True, False, False]
    assert rows.loc["R3", "change"] == pytest.approx(1595 / 1500 - 1)
    assert np.isnan(rows.loc["R6", "change"])
    assert (method.stretch, method.potential_weight, method.max_change) == (1.1, 0.5, 0.15)


def test_team_of_a_rep_who_changed_teams():
    history = pd.DataFrame({"rep_id": ["R1", "R1"], "period": ["2026-01", "2026-02"], "team": ["T1", "T2"]})
    rows = pd.DataFrame({"rep_id": ["R1", "R1"], "period": ["2026-02", "2026-01"]})
    assert team_of(rows, history).tolist() == ["T2", "T1"]
    assert team_of(rows[["rep_id"]], history).tolist() == ["T2", "T2"]  # no period: the latest team


def test_demo_quota_stretch_is_recovered(demo_company):
    """The demo sets each quota to QUOTA_STRETCH x the territory's share of buyers x the company's revenue
    smoothed over 3 months (salesperf/data/demo/targets.py). A territory's share of buyers is not its share of
    revenue, so one rep's quota / bookings is far from the stretch (0.3 to 3.6 on the demo), but the shares
    add up to 1 over the territories, so over all rep-months with a quota total quota / total bookings is the
    stretch. Tolerance 3 %: the smoothing at the window's ends, quotas rounded to 100, and net order amounts
    (returns) against the gross purchase value the quotas were made from move it by about 1 % (1.108 on the
    2,000-customer demo, seed 0)."""
    truth = json.loads((demo_company / "truth.json").read_text())
    ds = open_dataset(demo_company, "2026-10", "2026-11-27")
    orders = ds.engine.table("orders")
    orders = orders.filter(counted_line(orders) & orders.rep_id.notnull())
    month = orders.order_date.year() * 100 + orders.order_date.month()
    per_month = ds.engine.fetch(
        orders.group_by(rep_id=orders.rep_id, month=month).aggregate(bookings=orders.amount.sum())
    )
    bookings = per_month.assign(period=per_month["month"].map(lambda m: f"{m // 100:04d}-{m % 100:02d}"))[
        ["rep_id", "period", "bookings"]
    ]
    targets = ds.engine.fetch(ds.engine.table("targets").select("rep_id", "period", "quota"))
    stretch = implied_stretch(attainment(bookings, targets))
    assert stretch == pytest.approx(truth["quota_stretch"], rel=0.03)
    # the same quotas are unfair rep by rep: compared with the rep's own bookings as potential, some reps are
    # far above and some far below the company's ratio (territory weights are buyer counts, not revenue)
    window = attainment(bookings, targets)
    per_rep = window.groupby("rep_id", as_index=False)[["quota", "bookings"]].sum()
    flags, _ = quota_vs_potential(per_rep, per_rep.rename(columns={"bookings": "potential"}))
    assert {"far_above", "far_below"} <= set(flags["flag"])

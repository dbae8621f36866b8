"""Training impact: difference-in-differences on hand-computable panels and deals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesperf.analyses.reps.training import after_training, deal_did, panel_did, training_impact
from salesperf.core.errors import UserError

BOOKINGS = {"bookings": ("bookings", None)}


def test_two_by_two_panel_did_by_hand():
    """Reps A, B trained in February; C, D never. Bookings January -> February: A 10 -> 16, B 12 -> 20,
    C 10 -> 12, D 14 -> 15. ATT = mean(6, 8) - mean(2, 1) = 7 - 1.5 = 5.5. Influence per rep: treated
    (gap - ATT) / 2 with gaps 6 - 1.5 = 4.5 and 8 - 1.5 = 6.5 -> -0.5, +0.5; controls -(change - 1.5) / 2 ->
    -0.25, +0.25; se = sqrt(0.25 + 0.25 + 0.0625 + 0.0625) = sqrt(0.625) = 0.7906."""
    panel = pd.DataFrame(
        {
            "rep_id": ["A", "A", "B", "B", "C", "C", "D", "D"],
            "period": ["2024-01", "2024-02"] * 4,
            "bookings": [10, 16, 12, 20, 10, 12, 14, 15],
        }
    )
    training = pd.DataFrame({"rep_id": ["A", "B"], "completed_at": ["2024-02-01", "2024-02-20"]})
    result = panel_did(panel, training, kpis=BOOKINGS, months_per_period=1)
    row = result.overall.iloc[0]
    assert row["effect"] == pytest.approx(5.5)
    assert row["se"] == pytest.approx(np.sqrt(0.625))
    assert row["low"] == pytest.approx(5.5 - 1.959964 * np.sqrt(0.625), abs=1e-5)
    assert (row["treated_reps"], row["control_reps"], row["n"]) == (2, 2, 8)
    assert result.event_time["event_time"].tolist() == [0]
    assert result.pretrend["df"].iloc[0] == 0 and np.isnan(result.pretrend["p_value"].iloc[0])


def test_staggered_constant_effect_is_recovered_exactly_without_noise():
    """y = rep level + period shock + 3 x trained, cohorts trained in period 2 (reps a, b) and 4 (c), d and e
    never, 6 periods: every group-time effect after training is exactly 3 and every placebo exactly 0 (not-yet
    treated c serves as a control for cohort 2 before period 4), with zero standard errors."""
    level = {"a": 5.0, "b": 1.0, "c": -2.0, "d": 7.0, "e": 0.0}
    shock = [0.0, 4.0, -1.0, 2.5, 6.0, 3.0]
    start = {"a": 2, "b": 2, "c": 4}
    rows = [
        {
            "rep_id": rep,
            "period": f"2024-{t + 1:02d}",
            "bookings": level[rep] + shock[t] + 3.0 * (rep in start and t >= start[rep]),
        }
        for rep in level
        for t in range(6)
    ]
    training = pd.DataFrame(
        {"rep_id": list(start), "completed_at": [f"2024-{t + 1:02d}-10" for t in start.values()]}
    )
    result = panel_did(pd.DataFrame(rows), training, kpis=BOOKINGS, months_per_period=1, leads=3)
    overall = result.overall.iloc[0]
    assert overall["effect"] == pytest.approx(3.0) and overall["se"] == pytest.approx(0.0, abs=1e-12)
    events = result.event_time.set_index("event_time")["effect"]
    assert events[events.index >= 0].to_numpy() == pytest.approx(3.0)
    assert events[events.index < -1].to_numpy() == pytest.approx(0.0, abs=1e-12)
    assert sorted(events.index) == [-3, -2, 0, 1, 2, 3]


def test_win_rate_kpi_is_wins_over_deals_of_the_period():
    """A ratio KPI sums numerator and denominator over the months of a period first: quarter 1 of rep T has
    1/2 and 3/4 -> 4/6; the 2x2 by hand: T 4/6 -> 5/6 (+1/6), C 1/2 -> 1/2 (0): ATT = 1/6."""
    panel = pd.DataFrame(
        {
            "rep_id": ["T", "T", "T", "C", "C"],
            "period": ["2024-01", "2024-02", "2024-04", "2024-01", "2024-04"],
            "deals": [2, 4, 6, 4, 2],
            "wins": [1, 3, 5, 2, 1],
        }
    )
    training = pd.DataFrame({"rep_id": ["T"], "completed_at": ["2024-04-01"]})
    result = panel_did(panel, training)
    assert result.overall["kpi"].tolist() == ["win_rate"]
    assert result.overall["effect"].iloc[0] == pytest.approx(1 / 6)


def deal_rows(rep, created, wins, losses, source="inbound"):
    return [
        {"rep_id": rep, "created_at": created, "won": w, "source": source} for w in [1] * wins + [0] * losses
    ]


def test_two_by_two_deal_logit_did_by_hand():
    """Rep T trained on 2024-04-01; C never. Q1 2024: T wins 16 of 40 (0.4), C 20 of 40 (0.5); Q2: T 28 of 40
    (0.7), C 22 of 40 (0.55). Rep, period and one treated cell saturate the four cells, so the effect is the
    difference in differences of log-odds: (logit .7 - logit .4) - (logit .55 - logit .5) = 1.2528 - 0.2007
    = 1.0521, with the Woolf variance sum 1 / (n p q) = 1/9.6 + 1/8.4 + 1/10 + 1/9.9 = 0.42423 (se 0.6513;
    two clusters cannot be clustered, so the model-based one is used). The counterfactual win probability
    of T's Q2 deals is expit(logit .7 - 1.0521) = 0.4490: change 0.2510. The ridge on the rep effects
    (Normal(0, 10^2)) moves these by < 1e-3."""
    deals = pd.DataFrame(
        deal_rows("T", "2024-01-15", 16, 24)
        + deal_rows("C", "2024-01-15", 20, 20)
        + deal_rows("T", "2024-04-15", 28, 12)
        + deal_rows("C", "2024-04-15", 22, 18)
    )
    training = pd.DataFrame({"rep_id": ["T"], "completed_at": ["2024-04-01"], "program": ["Consultative"]})
    result = deal_did(deals, training)
    overall = result.overall.set_index("kpi")
    assert overall.loc["win_log_odds", "effect"] == pytest.approx(1.0521, abs=1e-3)
    assert overall.loc["win_log_odds", "se"] == pytest.approx(0.6513, abs=1e-3)
    assert overall.loc["win_probability", "effect"] == pytest.approx(0.2510, abs=1e-3)
    assert overall.loc["win_log_odds", "n"] == 160
    assert result.event_time["event_time"].tolist() == [0]
    assert training_impact(deals, None, training).overall["effect"].tolist() == pytest.approx(
        overall["effect"].tolist()
    )


def test_small_cells_and_reps_without_a_before_are_left_out():
    """T2 completed before any of its deals (no reference deals): it cannot be compared with itself and is left
    out; the estimate equals the 2x2 without it. A cell with fewer than min_cell_deals deals is dropped."""
    base = (
        deal_rows("T", "2024-01-15", 16, 24)
        + deal_rows("C", "2024-01-15", 20, 20)
        + deal_rows("T", "2024-04-15", 28, 12)
        + deal_rows("C", "2024-04-15", 22, 18)
    )
    extra = deal_rows("T2", "2024-04-20", 20, 2)
    training = pd.DataFrame({"rep_id": ["T", "T2"], "completed_at": ["2024-04-01", "2024-01-02"]})
    with_t2 = deal_did(pd.DataFrame(base + extra), training).overall.set_index("kpi")
    assert with_t2.loc["win_log_odds", "effect"] == pytest.approx(1.0521, abs=1e-3)
    assert with_t2.loc["win_log_odds", "treated_reps"] == 1
    few = deal_did(pd.DataFrame(base), training, min_cell_deals=41)
    assert few.overall.empty


def test_after_training_flag_and_bad_input():
    deals = pd.DataFrame(
        {"rep_id": ["A", "A", "B"], "created_at": ["2024-03-31", "2024-04-01", "2024-05-01"]}
    )
    training = pd.DataFrame({"rep_id": ["A"], "completed_at": ["2024-04-01"]})
    assert after_training(deals, training).tolist() == [0.0, 1.0, 0.0]
    with pytest.raises(UserError, match="completed_at"):
        after_training(deals, training.rename(columns={"completed_at": "date"}))
    with pytest.raises(UserError, match="created_at"):
        deal_did(deals.drop(columns="created_at").assign(won=1), training)


def test_a_month_without_any_row_keeps_the_periods_aligned():
    """The same 2x2 as by hand above with an empty month between (no rep has a row in 2024-02): periods are
    January (0), February (1, empty) and March (2); training in March makes cohort 2 with base period 1, which
    nobody observed, so nothing is estimable and no effect is reported - not a shifted one."""
    panel = pd.DataFrame(
        {
            "rep_id": ["A", "A", "C", "C"],
            "period": ["2024-01", "2024-03"] * 2,
            "bookings": [10, 16, 10, 12],
        }
    )
    training = pd.DataFrame({"rep_id": ["A"], "completed_at": ["2024-03-05"]})
    result = panel_did(panel, training, kpis=BOOKINGS, months_per_period=1)
    assert np.isnan(result.overall["effect"].iloc[0]) and result.event_time.empty
    two_months = panel_did(panel, training, kpis=BOOKINGS, months_per_period=2)  # Jan-Feb, Mar-Apr
    assert two_months.overall["effect"].iloc[0] == pytest.approx((16 - 10) - (12 - 10))


def test_staggered_cohorts_with_different_effects_average_to_the_deal_weighted_effect():
    """Cohort 1 (6 reps, trained at the start of Q3 2024) gains +1.0 on the win log-odds, cohort 2 (6 reps,
    Q6) +0.2; 4 reps never train; a rising market adds 0.15 per quarter and reps differ by -0.6 .. +0.6. Each
    rep closes 150 deals a quarter for 8 quarters. The deal-weighted truth is (36 x 1.0 + 18 x 0.2) / 54 =
    0.733 (post rep-quarters 6 x 6 and 6 x 3); per-cohort cells keep the late cohort from using the early one
    as a control. Simulated once with a fixed seed: the estimate is 0.67 with a standard error of 0.06; a
    single-indicator two-way fixed-effects logit on the same deals gives 0.56, outside the 0.12 tolerance."""
    rng = np.random.default_rng(2)
    reps = [f"A{i}" for i in range(6)] + [f"B{i}" for i in range(6)] + [f"N{i}" for i in range(4)]
    level = dict(zip(reps, np.linspace(-0.6, 0.6, len(reps)), strict=True))
    start = {**{r: 2 for r in reps[:6]}, **{r: 5 for r in reps[6:12]}}
    effect = {**{r: 1.0 for r in reps[:6]}, **{r: 0.2 for r in reps[6:12]}}
    rows = []
    for rep in reps:
        for quarter in range(8):
            trained = rep in start and quarter >= start[rep]
            eta = level[rep] + 0.15 * quarter + (effect[rep] if trained else 0.0)
            won = rng.random(150) < 1 / (1 + np.exp(-eta))
            day = pd.Timestamp("2024-01-01") + pd.DateOffset(months=3 * quarter) + pd.Timedelta(days=20)
            rows += [{"rep_id": rep, "created_at": day, "won": w} for w in won]
    completed = [(pd.Timestamp("2024-01-01") + pd.DateOffset(months=3 * q)).date() for q in start.values()]
    training = pd.DataFrame({"rep_id": list(start), "completed_at": completed})
    overall = deal_did(pd.DataFrame(rows), training).overall.set_index("kpi")
    assert overall.loc["win_log_odds", "effect"] == pytest.approx(0.7333, abs=0.12)
    assert overall.loc["win_log_odds", "se"] < 0.08
    assert (overall.loc["win_log_odds", "treated_reps"], overall.loc["win_log_odds", "control_reps"]) == (
        12,
        4,
    )

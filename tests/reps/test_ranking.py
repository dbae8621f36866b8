"""Fair ranking: shrinkage, covariate adjustment, intervals, rank intervals and verdicts on hand-made deals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from salesperf.analyses.reps.ranking import ABOVE, BELOW, NO_DEALS, NOISE, RepLogit, fair_ranking
from salesperf.core.errors import UserError


def deals_of(counts: dict[str, list[tuple[int, int, str]]]) -> pd.DataFrame:
    """{rep: [(wins, losses, source), ...]} -> one row per closed deal."""
    rows = []
    for rep, groups in counts.items():
        for wins, losses, source in groups:
            rows += [{"rep_id": rep, "won": True, "source": source}] * wins
            rows += [{"rep_id": rep, "won": False, "source": source}] * losses
    return pd.DataFrame(rows)


def test_three_well_separated_reps_rank_exactly_with_verdicts():
    """1 000 deals each at 10 %, 50 % and 90 %: skills near logit(0.1) = -2.197, 0, +2.197 (tau ~1.8 barely
    shrinks 1 000 deals: posterior sd ~0.03-0.06), the team mean ~0, so the top is above, the bottom below and
    the middle indistinguishable; no draw can swap them, so the rank intervals are the points."""
    deals = deals_of({"A": [(100, 900, "x")], "B": [(500, 500, "x")], "C": [(900, 100, "x")]})
    reps = pd.DataFrame({"rep_id": ["A", "B", "C"], "team": "T", "attainment": [1.2, 0.9, 0.7]})
    table = fair_ranking(deals, reps).ranking.set_index("rep_id")
    assert list(table.index) == ["C", "B", "A"]
    assert table.loc["C", "skill"] == pytest.approx(2.197, abs=0.05)
    assert table.loc["B", "skill"] == pytest.approx(0.0, abs=0.05)
    assert table.loc["A", "skill"] == pytest.approx(-2.197, abs=0.05)
    assert table["rank"].tolist() == [1, 2, 3]
    assert table["rank_low"].tolist() == [1, 2, 3] and table["rank_high"].tolist() == [1, 2, 3]
    assert table["verdict"].tolist() == [ABOVE, NOISE, BELOW]
    assert table.loc["A", "raw_win_rate"] == pytest.approx(0.1)
    assert table.loc["A", "attainment"] == 1.2
    assert table.loc["C", "adjusted_win_rate"] == pytest.approx(0.9, abs=0.01)


def test_few_deals_are_shrunk_more_and_get_wider_intervals():
    """Reps S (5 of 6 won) and L (50 of 60) have the same raw rate 0.833; ten others win 30 of 60. The small
    sample is pulled further toward the average and its interval is wider: the posterior variance is
    1 / (sum p q + 1 / tau^2), about 1 / (1.2 + 1 / tau^2) for S against 1 / (8.3 + 1 / tau^2) for L, so S's is
    at least 1.2 x L's width for any tau^2 below ~0.4 (the fit gives ~0.1)."""
    counts = {f"R{i}": [(30, 30, "x")] for i in range(10)}
    counts |= {"S": [(5, 1, "x")], "L": [(50, 10, "x")]}
    table = fair_ranking(deals_of(counts)).ranking.set_index("rep_id")
    small, large = table.loc["S"], table.loc["L"]
    assert small["raw_win_rate"] == pytest.approx(large["raw_win_rate"])
    assert 0 < small["skill"] < large["skill"]
    assert small["skill_high"] - small["skill_low"] > 1.2 * (large["skill_high"] - large["skill_low"])
    assert large["rank"] == 1
    assert small["rank_high"] - small["rank_low"] > large["rank_high"] - large["rank_low"]


def test_a_rep_given_hard_leads_is_ranked_above_one_given_easy_leads_at_the_same_raw_rate():
    """Ten reps work both sources: referral wins 80 %, outbound 20 % (a log-odds gap of 2 x 1.386). Rep E gets
    only referrals and wins 60 %, rep H only outbound and also wins 60 %: H beat expectations, E fell short."""
    counts = {f"R{i}": [(40, 10, "referral"), (10, 40, "outbound")] for i in range(10)}
    counts |= {"E": [(30, 20, "referral")], "H": [(30, 20, "outbound")]}
    result = fair_ranking(deals_of(counts))
    table = result.ranking.set_index("rep_id")
    assert table.loc["E", "raw_win_rate"] == table.loc["H", "raw_win_rate"] == 0.6
    assert table.loc["H", "skill"] > 0.5 > -0.5 > table.loc["E", "skill"]
    assert table.loc["H", "verdict"] == ABOVE and table.loc["E", "verdict"] == BELOW
    terms = result.coefficients.set_index("term")["estimate"]
    referral = terms["source_referral"]  # outbound is the reference level
    assert referral == pytest.approx(logit(0.8) - logit(0.2), abs=0.25)


def test_fitted_skills_solve_the_stated_penalised_score_equations():
    """At the fit, each rep's skill u_r satisfies sum_i (y_i - p_i) = u_r / tau^2 (posterior mode of the
    random-intercept logit) and the fixed effects' score is zero; tau^2 = mean(u^2 + v)."""
    rng = np.random.default_rng(5)
    rep = rng.integers(0, 12, 600)
    x = np.column_stack([np.ones(600), rng.normal(size=600)])
    y = (rng.random(600) < expit(0.3 * rep / 12 + 0.5 * x[:, 1])).astype(float)
    model = RepLogit(ridge=1 / 0.3).fit(y, np.ones(600), x, rep, 12)
    p = expit(model.alpha_[rep] + x @ model.beta_)
    assert np.bincount(rep, y - p) == pytest.approx(model.alpha_ / 0.3, abs=1e-6)
    assert x.T @ (y - p) == pytest.approx([0, 0], abs=1e-6)


def test_reps_without_deals_and_missing_columns():
    deals = deals_of({"A": [(3, 3, "x")], "B": [(4, 2, "x")]})
    reps = pd.DataFrame({"rep_id": ["A", "B", "Z"], "team": ["T", "T", "T"]})
    table = fair_ranking(deals, reps).ranking.set_index("rep_id")
    assert table.loc["Z", "verdict"] == NO_DEALS and table.loc["Z", "deals"] == 0
    assert np.isnan(table.loc["Z", "skill"]) and np.isnan(table.loc["Z", "rank"])
    with pytest.raises(UserError, match="won"):
        fair_ranking(deals.drop(columns="won"))

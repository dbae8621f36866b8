"""Fair ranking: shrinkage, covariate adjustment, intervals, rank intervals and verdicts on hand-made deals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from salesperf.analyses.reps.ranking import (
    ABOVE,
    BELOW,
    NO_DEALS,
    NOISE,
    RepLogit,
    fair_ranking,
    fair_ranking_periods,
)
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


def test_rep_period_ranking_is_the_maximum_likelihood_one_way_random_effects_model():
    """Balanced one-way layout, 3 reps x 4 periods: A 1 2 3 2 (mean 2), B 4 5 6 5 (5), C 7 8 9 8 (8). ML
    estimates: sigma^2 = SSW / (k (n - 1)) = 6 / 9 = 0.6667; tau^2 = (SSB / k - sigma^2) / n with SSB / k =
    4 x (9 + 0 + 9) / 3 = 24, so tau^2 = 5.8333. Shrinkage n / (n + sigma^2 / tau^2) = 4 / 4.11429 = 0.97222:
    skill A = -3 x 0.97222 = -2.9167; posterior variance 1 / (4 / 0.6667 + 1 / 5.8333) = 0.16204."""
    panel = pd.DataFrame(
        {
            "rep_id": list("AAAABBBBCCCC"),
            "log_attainment": [1, 2, 3, 2, 4, 5, 6, 5, 7, 8, 9, 8],
            "team": "T",
        }
    )
    result = fair_ranking_periods(panel, panel[["rep_id", "team"]].drop_duplicates(), categorical=())
    table = result.ranking.set_index("rep_id")
    assert result.between_rep_sd**2 == pytest.approx(5.8333, abs=1e-3)
    assert table.loc["A", "skill"] == pytest.approx(-2.9167, abs=1e-3)
    assert table.loc["C", "skill"] == pytest.approx(2.9167, abs=1e-3)
    half_width = 1.959964 * np.sqrt(0.16204)
    assert table.loc["A", "skill_high"] - table.loc["A", "skill"] == pytest.approx(half_width, abs=1e-3)
    assert table["verdict"].tolist() == [ABOVE, NOISE, BELOW]
    assert table.loc["B", "raw_mean"] == 5 and table.loc["B", "periods"] == 4


def test_rep_period_ranking_matches_statsmodels_mixedlm_on_an_unbalanced_panel():
    """An independent implementation: statsmodels' MixedLM (maximum likelihood, random rep intercept) on an
    unbalanced panel with period effects gives the same between-rep sd and the same predicted rep effects."""
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(11)
    level = rng.normal(0, 0.5, 8)
    rows = [
        {
            "rep_id": f"R{r}",
            "period": f"2024-{m:02d}",
            "log_attainment": level[r] + 0.1 * m + rng.normal(0, 0.4),
        }
        for r in range(8)
        for m in range(1, 13)
        if rng.random() < 0.75
    ]
    panel = pd.DataFrame(rows)
    ours = fair_ranking_periods(panel, categorical=("period",))
    reference = smf.mixedlm("log_attainment ~ C(period)", panel, groups=panel["rep_id"]).fit(reml=False)
    assert ours.between_rep_sd > 0.2  # away from the boundary, so the comparison means something
    assert ours.between_rep_sd**2 == pytest.approx(float(reference.cov_re.iloc[0, 0]), rel=1e-3)
    effects = {rep: float(v.iloc[0]) for rep, v in reference.random_effects.items()}
    table = ours.ranking.set_index("rep_id")
    assert table["skill"].to_dict() == pytest.approx(effects, abs=1e-4)

"""The pipeline outlook recovers the demo company's planted win model (truth.json "win_model").

What the demo plants (salesperf/data/demo/pipeline.py): deal i is won with probability
``p_i = logistic(base + rep_skill + training_effect x trained-before-created + source_effect + log_amount_effect x
log(amount / group median))``; a won deal passes every open stage; a lost deal drops out at stage k with probability
``lost_at_stage_share[k]`` after spending its full time there; times in stages are Gamma draws independent of the
outcome. So a deal reaches stage S with probability ``p_i + (1 - p_i) x tail_S`` (``tail_S``: the lost shares of S
and the later stages), and because a deal's time in S does not depend on its outcome, the rate of "open at S at an
as-of point, later won" that the outlook learns equals ``sum p_i / sum (p_i + (1 - p_i) tail_S)`` over the deals.
The test computes that from truth.json and the demo's own opportunities table, not from salesperf's code.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from support import DEMO_END, PERIOD, TODAY, read_table

from salesperf.analyses.forecast import pipeline_queries as q
from salesperf.analyses.forecast.pipeline import ALL_TEAMS
from salesperf.data.dataset import open_dataset


def planted_stage_rates(folder) -> dict:
    """Stage → the win rate of deals open at the stage that the planted model implies, over the Expansion deals
    closed by the demo's end (New Business deals never close)."""
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    model = truth["win_model"]
    deals = read_table(folder, "opportunities")
    deals = deals[deals["status"].isin(["won", "lost"]) & (deals["pipeline"] == "Expansion")]
    segment = deals["customer_id"].map(truth["customer_segment"])
    median = segment.map({g: v["opportunity_median_amount"] for g, v in truth["groups"].items()})
    trained_at = pd.to_datetime(deals["rep_id"].map(truth["training"]["completed_at"]))
    trained = (trained_at.notna() & (deals["created_at"] >= trained_at)).astype(float)
    log_odds = (
        model["base_log_odds"]
        + deals["rep_id"].map(truth["rep_skill"])
        + truth["training_effect"] * trained
        + deals["source"].map(model["source_effect"])
        + model["log_amount_effect"] * np.log(deals["amount"] / median)
    )
    p = 1.0 / (1.0 + np.exp(-log_odds.to_numpy(dtype=float)))
    assert not np.isnan(p).any()
    shares = model["lost_at_stage_share"]
    stages = list(shares)
    rates = {}
    for i, stage in enumerate(stages):
        tail = sum(shares[s] for s in stages[i:])
        rates[stage] = p.sum() / (p + (1 - p) * tail).sum()
    return rates


def _expansion(outlook):
    """The stage rows of the Expansion pipeline (New Business deals never close: no rate is learned for them)."""
    return outlook.stages[outlook.stages["pipeline"] == "Expansion"].set_index("stage")


@pytest.fixture(scope="module")
def outlook(demo_company):
    ds = open_dataset(demo_company / "catalog.yml", PERIOD, TODAY)
    return q.read_outlook(ds.engine, DEMO_END, "month", 3)


def test_learned_stage_win_rates_match_the_planted_model(outlook, demo_company):
    # Tolerance: 3 standard errors of a rate learned from `deals` closed deals: each deal's outcome is one draw,
    # weighted by its looks at the stage (its time there: a Gamma(2) draw, whose squared coefficient of variation
    # 1/2 makes the variance of the weighted share 1.5 x the binomial p(1-p)/deals); about 0.08-0.11 at 1,000
    # customers. Over seeds 1-4 and 7 of the demo the raw rates fell within 2.1 binomial errors.
    # Left out of the tolerance, both small: the deals closed by the end over-represent quick losses among those
    # created in the last two months, and the demo draws wins from amounts before rounding them to 100.
    planted = planted_stage_rates(demo_company)
    stages = _expansion(outlook)
    for stage, rate in planted.items():
        row = stages.loc[stage]
        se = math.sqrt(1.5 * rate * (1 - rate) / row["deals"])
        assert abs(row["raw_rate"] - rate) < 3 * se, (stage, row["raw_rate"], rate, se)
        # shrinkage only moves a rate toward the overall one
        low, high = sorted([row["raw_rate"], outlook.overall_rate])
        assert low - 1e-12 <= row["win_rate"] <= high + 1e-12


def test_later_stages_win_more_as_planted(outlook):
    # the planted rates rise with the stage (fewer lost deals get there); the learned ones must too
    order = ["Qualification", "Needs Analysis", "Proposal", "Negotiation"]
    rates = _expansion(outlook).loc[order, "win_rate"]
    assert rates.is_monotonic_increasing


def test_the_crm_probability_shown_is_the_typed_one(outlook, demo_company):
    # the demo types each open stage's fixed CRM probability (truth.json crm_stage_probability)
    typed = json.loads((demo_company / "truth.json").read_text(encoding="utf-8"))["win_model"]
    stages = _expansion(outlook)
    for stage, probability in typed["crm_stage_probability"].items():
        if stage in stages.index and stages.loc[stage, "open_deals"] > 0:
            assert stages.loc[stage, "crm_probability"] == pytest.approx(probability)


def test_open_deals_and_their_amount_are_the_tables(outlook, demo_company):
    # every deal open at the end is in one stage row, with its amount; only never-closing New Business deals
    # sit in a stage longer than any won deal did (the demo plants them open forever), so only they are stale
    deals = read_table(demo_company, "opportunities")
    open_ = deals[deals["status"] == "open"]
    assert outlook.stages["open_deals"].sum() == len(open_)
    assert outlook.stages["open_amount"].sum() == pytest.approx(open_["amount"].sum())
    stale = outlook.stages["stale_deals"].sum()
    assert 0 < stale <= (open_["pipeline"] == "New Business").sum()


def test_new_business_deals_that_never_close_are_not_forecast(outlook):
    # the demo's New Business deals stay open forever: no closed history, so no learned rate and no bookings
    stages = outlook.stages.set_index("pipeline")
    assert stages.loc["New Business", "win_rate"].isna().all() and "pipeline_without_history" in outlook.notes
    assert stages.loc["Expansion", "win_rate"].notna().all()


def test_expected_bookings_match_what_the_demo_then_booked(demo_company):
    # A backtest on the demo's own later history: as of each month end April-September 2026, the bookings expected
    # from the pipeline in the next month against the amount of the deals open then that were won in that month.
    # Tolerance: 3 standard deviations of the sum, from the outlook's own Bernoulli variances (the months' draws
    # are independent); over seeds 1-3 and 7 and twelve month ends the sum fell within 0.7 of them (before the
    # timing was conditioned on time in stage rather than on total age, it was 10 % high, up to 1.8 of them).
    ds = open_dataset(demo_company / "catalog.yml", PERIOD, TODAY)
    deals = read_table(demo_company, "opportunities")
    expected = actual = variance = 0.0
    for as_of in pd.date_range("2026-04-30", "2026-09-30", freq="ME"):
        total = q.read_outlook(ds.engine, as_of.date(), "month", 1).bookings.set_index("team").loc[ALL_TEAMS]
        month = (as_of + pd.Timedelta(days=1)).strftime("%Y-%m")
        won = deals[(deals["created_at"] <= as_of) & (deals["status"] == "won")]
        actual += won.loc[won["closed_at"].dt.strftime("%Y-%m") == month, "amount"].sum()
        expected, variance = expected + total["expected"], variance + total["sd"] ** 2
    assert actual > 0 and abs(actual - expected) < 3 * math.sqrt(variance), (
        actual,
        expected,
        math.sqrt(variance),
    )

"""Planted effects of the demo company recovered by the forecast analysis (truth.json of salesperf.data.demo):
the monthly seasonality (a multiplier on every purchase's value and on the number of new buyers) and the growth
of sales (new buyers 15 % more each year, on top of the customers kept)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from salesperf.analyses import registry
from salesperf.analyses.base import Context
from salesperf.data import demo as demo_module
from salesperf.data.dataset import open_dataset


@pytest.fixture(scope="module")
def forecast_of_demo(tmp_path_factory):
    # 20,000 customers: at 1,000 the few key accounts' large orders hide the season in single months
    folder = demo_module.generate(tmp_path_factory.mktemp("demo"), customers=20_000, seed=5, end="2026-10-31")
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    ds = open_dataset(folder / "catalog.yml", "2026-10", "2026-11-27")
    return registry.run("forecast", ds, Context("en"))[0], truth


def test_the_planted_seasonality_is_recovered(forecast_of_demo):
    detail, truth = forecast_of_demo
    comp = detail.selection.components
    last_year = comp[(comp["unique_id"] == "total") & (comp["part"] == "history")]
    assert len(last_year) == 12
    factor = (1 + last_year["season"] / last_year["trend"]).to_numpy()  # additive season as a multiplier
    planted = np.array([truth["seasonality"][str(m)] for m in last_year["ds"].dt.month])
    # seeds 5, 6 and 8 gave correlations 0.979-0.982 and factors within 0.07-0.095 of the planted ones (one year
    # of monthly sums of gamma-distributed order values is noisy: a tolerance of 0.12 leaves room for that)
    assert np.corrcoef(np.log(factor), np.log(planted))[0, 1] > 0.95
    assert np.abs(factor - planted).max() < 0.12
    # the trough and the peak are where they were planted
    months = last_year["ds"].dt.month.to_numpy()
    assert months[factor.argmin()] == 2 and months[factor.argmax()] in (11, 12)


def test_the_planted_growth_shows_as_a_rising_trend(forecast_of_demo):
    detail, _ = forecast_of_demo
    comp = detail.selection.components
    trend = comp[(comp["unique_id"] == "total") & (comp["part"] == "history")]["trend"].to_numpy()
    # new buyers grow 15 % a year and earlier buyers keep buying: sales grow faster than 15 % (seeds 5, 6, 8:
    # +25 %, +37 %, +34 % over the last eleven months); no planted effect makes them fall
    assert trend[-1] / trend[0] > 1.15

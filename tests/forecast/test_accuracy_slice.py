"""The automatic choice (``salesperf.forecast.forecast``) on the committed competition slices, official test part.

tests/fixtures/forecast holds every k-th series of M3 monthly / quarterly and tourism monthly / quarterly with their
official train/test split (PROVENANCE.md). Per set, mean over the slice's series of MASE (scaled by the in-sample
seasonal naive MAE, m = 12 / 4; the benchmark's scorer, checked by test_competition_data.py):

(a) the automatic choice beats seasonal naive by at least ``NAIVE_MARGIN`` (relative);
(b) it is no worse than statsforecast AutoETS alone (the reference figures below) + ``ETS_TOLERANCE`` (relative).

The full sets are measured by benchmarks/bench_forecast.py (BENCHMARKS.md, "Forecasting").
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "forecast"
sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_forecast as bench  # noqa: E402 - the benchmark's loader and scorer (benchmarks/ is not a package)

# Mean MASE on each slice's test part (24 / 26 / 21 / 26 series), the references:
# - seasonal naive: computed below (PROVENANCE.md: 1.2086 / 1.5797 / 1.3808 / 1.7157);
# - AutoETS alone: statsforecast 2.1.1 AutoETS(season_length=m) fitted on the training part, one forecast of the
#   horizon (benchmarks/bench_forecast.py's AutoETS method on the slice). Fitted once, not in every test run: it costs
#   ~10 s of CPU on the long tourism series.
AUTOETS_MASE = {"m3_monthly": 0.9465, "m3_quarterly": 1.2658, "tourism_monthly": 1.4434, "tourism_quarterly": 1.4696}

# (a) At least 2 % below seasonal naive's mean MASE. Measured on 2026-11-28 (commit 4507e62): 21.7 %, 18.2 %, 4.7 %,
# 10.6 % below (M3 monthly, M3 quarterly, tourism monthly, tourism quarterly). The smallest, tourism monthly, is over
# twice the margin: that slice's seasonal naive is strong (1.38, against 1.63 on the full set), so a larger margin would
# test the slice; a choice that fell back to seasonal-naive-like accuracy fails it.
NAIVE_MARGIN = 0.02
# (b) At most 5 % above AutoETS's mean MASE: about one standard error of the mean per-series difference on these
# 21-26 series (measured 4.9 %, 6.9 %, 7.3 %, 5.7 % of AutoETS's mean), so a tighter bound would test the slice's
# sampling noise; the full sets (benchmarks/bench_forecast.py, BENCHMARKS.md) are where target (b) is judged.
# Measured (commit 4507e62): -0.0 %, +2.1 %, -8.8 %, +4.3 % against AutoETS (tourism quarterly was +5.2 % at 46a7f13).
ETS_TOLERANCE = 0.05


@functools.cache
def mean_mase(name: str) -> dict[str, float]:
    """Mean MASE of the automatic choice ("auto") and of seasonal naive on one slice's official test part."""
    spec = bench.SETS[name]
    train, test = bench.load_set(FIXTURES, name)
    auto = bench.run_forecast_api(train, spec.freq, spec.horizon, spec.season_length).assign(model="auto")
    naive = bench.naive_forecasts(train, spec.horizon, spec.season_length)
    forecasts = bench.pd.concat([auto[["unique_id", "model", "ds", "yhat"]], naive], ignore_index=True)
    return bench.score(forecasts, train, test, spec.season_length).groupby("model")["mase"].mean().to_dict()


@pytest.mark.parametrize("name", list(bench.SETS))
def test_automatic_choice_beats_seasonal_naive(name):
    mase = mean_mase(name)
    assert mase["auto"] <= (1 - NAIVE_MARGIN) * mase["SeasonalNaive"], mase


@pytest.mark.parametrize("name", list(bench.SETS))
def test_automatic_choice_is_no_worse_than_autoets_alone(name):
    mase = mean_mase(name)
    assert mase["auto"] <= (1 + ETS_TOLERANCE) * AUTOETS_MASE[name], mase

"""Interval coverage, the calibration rule and conformal intervals (salesperf.analyses.forecast.intervals)."""

import numpy as np
import pandas as pd
import pytest

from salesperf.analyses.forecast import intervals as iv
from salesperf.analyses.forecast.api import select_and_forecast


def test_conformal_quantile_by_hand():
    scores = np.arange(1.0, 20)  # 1..19, n = 19
    # rank ceil((19 + 1)·0.80) = 16 → 16; ceil(20·0.95) = 19 → 19 (the largest)
    assert iv.conformal_quantile(scores, 80) == 16
    assert iv.conformal_quantile(scores, 95) == 19
    # with 9 scores, 95 % asks for rank ceil(9.5) = 10 > 9: the largest is used
    assert iv.conformal_quantile(np.arange(1.0, 10), 95) == 9
    assert iv.conformal_quantile(np.array([]), 80) == 0


def test_coverage_and_the_calibration_rule():
    y = np.array([1.0, 2, 3, 4])
    assert iv.coverage(y, np.array([0.0, 2, 4, 0]), np.array([2.0, 2, 5, 3])) == 0.5
    # 36 points: two binomial standard errors are 2·sqrt(0.8·0.2/36) = 0.1333 at 80 %, 2·sqrt(0.95·0.05/36) =
    # 0.0726 at 95 %
    assert not iv.miscalibrated(0.70, 80, 36) and iv.miscalibrated(0.66, 80, 36)
    assert not iv.miscalibrated(0.88, 95, 36) and iv.miscalibrated(0.87, 95, 36)
    assert iv.miscalibrated(1.0, 80, 36)  # too wide is miscalibrated too
    assert iv.miscalibrated(float("nan"), 80, 36)  # no interval of its own


def test_cross_fitted_coverage_scores_each_fold_against_the_others():
    # fold 0 errors 1, 1 and fold 1 errors 3, 3 (scale 1). At 50 %: fold 0 gets the other fold's quantile 3 →
    # covered; fold 1 gets 1 → not covered: coverage 0.5
    y = np.array([1.0, 1, 3, 3])
    cov, lo, hi = iv.cross_fitted_coverage(y, np.zeros(4), np.ones(4), np.array([0, 0, 1, 1]), 50)
    assert cov == 0.5
    np.testing.assert_allclose(hi, [3, 3, 1, 1])
    np.testing.assert_allclose(lo, [-3, -3, -1, -1])


def test_conformal_width_matches_known_normal_noise():
    # |e| of N(0, sd) errors: the 95 % conformal half-width estimates 1.96·sd. With 2,000 scores the sampling
    # error of that quantile is about 2 %, so 6 % tolerance (fixed seed: no flakiness).
    sd = 3.0
    errors = np.random.default_rng(0).normal(0, sd, 2000)
    bounds = iv.conformal_bounds(np.zeros(5), np.ones(5), np.abs(errors), (80, 95))
    np.testing.assert_allclose(bounds["hi-95"] - bounds["lo-95"], 2 * 1.96 * sd, rtol=0.06)
    np.testing.assert_allclose(bounds["hi-80"] - bounds["lo-80"], 2 * 1.2816 * sd, rtol=0.06)


def test_a_model_without_intervals_is_given_conformal_ones_of_the_noise_width():
    # a level of 100 with N(0, 4) noise forecast by a constant 100 and no interval of its own: the delivered
    # intervals are conformal, 95 % width 2·1.96·4 = 15.7 (400 backtest points: within 10 %)
    rng = np.random.default_rng(5)
    actual = 100 + rng.normal(0, 4, 400)
    judged = iv.delivered(np.full(400, 100.0), None, actual, np.repeat(np.arange(4), 100), (80, 95))
    assert judged["conformal"]
    width = judged["bounds"]["hi-95"] - judged["bounds"]["lo-95"]
    np.testing.assert_allclose(width, 2 * 1.96 * 4, rtol=0.10)
    assert judged["final"][95] == pytest.approx(0.95, abs=0.03)  # cross-fitted coverage near nominal


def test_end_to_end_intervals_of_a_noisy_level_series():
    # 50 + N(0, 2) noise for 120 months, 8 folds of 12 months: the chosen model's 95 % interval is about
    # 2·1.96·2 = 7.84 wide. Tolerance 20 %: the width comes from a model fitted to 120 noisy points (own
    # interval) or from 96 backtest errors (conformal), each a few percent off, and SES widens with the horizon.
    months = pd.date_range("2016-01-31", periods=120, freq="ME")
    df = pd.DataFrame({"unique_id": "n", "ds": months, "y": 50 + np.random.default_rng(1).normal(0, 2, 120)})
    sel = select_and_forecast(df, 12, "M", folds=8)
    width = (sel.forecasts["hi_95"] - sel.forecasts["lo_95"]).to_numpy()
    np.testing.assert_allclose(width, 2 * 1.96 * 2, rtol=0.20)
    cov = sel.coverage.set_index("level")
    # what is shown next to the nominal level is the backtest's empirical coverage, within 2 standard errors
    assert abs(cov.loc[95, "empirical"] - 0.95) <= 2 * np.sqrt(0.95 * 0.05 / cov.loc[95, "points"]) + 1e-9


def test_bounds_are_nested_finite_and_never_negative():
    yhat = np.array([1.0, 0.5])
    bounds = {
        "lo-80": np.array([-1.0, 0.4]),
        "hi-80": np.array([2.0, np.nan]),
        "lo-95": np.array([-3.0, 0.45]),
        "hi-95": np.array([1.5, 0.9]),
    }
    out = iv.nest_and_clip(bounds, yhat, (80, 95))
    np.testing.assert_allclose(out["lo-80"], [0, 0.4])
    np.testing.assert_allclose(out["hi-80"], [2.0, 0.5])  # NaN → the forecast itself
    np.testing.assert_allclose(out["lo-95"], [0, 0.4])  # never inside the 80 % bound
    np.testing.assert_allclose(out["hi-95"], [2.0, 0.9])

"""Routing of a series and the forecasts of hand-computable series (salesperf.analyses.forecast.models/api).

Every expected number is computed by hand in a comment; a tolerance, where there is one, says why.
"""

import numpy as np
import pandas as pd
import pytest

from salesperf.analyses.forecast import models as md
from salesperf.analyses.forecast.api import select_and_forecast

MONTHS = pd.date_range("2022-01-31", periods=48, freq="ME")


def _one(y, name="s", start="2022-01-31"):
    return pd.DataFrame({"unique_id": name, "ds": pd.date_range(start, periods=len(y), freq="ME"), "y": y})


@pytest.mark.parametrize(
    ("y", "m", "expected"),
    [
        (np.zeros(30), 12, ("empty", "all_zero")),
        (np.array([1.0, 2, 3, 4, 5]), 12, ("short", "short_few_points")),
        # 6 every third month: 30 periods from the first sale at index 2 → 28 periods / 10 sales = ADI 2.8 ≥ 1.32
        (np.tile([0.0, 0, 6], 10), 12, ("intermittent", "intermittent_adi")),
        # 20 months of sales every month: ADI 1, but fewer than 2 × 12 months → no season can be estimated
        (np.arange(1.0, 21), 12, ("short", "short_no_season")),
        (np.arange(1.0, 25), 12, ("regular", "regular")),
        # one zero in four: ADI 4/3 = 1.333 ≥ 1.32 → intermittent; one in five: 5/4 = 1.25 → regular
        (np.tile([1.0, 1, 1, 0], 8), 4, ("intermittent", "intermittent_adi")),
        (np.tile([1.0, 1, 1, 1, 0], 8), 4, ("regular", "regular")),
    ],
)
def test_routes(y, m, expected):
    assert md.classify(y, m) == expected


def test_average_demand_interval_counts_from_the_first_sale():
    # [0, 0, 5, 0, 5, 0]: from index 2, 4 periods, 2 sales → 2.0
    assert md.average_demand_interval(np.array([0.0, 0, 5, 0, 5, 0])) == 2.0
    assert md.average_demand_interval(np.zeros(4)) == float("inf")


@pytest.mark.parametrize(
    ("freq", "m"), [("M", 12), ("ME", 12), ("MS", 12), ("Q", 4), ("QE-DEC", 4), ("W", 52)]
)
def test_season_length_from_freq(freq, m):
    assert md.season_length_for(freq) == m


def test_a_constant_series_is_forecast_as_itself_with_no_spread():
    # 5.0 every month: every candidate backtests with error 0, so none beats the default (the ensemble of
    # AutoTheta and ETS), whose forecast is 5.0; the backtest errors are all 0 so the interval has width 0.
    sel = select_and_forecast(_one(np.full(36, 5.0)), 6, "M")
    fc = sel.forecasts
    assert (fc["model"] == "Ensemble").all()
    np.testing.assert_allclose(fc[["yhat", "lo_80", "hi_80", "lo_95", "hi_95"]].to_numpy(), 5.0, atol=1e-9)
    assert sel.errors.loc[sel.errors["chosen"], "mae"].item() == 0


def test_a_pure_linear_trend_is_extended():
    # y = 10 + 2t for t = 0..47 → the next 12 months are 10 + 2·48 = 106, 108, ..., 128. Within 0.5 %: the
    # candidates' trend estimates (Theta's drift, a damped trend) are not exact to the last digit.
    fc = select_and_forecast(_one(10 + 2.0 * np.arange(48)), 12, "M").forecasts
    np.testing.assert_allclose(fc["yhat"], 10 + 2.0 * np.arange(48, 60), rtol=0.005)


def test_a_pure_seasonal_pattern_is_repeated():
    # the same 12 months four times: seasonal naive forecasts it exactly (backtest error 0 in every fold), so it
    # beats the ensemble by more than the 30 % margin in every fold and is chosen
    pattern = np.array([5, 7, 9, 12, 15, 18, 20, 19, 14, 10, 7, 6.0])
    fc = select_and_forecast(_one(np.tile(pattern, 4)), 12, "M").forecasts
    assert (fc["model"] == "SeasonalNaive").all()
    np.testing.assert_allclose(fc["yhat"], pattern, atol=1e-9)
    # and the dates are the next twelve month ends after 2025-12-31
    assert list(fc["ds"]) == list(pd.date_range("2026-01-31", periods=12, freq="ME"))


def test_an_intermittent_series_gets_a_croston_family_rate():
    # 6 every third month: the demand rate is 6 / 3 = 2 a month; Croston-family forecasts are flat near it
    # (SBA's bias correction and the smoothing of the first sizes keep them within ±25 % of 2).
    sel = select_and_forecast(_one(np.tile([0.0, 0, 6], 16)), 12, "M")
    fc = sel.forecasts
    assert fc["model"].iloc[0] in {
        "CrostonSBA",
        "CrostonOptimized",
        "ADIDA",
        "IMAPA",
        "TSB",
        "HistoricAverage",
    }
    assert sel.routes["series_class"].item() == "intermittent"
    assert np.ptp(fc["yhat"]) < 1e-9 and 1.5 <= fc["yhat"].iloc[0] <= 2.5
    # no model interval: the intervals come from the backtest errors
    assert sel.coverage["conformal"].all()


def test_a_five_point_series_uses_a_simple_method_with_its_reason():
    # [1, 2, 3, 4, 5]: one-step backtest at cutoffs 3 and 4.
    # Naive: 3 → 4 and 4 → 5, errors -1, -1: MAE 1. Mean: 2 → 4 and 2.5 → 5, errors -2, -2.5: MAE 2.25.
    # MASE scale: mean |diff| of the first 3 points = 1, so MASE = MAE. Naive wins and forecasts 5.
    sel = select_and_forecast(_one(np.array([1.0, 2, 3, 4, 5])), 3, "M")
    errors = sel.errors.set_index("model")
    assert errors.loc["Naive", "mae"] == pytest.approx(1.0)
    assert errors.loc["HistoricAverage", "mae"] == pytest.approx(2.25)
    assert errors.loc["Naive", "mase"] == pytest.approx(1.0)
    assert errors.loc["Naive", "chosen"] and not errors.loc["HistoricAverage", "chosen"]
    np.testing.assert_allclose(sel.forecasts["yhat"], 5.0)
    assert sel.routes[["series_class", "reason"]].iloc[0].tolist() == ["short", "short_few_points"]


def test_an_all_zero_series_is_forecast_zero_with_its_reason():
    sel = select_and_forecast(_one(np.zeros(24)), 4, "M")
    assert (sel.forecasts["model"] == "Zero").all()
    assert (sel.forecasts[["yhat", "lo_80", "hi_80", "lo_95", "hi_95"]].to_numpy() == 0).all()
    assert sel.routes[["series_class", "reason"]].iloc[0].tolist() == ["empty", "all_zero"]


def test_a_falling_series_is_never_forecast_below_zero():
    # 100 - 3t for t = 0..29 ends at 13; the line would reach 0 at t = 33.3 (4 months ahead) and -23 by month 12.
    fc = select_and_forecast(_one(100 - 3.0 * np.arange(30)), 12, "M").forecasts
    bounds = fc[["yhat", "lo_80", "hi_80", "lo_95", "hi_95"]].to_numpy()
    assert (bounds >= 0).all()
    # the first steps follow the line (10, 7, 4, 1 within 0.5), the last ones are at the floor
    np.testing.assert_allclose(fc["yhat"].iloc[:4], [10, 7, 4, 1], atol=0.5)
    assert (fc["yhat"].iloc[5:] == 0).all()


def test_components_add_up_and_carry_the_season():
    # pattern + a trend of 1 a month: the season of the forecast repeats the history's last season
    pattern = np.array([0, 2, 4, 6, 8, 10, 10, 8, 6, 4, 2, 0.0]) - 5
    y = 50 + np.arange(48) + np.tile(pattern, 4)
    comp = select_and_forecast(_one(y), 12, "M").components
    np.testing.assert_allclose(comp["trend"] + comp["season"], comp["value"])
    hist, fut = comp[comp["part"] == "history"], comp[comp["part"] == "forecast"]
    assert len(hist) == 12 and len(fut) == 12
    np.testing.assert_allclose(fut["season"].to_numpy(), hist["season"].to_numpy())
    # STL recovers the planted season within 1 (its loess smooths the corners of the pattern)
    np.testing.assert_allclose(hist["season"].to_numpy(), pattern, atol=1.0)


def test_a_weekly_series_of_less_than_two_years_is_forecast_without_a_season():
    # 60 weeks of sales: two seasons of 52 weeks would need 104, so the route is short/no season
    weeks = pd.date_range("2025-01-05", periods=60, freq="W-SUN")
    y = 20 + np.tile([0.0, 3, 1, 4], 15)
    sel = select_and_forecast(pd.DataFrame({"unique_id": "w", "ds": weeks, "y": y}), 4, "W")
    route = sel.routes.iloc[0]
    assert (route["series_class"], route["reason"], route["season_length"]) == ("short", "short_no_season", 1)
    assert sel.forecasts["model"].iloc[0] in {"SES", "Theta", "Naive", "HistoricAverage"}
    assert list(sel.forecasts["ds"]) == list(pd.date_range(weeks[-1], periods=5, freq="W-SUN")[1:])


def test_a_regular_series_without_an_ensemble_keeps_its_best_backtested_model():
    # only one non-baseline candidate (AutoTheta) besides seasonal naive: no ensemble can be formed, so the
    # default is the lower-MASE of the two; on a straight line that is AutoTheta (seasonal naive lags 12 months)
    sel = select_and_forecast(_one(10 + 2.0 * np.arange(48)), 3, "M", models=("SeasonalNaive", "AutoTheta"))
    assert (sel.forecasts["model"] == "AutoTheta").all()
    np.testing.assert_allclose(sel.forecasts["yhat"], [106, 108, 110], rtol=0.005)

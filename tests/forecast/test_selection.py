"""The analysts' API contract and the per-series choice (salesperf.forecast, ...forecast.selection)."""

import numpy as np
import pandas as pd
import pytest

from salesperf.analyses.forecast import selection as sl
from salesperf.core.errors import UserError
from salesperf.forecast import backtest, forecast, select_and_forecast

BOUNDS = ["lo_80", "hi_80", "lo_95", "hi_95"]
KNOWN_MODELS = {
    "SeasonalNaive",
    "AutoTheta",
    "ETS",
    "Ensemble",
    "Naive",
    "HistoricAverage",
    "SES",
    "Theta",
    "Zero",
    "CrostonSBA",
    "CrostonOptimized",
    "ADIDA",
    "IMAPA",
    "TSB",
}


@pytest.fixture(scope="module")
def panel():
    """Six series of every route: seasonal with noise, trending, intermittent, 5 points, all zero, falling."""
    rng = np.random.default_rng(3)
    t = np.arange(40)
    months = pd.date_range("2023-01-31", periods=40, freq="ME")
    series = {
        "seasonal": 200 + 40 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 8, 40),
        "trend": 50 + 3 * t + rng.normal(0, 4, 40),
        "intermittent": np.where(rng.random(40) < 0.3, rng.integers(1, 9, 40), 0).astype(float),
        "five": np.array([3.0, 0, 4, 6, 5]),
        "zero": np.zeros(12),
        "falling": np.maximum(0, 90 - 2.5 * t + rng.normal(0, 3, 40)),
    }
    return pd.concat(
        [pd.DataFrame({"unique_id": k, "ds": months[: len(v)], "y": v}) for k, v in series.items()],
        ignore_index=True,
    )


@pytest.fixture(scope="module")
def selection(panel):
    return select_and_forecast(panel, 6, "M")


def test_forecast_frame_contract(panel, selection):
    fc = forecast(panel, 6, "M")
    assert list(fc.columns) == ["unique_id", "ds", "model", "yhat", *BOUNDS]
    assert len(fc) == 6 * panel["unique_id"].nunique()
    assert fc.groupby("unique_id").size().eq(6).all()
    values = fc[["yhat", *BOUNDS]].to_numpy()
    assert np.isfinite(values).all() and (values >= 0).all()
    assert (fc["lo_95"] <= fc["lo_80"]).all() and (fc["lo_80"] <= fc["yhat"]).all()
    assert (fc["yhat"] <= fc["hi_80"]).all() and (fc["hi_80"] <= fc["hi_95"]).all()
    assert set(fc["model"]) <= KNOWN_MODELS
    # the dates follow each series' last month end: "five" ends 2023-05-31, so its forecast starts 2023-06-30
    five = fc[fc["unique_id"] == "five"]
    assert five["ds"].iloc[0] == pd.Timestamp("2023-06-30") and five["ds"].iloc[-1] == pd.Timestamp(
        "2023-11-30"
    )


def test_same_input_same_output_exactly(panel, selection):
    # the ledger re-runs old periods: nothing may differ, not even in the last bit
    again = select_and_forecast(panel.sample(frac=1, random_state=1), 6, "M")  # row order must not matter
    pd.testing.assert_frame_equal(again.forecasts, selection.forecasts, check_exact=True)
    pd.testing.assert_frame_equal(again.errors, selection.errors, check_exact=True)


def test_backtest_frame_contract(panel, selection):
    errors = backtest(panel, 6, "M")
    assert list(errors.columns) == [
        "unique_id",
        "model",
        "mae",
        "mase",
        "smape",
        "bias",
        "coverage_80",
        "coverage_95",
        "chosen",
    ]
    assert errors.groupby("unique_id")["chosen"].sum().eq(1).all()
    # a regular series keeps the ensemble unless another model beats it by 30 % in every fold, so the chosen
    # model's MASE is never above the ensemble's
    for _, group in errors[errors["model"] == "Ensemble"].groupby("unique_id"):
        series = errors[errors["unique_id"] == group["unique_id"].item()]
        assert series.loc[series["chosen"], "mase"].item() <= group["mase"].item()
    # and it is the forecast's model
    chosen = errors[errors["chosen"]].set_index("unique_id")["model"]
    assert selection.forecasts.groupby("unique_id")["model"].first().equals(chosen.sort_index())


def test_selection_frames(selection):
    routes = selection.routes.set_index("unique_id")
    assert routes.loc["seasonal", "series_class"] == "regular"
    assert routes.loc["intermittent", "series_class"] == "intermittent"
    assert routes.loc["five", "series_class"] == "short"
    assert routes.loc["zero", "series_class"] == "empty"
    bt = selection.backtest
    assert list(bt.columns) == ["unique_id", "ds", "cutoff", "step", "y", "yhat", *BOUNDS]
    assert (bt["ds"] > bt["cutoff"]).all()
    # a step-k row forecasts the k-th month after its cutoff
    assert all(
        d == c + pd.offsets.MonthEnd(k) for d, c, k in zip(bt["ds"], bt["cutoff"], bt["step"], strict=True)
    )
    assert set(selection.coverage["level"]) == {80, 95}
    assert set(selection.timings["model"]) >= {"SeasonalNaive", "AutoTheta", "ETS"}


def test_backtest_plan_shortens_the_horizon_to_keep_two_seasons_of_training():
    # 48 months, horizon 12, 3 folds: step 12 // 3 = 4, first cutoff 48 - 12 - 8 = 28 ≥ 2·12 + 2 = 26
    assert sl.backtest_plan(48, 12, 3, (26,)) == sl.Plan(12, 4, (28, 32, 36))
    # 40 months: h = 12 (step 4) leaves 20 < 26, h = 11..9 (step 3) 23, 24, 25; h = 8 (step 2): 40 - 8 - 4 = 28
    assert sl.backtest_plan(40, 12, 3, (26,)) == sl.Plan(8, 2, (28, 30, 32))
    # too short for any window at that minimum: the next one (4) is tried; h = 4 (step 1): 10 - 4 - 2 = 4
    assert sl.backtest_plan(10, 12, 3, (26, 4)) == sl.Plan(4, 1, (4, 5, 6))
    assert sl.backtest_plan(3, 1, 3, (3,)) is None


def test_another_model_replaces_the_default_only_when_better_by_the_margin_in_every_fold():
    runs = [sl.Run(name, np.zeros(2), None, 0.0) for name in ("SeasonalNaive", "AutoTheta", "Ensemble")]
    mae = {"Ensemble": np.array([1.0, 1.0, 1.0])}
    # 0.6 in every fold < (1 - 0.3) · 1.0: AutoTheta replaces the ensemble
    chosen = sl.choose(
        runs,
        mae | {"SeasonalNaive": np.array([2.0, 2, 2]), "AutoTheta": np.array([0.6, 0.6, 0.6])},
        "Ensemble",
    )
    assert chosen.name == "AutoTheta"
    # 0.3 on average but 0.9 (> 0.7) in one fold: not consistently better, the ensemble stays
    chosen = sl.choose(
        runs, mae | {"SeasonalNaive": np.array([0.0, 0, 0.9]), "AutoTheta": np.array([1.0, 1, 1])}, "Ensemble"
    )
    assert chosen.name == "Ensemble"
    # two challengers both better in every fold: the lower mean wins; equal means go to the one listed first
    both = {"SeasonalNaive": np.array([0.5, 0.5, 0.5]), "AutoTheta": np.array([0.5, 0.5, 0.5])}
    assert sl.choose(runs, mae | both, "Ensemble").name == "SeasonalNaive"


def test_the_ensemble_weights_the_two_best_non_baseline_candidates_by_inverse_mase():
    runs = [
        sl.Run("SeasonalNaive", np.array([1.0, 1]), None, 0.0),
        sl.Run("AutoTheta", np.array([2.0, 4]), None, 0.0),
        sl.Run("ETS", np.array([4.0, 8]), None, 0.0),
        sl.Run("AutoETS", np.array([10.0, 10]), None, 0.0),
    ]
    # best non-baseline by MASE: AutoTheta (0.2) and ETS (0.3); the baseline's 0.1 does not count
    ens = sl.ensemble(runs, {"SeasonalNaive": 0.1, "AutoTheta": 0.2, "ETS": 0.3, "AutoETS": 0.9})
    assert ens.members == ("AutoTheta", "ETS")
    # weights 1/0.2 : 1/0.3 = 5 : 3.33 → 0.6, 0.4; forecasts 0.6·2 + 0.4·4 = 2.8 and 0.6·4 + 0.4·8 = 5.6
    np.testing.assert_allclose(ens.weights, [0.6, 0.4])
    np.testing.assert_allclose(ens.mean, [2.8, 5.6])


def test_errors_by_hand():
    # actual [10, 0], forecast [12, 0]: MAE (2 + 0)/2 = 1; sMAPE (200·2/22 + 0)/2 = 9.0909; bias +1; scale 4
    e = sl.errors(np.array([10.0, 0]), np.array([12.0, 0]), 4.0)
    assert e == pytest.approx({"mae": 1.0, "mase": 0.25, "smape": 100 * 2 / 22, "bias": 1.0})
    # seasonal-naive scale of [1, 2, 3, 1, 2, 4] with m = 3: |1-1|, |2-2|, |4-3| → 1/3
    assert sl.mase_scale(np.array([1.0, 2, 3, 1, 2, 4]), 3) == pytest.approx(1 / 3)


def test_month_start_dates_and_gaps_are_read_as_month_ends_with_zero_sales():
    df = pd.DataFrame(
        {"unique_id": ["a"] * 3, "ds": ["2024-01-01", "2024-02-01", "2024-04-15"], "y": [1.0, 2, 3]}
    )
    sel = select_and_forecast(df, 1, "M")
    assert sel.routes["points"].item() == 4  # Jan, Feb, Mar (no sale: 0), Apr
    assert sel.forecasts["ds"].item() == pd.Timestamp("2024-05-31")


def test_bad_input_is_a_user_error():
    with pytest.raises(UserError, match="column\\(s\\) y missing"):
        forecast(pd.DataFrame({"unique_id": ["a"], "ds": ["2024-01-31"]}), 3, "M")
    with pytest.raises(UserError, match="horizon"):
        forecast(pd.DataFrame({"unique_id": ["a"], "ds": ["2024-01-31"], "y": [1.0]}), 0, "M")


def test_a_single_point_series_still_gets_a_forecast():
    fc = forecast(pd.DataFrame({"unique_id": ["a"], "ds": ["2024-01-31"], "y": [7.0]}), 2, "M")
    np.testing.assert_allclose(fc["yhat"], 7.0)
    assert np.isfinite(fc[BOUNDS].to_numpy()).all()

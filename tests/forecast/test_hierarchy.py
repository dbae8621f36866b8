"""Coherent forecasts: MinT with shrinkage on backtest errors, bottom-up when it cannot run, coherent to the cent,
never negative, intervals shifted with their point, ended series at zero."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesperf.analyses.forecast.hierarchy import MIN_RESIDUALS, _largest_remainder, reconcile
from salesperf.analyses.forecast.queries import series_and_structures

MONTHS = pd.date_range("2025-01-31", periods=22, freq="ME")  # January 2025 - October 2026
LAST = MONTHS[-1]
HORIZON = pd.date_range("2026-11-30", periods=3, freq="ME")
#: Bottom cells: (region, category, team, rep).
CELLS = [
    ("East", "Software", "Team A", "R1"),
    ("East", "Hardware", "Team A", "R2"),
    ("West", "Software", "Team B", "R3"),
    ("West", "Hardware", "Team B", "R3"),
]


def cells_frame(extra: list[tuple] = ()) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = [(m, *cell, round(float(rng.uniform(50, 150)), 2)) for m in MONTHS for cell in CELLS]
    rows += list(extra)
    return pd.DataFrame(rows, columns=["period", "region", "category", "team", "rep", "y"])


def series_of(cells: pd.DataFrame):
    return series_and_structures(cells, "month", LAST, [], freq="ME", season_length=12)


def base_of(series, value=lambda uid, k: 100.0 / 3 + k, bounds=(10.0, 20.0)) -> pd.DataFrame:
    """Base forecasts of every active series: ``value(uid, step)``, 80 % bounds ± bounds[0], 95 % ± bounds[1]."""
    rows = []
    for uid in series.levels.loc[series.levels["active"], "unique_id"]:
        for k, ds in enumerate(HORIZON, start=1):
            v = value(uid, k)
            rows.append((uid, ds, "M", v, v - bounds[0], v + bounds[0], v - bounds[1], v + bounds[1]))
    return pd.DataFrame(rows, columns=["unique_id", "ds", "model", "yhat", "lo_80", "hi_80", "lo_95", "hi_95"])


def backtest_of(series, points: int, scale=lambda uid: 1.0, seed=5) -> pd.DataFrame:
    """``points`` backtest predictions per active series (3 cutoffs), errors drawn with a per-series scale."""
    rng = np.random.default_rng(seed)
    rows = []
    for uid in series.levels.loc[series.levels["active"], "unique_id"]:
        for i in range(points):
            cutoff, ds = MONTHS[-4 - i // 3], MONTHS[-3 - i // 3 + i % 3]
            rows.append((uid, ds, cutoff, 100.0, 100.0 + scale(uid) * rng.normal(0, 10)))
    return pd.DataFrame(rows, columns=["unique_id", "ds", "cutoff", "y", "yhat"])


def cents(forecasts: pd.DataFrame) -> pd.DataFrame:
    wide = forecasts.pivot(index="ds", columns="unique_id", values="yhat")
    return (wide * 100).round().astype(np.int64)


def level(forecast_cents: pd.DataFrame, series, name: str) -> pd.DataFrame:
    ids = series.levels.loc[series.levels["level"] == name, "unique_id"]
    return forecast_cents[list(ids)]


def test_mint_shrink_on_backtest_errors_is_coherent_to_the_cent():
    series = series_of(cells_frame())
    base = base_of(series, lambda uid, k: 1000.0 / 3 * (1 + len(uid) % 5) + k / 7)  # incoherent, thirds of a cent
    result = reconcile(series, base, backtest_of(series, 9, lambda uid: 1 + len(uid) % 4))
    assert result.methods[["structure", "method", "reason"]].values.tolist() == [
        ["cuts", "mint_shrink", ""], ["reps", "mint_shrink", ""]]
    assert (result.methods["residuals"] == 9).all()
    got = cents(result.forecasts)
    assert np.allclose(got / 100, result.forecasts.pivot(index="ds", columns="unique_id", values="yhat"),
                       atol=1e-9, rtol=0)  # every forecast is whole cents
    total = got["total"]
    for name in ("region", "category", "cell", "team", "rep"):
        assert (level(got, series, name).sum(axis=1) == total).all(), name  # exact integer cents
    assert (got["team/Team B"] == got["team/Team B/rep/R3"]).all()
    assert (got["region/East"] == got["region/East/category/Software"] + got["region/East/category/Hardware"]).all()
    bottom_up = sum(base.loc[base["unique_id"] == c].set_index("ds")["yhat"] for c in series.structures["cuts"].bottom)
    assert not np.allclose(total / 100, bottom_up)  # MinT moved the total: it is not bottom-up in disguise


def test_coherent_base_forecasts_are_left_as_they_are():
    # MinT's projection keeps coherent forecasts unchanged (S P S = S): cells at 100, regions and categories at
    # 200, the total at 400; reps by their cells: R1 100, R2 100, R3 200; teams 200 each
    series = series_of(cells_frame())
    structure = series.structures["cuts"].S.set_index("unique_id")
    reps = series.structures["reps"].S.set_index("unique_id")
    width = {**structure.sum(axis=1).to_dict(), **{"team/Team A/rep/R1": 1, "team/Team A/rep/R2": 1,
                                                   "team/Team B/rep/R3": 2, "team/Team A": 2, "team/Team B": 2}}
    assert reps.loc["total"].sum() == 3
    base = base_of(series, lambda uid, k: 100.0 * width[uid])
    result = reconcile(series, base, backtest_of(series, 9))
    assert (result.methods["method"] == "mint_shrink").all()
    assert np.allclose(result.forecasts["yhat"], result.forecasts["base_yhat"], atol=0.005)


def test_too_few_residuals_fall_back_to_bottom_up_by_hand():
    series = series_of(cells_frame())
    values = {"region/East/category/Software": 10.004, "region/East/category/Hardware": 20.006,
              "region/West/category/Software": 30.0, "region/West/category/Hardware": 0.0,
              "team/Team A/rep/R1": 1.0, "team/Team A/rep/R2": 1.0, "team/Team B/rep/R3": 2.0}
    base = base_of(series, lambda uid, k: values.get(uid, 999.0))
    result = reconcile(series, base, backtest_of(series, MIN_RESIDUALS - 1))
    assert result.methods[["method", "reason", "residuals"]].values.tolist() == [
        ["bottom_up", "too_few_residuals", 3], ["bottom_up", "too_few_residuals", 3]]
    got = result.forecasts[result.forecasts["ds"] == HORIZON[0]].set_index("unique_id")["yhat"]
    # cells rounded to cents: 10.00, 20.01, 30.00, 0.00; East 30.01, West 30.00, Software 40.00,
    # Hardware 20.01, total 60.01 (the base's 999 of the aggregates is ignored)
    assert got["region/East"] == 30.01 and got["region/West"] == 30.0
    assert got["category/Software"] == 40.0 and got["category/Hardware"] == 20.01 and got["total"] == 60.01
    # reps 1 : 1 : 2 scaled to 60.01 = 6001 cents: 1500.25, 1500.25, 3000.5 -> floors 1500, 1500, 3000 and
    # the one cent left to the largest remainder (the first of the tied .25, .25, .5 is R3's .5)
    assert got["team/Team A/rep/R1"] == 15.0 and got["team/Team A/rep/R2"] == 15.0
    assert got["team/Team B/rep/R3"] == 30.01 and got["team/Team A"] == 30.0


def test_without_any_backtest_it_is_bottom_up():
    series = series_of(cells_frame())
    result = reconcile(series, base_of(series), None)
    assert (result.methods["reason"] == "too_few_residuals").all()


def test_mint_failing_falls_back_to_bottom_up_and_says_why():
    # backtest errors all zero: hierarchicalforecast refuses (an overfitted model), bottom-up is used
    series = series_of(cells_frame())
    backtest = backtest_of(series, 9).assign(yhat=100.0)
    result = reconcile(series, base_of(series), backtest)
    assert (result.methods["method"] == "bottom_up").all() and (result.methods["reason"] == "mint_failed").all()
    assert result.methods["detail"].str.contains("residuals").all()


def test_never_negative_clipped_bottoms_are_re_summed():
    series = series_of(cells_frame())
    values = {"region/East/category/Software": -50.0, "region/East/category/Hardware": 20.0}
    base = base_of(series, lambda uid, k: values.get(uid, 30.0), bounds=(40.0, 80.0))
    result = reconcile(series, base, None)
    assert result.methods.loc[0, "clipped"] == 3  # one cell, three months
    assert (result.forecasts[["yhat", "lo_80", "hi_80", "lo_95", "hi_95"]] >= 0).all().all()
    got = result.forecasts[result.forecasts["ds"] == HORIZON[0]].set_index("unique_id")
    assert got.loc["region/East", "yhat"] == 20.0 and got.loc["total", "yhat"] == 80.0  # 0 + 20 + 30 + 30


def test_intervals_move_with_their_point():
    # bottom-up: the total becomes 4 x 30 = 120 from a base of 30; its bounds move by +90: 80 % 20..40 ->
    # 110..130, 95 % 10..50 -> 100..140; a cell keeps its own (no adjustment)
    series = series_of(cells_frame())
    result = reconcile(series, base_of(series, lambda uid, k: 30.0), None)
    got = result.forecasts[result.forecasts["ds"] == HORIZON[0]].set_index("unique_id")
    assert got.loc["total", ["yhat", "lo_80", "hi_80", "lo_95", "hi_95", "base_yhat"]].tolist() == [
        120.0, 110.0, 130.0, 100.0, 140.0, 30.0]
    assert got.loc["region/West/category/Software", ["lo_80", "hi_80"]].tolist() == [20.0, 40.0]


def test_an_ended_series_is_forecast_as_zero():
    # R9 sold once, in January 2025: nothing in the last 12 months (November 2025 - October 2026) -> ended,
    # zero-filled only to its last activity, left out of the reconciliation, forecast as zero
    cells = cells_frame([(MONTHS[0], "East", "Software", "Team A", "R9", 7.0)])
    series = series_of(cells)
    ended = series.levels.set_index("unique_id").loc["team/Team A/rep/R9"]
    assert not ended["active"] and ended["last"] == MONTHS[0]
    assert series.history.loc[series.history["unique_id"] == "team/Team A/rep/R9", "y"].tolist() == [7.0]
    assert "team/Team A/rep/R9" not in set(series.to_forecast["unique_id"])
    result = reconcile(series, base_of(series), backtest_of(series, 9))
    r9 = result.forecasts[result.forecasts["unique_id"] == "team/Team A/rep/R9"]
    assert r9["model"].eq("ended").all() and r9["yhat"].eq(0).all() and len(r9) == 3
    got = cents(result.forecasts)
    assert (level(got, series, "rep").sum(axis=1) == got["total"]).all()


@pytest.mark.parametrize(
    ("values", "target", "expected"),
    [([1, 1, 2], 6001, [1500, 1500, 3001]), ([0, 0], 5, [3, 2]), ([1, 2], 0, [0, 0])],
)
def test_largest_remainder_allocates_exact_cents(values, target, expected):
    got = _largest_remainder(np.array([[v] for v in values], float), np.array([target]))
    assert got[:, 0].tolist() == expected


def test_a_series_with_a_shorter_backtest_is_masked_not_dropped():
    # every series has 9 backtest points (3 cutoffs x 3 steps) but one cell, backtested on 6 (its latest cutoff
    # missing): MinT masks the missing points
    series = series_of(cells_frame())
    backtest = backtest_of(series, 9, lambda uid: 1 + len(uid) % 3)
    short = backtest["unique_id"].eq("region/West/category/Hardware") & backtest["cutoff"].eq(MONTHS[-4])
    result = reconcile(series, base_of(series, lambda uid, k: 50.0 * len(uid)), backtest[~short])
    assert result.methods[["method", "residuals", "held"]].values.tolist() == [
        ["mint_shrink", 6, 0], ["mint_shrink", 9, 0]]
    got = cents(result.forecasts)
    assert (level(got, series, "category").sum(axis=1) == got["total"]).all()


def test_a_bottom_without_enough_backtest_is_held_at_its_base_forecast():
    # the cell West/Hardware has 3 backtest points (< MIN_RESIDUALS), a new rep's way: it keeps its base
    # forecast 12.3456 -> 12.35 (to the cent), MinT reconciles the other three cells around it
    series = series_of(cells_frame())
    backtest = backtest_of(series, 9, lambda uid: 1 + len(uid) % 3)
    cell = "region/West/category/Hardware"
    too_short = backtest["unique_id"].eq(cell) & backtest["cutoff"].ne(MONTHS[-6])
    base = base_of(series, lambda uid, k: 12.3456 if uid == cell else 50.0 * len(uid))
    result = reconcile(series, base, backtest[~too_short])
    assert result.methods[["method", "reason", "residuals", "held"]].values.tolist() == [
        ["mint_shrink", "", 9, 1], ["mint_shrink", "", 9, 0]]
    assert MIN_RESIDUALS > 3
    held = result.forecasts[result.forecasts["unique_id"] == cell]
    assert held["yhat"].tolist() == [12.35] * 3
    got = cents(result.forecasts)
    for name in ("region", "category", "cell"):
        assert (level(got, series, name).sum(axis=1) == got["total"]).all(), name
    # the total short of points too: nothing to lean on, bottom-up
    worse = too_short | (backtest["unique_id"].eq("total") & backtest["cutoff"].ne(MONTHS[-6]))
    result = reconcile(series, base, backtest[~worse])
    assert result.methods[["method", "reason", "held"]].values.tolist() == [
        ["bottom_up", "too_few_residuals", 0], ["bottom_up", "too_few_residuals", 0]]


def test_no_series_no_forecasts():
    empty = series_and_structures(cells_frame().iloc[:0], "month", LAST, [], freq="ME", season_length=12)
    result = reconcile(empty, base_of(series_of(cells_frame())))
    assert result.forecasts.empty and result.methods.empty


def test_with_the_projects_forecaster_the_forecasts_are_coherent_to_the_cent():
    # the models of salesperf.forecast (chosen per series by backtest) and their backtest errors as MinT's
    # residuals: 14 series of 22 months
    from salesperf.forecast import select_and_forecast

    series = series_of(cells_frame())
    selection = select_and_forecast(series.to_forecast, horizon=3, freq="M")
    result = reconcile(series, selection.forecasts, selection.backtest)
    assert (result.methods["method"] == "mint_shrink").all()
    got = cents(result.forecasts)
    for name in ("region", "category", "cell", "team", "rep"):
        assert (level(got, series, name).sum(axis=1) == got["total"]).all(), name
    assert (result.forecasts[["yhat", "lo_80", "lo_95"]] >= 0).all().all()
    assert (result.forecasts["lo_95"] <= result.forecasts["yhat"]).all()
    assert (result.forecasts["yhat"] <= result.forecasts["hi_95"]).all()


def test_reps_without_regions_or_categories_share_the_total_alone():
    # no region, no category: the cuts structure is the total alone (nothing to reconcile, its forecast kept
    # to the cent); the reps (bottom-up here: no backtest) are scaled to it: 100.004 -> 100.00 = 10000 cents
    # over R1 : R2 : R3 = 10 : 10 : 20 -> 25.00, 25.00, 50.00
    cells = cells_frame().assign(region="(none)", category="(none)")
    series = series_and_structures(cells, "month", LAST, ["region", "category"], freq="ME", season_length=12)
    assert list(series.structures["cuts"].bottom) == ["total"]
    values = {"total": 100.004, "team/Team A/rep/R1": 10.0, "team/Team A/rep/R2": 10.0, "team/Team B/rep/R3": 20.0}
    result = reconcile(series, base_of(series, lambda uid, k: values.get(uid, 0.0)))
    assert result.methods[["structure", "method", "reason"]].values.tolist() == [
        ["cuts", "none", "single_series"], ["reps", "bottom_up", "too_few_residuals"]]
    got = result.forecasts[result.forecasts["ds"] == HORIZON[0]].set_index("unique_id")["yhat"]
    assert got.to_dict() == {"team/Team A": 50.0, "team/Team A/rep/R1": 25.0, "team/Team A/rep/R2": 25.0,
                             "team/Team B": 50.0, "team/Team B/rep/R3": 50.0, "total": 100.0}


def test_a_structure_too_large_for_a_dense_covariance_goes_bottom_up(monkeypatch):
    # the cuts structure has 9 series (total, 2 regions, 2 categories, 4 cells), the reps 6
    monkeypatch.setattr("salesperf.analyses.forecast.hierarchy.MAX_MINT_SERIES", 8)
    series = series_of(cells_frame())
    result = reconcile(series, base_of(series), backtest_of(series, 9))
    assert result.methods[["method", "reason"]].values.tolist() == [
        ["bottom_up", "too_many_series"], ["mint_shrink", ""]]

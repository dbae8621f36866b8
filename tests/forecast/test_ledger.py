"""The forecast ledger: scoring by hand, Parquet store and load, one file per run replaced on a re-run, and an
old period's re-run reproducing its forecasts byte for byte."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_series import engine_of

from salesperf.analyses.forecast.hierarchy import reconcile
from salesperf.analyses.forecast.ledger import LEDGER_COLUMNS, ledger_rows, load, mase_scale, score, store
from salesperf.analyses.forecast.queries import sales_series
from salesperf.core.periods import parse_period

JAN, FEB, MAR, APR, MAY, JUN = pd.date_range("2026-01-31", periods=6, freq="ME")


def stored_row(run, origin, ds, step, yhat, bounds80, bounds95, scale, uid="total"):
    return {"run": run, "origin": origin, "unique_id": uid, "ds": ds, "step": step, "model": "M", "yhat": yhat,
            "lo_80": bounds80[0], "hi_80": bounds80[1], "lo_95": bounds95[0], "hi_95": bounds95[1],
            "scale": scale}


def test_scores_by_hand():
    # forecasts 100 and 120 against actuals 110 and 100: errors -10, +20 -> MAE 15, bias +5 (too high);
    # scale 20 -> MASE (10/20 + 20/20) / 2 = 0.75; 80 %: 110 in [95, 115], 100 not in [105, 130] -> 0.5;
    # 95 %: both in -> 1.0
    ledger = pd.DataFrame([
        stored_row("2026-02", FEB, MAR, 1, 100.0, (95, 115), (90, 130), 20.0),
        stored_row("2026-02", FEB, APR, 2, 120.0, (105, 130), (90, 140), 20.0),
    ])
    actuals = pd.DataFrame({"unique_id": "total", "ds": [JAN, FEB, MAR, APR], "y": [1.0, 2.0, 110.0, 100.0]})
    scores = score(ledger, actuals)
    by_run = scores.by_run.iloc[0]
    assert (by_run["run"], by_run["n"], by_run["mae"], by_run["bias"]) == ("2026-02", 2, 15.0, 5.0)
    assert (by_run["mase"], by_run["coverage_80"], by_run["coverage_95"]) == (0.75, 0.5, 1.0)
    steps = scores.by_series_step.set_index("step")
    assert steps.loc[1, "mae"] == 10.0 and steps.loc[2, "bias"] == 20.0 and steps.loc[2, "coverage_80"] == 0.0
    assert scores.rows["error"].tolist() == [-10.0, 20.0]


def test_only_what_has_happened_is_scored():
    # as of March: the run of February's step 2 (April) has not happened; the run of March has nothing due;
    # a series without a March point (an ended rep) had no sales: actual 0
    ledger = pd.DataFrame([
        stored_row("2026-02", FEB, MAR, 1, 100.0, (0, 1), (0, 1), 20.0),
        stored_row("2026-02", FEB, APR, 2, 120.0, (0, 1), (0, 1), 20.0),
        stored_row("2026-02", FEB, MAR, 1, 5.0, (0, 10), (0, 10), 2.0, uid="rep/R9"),
        stored_row("2026-03", MAR, APR, 1, 100.0, (0, 1), (0, 1), 20.0),
    ])
    actuals = pd.DataFrame({"unique_id": "total", "ds": [FEB, MAR], "y": [1.0, 110.0]})
    rows = score(ledger, actuals).rows.set_index("unique_id")
    assert len(rows) == 2 and rows.loc["rep/R9", "y"] == 0.0 and rows.loc["rep/R9", "error"] == 5.0
    assert bool(rows.loc["rep/R9", "in_80"]) and rows.loc["rep/R9", "scaled"] == 2.5
    assert score(ledger.iloc[:0], actuals).by_run.empty


def test_mase_scale_is_the_seasonal_naive_mae_of_the_history_known():
    history = pd.DataFrame({
        "unique_id": ["a"] * 4 + ["b"] * 2 + ["c"] * 3 + ["d"],
        "ds": [JAN, FEB, MAR, APR, JAN, FEB, JAN, FEB, MAR, JAN],
        "y": [10.0, 20.0, 40.0, 30.0, 5.0, 9.0, 7.0, 7.0, 7.0, 3.0],
    })
    scale = mase_scale(history, season_length=2)
    # a: |40-10|, |30-20| -> 20; b: 2 points, not more than a season: lag 1, |9-5| -> 4; c: constant -> no
    # scale; d: one point -> no scale
    assert scale["a"] == 20.0 and scale["b"] == 4.0 and np.isnan(scale["c"]) and np.isnan(scale["d"])


def test_ledger_rows_carry_step_origin_and_scale():
    history = pd.DataFrame({"unique_id": "total", "ds": [JAN, FEB, MAR, APR], "y": [10.0, 20.0, 40.0, 30.0]})
    forecasts = pd.DataFrame({"unique_id": "total", "ds": [JUN, MAY], "model": "M", "yhat": [1.0, 2.0],
                              "lo_80": 0.0, "hi_80": 3.0, "lo_95": 0.0, "hi_95": 4.0})
    rows = ledger_rows("2026-04", forecasts, history, season_length=2)
    assert list(rows.columns) == LEDGER_COLUMNS
    assert rows[["ds", "step", "yhat"]].values.tolist() == [[MAY, 1, 2.0], [JUN, 2, 1.0]]
    assert (rows["origin"] == APR).all() and (rows["scale"] == 20.0).all()


def test_store_replaces_a_runs_rows_and_load_reads_every_run(tmp_path):
    first = pd.DataFrame([stored_row("2026-02", FEB, d, i, 1.0, (0, 1), (0, 1), 1.0)
                          for i, d in enumerate([MAR, APR, MAY], 1)])
    other = pd.DataFrame([stored_row("2026-03", MAR, APR, 1, 7.0, (0, 1), (0, 1), 1.0)])
    store(first, tmp_path)
    store(other, tmp_path)
    store(first.iloc[:2].assign(yhat=2.0), tmp_path)  # the run of February again: its rows replaced
    ledger = load(tmp_path)
    assert ledger[["run", "yhat"]].values.tolist() == [["2026-02", 2.0], ["2026-02", 2.0], ["2026-03", 7.0]]
    assert list(ledger.columns) == LEDGER_COLUMNS and ledger["step"].dtype == "int64"
    assert load(tmp_path / "none").empty and list(load(tmp_path / "none").columns) == LEDGER_COLUMNS
    with pytest.raises(ValueError, match="one run"):
        store(pd.concat([first, other]), tmp_path)


def company_orders() -> pd.DataFrame:
    """Two years of lines (January 2025 - September 2026), two regions and two categories, a seasonal amount."""
    days = pd.date_range("2025-01-10", "2026-09-10", freq="MS") + pd.Timedelta(days=9)
    rows = []
    for i, day in enumerate(days):
        for j, (region, category) in enumerate([("East", "A"), ("East", "B"), ("West", "A"), ("West", "B")]):
            rows.append((f"C{j}", day, float(100 + 10 * j + 25 * (day.month % 4) + i), region, category))
    return pd.DataFrame(rows, columns=["customer_id", "order_date", "amount", "region", "category"])


def seasonal_naive(history: pd.DataFrame, horizon: int = 3, season: int = 12) -> pd.DataFrame:
    """A deterministic stand-in forecaster: the value one season earlier, bounds ± 10 % / ± 20 %."""
    rows = []
    for uid, series in history.groupby("unique_id"):
        y, last = series["y"].to_numpy(), series["ds"].max()
        for k in range(1, horizon + 1):
            v = float(y[len(y) - season + (k - 1) % season]) if len(y) >= season else float(y[-1])
            rows.append((uid, last + pd.offsets.MonthEnd(k), "SeasonalNaive", v, 0.9 * v, 1.1 * v, 0.8 * v,
                         1.2 * v))
    return pd.DataFrame(rows, columns=["unique_id", "ds", "model", "yhat", "lo_80", "hi_80", "lo_95", "hi_95"])


def run(engine, label: str, folder):
    series = sales_series(engine, parse_period(label))
    coherent = reconcile(series, seasonal_naive(series.to_forecast)).forecasts
    return store(ledger_rows(label, coherent, series.history, series.season_length), folder), series


def test_an_old_period_re_run_reproduces_its_forecasts_exactly(tmp_path):
    orders = company_orders()
    engine = engine_of(orders=orders)
    path, _ = run(engine, "2026-06", tmp_path)
    kept = path.read_bytes()
    run(engine, "2026-07", tmp_path)
    _, august = run(engine, "2026-08", tmp_path)
    path_again, _ = run(engine, "2026-06", tmp_path)  # data up to September exist: June's run never sees them
    assert path_again == path and path.read_bytes() == kept

    scores = score(load(tmp_path), august.history)
    # the run of June forecast July (step 1) and August (step 2); the run of July forecast August. Seasonal
    # naive: a forecast is the actual twelve months before, so its error is this year's actual minus last
    # year's, computed here from the order lines
    monthly = orders.groupby(orders["order_date"] + pd.offsets.MonthEnd(0))["amount"].sum()
    june = scores.rows[(scores.rows["run"] == "2026-06") & (scores.rows["unique_id"] == "total")]
    assert june["step"].tolist() == [1, 2]
    for _, row in june.iterrows():
        assert row["y"] == pytest.approx(monthly[row["ds"]])
        assert row["yhat"] == pytest.approx(monthly[row["ds"] - pd.DateOffset(years=1) + pd.offsets.MonthEnd(0)])
    assert set(scores.by_run["run"]) == {"2026-06", "2026-07"}

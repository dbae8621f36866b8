"""The committed competition slices (tests/fixtures/forecast, see PROVENANCE.md) and the benchmark's scorer.

Facts of the data are computed here from the files themselves and compared with what the dataset README states
(counts, horizons, the official split); the scorer of benchmarks/bench_forecast.py is compared with seasonal naive
MASE / sMAPE computed by hand (one series written out below) and by a plain loop written independently here.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "forecast"
sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_forecast as bench  # noqa: E402 - the benchmark's loader and scorer (benchmarks/ is not a package)

# From the dataset README (shared/data/forecasting_m3_tourism/README.md): series in the full set, official horizon,
# seasonal period of the MASE scale; the slice keeps every k-th series of the meta file (PROVENANCE.md).
SETS = {  # name: (series in the full set, horizon, m, k)
    "m3_monthly": (1428, 18, 12, 60),
    "m3_quarterly": (756, 8, 4, 30),
    "tourism_monthly": (366, 24, 12, 18),
    "tourism_quarterly": (427, 8, 4, 17),
}


def read_rows(name: str, part: str) -> list[dict]:
    with open(FIXTURES / f"{name}_{part}.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def series_by_id(name: str) -> dict[str, dict[str, list[float]]]:
    """{series_id: {"train": [...], "test": [...]}} in t order, read with the csv module (not the benchmark's loader)."""
    out: dict[str, dict[str, list[float]]] = {}
    for row in sorted(read_rows(name, "series"), key=lambda r: (r["series_id"], int(r["t"]))):
        out.setdefault(row["series_id"], {"train": [], "test": []})[row["split"]].append(float(row["value"]))
    return out


@pytest.mark.parametrize("name", SETS)
def test_slice_keeps_every_kth_series_with_the_official_split(name):
    full, horizon, _, k = SETS[name]
    meta = read_rows(name, "meta")
    # every k-th of `full` series, starting at the first: ceil(full / k) series, e.g. 1428 / 60 -> 24
    assert len(meta) == -(-full // k)
    rows = read_rows(name, "series")
    by_id = series_by_id(name)
    assert list(by_id) == sorted(m["series_id"] for m in meta)
    for m in meta:
        parts = by_id[m["series_id"]]
        assert len(parts["train"]) == int(m["n_train"])
        assert len(parts["test"]) == int(m["n_test"]) == int(m["horizon"]) == horizon
        ts = sorted(int(r["t"]) for r in rows if r["series_id"] == m["series_id"])
        assert ts == list(range(1, int(m["n_train"]) + horizon + 1))  # t = 1..n+h, no gap, no repeat
        train_t = [int(r["t"]) for r in rows if r["series_id"] == m["series_id"] and r["split"] == "train"]
        assert max(train_t) == int(m["n_train"])  # the test part is the last h points
    assert sum(1 for r in rows if r["split"] == "test") == len(meta) * horizon


def test_seasonal_naive_mase_of_n1156_by_hand():
    """M3 quarterly N1156 (16 training quarters, 8 test quarters), m = 4.

    train: 4100 4444 4384 4814 | 3870 4304 4038 4350 | 3744 4362 4244 4378 | 3876 4214 4046 4444
    |y_t - y_t-4|, t = 5..16: 230 140 346 464 126 58 206 28 132 148 198 66 -> sum 2142, scale 2142 / 12 = 178.5
    seasonal naive forecast: 3876 4214 4046 4444 3876 4214 4046 4444
    test:                    3656 4058 3874 4296 3480 3762 3370 3612
    |error|:                  220  156  172  148  396  452  676  832 -> sum 3052, MAE 381.5
    MASE = 381.5 / 178.5 = 2.13725...
    sMAPE terms 200|e|/(y+f): 5.842 3.772 4.343 3.387 10.767 11.334 18.231 20.655 -> mean 9.7913
    """
    train, test = bench.load_set(FIXTURES, "m3_quarterly")
    scores = bench.score(bench.naive_forecasts(train, 8, 4), train, test, 4)
    row = scores[(scores["unique_id"] == "N1156") & (scores["model"] == "SeasonalNaive")].iloc[0]
    assert row["mase"] == pytest.approx(381.5 / 178.5, rel=1e-12)
    assert row["smape"] == pytest.approx(9.7913, abs=5e-4)
    naive1 = scores[(scores["unique_id"] == "N1156") & (scores["model"] == "Naive1")].iloc[0]
    # Naive1 repeats the last training value 4444: |errors| 788 386 570 148 964 682 1074 832 -> MAE 5444 / 8 = 680.5
    assert naive1["mase"] == pytest.approx(680.5 / 178.5, rel=1e-12)


def plain_seasonal_naive(train: list[float], test: list[float], m: int) -> tuple[float, float]:
    """Seasonal naive MASE and sMAPE with plain loops (an implementation independent of the benchmark's)."""
    diffs = [abs(train[t] - train[t - m]) for t in range(m, len(train))]
    scale = sum(diffs) / len(diffs)
    forecast = [train[len(train) - m + (h % m)] for h in range(len(test))]
    errors = [abs(y - f) for y, f in zip(test, forecast, strict=True)]
    smape = sum(200 * e / (abs(y) + abs(f)) for e, y, f in zip(errors, test, forecast, strict=True)) / len(test)
    return sum(errors) / len(errors) / scale, smape


@pytest.mark.parametrize("name", SETS)
def test_scorer_matches_a_plain_seasonal_naive_on_a_few_series(name):
    _, horizon, m, _ = SETS[name]
    train, test = bench.load_set(FIXTURES, name)
    scores = bench.score(bench.naive_forecasts(train, horizon, m), train, test, m)
    scores = scores[scores["model"] == "SeasonalNaive"].set_index("unique_id")
    by_id = series_by_id(name)
    for series_id in list(by_id)[:: max(1, len(by_id) // 4)]:  # four or five series per set
        want_mase, want_smape = plain_seasonal_naive(by_id[series_id]["train"], by_id[series_id]["test"], m)
        assert scores.loc[series_id, "mase"] == pytest.approx(want_mase, rel=1e-9)
        assert scores.loc[series_id, "smape"] == pytest.approx(want_smape, rel=1e-9)


def test_scorer_refuses_forecasts_that_miss_test_points():
    train, test = bench.load_set(FIXTURES, "m3_quarterly")
    forecasts = bench.naive_forecasts(train, 8, 4)
    with pytest.raises(ValueError, match="do not cover"):
        bench.score(forecasts[forecasts["ds"] != forecasts["ds"].max()], train, test, 4)

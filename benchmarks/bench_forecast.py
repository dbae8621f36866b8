"""Benchmark: forecast accuracy on the M3 and tourism competition sets, and speed on 1,000 monthly series.

Usage::

    .venv/bin/python benchmarks/bench_forecast.py [--quick] [--data DIR] [--skip-accuracy] [--skip-speed]
    .venv/bin/python benchmarks/bench_forecast.py --write-fixtures tests/fixtures/forecast

Accuracy (needs the shared data folder ``../shared/data/forecasting_m3_tourism``, else one line and skipped): the four
sets M3 monthly / quarterly and tourism monthly / quarterly with their official train/test split; every method is
fitted on the training part and scored on the official test part (horizon 18 / 8 / 24 / 8). Methods, each in a fresh
subprocess of this script on the same data in the same run: ``salesperf forecast`` (the automatic choice per series,
``salesperf.forecast.forecast(..., folds=3)``), statsforecast ``AutoETS`` alone, statsforecast ``SeasonalNaive``.
Scores: mean over series of sMAPE = mean_h 200*|y-f|/(|y|+|f|) and of MASE = mean_h |y-f| / (in-sample mean
|y_t - y_{t-m}|), m = 12 monthly, 4 quarterly, exactly as the dataset README defines them; the scorer is checked
first against the README's Naive1 / SNaive figures (to 3 decimals of sMAPE and 4 of MASE) and the run stops if it
does not reproduce them. Published figures are printed beside ours with their source (see PUBLISHED).

Per model (M3 monthly, official test): what each statsforecast candidate costs and what accuracy it buys (mean MASE,
sMAPE), and its cost on the speed set (3-fold cross-validation + final 12-month forecast).

Speed: 1,000 synthetic monthly series of 48 months (seeded: level x trend x season x noise; 15 % intermittent,
Bernoulli demand x gamma sizes): ``forecast(df, horizon=12, freq="MS", folds=3)`` beside statsforecast AutoETS
cross-validation alone (3 windows of 12 months, step 6, then a 12-month forecast) on the same series. Target: <= 60 s.

Every timed part runs in its own subprocess: wall and CPU seconds (user + system, all threads) are taken after imports
and data loading; peak MB is ru_maxrss of that subprocess (interpreter, imports and data included). The machine is
shared: the 1-minute load average is printed before and after each part. ``--quick``: every 10th series of each set,
200 speed series and a model table on 100 speed series (figures not comparable with a full run).

The markdown goes to stdout and benchmarks/results/forecast.md.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared" / "data" / "forecasting_m3_tourism"
RESULTS = HERE / "results" / "forecast.md"


@dataclass(frozen=True)
class CompetitionSet:
    name: str
    season_length: int
    horizon: int
    freq: str  # pandas frequency given to forecast() once the integer index t is turned into dates
    slice_every: int  # the committed fixture keeps every k-th series of the meta file, starting at the first


SETS = {
    s.name: s
    for s in (
        CompetitionSet("m3_monthly", 12, 18, "MS", 60),
        CompetitionSet("m3_quarterly", 4, 8, "QS", 30),
        CompetitionSet("tourism_monthly", 12, 24, "MS", 18),
        CompetitionSet("tourism_quarterly", 4, 8, "QS", 17),
    )
}

# The dataset README's baselines on the full test parts (mean over series): sMAPE (%) and MASE of Naive1 and SNaive.
README_BASELINES = {
    "m3_monthly": {"Naive1": (18.181, 1.1748), "SeasonalNaive": (17.234, 1.1461)},
    "m3_quarterly": {"Naive1": (11.323, 1.4637), "SeasonalNaive": (11.065, 1.4253)},
    "tourism_monthly": {"Naive1": (40.408, 3.5908), "SeasonalNaive": (21.670, 1.6309)},
    "tourism_quarterly": {"Naive1": (31.684, 3.6335), "SeasonalNaive": (16.610, 1.6990)},
}

# Published figures printed beside ours: (set, method, measure, value text, source and how far it was verified).
PUBLISHED = [
    ("m3_monthly", "Theta", "sMAPE", "13.85",
     "Makridakis & Hibon (2000), IJF 16(4), M3 monthly, mean of horizons 1-18 (verified from a stored copy of "
     "Autobox's note, which recomputes it as 13.94; the table number was not verified)"),
    ("m3_monthly", "ForecastPro", "sMAPE", "about 13.9",
     "Makridakis & Hibon (2000): as recalled, unverified"),
    ("tourism_monthly", "best of ETS / ARIMA / ForecastPro", "MASE", "1.38",
     "Athanasopoulos et al. (2011), IJF 27(3): the best method's MASE on the 366 monthly series, h = 1-24 "
     "(verified from the Kaggle tourism competition page, which set it as the threshold to beat)"),
    ("tourism_monthly", "ETS, ARIMA, ForecastPro each", "MASE", "about 1.4-1.5",
     "Athanasopoulos et al. (2011): as recalled, unverified"),
    ("tourism_quarterly", "best of ETS / ARIMA / ForecastPro", "MASE", "1.43",
     "Athanasopoulos et al. (2011): the best method's MASE on the 427 quarterly series, h = 1-8 (verified as above)"),
    ("tourism_quarterly", "ETS, ARIMA, ForecastPro each", "MASE", "about 1.4-1.6",
     "Athanasopoulos et al. (2011): as recalled, unverified"),
]

MODEL_TABLE = ["SeasonalNaive", "Naive", "HistoricAverage", "AutoETS", "AutoTheta", "AutoARIMA", "CrostonOptimized",
               "ADIDA", "IMAPA", "TSB"]
SPEED_SERIES, SPEED_MONTHS, SPEED_HORIZON, SPEED_FOLDS, SPEED_STEP = 1000, 48, 12, 3, 6


# ---------------------------------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------------------------------


def load_set(folder: Path, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read one competition set (``<name>_series.csv``: series_id, t, value, split).

    Returns
    -------
    train, test : DataFrame
        Columns unique_id (str), ds (int, the series' own index t = 1..n+h), y (float); one row per series and t,
        sorted by unique_id and ds; ``train`` holds the official training part, ``test`` the official hold-out.
    """
    series = pd.read_csv(folder / f"{name}_series.csv", dtype={"series_id": str})
    series = series.rename(columns={"series_id": "unique_id", "t": "ds", "value": "y"})
    series = series.sort_values(["unique_id", "ds"], kind="stable")
    parts = [series.loc[series["split"] == part, ["unique_id", "ds", "y"]].reset_index(drop=True)
             for part in ("train", "test")]
    return parts[0], parts[1]


def every_kth(ids: pd.Series, k: int) -> list[str]:
    """The fixture rule: every k-th series id in the meta file's order, starting at the first."""
    return list(ids.iloc[::k])


def with_dates(frame: pd.DataFrame, freq: str) -> pd.DataFrame:
    """Replace the integer index ds = t by dates (t = 1 is 2000-01-01, one ``freq`` step per t); same rows."""
    start = pd.Timestamp("2000-01-01")
    dates = pd.date_range(start, periods=int(frame["ds"].max()), freq=freq)
    return frame.assign(ds=dates[frame["ds"].to_numpy() - 1])


def write_fixtures(folder: Path, out: Path) -> list[tuple[str, int, int, int]]:
    """Copy every k-th series (SETS[...].slice_every) of each set, lines verbatim, meta and series; return a summary.

    Lines are copied as text (not re-written by pandas) so that each kept line is byte-identical to the original.
    """
    out.mkdir(parents=True, exist_ok=True)
    summary = []
    for spec in SETS.values():
        meta = pd.read_csv(folder / f"{spec.name}_meta.csv", dtype={"series_id": str})
        keep = set(every_kth(meta["series_id"], spec.slice_every))
        for part in ("meta", "series"):
            lines = (folder / f"{spec.name}_{part}.csv").read_text(encoding="utf-8").splitlines(keepends=True)
            kept = [lines[0]] + [line for line in lines[1:] if line.split(",", 1)[0] in keep]
            (out / f"{spec.name}_{part}.csv").write_text("".join(kept), encoding="utf-8")
            if part == "series":
                summary.append((spec.name, len(keep), len(kept) - 1, len("".join(kept).encode())))
    return summary


def speed_series(n: int = SPEED_SERIES, months: int = SPEED_MONTHS, seed: int = 12) -> pd.DataFrame:
    """Synthetic monthly sales: one row per (unique_id, ds), columns unique_id, ds (month start), y >= 0.

    85 % of series: level (log-normal, median 1,000) x linear trend (-1 %..+2 % a month) x season (amplitude 0-30 %,
    random phase) x log-normal noise (sd 5-20 %); 15 % intermittent: demand in a month with probability 0.1-0.5,
    gamma sizes (mean 5-50). Rounded to cents.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(months)
    rows = []
    for i in range(n):
        if i % 20 < 3:  # 3 in 20 intermittent
            occurs = rng.random(months) < rng.uniform(0.1, 0.5)
            mean = rng.uniform(5, 50)
            y = occurs * rng.gamma(2.0, mean / 2.0, months)
        else:
            level = rng.lognormal(np.log(1000), 1.0)
            trend = (1 + rng.uniform(-0.01, 0.02)) ** t
            season = 1 + rng.uniform(0, 0.3) * np.sin(2 * np.pi * (t + rng.integers(12)) / 12)
            noise = rng.lognormal(0, rng.uniform(0.05, 0.2), months)
            y = level * trend * season * noise
        rows.append(pd.DataFrame({"unique_id": f"S{i:04d}", "ds": t + 1, "y": np.round(y, 2)}))
    return with_dates(pd.concat(rows, ignore_index=True), "MS")


# ---------------------------------------------------------------------------------------------------------------------
# Scorer (pure)
# ---------------------------------------------------------------------------------------------------------------------


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Mean over the horizon of 200*|y - f| / (|y| + |f|), in percent (a term with y = f = 0 counts 0)."""
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    denominator = np.abs(actual) + np.abs(forecast)
    terms = np.divide(200 * np.abs(actual - forecast), denominator, out=np.zeros_like(denominator),
                      where=denominator > 0)
    return float(terms.mean())


def mase(actual: np.ndarray, forecast: np.ndarray, insample: np.ndarray, season_length: int) -> float:
    """Mean absolute error over the horizon divided by the in-sample seasonal naive MAE, mean |y_t - y_{t-m}|."""
    insample = np.asarray(insample, float)
    scale = np.mean(np.abs(insample[season_length:] - insample[:-season_length]))
    return float(np.mean(np.abs(np.asarray(actual, float) - np.asarray(forecast, float))) / scale)


def score(forecasts: pd.DataFrame, train: pd.DataFrame, test: pd.DataFrame, season_length: int) -> pd.DataFrame:
    """Score long-format forecasts on the official test part.

    Parameters
    ----------
    forecasts : DataFrame
        One row per (unique_id, model, ds): columns unique_id, model, ds (the test part's index), yhat; optionally
        lo_80, hi_80, lo_95, hi_95. Every test point of every scored series must have a forecast.
    train, test : DataFrame
        From ``load_set``: unique_id, ds, y.

    Returns
    -------
    DataFrame
        One row per (unique_id, model): smape, mase, and coverage_80 / coverage_95 (share of test points inside the
        interval) when the bounds were given.
    """
    merged = test.merge(forecasts, on=["unique_id", "ds"], how="inner", validate="one_to_many")
    counts = merged.groupby(["unique_id", "model"]).size()
    horizon = test.groupby("unique_id").size()
    short = counts[counts.to_numpy() != horizon.reindex(counts.index.get_level_values(0)).to_numpy()]
    if len(short):
        raise ValueError(f"forecasts do not cover the test part of {len(short)} series, e.g. {short.index[0]}")
    insample = {uid: part.to_numpy() for uid, part in train.groupby("unique_id")["y"]}
    rows = []
    for (uid, model), part in merged.groupby(["unique_id", "model"], sort=True):
        row = {"unique_id": uid, "model": model, "smape": smape(part["y"], part["yhat"]),
               "mase": mase(part["y"], part["yhat"], insample[uid], season_length)}
        for level in (80, 95):
            if f"lo_{level}" in part:
                inside = (part["y"] >= part[f"lo_{level}"]) & (part["y"] <= part[f"hi_{level}"])
                row[f"coverage_{level}"] = float(inside.mean())
        rows.append(row)
    return pd.DataFrame(rows)


def naive_forecasts(train: pd.DataFrame, horizon: int, season_length: int) -> pd.DataFrame:
    """Naive1 (last value) and SeasonalNaive (the last season repeated) on the official test index.

    Returns one row per (unique_id, model, ds): columns unique_id, model, ds, yhat.
    """
    frames = []
    for uid, part in train.groupby("unique_id", sort=True):
        y, last = part["y"].to_numpy(), int(part["ds"].iloc[-1])
        ds = np.arange(last + 1, last + horizon + 1)
        frames.append(pd.DataFrame({"unique_id": uid, "model": "Naive1", "ds": ds, "yhat": y[-1]}))
        frames.append(pd.DataFrame({"unique_id": uid, "model": "SeasonalNaive", "ds": ds,
                                    "yhat": np.resize(y[-season_length:], horizon)}))
    return pd.concat(frames, ignore_index=True)


def check_readme_baselines(folder: Path) -> list[str]:
    """Reproduce the README's Naive1 / SNaive means on the full sets; return lines; raise if one differs."""
    lines = []
    for spec in SETS.values():
        train, test = load_set(folder, spec.name)
        means = score(naive_forecasts(train, spec.horizon, spec.season_length), train, test, spec.season_length)
        means = means.groupby("model")[["smape", "mase"]].mean()
        for model, (want_smape, want_mase) in README_BASELINES[spec.name].items():
            got_smape, got_mase = means.loc[model, "smape"], means.loc[model, "mase"]
            if round(got_smape, 3) != want_smape or round(got_mase, 4) != want_mase:
                raise SystemExit(f"scorer does not reproduce the README: {spec.name} {model} sMAPE {got_smape:.4f} "
                                 f"(README {want_smape}), MASE {got_mase:.5f} (README {want_mase})")
            lines.append(f"{spec.name} {model}: sMAPE {got_smape:.3f}, MASE {got_mase:.4f} (README: {want_smape}, "
                         f"{want_mase})")
    return lines


# ---------------------------------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=SHARED, help="folder of the competition CSV files")
    parser.add_argument("--write-fixtures", type=Path, metavar="DIR", help="write the committed slices and stop")
    args = parser.parse_args()
    if args.write_fixtures:
        for name, series, rows, size in write_fixtures(args.data, args.write_fixtures):
            print(f"{name}: {series} series, {rows} rows, {size:,} bytes")
        return 0
    if not (args.data / "m3_monthly_series.csv").is_file():
        print(f"accuracy skipped: {args.data} is absent")
        return 0
    print("\n".join(check_readme_baselines(args.data)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

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
Bernoulli demand x gamma sizes): ``forecast(df, horizon=12, freq="M", folds=3)`` beside statsforecast AutoETS
cross-validation alone (3 windows of 12 months, step 4 as in forecast()'s own backtest, then a 12-month forecast)
on the same series. Target: <= 60 s.

Every timed part runs in its own subprocess: wall and CPU seconds (user + system, all threads) are taken after imports
and data loading; peak MB is ru_maxrss of that subprocess (interpreter, imports and data included). The machine is
shared: the 1-minute load average is printed before and after each part. ``--quick``: every 10th series of each set,
200 speed series and a model table on 100 speed series (figures not comparable with a full run).

The markdown goes to stdout and benchmarks/results/forecast.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
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
    freq: str  # frequency given to forecast() once the integer index t is turned into period-end dates
    slice_every: int  # the committed fixture keeps every k-th series of the meta file, starting at the first


SETS = {
    s.name: s
    for s in (
        CompetitionSet("m3_monthly", 12, 18, "M", 60),
        CompetitionSet("m3_quarterly", 4, 8, "Q", 30),
        CompetitionSet("tourism_monthly", 12, 24, "M", 18),
        CompetitionSet("tourism_quarterly", 4, 8, "Q", 17),
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
    ("tourism_monthly", "the paper's best method", "MASE", "1.38",
     "Athanasopoulos et al. (2011), IJF 27(3): the best method's MASE on the 366 monthly series, h = 1-24 "
     "(verified from the Kaggle tourism competition page, which set it as the threshold to beat)"),
    ("tourism_monthly", "ETS, ARIMA, ForecastPro each", "MASE", "about 1.4-1.5",
     "Athanasopoulos et al. (2011): as recalled, unverified"),
    ("tourism_quarterly", "the paper's best method", "MASE", "1.43",
     "Athanasopoulos et al. (2011): the best method's MASE on the 427 quarterly series, h = 1-8 (verified as above)"),
    ("tourism_quarterly", "ETS, ARIMA, ForecastPro each", "MASE", "about 1.4-1.6",
     "Athanasopoulos et al. (2011): as recalled, unverified"),
]

MODEL_TABLE = ["SeasonalNaive", "Naive", "HistoricAverage", "AutoETS", "AutoTheta", "AutoARIMA", "CrostonOptimized",
               "ADIDA", "IMAPA", "TSB"]
SPEED_SERIES, SPEED_MONTHS, SPEED_HORIZON, SPEED_FOLDS = 1000, 48, 12, 3
SPEED_STEP = SPEED_HORIZON // SPEED_FOLDS  # the step of forecast()'s own backtest plan: max(1, h // folds)
PARTS = ("accuracy", "speed", "models")
FULL = {"name": "full", "every": 1, "speed_series": SPEED_SERIES, "model_series": 250}
QUICK = {"name": "quick", "every": 10, "speed_series": 200, "model_series": 100}
SLOW_MODEL_EVERY = {"AutoARIMA": 10}  # AutoARIMA on every 10th M3 monthly series only (~10x AutoETS's cost)
SLOW_MODEL_SERIES = {"AutoARIMA": 50}  # and on 50 speed series
DATA_DIR = HERE / ".data"
MODEL_NOTES = {
    "CrostonOptimized": "on series without zeros (all of M3) Croston, ADIDA and IMAPA all reduce to optimised SES",
    "ADIDA": "as CrostonOptimized on M3",
    "IMAPA": "as CrostonOptimized on M3",
    "TSB": "alpha_d = alpha_p = 0.2 (fixed)",
    "AutoARIMA": "fewer series: its cost",
    "SeasonalNaive": "not in this run's model part (added to the script after it)",
}


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


def period_ends(periods: int, freq: str) -> pd.DatetimeIndex:
    """``periods`` period-end dates from January 2000 on, ``freq`` "M" (month ends) or "Q" (quarter ends)."""
    return pd.date_range("2000-01-31", periods=periods, freq={"M": "ME", "Q": "QE"}[freq])


def with_dates(frame: pd.DataFrame, freq: str) -> pd.DataFrame:
    """Replace the integer index ds = t by period-end dates (t = 1 is January 2000 / Q1 2000); same rows."""
    return frame.assign(ds=period_ends(int(frame["ds"].max()), freq)[frame["ds"].to_numpy() - 1])


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
    return with_dates(pd.concat(rows, ignore_index=True), "M")


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
# Workers (one subprocess per timed part: its own peak memory, imports outside the timing)
# ---------------------------------------------------------------------------------------------------------------------

WITH_INTERVALS = {"SeasonalNaive", "Naive", "HistoricAverage", "AutoETS", "AutoTheta", "AutoARIMA"}
AUTO = "salesperf forecast"


def statsforecast_model(name: str, season_length: int):
    """A fresh statsforecast model by name (TSB with both smoothing parameters 0.2, statsforecast has no default)."""
    from statsforecast import models

    if name in ("SeasonalNaive", "AutoETS", "AutoTheta", "AutoARIMA"):
        return getattr(models, name)(season_length=season_length)
    if name == "TSB":
        return models.TSB(alpha_d=0.2, alpha_p=0.2)
    return getattr(models, name)()


def long_from_statsforecast(wide: pd.DataFrame, name: str) -> pd.DataFrame:
    """statsforecast's wide output (unique_id, ds, <name>, <name>-lo-80, ...) → unique_id, model, ds, yhat, lo/hi."""
    out = pd.DataFrame({"unique_id": wide["unique_id"].astype(str), "model": name, "ds": wide["ds"],
                        "yhat": wide[name]})
    for level in (80, 95):
        if f"{name}-lo-{level}" in wide:
            out[f"lo_{level}"], out[f"hi_{level}"] = wide[f"{name}-lo-{level}"], wide[f"{name}-hi-{level}"]
    return out


def subset(frame: pd.DataFrame, every: int) -> pd.DataFrame:
    """Every ``every``-th series (sorted ids), all their rows (the quick run)."""
    ids = sorted(frame["unique_id"].unique())[::every]
    return frame[frame["unique_id"].isin(ids)].reset_index(drop=True)


def run_forecast_api(train: pd.DataFrame, spec_freq: str, horizon: int, season_length: int) -> pd.DataFrame:
    """``salesperf.forecast.forecast`` on integer-indexed series: dates in, the integer index back out."""
    from salesperf.forecast import forecast

    dates = period_ends(int(train["ds"].max()) + horizon, spec_freq)
    result = forecast(with_dates(train, spec_freq), horizon=horizon, freq=spec_freq, season_length=season_length,
                      level=(80, 95), folds=3)
    index = pd.Series(np.arange(1, len(dates) + 1), index=dates)
    return result.assign(ds=index.reindex(pd.DatetimeIndex(result["ds"])).to_numpy())


def worker(task: dict) -> dict:
    """Run one timed part; print nothing; return wall / CPU seconds after imports and data, peak MB, extras."""
    import_start = time.perf_counter()
    from statsforecast import StatsForecast

    if task["method"] == AUTO:
        import salesperf.forecast  # noqa: F401 - imported outside the timing
    import_s = time.perf_counter() - import_start
    extra: dict = {}
    if task["kind"] == "accuracy":
        spec = SETS[task["set"]]
        train, _ = load_set(Path(task["data"]), spec.name)
        train = subset(train, task["every"])
        wall0, cpu0 = time.perf_counter(), time.process_time()
        if task["method"] == AUTO:
            result = run_forecast_api(train, spec.freq, spec.horizon, spec.season_length)
            extra["chosen"] = result.groupby("unique_id")["model"].first().value_counts().to_dict()
            result = result.assign(model=AUTO)
        else:
            name = task["method"]
            sf = StatsForecast(models=[statsforecast_model(name, spec.season_length)], freq=1, n_jobs=1)
            level = [80, 95] if name in WITH_INTERVALS else None
            result = long_from_statsforecast(sf.forecast(df=train, h=spec.horizon, level=level), name)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        columns = [c for c in ("unique_id", "model", "ds", "yhat", "lo_80", "hi_80", "lo_95", "hi_95") if c in result]
        result[columns].to_parquet(task["out"])
        extra["series"] = int(train["unique_id"].nunique())
    else:  # speed: the synthetic monthly series
        frame = speed_series()
        frame = frame[frame["unique_id"].isin(sorted(frame["unique_id"].unique())[: task["series"]])]
        wall0, cpu0 = time.perf_counter(), time.process_time()
        if task["method"] == AUTO:
            from salesperf.forecast import forecast

            result = forecast(frame, horizon=SPEED_HORIZON, freq="M", level=(80, 95), folds=SPEED_FOLDS)
            extra["chosen"] = result.groupby("unique_id")["model"].first().value_counts().to_dict()
        else:
            name = task["method"]
            sf = StatsForecast(models=[statsforecast_model(name, 12)], freq="ME", n_jobs=1)
            level = [80, 95] if name in WITH_INTERVALS else None
            sf.cross_validation(df=frame, h=SPEED_HORIZON, n_windows=SPEED_FOLDS, step_size=SPEED_STEP, level=level)
            sf.forecast(df=frame, h=SPEED_HORIZON, level=level)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        extra["series"] = int(frame["unique_id"].nunique())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"wall_s": wall, "cpu_s": cpu, "peak_mb": peak_mb, "import_s": import_s, **extra}


CODE = {"dir": str(ROOT)}  # the salesperf tree the workers import (``--code``: a fixed export of one commit)


def run_part(task: dict, timeout: float) -> dict:
    """Run ``worker(task)`` in a fresh interpreter; its JSON result with the load average around it, or the error."""
    load_before = os.getloadavg()[0]
    command = [sys.executable, __file__, "--worker", json.dumps(task)]
    path = [CODE["dir"], str(ROOT), os.environ.get("PYTHONPATH")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, path))}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s", "load": (load_before, os.getloadavg()[0])}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {done.returncode}: {tail[:200]}", "load": (load_before, os.getloadavg()[0])}
    return {**json.loads(lines[-1]), "load": (load_before, os.getloadavg()[0])}


def forecast_api_available() -> str | None:
    """None when ``from salesperf.forecast import forecast, backtest`` works, else the reason (one line)."""
    try:
        from salesperf.forecast import backtest, forecast  # noqa: F401
    except ImportError as error:
        return f"salesperf.forecast not usable yet ({error})"
    return None


# ---------------------------------------------------------------------------------------------------------------------
# Parts of the run
# ---------------------------------------------------------------------------------------------------------------------


def accuracy_part(data: Path, every: int, methods: list[str], timeout: float, tmp: Path,
                  sets: tuple[str, ...] = tuple(SETS)) -> list[dict]:
    """Every method on every set; one row per (set, method) with mean MASE / sMAPE, coverage and costs."""
    rows = []
    for spec in (SETS[name] for name in sets):
        train, test = load_set(data, spec.name)
        train, test = subset(train, every), subset(test, every)
        for method in methods:
            out = tmp / f"{spec.name}_{method.replace(' ', '_')}.parquet"
            print(f"  {spec.name}: {method} ...", file=sys.stderr, flush=True)
            run = run_part({"kind": "accuracy", "set": spec.name, "method": method, "data": str(data),
                            "every": every, "out": str(out)}, timeout)
            row = {"set": spec.name, "method": method, **run}
            if "error" not in run:
                scores = score(pd.read_parquet(out), train, test, spec.season_length)
                row.update(scores.drop(columns=["unique_id", "model"]).mean().to_dict())
                row["series"] = int(scores["unique_id"].nunique())
            rows.append(row)
    return rows


def speed_part(cases: dict[str, int], timeout: float) -> list[dict]:
    """Each method on its number of synthetic series (the first n of the 1,000); one row per method."""
    rows = []
    for method, n in cases.items():
        print(f"  speed: {method} on {n} series ...", file=sys.stderr, flush=True)
        rows.append({"method": method, **run_part({"kind": "speed", "method": method, "series": n}, timeout)})
    return rows


# ---------------------------------------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------------------------------------


def fmt(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    return f"{value:,.{digits}f}"


def load_text(run: dict) -> str:
    before, after = run.get("load", (float("nan"), float("nan")))
    return f"{before:.1f} / {after:.1f}"


def accuracy_markdown(rows: list[dict], every: int) -> list[str]:
    out = ["### Accuracy on the official test part", "",
           "Mean over series of MASE (scaled by the in-sample seasonal naive MAE, m = 12 / 4) and sMAPE (%); coverage "
           "= share of test points inside the 80 % / 95 % interval. Wall / CPU s: the method's fit and forecast on "
           "the whole set after imports and data loading (`salesperf forecast` includes its 3-fold backtest and "
           "choice); peak MB: the subprocess's maximum RSS; load: 1-minute load average before / after." +
           (f" Quick run: every {every}th series." if every > 1 else ""), "",
           "| set | series | method | mean MASE | mean sMAPE | coverage 80 | coverage 95 | wall s | CPU s | peak MB "
           "| load | note |",
           "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for row in rows:
        note = row.get("error", "")
        if row["method"] == "SeasonalNaive" and every == 1:
            sm, ma = README_BASELINES[row["set"]]["SeasonalNaive"]
            note = note or f"README SNaive: MASE {ma}, sMAPE {sm}"
        if "chosen" in row:
            top = sorted(row["chosen"].items(), key=lambda kv: -kv[1])[:4]
            note = "chosen: " + ", ".join(f"{k} {v}" for k, v in top)
        out.append(f"| {row['set']} | {row.get('series', '')} | {row['method']} | {fmt(row.get('mase'), 4)} | "
                   f"{fmt(row.get('smape'), 3)} | {fmt(row.get('coverage_80'), 3)} | {fmt(row.get('coverage_95'), 3)} "
                   f"| {fmt(row.get('wall_s'), 1)} | {fmt(row.get('cpu_s'), 1)} | {fmt(row.get('peak_mb'), 0)} | "
                   f"{load_text(row)} | {note} |")
    return out


def targets_markdown(rows: list[dict]) -> list[str]:
    """(a) beat seasonal naive on mean MASE, (b) match or beat AutoETS alone, per set; plainly, with the figures."""
    by = {(r["set"], r["method"]): r for r in rows if "mase" in r}
    out = ["", "Targets (issue 12, item 9), per set:", ""]
    for name in SETS:
        auto, ets, naive = by.get((name, AUTO)), by.get((name, "AutoETS")), by.get((name, "SeasonalNaive"))
        if not auto:
            out.append(f"- {name}: `salesperf forecast` not measured")
            continue
        parts = []
        if naive:
            verdict = "met" if auto["mase"] < naive["mase"] else "NOT met"
            parts.append(f"(a) beats seasonal naive: {verdict} (MASE {auto['mase']:.4f} vs {naive['mase']:.4f})")
        if ets:
            verdict = "met" if auto["mase"] <= ets["mase"] else "NOT met"
            parts.append(f"(b) matches or beats AutoETS: {verdict} (MASE {auto['mase']:.4f} vs {ets['mase']:.4f}; "
                         f"sMAPE {auto['smape']:.3f} vs {ets['smape']:.3f})")
        out.append(f"- {name}: " + "; ".join(parts))
    return out


def published_markdown(rows: list[dict], every: int) -> list[str]:
    """Published figures beside ours; the gap (ours - published) where the published figure is one number."""
    by = {(r["set"], r["method"]): r for r in rows if "mase" in r}
    out = ["", "### Published figures beside ours" + (" (ours from the quick run's subset)" if every > 1 else ""), "",
           "| set | published method | measure | published | ours: salesperf forecast | gap | ours: AutoETS | source |",
           "|---|---|---|---|---:|---:|---:|---|"]
    for name, method, measure, value, source in PUBLISHED:
        key, digits = measure.lower(), 3 if measure == "sMAPE" else 4
        auto, ets = by.get((name, AUTO), {}).get(key), by.get((name, "AutoETS"), {}).get(key)
        gap = ""
        if auto is not None and value.replace(".", "", 1).isdigit():
            gap = f"{auto - float(value):+.{digits}f} ({100 * (auto / float(value) - 1):+.1f} %)"
        out.append(f"| {name} | {method} | {measure} | {value} | {fmt(auto, digits)} | {gap} | {fmt(ets, digits)} "
                   f"| {source} |")
    out.append("")
    out.append("The M3 paper's sMAPE and ours are computed alike (mean over series of the mean over horizons 1-18 of "
               "200|y-f|/(|y|+|f|)); the tourism paper's MASE is the one defined above (the README's SNaive MASE, "
               "reproduced here, is the paper's SNaive as far as the README's author recalls).")
    return out


def speed_markdown(rows: list[dict], series: int) -> list[str]:
    out = ["", f"### Speed: {series:,} synthetic monthly series of {SPEED_MONTHS} months", "",
           f"`forecast(df, horizon={SPEED_HORIZON}, freq=\"M\", folds={SPEED_FOLDS})` (selection, backtest, forecast "
           f"with 80/95 % intervals; reconciliation is not part of `forecast`) beside statsforecast AutoETS "
           f"cross-validation alone ({SPEED_FOLDS} windows of {SPEED_HORIZON} months, step {SPEED_STEP}) plus its "
           f"{SPEED_HORIZON}-month forecast, n_jobs=1. Data: 85 % trend x season x noise, 15 % intermittent "
           f"(seed 12).", "",
           "`forecast` uses one process and no worker pool, so on an idle machine its wall time is about its CPU time: "
           "`met` is given for both, the wall figure depending on the load.", "",
           "| case | series | wall s | CPU s | CPU s per 1,000 series | peak MB | load | target | met | note |",
           "|---|---:|---:|---:|---:|---:|---|---|---|---|"]
    for row in [r for r in rows if r["method"] in (AUTO, "AutoETS")]:
        n = row.get("series") or series
        per = row["cpu_s"] * 1000 / n if "cpu_s" in row else None
        target, met = "", ""
        if row["method"] == AUTO and "wall_s" in row:
            target = "<= 60 s per 1,000"
            met = (f"wall: {'yes' if row['wall_s'] * 1000 / n <= 60 else 'no'}; "
                   f"CPU: {'yes' if row['cpu_s'] * 1000 / n <= 60 else 'no'}")
        note = row.get("error", "")
        if "chosen" in row:
            note = "chosen: " + ", ".join(f"{k} {v}" for k, v in sorted(row["chosen"].items(), key=lambda kv: -kv[1]))
        label = AUTO if row["method"] == AUTO else "AutoETS cross-validation + forecast"
        out.append(f"| {label} | {n:,} | {fmt(row.get('wall_s'), 1)} | {fmt(row.get('cpu_s'), 1)} | {fmt(per, 1)} | "
                   f"{fmt(row.get('peak_mb'), 0)} | {load_text(row)} | {target} | {met} | {note} |")
    return out


def model_table_markdown(speed_rows: list[dict], m3_rows: list[dict], every: int) -> list[str]:
    m3 = {r["method"]: r for r in m3_rows}
    speed = {r["method"]: r for r in speed_rows}
    out = ["", "### What each model costs and what accuracy it buys", "",
           f"Cost: CPU s per 1,000 series of statsforecast's model alone ({SPEED_FOLDS}-window cross-validation plus "
           f"the final {SPEED_HORIZON}-month forecast) on the synthetic {SPEED_MONTHS}-month series, measured on the "
           "first n of them and scaled to 1,000; and CPU s per 1,000 series for one fit and the 18-month forecast on "
           "M3 monthly (48-126 months), which is also where the accuracy comes from (official test, mean over the "
           "series scored). Intervals (80/95 %) where the model has its own. `salesperf forecast` pays its own "
           "backtest, choice and intervals in both columns.", "",
           "| model | CV + forecast CPU s / 1,000 (48 months) | n | fit + forecast CPU s / 1,000 (M3 monthly) | "
           "M3 monthly series | M3 monthly MASE | M3 monthly sMAPE | note |",
           "|---|---:|---:|---:|---:|---:|---:|---|"]
    for name in [AUTO] + MODEL_TABLE:
        s, a = speed.get(name, {}), m3.get(name, {})
        per_cv = s["cpu_s"] * 1000 / s["series"] if "cpu_s" in s else None
        per_fit = a["cpu_s"] * 1000 / a["series"] if "cpu_s" in a else None
        note = "; ".join(filter(None, [s.get("error"), a.get("error"), MODEL_NOTES.get(name)]))
        out.append(f"| {name} | {fmt(per_cv, 1)} | {s.get('series', '')} | {fmt(per_fit, 1)} | {a.get('series', '')} "
                   f"| {fmt(a.get('mase'), 4)} | {fmt(a.get('smape'), 3)} | {note} |")
    return out


# ---------------------------------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------------------------------


def run_parts(args, parts: list[str], mode: dict, missing_api: str | None) -> None:
    """Run the named parts now and save each one's rows (with when it ran and the load) to benchmarks/.data/."""
    have_data = (args.data / "m3_monthly_series.csv").is_file()
    for part in parts:
        started, load_before = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.getloadavg()[0]
        rows: dict[str, list[dict]] = {}
        with tempfile.TemporaryDirectory() as tmp:
            if part == "accuracy" and have_data:
                methods = ([] if missing_api else [AUTO]) + ["AutoETS", "SeasonalNaive"]
                rows["accuracy"] = accuracy_part(args.data, mode["every"], methods, args.timeout, Path(tmp))
            if part == "speed":
                methods = ([] if missing_api else [AUTO]) + ["AutoETS"]
                rows["speed"] = speed_part({m: mode["speed_series"] for m in methods}, args.timeout)
            if part == "models":
                extra = [m for m in MODEL_TABLE if m not in ("AutoETS", "SeasonalNaive")]
                timed = [m for m in MODEL_TABLE if m != "AutoETS"]  # AutoETS: the speed part, on every series
                if have_data:
                    rows["m3"] = []
                    for name in extra:
                        every = max(mode["every"], SLOW_MODEL_EVERY.get(name, 1))
                        rows["m3"] += accuracy_part(args.data, every, [name], args.timeout, Path(tmp),
                                                    sets=("m3_monthly",))
                rows["speed"] = speed_part({m: min(mode["model_series"], SLOW_MODEL_SERIES.get(m, SPEED_SERIES))
                                            for m in timed}, args.timeout)
        saved = {"rows": rows, "started": started, "load": (load_before, os.getloadavg()[0]),
                 "api": missing_api or "yes", "have_data": have_data, "code": args.code_label or _commit()}
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        (DATA_DIR / f"forecast_{part}_{mode['name']}.json").write_text(json.dumps(saved, indent=1), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="every 10th series, 200 speed series")
    parser.add_argument("--data", type=Path, default=SHARED, help="folder of the competition CSV files")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help="parts to run now (accuracy, speed, models); the others' last saved results are reused")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per timed part")
    parser.add_argument("--code", type=Path, help="import salesperf from this folder (e.g. `git archive HEAD "
                        "salesperf | tar -x -C DIR`), so that every part measures one version while others commit")
    parser.add_argument("--code-label", default="", help="what --code holds, e.g. a commit; printed with the results")
    parser.add_argument("--write-fixtures", type=Path, metavar="DIR", help="write the committed slices and stop")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    if args.write_fixtures:
        for name, series, rows, size in write_fixtures(args.data, args.write_fixtures):
            print(f"{name}: {series} series, {rows} rows, {size:,} bytes")
        return 0
    mode = QUICK if args.quick else FULL
    if args.code:
        CODE["dir"] = str(args.code.resolve())
    sys.path.insert(0, CODE["dir"])
    missing_api = forecast_api_available()
    scorer_checked = (args.data / "m3_monthly_series.csv").is_file()
    if scorer_checked:
        print("\n".join(check_readme_baselines(args.data)), file=sys.stderr)  # stops the run if it does not match
    else:
        print(f"accuracy skipped: {args.data} is absent", file=sys.stderr)
    run_parts(args, [p for p in args.parts.split(",") if p], mode, missing_api)
    saved = {}
    for part in PARTS:
        path = DATA_DIR / f"forecast_{part}_{mode['name']}.json"
        if path.is_file():
            saved[part] = json.loads(path.read_text(encoding="utf-8"))
    markdown = "\n".join(render(saved, mode, scorer_checked)) + "\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(markdown, encoding="utf-8")
    print(markdown)
    return 0


def render(saved: dict, mode: dict, scorer_checked: bool) -> list[str]:
    """The whole markdown section from the saved parts."""
    quick = " --quick" if mode["name"] == "quick" else ""
    text = ["# Forecasting", "",
            f"Generated by `benchmarks/bench_forecast.py{quick}` on {platform.node()} "
            f"({len(os.sched_getaffinity(0))} cores, Python {platform.python_version()}, statsforecast "
            f"{_version('statsforecast')}). The machine is shared: CPU seconds (user + system, all threads) are the "
            "steadier measure; compare rows of one part. Each part states when it ran and the 1-minute load average "
            "before / after it."]
    for part, result in saved.items():
        if result["api"] != "yes" and part in ("accuracy", "speed"):
            text += ["", f"{part}: `salesperf forecast` not measured in this part: {result['api']}."]
    accuracy = saved.get("accuracy", {}).get("rows", {}).get("accuracy", [])
    if "accuracy" in saved and not saved["accuracy"]["have_data"]:
        text += ["", "Accuracy skipped: the shared competition data folder was absent."]
    if accuracy:
        stamp = saved["accuracy"]
        if scorer_checked:
            text += ["", "Scorer check (every run): the dataset README's Naive1 and SNaive means are reproduced exactly "
                     "on the full sets (sMAPE to 3 decimals, MASE to 4; SNaive MASE " + ", ".join(
                         f"{name} {README_BASELINES[name]['SeasonalNaive'][1]}" for name in SETS) + ")."]
        text += ["", f"Accuracy part ran {stamp['started']} on salesperf {stamp.get('code', 'unrecorded')}, load "
                 f"{stamp['load'][0]:.1f} / {stamp['load'][1]:.1f}.", ""]
        text += accuracy_markdown(accuracy, mode["every"]) + targets_markdown(accuracy)
        text += published_markdown(accuracy, mode["every"])
    if "speed" in saved:
        stamp = saved["speed"]
        text += speed_markdown(stamp["rows"]["speed"], mode["speed_series"])
        text += ["", f"Speed part ran {stamp['started']} on salesperf {stamp.get('code', 'unrecorded')}, load "
                 f"{stamp['load'][0]:.1f} / {stamp['load'][1]:.1f}."]
    if "models" in saved:
        stamp = saved["models"]
        speed_rows = saved.get("speed", {}).get("rows", {}).get("speed", []) + stamp["rows"]["speed"]
        m3_rows = [r for r in accuracy if r["set"] == "m3_monthly"] + stamp["rows"].get("m3", [])
        text += model_table_markdown(speed_rows, m3_rows, mode["every"])
        text += ["", f"Model part ran {stamp['started']}, load {stamp['load'][0]:.1f} / {stamp['load'][1]:.1f}."]
    text += ["", "Reproduce: `.venv/bin/python benchmarks/bench_forecast.py` (full: every series, 1,000 speed series; "
             "`--quick` for a small run; `--parts accuracy,speed` re-runs those parts and reuses the saved model part)."]
    return text


def _commit() -> str:
    """The working tree's commit (its uncommitted changes, if any, are measured too)."""
    done = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h"], capture_output=True, text=True,
                          check=False)
    return f"working tree at {done.stdout.strip() or 'unknown commit'}"


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


if __name__ == "__main__":
    sys.exit(main())

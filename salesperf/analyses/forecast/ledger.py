"""The forecast ledger: every run's forecasts kept beside the report, scored later against what happened.

Each run writes one Parquet file, ``<folder>/forecast-ledger/<run>.parquet`` (``run`` is the report period's
label, e.g. ``2026-10``), one row per series, target date and horizon step. Writing the same run again
replaces that file as a whole, so a re-run of an old period leaves exactly its own rows; the file holds
nothing that changes from run to run (no time of writing), so a deterministic forecaster writes the same
bytes. Only :func:`store` and :func:`load` touch files; the rest is pure.

Scoring (:func:`score`) joins the stored forecasts with the actuals known now (the current run's series):

* error = forecast − actual, so a positive **bias** (mean error) means the forecasts were too high;
* **MAE** = mean |error|;
* **MASE** = mean(|error| / scale), where a forecast's *scale* is the in-sample MAE of the seasonal naive
  forecast (y[t] − y[t − m], m the season length) over the history known **at the forecast's run** (stored in
  the ledger with it, so later data never change an old forecast's score); with fewer than m + 1 points the
  naive forecast's (m = 1); no scale (NaN) where that MAE is 0 or there is no difference at all;
* **coverage** = share of actuals inside the 80 % (95 %) interval, bounds included.

A target date the current series have no point for although it is not after their last period had no sales
under that series (an ended rep, a vanished region): its actual is 0.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

LEDGER_FOLDER = "forecast-ledger"
LEDGER_COLUMNS = ["run", "origin", "unique_id", "ds", "step", "model", "yhat", "lo_80", "hi_80", "lo_95",
                  "hi_95", "scale"]
_TYPES = {"run": pa.string(), "origin": pa.timestamp("ns"), "unique_id": pa.string(),
          "ds": pa.timestamp("ns"),
          "step": pa.int64(), "model": pa.string(), "scale": pa.float64()}
_SCHEMA = pa.schema([(name, _TYPES.get(name, pa.float64())) for name in LEDGER_COLUMNS])
MEASURES = ["n", "mae", "mase", "bias", "coverage_80", "coverage_95"]


@dataclass(frozen=True)
class Scores:
    """How good the stored forecasts were.

    Attributes
    ----------
    rows : DataFrame
        One row per scored forecast: the ledger's columns plus ``y`` (actual), ``error`` (yhat − y),
        ``scaled`` (|error| / scale), ``in_80``, ``in_95`` (bool).
    by_series_step : DataFrame
        One row per series and horizon step: ``unique_id``, ``step``, ``n``, ``mae``, ``mase``, ``bias``,
        ``coverage_80``, ``coverage_95``.
    by_run : DataFrame
        The trend: one row per run and series, ``run``, ``unique_id`` and the same measures over every step
        of that run that has happened.
    """

    rows: pd.DataFrame
    by_series_step: pd.DataFrame
    by_run: pd.DataFrame


def mase_scale(history: pd.DataFrame, season_length: int) -> pd.Series:
    """In-sample MAE of the seasonal naive forecast per series (the MASE denominator).

    Parameters
    ----------
    history : DataFrame
        ``unique_id``, ``ds``, ``y``: one row per series and period, zero-filled (the history known at the
        run).
    season_length : int
        m; a series with m points or fewer uses m = 1.

    Returns
    -------
    Series
        Indexed by unique_id: mean |y[t] − y[t − m]|; NaN where it is 0 or undefined (a single point).
    """
    def one(y: pd.Series) -> float:
        values = y.to_numpy(float)
        lag = season_length if len(values) > season_length else 1
        diffs = np.abs(values[lag:] - values[:-lag])
        value = float(diffs.mean()) if len(diffs) else float("nan")
        return value if value > 0 else float("nan")

    ordered = history.sort_values(["unique_id", "ds"])
    return ordered.groupby("unique_id", sort=True)["y"].apply(one).rename("scale")


def ledger_rows(run: str, forecasts: pd.DataFrame, history: pd.DataFrame, season_length: int) -> pd.DataFrame:
    """The ledger rows of one run.

    Parameters
    ----------
    run : str
        The report period's label (``2026-10``).
    forecasts : DataFrame
        The run's (reconciled) forecasts: ``unique_id``, ``ds``, ``model``, ``yhat``, ``lo_80``, ``hi_80``,
        ``lo_95``, ``hi_95``; one row per series and target date.
    history : DataFrame
        The run's series (``unique_id``, ``ds``, ``y``): the forecast origin is their last period, and the
        MASE scale is computed from them (:func:`mase_scale`).
    season_length : int

    Returns
    -------
    DataFrame
        :data:`LEDGER_COLUMNS`: ``run``, ``origin`` (last period known at the run), ``unique_id``, ``ds``
        (target date), ``step`` (1 for the first date after the origin), ``model``, ``yhat``, the four bounds,
        ``scale``; one row per series and target date, sorted by unique_id and ds.
    """
    origin = pd.Timestamp(history["ds"].max())
    rows = forecasts.copy()
    rows["ds"] = pd.to_datetime(rows["ds"])
    rows["run"], rows["origin"] = run, origin
    dates = sorted(rows["ds"].unique())
    rows["step"] = rows["ds"].map({d: i for i, d in enumerate(dates, start=1)}).astype("int64")
    rows = rows.join(mase_scale(history, season_length), on="unique_id")
    rows = rows[LEDGER_COLUMNS].sort_values(["unique_id", "ds"], ignore_index=True)
    return rows.astype({"run": str, "unique_id": str, "model": str, "origin": "datetime64[ns]",
                        "ds": "datetime64[ns]"})


def store(rows: pd.DataFrame, folder: str | Path) -> Path:
    """Write one run's ledger rows to ``<folder>/forecast-ledger/<run>.parquet``, replacing that run's file
    (written beside, then renamed: a reader never sees half a file). Returns the file's path."""
    runs = rows["run"].unique()
    if len(runs) != 1:
        raise ValueError(f"ledger rows of one run expected, got runs {list(runs)}")
    target = Path(folder) / LEDGER_FOLDER / f"{runs[0]}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(rows[LEDGER_COLUMNS], schema=_SCHEMA, preserve_index=False)
    partial = target.with_suffix(".parquet.partial")
    pq.write_table(table.replace_schema_metadata(None), partial)
    os.replace(partial, target)
    return target


def load(folder: str | Path) -> pd.DataFrame:
    """Every run's ledger rows stored under ``folder`` (:data:`LEDGER_COLUMNS`, sorted by run, unique_id,
    ds); an empty frame of those columns when none was stored yet."""
    files = sorted((Path(folder) / LEDGER_FOLDER).glob("*.parquet"))
    if not files:
        return _SCHEMA.empty_table().to_pandas()
    frame = pd.concat([pq.read_table(f, schema=_SCHEMA).to_pandas() for f in files], ignore_index=True)
    return frame.sort_values(["run", "unique_id", "ds"], ignore_index=True)


def _measures(group: pd.DataFrame) -> pd.Series:
    return pd.Series({
        "n": len(group),
        "mae": group["error"].abs().mean(),
        "mase": group["scaled"].mean(),
        "bias": group["error"].mean(),
        "coverage_80": group["in_80"].mean(),
        "coverage_95": group["in_95"].mean(),
    })


def score(ledger: pd.DataFrame, actuals: pd.DataFrame, as_of=None) -> Scores:
    """Score the stored forecasts whose target dates have happened.

    Parameters
    ----------
    ledger : DataFrame
        :func:`load`'s rows.
    actuals : DataFrame
        ``unique_id``, ``ds``, ``y``: the current run's series (point in time).
    as_of : Timestamp, optional
        The last period known now (default: the actuals' last ``ds``). Only runs whose origin is before it and
        targets on or before it are scored.

    Returns
    -------
    Scores
    """
    as_of = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp(actuals["ds"].max())
    due = ledger[(ledger["origin"] < as_of) & (ledger["ds"] <= as_of)]
    rows = due.merge(actuals[["unique_id", "ds", "y"]], on=["unique_id", "ds"], how="left")
    rows["y"] = rows["y"].fillna(0.0)  # no point although the period is known: no sales under that series
    rows["error"] = rows["yhat"] - rows["y"]
    rows["scaled"] = rows["error"].abs() / rows["scale"]
    rows["in_80"] = rows["y"].between(rows["lo_80"], rows["hi_80"])
    rows["in_95"] = rows["y"].between(rows["lo_95"], rows["hi_95"])
    by_step = _grouped(rows, ["unique_id", "step"])
    by_run = _grouped(rows, ["run", "unique_id"])
    return Scores(rows, by_step, by_run)


def _grouped(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    if rows.empty:
        return pd.DataFrame(columns=keys + MEASURES)
    out = rows.groupby(keys, sort=True)[["error", "scaled", "in_80", "in_95"]].apply(_measures).reset_index()
    return out.astype({"n": "int64"})

"""The analysts' forecasting API on long frames: ``select_and_forecast`` (everything), ``forecast``,
``backtest``.

Input, one row per series and period: ``unique_id`` (str), ``ds`` (Timestamp; period END dates: month ends for
"M", quarter ends for "Q", week-ending Sundays for "W"; other dates are moved to their period's end), ``y``
(float, sales ≥ 0). Missing periods between a series' first and last date, and missing ``y``, count as 0 (no
sale). Output dates are period ends. The same input gives the same output, bit for bit (no randomness
anywhere).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesperf.analyses.forecast import models as md
from salesperf.analyses.forecast.selection import SeriesResult, forecast_series
from salesperf.core.errors import UserError

REQUIRED = ("unique_id", "ds", "y")


@dataclass
class Selection:
    """The result of ``select_and_forecast``: forecasts, the backtest behind the choice, and how it was made.

    Attributes
    ----------
    forecasts : pandas.DataFrame
        One row per (unique_id, ds) of the next ``horizon`` periods: unique_id, ds, model (the chosen model),
        yhat, lo_80, hi_80, lo_95, hi_95 (one lo_/hi_ pair per level). Never negative, never NaN.
    errors : pandas.DataFrame
        One row per (unique_id, model) backtested: unique_id, model, mae, mase, smape (percent), bias (mean
        forecast minus actual: > 0 over-forecasts), coverage_80, coverage_95 (share of backtest points inside
        the interval the model would be delivered with), chosen (bool: exactly one True per series). A series
        too short for a backtest has one row, its model, NaN errors.
    routes : pandas.DataFrame
        One row per series: unique_id, series_class ("regular", "intermittent", "short", "empty"), reason (a
        text key: regular, intermittent_adi, short_few_points, short_no_season, all_zero, fit_failed), points
        (history length), season_length (the one the models used: 1 outside "regular"), adi (average demand
        interval), model (chosen).
    backtest : pandas.DataFrame
        The chosen model's out-of-sample backtest, one row per (unique_id, cutoff, ds): unique_id, ds (the
        forecast period), cutoff (last period of the training part), step (1..h), y, yhat, lo_80, hi_80,
        lo_95, hi_95 (the delivered intervals: the model's own, or cross-fitted conformal ones).
    coverage : pandas.DataFrame
        One row per (unique_id, level): unique_id, level (80, 95), nominal (0.8, 0.95), own (the model's own
        interval's backtest coverage; NaN when it has none), empirical (coverage of the delivered interval),
        conformal (bool: conformal intervals replaced the model's own), points, folds.
    components : pandas.DataFrame
        One row per (unique_id, ds) of the last season of history and of the forecast: unique_id, ds, part
        ("history" or "forecast"), value (y or yhat), trend, season (value = trend + season; additive season
        from an STL decomposition of the history, 0 where the series has no two full seasons).
    timings : pandas.DataFrame
        One row per model: model, series (how many series it was backtested on), cpu_seconds (process CPU time
        of its backtest fits and final fits), ms_per_series.
    """

    forecasts: pd.DataFrame
    errors: pd.DataFrame
    routes: pd.DataFrame
    backtest: pd.DataFrame
    coverage: pd.DataFrame
    components: pd.DataFrame
    timings: pd.DataFrame
    horizon: int
    freq: str
    season_length: int
    levels: tuple[int, ...]


def long_series(df: pd.DataFrame, freq: str) -> list[tuple[str, pd.DatetimeIndex, np.ndarray]]:
    """(unique_id, period-end dates, zero-filled values) of every series, in unique_id order.

    Raises
    ------
    UserError
        When a column is missing or ``ds`` cannot be read as dates.
    """
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise UserError(
            f"forecast input: column(s) {', '.join(missing)} missing; expected unique_id, ds, y "
            f"(e.g. 'total', 2026-01-31, 1250.0); got {', '.join(map(str, df.columns)) or 'no columns'}"
        )
    offset = md.period_offset(freq)
    try:
        ds = pd.to_datetime(df["ds"])
    except (ValueError, TypeError) as exc:
        raise UserError(f"forecast input: column ds holds values that are not dates ({exc})") from exc
    frame = pd.DataFrame(
        {
            "unique_id": df["unique_id"].astype(str),
            "ds": ds.map(offset.rollforward).dt.normalize(),
            "y": pd.to_numeric(df["y"], errors="coerce").fillna(0.0).astype(float),
        }
    )
    frame = frame.groupby(["unique_id", "ds"], sort=True, as_index=False)["y"].sum()
    out = []
    for uid, group in frame.groupby("unique_id", sort=True):
        dates = pd.date_range(group["ds"].iloc[0], group["ds"].iloc[-1], freq=offset)
        values = group.set_index("ds")["y"].reindex(dates, fill_value=0.0).to_numpy(dtype=float)
        out.append((uid, dates, np.where(np.isfinite(values), values, 0.0)))
    return out


def select_and_forecast(
    df: pd.DataFrame,
    horizon: int,
    freq: str,
    season_length: int | None = None,
    level: tuple[int, ...] = (80, 95),
    folds: int = 3,
    models: tuple[str, ...] | None = None,
) -> Selection:
    """Route, backtest, choose and forecast every series of a long frame (see ``Selection`` for the frames).

    Parameters
    ----------
    df : pandas.DataFrame
        Long input: unique_id, ds, y (module docstring).
    horizon : int
        Periods to forecast (≥ 1).
    freq : str
        pandas frequency of the periods: "M", "Q", "W", ...
    season_length : int, optional
        Periods per season; by default from ``freq`` (M 12, Q 4, W 52; weekly series with fewer than two years
        are routed "short" and forecast without a season).
    level : tuple of int
        Interval levels in percent.
    folds : int
        Rolling-origin backtest folds per series.
    models : tuple of str, optional
        Names of the candidates for regular series instead of the default set (e.g. ``("AutoETS",)`` to run
        AutoETS alone in a benchmark); ``models.ALL`` holds the names.
    """
    if int(horizon) < 1 or int(folds) < 1:
        raise UserError(
            f"forecast: horizon and folds must be at least 1 (got horizon={horizon}, folds={folds})"
        )
    levels = tuple(sorted(int(lv) for lv in level))
    if any(not 0 < lv < 100 for lv in levels):
        raise UserError(f"forecast: levels are percentages between 0 and 100 (got {level})")
    m = int(season_length) if season_length else md.season_length_for(freq)
    chosen_models = None
    if models:
        unknown = [name for name in models if name not in md.ALL]
        if unknown:
            raise UserError(f"forecast: unknown model(s) {unknown}; known: {', '.join(sorted(md.ALL))}")
        chosen_models = tuple(md.ALL[name] for name in models)
    offset = md.period_offset(freq)
    parts: dict[str, list] = {
        k: [] for k in ("forecasts", "errors", "routes", "backtest", "coverage", "components")
    }
    cpu: dict[str, list[float]] = {}
    md.load_library()  # the import (~1.5 s) outside the models' timings
    for uid, dates, y in long_series(df, freq):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # statsforecast/statsmodels warn on short or constant series
            res = forecast_series(y, int(horizon), m, int(folds), levels, chosen_models)
        future = pd.date_range(dates[-1], periods=int(horizon) + 1, freq=offset)[1:]
        _collect(parts, uid, dates, y, future, res, m, levels)
        for name, seconds in res.cpu.items():
            cpu.setdefault(name, []).append(seconds)
    frames = {k: _ordered(_frame(v), k, levels) for k, v in parts.items()}
    timings = pd.DataFrame(
        [
            {
                "model": k,
                "series": len(v),
                "cpu_seconds": float(np.sum(v)),
                "ms_per_series": 1000 * float(np.mean(v)),
            }
            for k, v in sorted(cpu.items())
        ],
        columns=["model", "series", "cpu_seconds", "ms_per_series"],
    )
    return Selection(
        timings=timings, horizon=int(horizon), freq=freq, season_length=m, levels=levels, **frames
    )


def _collect(parts: dict, uid: str, dates, y: np.ndarray, future, res: SeriesResult, m: int, levels) -> None:
    """Append one series' rows: records (errors, routes, coverage) or column dicts of equal-length arrays."""
    n = len(future)
    bounds = {f"{side}_{lv}": res.forecast[f"{side}-{lv}"] for lv in levels for side in ("lo", "hi")}
    parts["forecasts"].append(
        {
            "unique_id": _repeat(uid, n),
            "ds": future.values,
            "model": _repeat(res.chosen, n),
            "yhat": res.forecast["yhat"],
            **bounds,
        }
    )
    parts["errors"] += [{"unique_id": uid, **row} for row in res.errors]
    parts["coverage"] += [{"unique_id": uid, **row} for row in res.coverage]
    parts["routes"].append(
        {
            "unique_id": uid,
            "series_class": res.series_class,
            "reason": res.reason,
            "points": len(y),
            "season_length": m if res.series_class == "regular" else 1,
            "adi": md.average_demand_interval(y),
            "model": res.chosen,
        }
    )
    if res.backtest is not None:
        bt = res.backtest
        parts["backtest"].append(
            {
                "unique_id": _repeat(uid, len(bt["y"])),
                "ds": dates[bt["cutoff"] + bt["step"]].values,
                "cutoff": dates[bt["cutoff"]].values,
                "step": bt["step"],
                "y": bt["y"],
                "yhat": bt["yhat"],
                **{f"{side}_{lv}": bt[f"{side}-{lv}"] for lv in levels for side in ("lo", "hi")},
            }
        )
    comp = md.components(dates, y, future, res.forecast["yhat"], m, res.series_class)
    parts["components"].append({"unique_id": _repeat(uid, len(comp["value"])), **comp})


def _repeat(value, n: int) -> np.ndarray:
    return np.full(n, value, dtype=object)


def _frame(part: list) -> pd.DataFrame:
    """One frame of a list of records, or of column dicts (concatenated column by column: fast)."""
    if not part:
        return pd.DataFrame()
    if "ds" not in part[0] or np.ndim(part[0]["unique_id"]) == 0:
        return pd.DataFrame.from_records(part)
    return pd.DataFrame({c: np.concatenate([p[c] for p in part]) for c in part[0]})


def _ordered(frame: pd.DataFrame, name: str, levels: tuple[int, ...]) -> pd.DataFrame:
    """A frame with its documented columns first (and those columns, empty, when there is no series)."""
    bounds = [f"{side}_{lv}" for lv in levels for side in ("lo", "hi")]
    columns = {
        "forecasts": ["unique_id", "ds", "model", "yhat", *bounds],
        "errors": [
            "unique_id",
            "model",
            "mae",
            "mase",
            "smape",
            "bias",
            *[f"coverage_{lv}" for lv in levels],
            "chosen",
        ],
        "routes": ["unique_id", "series_class", "reason", "points", "season_length", "adi", "model"],
        "backtest": ["unique_id", "ds", "cutoff", "step", "y", "yhat", *bounds],
        "coverage": ["unique_id", "level", "nominal", "own", "empirical", "conformal", "points", "folds"],
        "components": ["unique_id", "ds", "part", "value", "trend", "season"],
    }[name]
    if not len(frame):
        return pd.DataFrame(columns=columns)
    return frame[columns].reset_index(drop=True)


def forecast(
    df: pd.DataFrame,
    horizon: int,
    freq: str,
    season_length: int | None = None,
    level: tuple[int, ...] = (80, 95),
    folds: int = 3,
) -> pd.DataFrame:
    """Forecasts of every series by its automatically chosen model, with intervals.

    Returns
    -------
    pandas.DataFrame
        One row per (unique_id, ds) of the next ``horizon`` periods: unique_id, ds (period end), model, yhat,
        lo_80, hi_80, lo_95, hi_95 (one pair per level). Never negative, never NaN. Parameters as in
        ``select_and_forecast``.
    """
    return select_and_forecast(df, horizon, freq, season_length, level, folds).forecasts


def backtest(
    df: pd.DataFrame, horizon: int, freq: str, season_length: int | None = None, folds: int = 3
) -> pd.DataFrame:
    """Rolling-origin backtest errors of every candidate of every series.

    Returns
    -------
    pandas.DataFrame
        One row per (unique_id, model): unique_id, model, mae, mase, smape, bias, coverage_80, coverage_95,
        chosen (see ``Selection.errors``). Parameters as in ``select_and_forecast``.
    """
    return select_and_forecast(df, horizon, freq, season_length, (80, 95), folds).errors

"""Prediction intervals: empirical coverage in the backtest, the calibration rule, and conformal intervals.

A model's own intervals are kept where their empirical coverage in the rolling-origin backtest is within two
binomial standard errors of the nominal level at every level asked (at 36 backtest points: 13.3 points at 80
%, 7.3 points at 95 %). Where they are not, or where the model gives none (Croston family, the ensemble
without its members' intervals), the intervals of every level come from the backtest errors (split conformal):

* score of a backtest point: ``|y - yhat| / w``, with ``w`` the model's own 80 % half-width at that point
  where it has one (so the interval keeps the model's growth with the horizon), else 1 (a constant width);
* half-width at level L: the ``ceil((n + 1) L)``-th smallest of the n scores (the finite-sample conformal
  quantile; the largest score when that rank passes n), times ``w`` of the forecast step;
* the coverage shown for conformal intervals is cross-fitted: each backtest fold's points are scored against
  the quantile of the other folds' scores, so the coverage is out-of-sample like the model's own.
"""

from __future__ import annotations

import math

import numpy as np

Z_SCORES = {80: 1.2815515655446004, 95: 1.959963984540054}


def coverage(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Share of the points with lo ≤ y ≤ hi (NaN when there is no point or no bound)."""
    ok = np.isfinite(lo) & np.isfinite(hi)
    if len(y) == 0 or not ok.all():
        return float("nan")
    return float(np.mean((y >= lo - 1e-9) & (y <= hi + 1e-9)))


def miscalibrated(empirical: float, level: float, n: int) -> bool:
    """Whether an empirical coverage is more than two binomial standard errors from its nominal level.

    Parameters
    ----------
    empirical : float
        Share of backtest points inside the interval (NaN: the model has no interval: miscalibrated).
    level : float
        The nominal level in percent (80, 95).
    n : int
        Backtest points behind ``empirical``.
    """
    if not np.isfinite(empirical) or n == 0:
        return True
    p = level / 100
    return abs(empirical - p) > 2 * math.sqrt(p * (1 - p) / n)


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """The finite-sample conformal quantile of non-negative scores at ``level`` percent (0 when none)."""
    scores = np.sort(np.asarray(scores, dtype=float)[np.isfinite(scores)])
    n = len(scores)
    if n == 0:
        return 0.0
    rank = min(n, math.ceil((n + 1) * level / 100))
    return float(scores[rank - 1])


def interval_scale(yhat: np.ndarray, hi80: np.ndarray | None) -> np.ndarray:
    """The per-point scale ``w`` of the scores: the model's own 80 % half-width, else 1 (module doc)."""
    if hi80 is None:
        return np.ones_like(yhat, dtype=float)
    w = np.asarray(hi80, dtype=float) - np.asarray(yhat, dtype=float)
    if not np.all(np.isfinite(w)) or np.any(w <= 1e-12):
        return np.ones_like(yhat, dtype=float)
    return w


def conformal_bounds(
    yhat: np.ndarray, scale: np.ndarray, scores: np.ndarray, levels: tuple[int, ...]
) -> dict[str, np.ndarray]:
    """Conformal interval bounds around ``yhat``: ``{"lo-80": ..., "hi-80": ..., ...}``.

    Parameters
    ----------
    yhat : numpy.ndarray
        Point forecasts, one per step.
    scale : numpy.ndarray
        ``w`` of each step (same shape as ``yhat``), on the scale the scores were divided by.
    scores : numpy.ndarray
        Backtest scores ``|y - yhat| / w``.
    levels : tuple of int
        Levels in percent.
    """
    out = {}
    for lv in levels:
        half = conformal_quantile(scores, lv) * scale
        out[f"lo-{lv}"], out[f"hi-{lv}"] = yhat - half, yhat + half
    return out


def cross_fitted_coverage(
    y: np.ndarray, yhat: np.ndarray, scale: np.ndarray, fold: np.ndarray, level: int
) -> tuple[float, np.ndarray, np.ndarray]:
    """Out-of-sample coverage of conformal intervals: each fold scored by the quantile of the other folds.

    Parameters
    ----------
    y, yhat, scale, fold : numpy.ndarray
        One entry per backtest point: actual, forecast, score scale ``w`` and the fold (cutoff) number.
    level : int
        The level in percent.

    Returns
    -------
    tuple
        (coverage, lo, hi): the share inside and the cross-fitted bounds of every point. With a single fold
        the quantile of that fold's own scores is used (in-sample, stated in the coverage frame by ``folds ==
        1``).
    """
    scores = np.abs(y - yhat) / scale
    lo, hi = np.empty_like(yhat, dtype=float), np.empty_like(yhat, dtype=float)
    folds = np.unique(fold)
    for f in folds:
        inside = fold == f
        others = scores[~inside] if len(folds) > 1 else scores
        half = conformal_quantile(others, level) * scale[inside]
        lo[inside], hi[inside] = yhat[inside] - half, yhat[inside] + half
    return coverage(y, lo, hi), lo, hi


def history_bounds(yhat: np.ndarray, history: np.ndarray, levels: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Normal bounds ``yhat ± z·sd(history)`` for a series too short for a backtest (one point: sd 0)."""
    sd = float(np.std(history, ddof=1)) if len(history) > 1 else 0.0
    out = {}
    for lv in levels:
        z = Z_SCORES.get(lv) or _z(lv)
        out[f"lo-{lv}"], out[f"hi-{lv}"] = yhat - z * sd, yhat + z * sd
    return out


def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 200))


def nest_and_clip(bounds: dict[str, np.ndarray], yhat: np.ndarray, levels: tuple[int, ...]) -> dict:
    """Bounds made usable for sales: finite, ≥ 0, around the (clipped) forecast, wider at higher levels."""
    yhat = np.clip(np.nan_to_num(yhat, nan=0.0, posinf=0.0, neginf=0.0), 0, None)
    out, lo_prev, hi_prev = {}, yhat, yhat
    for lv in sorted(levels):
        lo, hi = (np.asarray(bounds.get(f"{side}-{lv}", yhat), dtype=float) for side in ("lo", "hi"))
        lo, hi = np.where(np.isfinite(lo), lo, yhat), np.where(np.isfinite(hi), hi, yhat)
        lo = np.clip(np.minimum(lo, lo_prev), 0, None)
        hi = np.clip(np.maximum(hi, hi_prev), 0, None)
        out[f"lo-{lv}"], out[f"hi-{lv}"] = lo, hi
        lo_prev, hi_prev = lo, hi
    return out


def delivered(
    mean: np.ndarray, bounds: dict | None, actual: np.ndarray, fold: np.ndarray, levels: tuple[int, ...]
) -> dict:
    """The intervals a model is delivered with, judged on its backtest (the rule of this module's docstring).

    Parameters
    ----------
    mean : numpy.ndarray
        The model's backtest forecasts, every fold concatenated (not clipped).
    bounds : dict or None
        Its own bounds on the same points ("lo-80", "hi-80", ...), None when it gives none.
    actual, fold : numpy.ndarray
        The actual value and the fold number of every point.
    levels : tuple of int
        Levels in percent.

    Returns
    -------
    dict
        ``conformal`` (bool), ``scale`` (w of every point, None when w = 1), ``scores`` (|y - yhat| / w),
        ``own`` and ``final`` coverage per level, and ``bounds`` (the delivered backtest bounds, clipped at
        0: own, or cross-fitted conformal).
    """
    yhat = np.clip(mean, 0, None)
    nan = np.full_like(yhat, np.nan)
    own = {}
    for lv in levels:
        lo, hi = (bounds or {}).get(f"lo-{lv}", nan), (bounds or {}).get(f"hi-{lv}", nan)
        own[lv] = coverage(actual, np.clip(lo, 0, None), np.clip(hi, 0, None))
    conformal = any(miscalibrated(own[lv], lv, len(actual)) for lv in levels)
    has_own = bool(bounds) and "hi-80" in bounds
    scale = interval_scale(mean, bounds["hi-80"] if has_own else None)
    final, delivered_bounds = dict(own), dict(bounds or {})
    if conformal:
        for lv in levels:
            final[lv], delivered_bounds[f"lo-{lv}"], delivered_bounds[f"hi-{lv}"] = cross_fitted_coverage(
                actual, yhat, scale, fold, lv
            )
    return {
        "conformal": conformal,
        "scale": scale if has_own and not np.all(scale == 1) else None,
        "scores": np.abs(actual - yhat) / scale,
        "own": own,
        "final": final,
        "bounds": nest_and_clip(delivered_bounds, yhat, levels),
    }


def step_scale(judged: dict, hi80: np.ndarray | None, yhat: np.ndarray) -> np.ndarray:
    """The score scale ``w`` of each forecast step, on the footing the backtest scores were computed on.

    ``judged`` is ``delivered``'s result; ``hi80`` the final fit's own 80 % upper bound (None without).
    Where the backtest scores were scaled by the model's half-width but the final fit has none, the median
    backtest half-width stands in.
    """
    if judged["scale"] is None:
        return np.ones_like(yhat)
    if hi80 is not None:
        w = interval_scale(yhat, hi80)
        if not np.all(w == 1):
            return w
    return np.full_like(yhat, float(np.median(judged["scale"])))

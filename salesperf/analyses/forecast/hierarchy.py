"""Coherent forecasts of the sales hierarchy (its series and summing structures: :mod:`.queries`).

Two cuts of one total
---------------------
Regions and categories are two different cuts of the same total, and reps (within teams) a third. No single
tree holds all three, so the report reconciles two *structures* that share the total:

``cuts``
    total → regions, total → categories, both → region × category cells (the bottom series, named
    ``region/East/category/Software``). A grouped structure: every region and every category is a sum of
    cells, so MinT over it makes total = Σ regions = Σ categories at once. With only one of the two dimensions
    the structure is total → that dimension; with neither it is the total alone (nothing to reconcile).
``reps``
    total → team → rep (``team/Team East/rep/R001``), or total → rep without teams. Reconciled on its own by
    MinT, then its reps are scaled in proportion to their reconciled forecasts so that they sum to the
    ``cuts`` structure's reconciled total (the one total the report shows), teams re-summed.

Reconciliation
--------------
MinT with shrinkage (``hierarchicalforecast`` ``MinTrace(method="mint_shrink")``). Its covariance is estimated
from the **out-of-sample backtest errors** of each series' chosen model (the Selection's backtest predictions:
``y - yhat`` per cutoff and target date), not from in-sample fits. A series backtested on fewer points than
another has NaN at the others' points, which the library's shrinkage estimator masks (pairwise). A bottom
series with fewer than :data:`MIN_RESIDUALS` backtest points (a new rep: its variance cannot be estimated) is
*held* at its base forecast: taken out of its aggregates' base forecasts, MinT reconciles the rest (the
aggregates' residuals still include its errors: an approximation). Bottom-up is the fallback, and the result
says why: an aggregate, or every bottom, with too few backtest points (``too_few_residuals``), more than
:data:`MAX_MINT_SERIES` series (``too_many_series``), or MinT failing (an ill-conditioned covariance,
residuals all zero, a non-finite result).

Non-negative and coherent to the cent: reconciled bottom forecasts are clipped at zero and rounded to cents
(integer cents); every aggregate is then the exact sum of its rounded bottoms (bottom-up re-sum), so
total = Σ regions = Σ categories = Σ reps to the cent. The ``reps`` structure's bottoms are allocated in
integer cents by the largest remainder so that their sum equals the shared total exactly.

Intervals are carried through by shifting: each series' base bounds move by its point adjustment
(reconciled − base forecast), clipped at zero, rounded to cents. They are the base model's uncertainty around
the reconciled point; bounds are not summed (a sum of quantiles is not a quantile of the sum).

Series that ended (no activity in the last season) have no future: they are left out of the reconciliation
and forecast as zero (model ``ended``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from hierarchicalforecast.methods import MinTrace

from salesperf.analyses.forecast.queries import SalesSeries

#: The fewest (cutoff, date) residual points, observed for every series of a structure, MinT needs.
MIN_RESIDUALS = 4
#: The most series MinT reconciles at once: its covariance is dense (n × n) and solved in O(n³); 2,000 series
#: take 32 MB and about a second; larger structures (e.g. 100 regions × 200 categories) go bottom-up.
MAX_MINT_SERIES = 2000
BOUNDS = ("lo_80", "hi_80", "lo_95", "hi_95")
FORECAST_COLUMNS = ["unique_id", "ds", "model", "yhat", *BOUNDS, "base_yhat"]


@dataclass(frozen=True)
class Reconciled:
    """Coherent forecasts of every series.

    Attributes
    ----------
    forecasts : DataFrame
        One row per series and target date: ``unique_id``, ``ds``, ``model`` (the base model; ``ended`` for an
        ended series), ``yhat`` (reconciled, ≥ 0, cents), ``lo_80``, ``hi_80``, ``lo_95``, ``hi_95`` (base
        bounds shifted by the point adjustment, ≥ 0, cents), ``base_yhat`` (the model's own forecast).
    methods : DataFrame
        One row per structure: ``structure``, ``method`` (``mint_shrink``, ``bottom_up`` or ``none`` for a
        structure of the total alone), ``reason`` (empty for MinT; ``too_few_residuals``, ``too_many_series``,
        ``mint_failed`` or ``single_series``), ``residuals`` (the fewest backtest points of a series MinT
        used), ``held`` (bottom series held at their base forecast: too few backtest points), ``detail`` (the
        failure's message), ``clipped`` (reconciled bottom forecasts below zero set to zero).
    """

    forecasts: pd.DataFrame
    methods: pd.DataFrame


def _matrix(frame: pd.DataFrame, rows: list[str], column: str, values: str) -> pd.DataFrame:
    return frame.pivot_table(index="unique_id", columns=column, values=values, aggfunc="first").reindex(rows)


def _residual_matrices(backtest: pd.DataFrame | None, rows: list[str]) -> tuple:
    """Backtest actuals and predictions, one row per series of ``rows``, one column per (cutoff, ds) that
    some of them have (NaN where a series has not: MinT's shrinkage estimator masks them); and the number of
    points of each series."""
    if backtest is None or backtest.empty:
        return np.empty((len(rows), 0)), np.empty((len(rows), 0)), np.zeros(len(rows), dtype=int)
    points = backtest.assign(point=list(zip(backtest["cutoff"], backtest["ds"], strict=True)))
    actual = _matrix(points, rows, "point", "y")
    predicted = _matrix(points, rows, "point", "yhat").reindex(columns=actual.columns)
    seen = actual.notna() & predicted.notna()
    actual, predicted = actual.where(seen), predicted.where(seen)
    keep = seen.any(axis=0)
    counts = seen.sum(axis=1).to_numpy(int)
    return actual.loc[:, keep].to_numpy(float), predicted.loc[:, keep].to_numpy(float), counts


def _mint(S: np.ndarray, base: np.ndarray, actual: np.ndarray, predicted: np.ndarray, fewest: int) -> tuple:
    """Reconciled bottom forecasts (bottoms × horizon), the method and why."""
    n_bottom = S.shape[1]
    bottom_up = base[-n_bottom:]
    if S.shape[0] == n_bottom:
        return bottom_up, "none", "single_series"
    if fewest < MIN_RESIDUALS:
        return bottom_up, "bottom_up", "too_few_residuals"
    if S.shape[0] > MAX_MINT_SERIES:
        return bottom_up, "bottom_up", "too_many_series"
    try:
        with np.errstate(all="ignore"):
            mean = MinTrace(method="mint_shrink").fit_predict(
                S=S, y_hat=base, y_insample=actual, y_hat_insample=predicted
            )["mean"]
        if not np.isfinite(mean).all():
            raise ValueError("non-finite reconciled forecasts")
    except Exception as exc:  # any failure of MinT falls back to bottom-up, and says why
        message = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
        return bottom_up, "bottom_up", f"mint_failed: {message}"
    return mean[-n_bottom:], "mint_shrink", ""


def _largest_remainder(values: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Integer cents per bottom (rows) and date (columns) in proportion to ``values`` (≥ 0), summing exactly
    to ``target`` (integer cents per date); equal shares where the values sum to zero."""
    out = np.zeros(values.shape, dtype=np.int64)
    for j in range(values.shape[1]):
        weights = values[:, j] if values[:, j].sum() > 0 else np.ones(values.shape[0])
        exact = weights / weights.sum() * target[j]
        floor = np.floor(exact).astype(np.int64)
        rest = int(target[j] - floor.sum())
        order = np.argsort(-(exact - floor), kind="stable")[:rest]
        floor[order] += 1
        out[:, j] = floor
    return out


def _reconcile_structure(structure, base, backtest, active, total_cents=None):
    """Reconciled yhat in integer cents of the active series of one structure (a frame: rows = series,
    columns = dates), and the row of :attr:`Reconciled.methods`."""
    S_all = structure.S.set_index("unique_id")
    bottoms = [b for b in structure.bottom if b in active]
    S_frame = S_all.loc[S_all[bottoms].sum(axis=1) > 0, bottoms]
    rows = list(S_frame.index)
    S = S_frame.to_numpy(float)
    yhat = _matrix(base, rows, "ds", "yhat")
    dates = list(yhat.columns)
    bottom_base = yhat.iloc[-len(bottoms):].fillna(0.0).to_numpy(float)
    values = yhat.to_numpy(float)
    values = np.where(np.isnan(values), S @ bottom_base, values)  # a missing aggregate: its bottoms' sum
    actual, predicted, counts = _residual_matrices(backtest, rows)
    n_aggregates = len(rows) - len(bottoms)
    held = counts[n_aggregates:] < MIN_RESIDUALS
    bottom = values[n_aggregates:].copy()
    if held.any() and not held.all() and (counts[:n_aggregates] >= MIN_RESIDUALS).all():
        # MinT over the bottoms that have a backtest; the others held at their base forecast, taken out of
        # their aggregates' base (an aggregate of held bottoms only is their sum)
        rest = values - S[:, held] @ bottom[held]
        free = S[:, ~held]
        used = free.sum(axis=1) > 0
        bottom[~held], method, reason = _mint(free[used], rest[used], actual[used], predicted[used],
                                              int(counts[used].min()))
        fewest = int(counts[used].min())
    else:
        held[:] = False
        fewest = int(counts.min())
        bottom, method, reason = _mint(S, values, actual, predicted, fewest)
    clipped = int((bottom < 0).sum())
    bottom = np.clip(bottom, 0.0, None)
    if total_cents is None:
        cents = np.round(bottom * 100).astype(np.int64)
    else:
        cents = _largest_remainder(bottom, total_cents)
    summed = pd.DataFrame(S.astype(np.int64) @ cents, index=rows, columns=dates)
    row = {"structure": structure.name, "method": method, "reason": reason.split(":")[0],
           "residuals": fewest, "held": int(held.sum()), "detail": reason.partition(": ")[2],
           "clipped": clipped}
    return summed, row


def reconcile(series: SalesSeries, base: pd.DataFrame, backtest: pd.DataFrame | None = None) -> Reconciled:
    """Coherent, non-negative forecasts to the cent (see the module docstring for the method).

    Parameters
    ----------
    series : SalesSeries
        The structures and which series are active.
    base : DataFrame
        The models' forecasts of the active series (``salesperf.forecast.forecast``): ``unique_id``, ``ds``,
        ``model``, ``yhat``, ``lo_80``, ``hi_80``, ``lo_95``, ``hi_95``; one row per series and date.
    backtest : DataFrame, optional
        The chosen models' out-of-sample backtest predictions (the Selection's): ``unique_id``, ``ds``,
        ``cutoff``, ``y``, ``yhat``. Their errors are MinT's residuals; without them, bottom-up.

    Returns
    -------
    Reconciled
    """
    if not series.structures or base.empty:
        methods = pd.DataFrame(columns=["structure", "method", "reason", "residuals", "held", "detail",
                                        "clipped"])
        return Reconciled(pd.DataFrame(columns=FORECAST_COLUMNS), methods)
    active = set(series.levels.loc[series.levels["active"], "unique_id"])
    cents, methods = {}, []
    for name in ("cuts", "reps"):
        if name not in series.structures:
            continue
        total = cents["cuts"].loc["total"].to_numpy() if name == "reps" and "cuts" in cents else None
        cents[name], row = _reconcile_structure(series.structures[name], base, backtest, active, total)
        methods.append(row)
    summed = pd.concat([cents["cuts"]] + ([cents["reps"].drop(index="total")] if "reps" in cents else []))
    yhat = summed.stack().rename("yhat").rename_axis(["unique_id", "ds"]).reset_index()
    yhat["yhat"] = yhat["yhat"] / 100
    base = base.drop(columns="yhat").assign(base_yhat=base["yhat"])
    out = yhat.merge(base, on=["unique_id", "ds"], how="left")
    shift = out["yhat"] - out["base_yhat"].fillna(out["yhat"])
    for bound in BOUNDS:
        out[bound] = (out[bound].fillna(out["base_yhat"]) + shift).clip(lower=0).round(2)
    out["base_yhat"] = out["base_yhat"].fillna(out["yhat"])
    out["model"] = out["model"].fillna("sum")  # an aggregate the models did not forecast: its bottoms' sum
    ended = series.levels.loc[~series.levels["active"], "unique_id"]
    dates = sorted(out["ds"].unique())
    zeros = pd.DataFrame([(uid, ds) for uid in ended for ds in dates], columns=["unique_id", "ds"])
    zeros = zeros.assign(model="ended", yhat=0.0, **{b: 0.0 for b in BOUNDS}, base_yhat=0.0)
    out = pd.concat([out[FORECAST_COLUMNS]] + ([zeros[FORECAST_COLUMNS]] if len(zeros) else []),
                    ignore_index=True)
    out["ds"] = pd.to_datetime(out["ds"])
    return Reconciled(out.sort_values(["unique_id", "ds"], ignore_index=True), pd.DataFrame(methods))

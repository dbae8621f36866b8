"""The sales hierarchy: series summed from the engine's cells, their summing structures, coherent forecasts.

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
another has NaN at the others' points, which the library's shrinkage estimator masks (pairwise). Bottom-up
is the fallback, and the result says why: a series of the structure with fewer than :data:`MIN_RESIDUALS`
backtest points (its variance cannot be estimated), or MinT failing (an ill-conditioned covariance,
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

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from hierarchicalforecast.methods import MinTrace
from hierarchicalforecast.utils import aggregate

#: The fewest (cutoff, date) residual points, observed for every series of a structure, MinT needs.
MIN_RESIDUALS = 4
#: Level names in the structures, and the dimension columns of each level (after the total).
_LEVEL_NAMES = {"": "total", "region": "region", "category": "category", "region/category": "cell",
                "team": "team", "team/rep": "rep", "rep": "rep"}
BOUNDS = ("lo_80", "hi_80", "lo_95", "hi_95")
FORECAST_COLUMNS = ["unique_id", "ds", "model", "yhat", *BOUNDS, "base_yhat"]


@dataclass(frozen=True)
class Structure:
    """One summing structure for hierarchicalforecast.

    Attributes
    ----------
    name : {'cuts', 'reps'}
    S : DataFrame
        The summing matrix: one row per series (``unique_id`` column; aggregates first, the bottom series
        last), one 0/1 column per bottom series.
    tags : dict of str to ndarray
        Level name (total, region, category, cell, team, rep) → the unique_ids of that level.
    """

    name: str
    S: pd.DataFrame
    tags: dict

    @property
    def bottom(self) -> list[str]:
        """The bottom series, in the order of ``S``'s columns."""
        return [c for c in self.S.columns if c != "unique_id"]


@dataclass(frozen=True)
class SalesSeries:
    """The series of one report, their summing structures and what is missing.

    Attributes
    ----------
    history : DataFrame
        One row per series and complete period: ``unique_id`` (str), ``ds`` (period-end Timestamp), ``y``
        (net revenue, to the cent). Zero-filled between the series' first and last activity, and up to
        :attr:`last_period` when the series is still active. Naming: ``total``; ``region/East``;
        ``category/Software``; ``region/East/category/Software`` (a bottom cell of the region × category
        structure: a series to forecast, not a report line); ``team/Team East`` and
        ``team/Team East/rep/R001`` when reps have teams, else ``rep/R001``; ``(none)`` for lines without a
        value.
    levels : DataFrame
        One row per series: ``unique_id``, ``level`` (total, region, category, cell, team, rep),
        ``structure`` (``cuts`` or ``reps``; the total is listed once, under ``cuts``), ``active`` (bool:
        activity within the last season up to :attr:`last_period`), ``first`` and ``last`` (period ends of
        its first and last activity).
    structures : dict of str to Structure
        ``cuts`` and, with reps, ``reps``.
    grain : {'month', 'quarter', 'week'}
    freq : str
        Frequency alias of ``ds`` for statsforecast (``ME``, ``QE``, ``W-SUN``).
    season_length : int
        12, 4 or 52.
    last_period : Timestamp or None
        End of the last complete period (None without any activity).
    absent : tuple of (str, tuple of str)
        Dimensions without any value, each with the columns looked for, e.g. ``(("team", ("reps.team",)),)``.
    """

    history: pd.DataFrame
    levels: pd.DataFrame
    structures: dict
    grain: str
    freq: str
    season_length: int
    last_period: pd.Timestamp | None
    absent: tuple = field(default_factory=tuple)

    @property
    def to_forecast(self) -> pd.DataFrame:
        """:attr:`history` of the active series only (what the models forecast)."""
        active = self.levels.loc[self.levels["active"], "unique_id"]
        return self.history[self.history["unique_id"].isin(active)].reset_index(drop=True)


def _specs(absent: list[str]) -> dict[str, list[str]]:
    """Dimension columns of each structure's bottom level."""
    cuts = [d for d in ("region", "category") if d not in absent]
    specs = {"cuts": cuts}
    if "rep" not in absent:
        specs["reps"] = ["rep"] if "team" in absent else ["team", "rep"]
    return specs


def _structure(cells: pd.DataFrame, name: str, dims: list[str]) -> tuple[pd.DataFrame, Structure]:
    """Sums of the cells per series of one structure (``unique_id, ds, y``, rows only where a cell has
    activity) and its summing matrix, both by ``hierarchicalforecast.utils.aggregate``.

    aggregate joins and splits ids on ``/``, which a region or category name may hold: it is given each
    value's code and the ids are named afterwards."""
    frame = cells.groupby(["period", *dims], as_index=False)["y"].sum().rename(columns={"period": "ds"})
    frame.insert(0, "total", "total")
    names = {}
    for k, dim in enumerate(dims):  # codes distinct across dimensions: ids of two levels never meet
        codes, names[dim] = pd.factorize(frame[dim], sort=True)
        frame[dim] = [f"{k}.{code}" for code in codes]
    spec = [["total"]] + [["total", *dims[: i + 1]] for i in range(len(dims))]
    if dims == ["region", "category"]:
        spec = [["total"], ["total", "region"], ["total", "category"], ["total", "region", "category"]]
    sums, S, tags = aggregate(frame[["total", *dims, "ds", "y"]], spec)
    named = {}
    for level, ids in tags.items():
        level_dims = level.split("/")[1:]

        def label(code_id: str, level_dims=level_dims) -> str:
            codes = code_id.split("/")[1:]
            parts = [f"{d}/{names[d][int(c.split('.')[1])]}" for d, c in zip(level_dims, codes, strict=True)]
            return "/".join(parts) or "total"

        named[_LEVEL_NAMES["/".join(level_dims)]] = {i: label(i) for i in ids}
    ids = {code: label for labels in named.values() for code, label in labels.items()}
    sums["unique_id"] = sums["unique_id"].map(ids)
    S = S.rename(columns=ids)
    S["unique_id"] = S["unique_id"].map(ids)
    tags = {level: np.asarray(list(labels.values())) for level, labels in named.items()}
    return sums, Structure(name, S.reset_index(drop=True), tags)


def series_and_structures(
    cells: pd.DataFrame,
    grain: str,
    last_period: pd.Timestamp,
    absent_dimensions: list[str],
    freq: str,
    season_length: int,
    absent: tuple = (),
) -> SalesSeries:
    """Every series of the report from the engine's cells, zero-filled, with its summing structures.

    Parameters
    ----------
    cells : DataFrame
        :func:`salesperf.analyses.forecast.queries.sales_cells`: ``period`` (period end), ``region``,
        ``category``, ``rep``, ``team``, ``y``; one row per cell and period with activity.
    grain : str
    last_period : Timestamp
        End of the last complete period: active series are zero-filled up to it.
    absent_dimensions : list of str
        Dimensions without values (their levels are left out).
    freq : str
        ``ME``, ``QE`` or ``W-SUN``.
    season_length : int
        A series without activity in the last ``season_length`` periods has ended.
    absent : tuple
        Stored as :attr:`SalesSeries.absent`.

    Returns
    -------
    SalesSeries
    """
    if cells.empty:
        empty = pd.DataFrame({"unique_id": pd.Series(dtype=str), "ds": pd.Series(dtype="datetime64[ns]"),
                              "y": pd.Series(dtype=float)})
        levels = pd.DataFrame(columns=["unique_id", "level", "structure", "active", "first", "last"])
        return SalesSeries(empty, levels, {}, grain, freq, season_length, None, absent)
    last_period = pd.Timestamp(last_period).normalize()
    recent = pd.date_range(end=last_period, periods=season_length, freq=freq)[0]
    histories, level_rows, structures = [], [], {}
    for name, dims in _specs(absent_dimensions).items():
        sums, structure = _structure(cells, name, dims)
        structures[name] = structure
        for level, ids in structure.tags.items():
            if name == "reps" and level == "total":
                continue
            level_rows += [{"unique_id": i, "level": level, "structure": name} for i in ids]
        histories.append(sums if name == "cuts" else sums[sums["unique_id"] != "total"])
    sums = pd.concat(histories, ignore_index=True)
    span = sums.groupby("unique_id")["ds"].agg(first="min", last="max")
    span["active"] = span["last"] >= recent
    filled = []
    for uid, rows in sums.groupby("unique_id", sort=False):
        first, last, active = span.loc[uid, ["first", "last", "active"]]
        dates = pd.date_range(first, last_period if active else last, freq=freq)
        series = rows.set_index("ds")["y"].reindex(dates, fill_value=0.0)
        filled.append(pd.DataFrame({"unique_id": uid, "ds": dates, "y": series.to_numpy().round(2)}))
    history = pd.concat(filled, ignore_index=True)
    levels = pd.DataFrame(level_rows).join(span, on="unique_id")
    levels = levels[["unique_id", "level", "structure", "active", "first", "last"]]
    return SalesSeries(history, levels.reset_index(drop=True), structures, grain, freq, season_length,
                       last_period, absent)


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
        structure of the total alone), ``reason`` (empty for MinT; ``too_few_residuals``, ``mint_failed`` or
        ``single_series``), ``residuals`` (the fewest backtest points a series had), ``detail`` (the
        failure's message),
        ``clipped`` (reconciled bottom forecasts below zero set to zero).
    """

    forecasts: pd.DataFrame
    methods: pd.DataFrame


def _matrix(frame: pd.DataFrame, rows: list[str], column: str, values: str) -> pd.DataFrame:
    return frame.pivot_table(index="unique_id", columns=column, values=values, aggfunc="first").reindex(rows)


def _residual_matrices(backtest: pd.DataFrame | None, rows: list[str]) -> tuple[np.ndarray, np.ndarray, int]:
    """Backtest actuals and predictions, one row per series of ``rows``, one column per (cutoff, ds) that
    some of them have (NaN where a series has not: MinT's shrinkage estimator masks them); and the fewest
    points any series has."""
    if backtest is None or backtest.empty:
        return np.empty((len(rows), 0)), np.empty((len(rows), 0)), 0
    points = backtest.assign(point=list(zip(backtest["cutoff"], backtest["ds"], strict=True)))
    actual = _matrix(points, rows, "point", "y")
    predicted = _matrix(points, rows, "point", "yhat").reindex(columns=actual.columns)
    seen = actual.notna() & predicted.notna()
    actual, predicted = actual.where(seen), predicted.where(seen)
    keep = seen.any(axis=0)
    fewest = int(seen.sum(axis=1).min())
    return actual.loc[:, keep].to_numpy(float), predicted.loc[:, keep].to_numpy(float), fewest


def _mint(S: np.ndarray, base: np.ndarray, actual: np.ndarray, predicted: np.ndarray, fewest: int) -> tuple:
    """Reconciled bottom forecasts (bottoms × horizon), the method and why."""
    n_bottom = S.shape[1]
    bottom_up = base[-n_bottom:]
    if S.shape[0] == n_bottom:
        return bottom_up, "none", "single_series"
    if fewest < MIN_RESIDUALS:
        return bottom_up, "bottom_up", "too_few_residuals"
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
    actual, predicted, fewest = _residual_matrices(backtest, rows)
    bottom, method, reason = _mint(S, values, actual, predicted, fewest)
    clipped = int((bottom < 0).sum())
    bottom = np.clip(bottom, 0.0, None)
    if total_cents is None:
        cents = np.round(bottom * 100).astype(np.int64)
    else:
        cents = _largest_remainder(bottom, total_cents)
    summed = pd.DataFrame(S.astype(np.int64) @ cents, index=rows, columns=dates)
    row = {"structure": structure.name, "method": method, "reason": reason.split(":")[0],
           "residuals": fewest, "detail": reason.partition(": ")[2], "clipped": clipped}
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
        methods = pd.DataFrame(columns=["structure", "method", "reason", "residuals", "detail", "clipped"])
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

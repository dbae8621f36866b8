"""Engine work of the forecast analysis: the sales series to forecast, from ONE aggregate query.

The query groups the counted lines of ``orders`` (every line but cancelled ones, returns netted:
:func:`salesperf.core.expr.counted_line`, revenue as the overview defines it) by period and by the finest cell
of the hierarchy — region × category × team × rep — and returns one row per active cell and period (money
rounded to cents in the engine). Every series is a sum of those cells, and the summing structures come with
them (:func:`series_and_structures`, pure, through ``hierarchicalforecast.utils.aggregate``; the structures
are explained in :mod:`salesperf.analyses.forecast.hierarchy`); pandas never sees an order line.

Attributes of a line: region is the line's ``orders.region``, else its customer's ``customers.region``;
category the line's ``orders.category``, else its product's ``products.category``; rep is ``orders.rep_id``;
team is the rep's ``reps.team`` (:func:`salesperf.core.expr.with_attributes` / ``line_or_entity``). A line
without a value is counted under ``(none)`` so that every cut sums to the total. A dimension whose columns
hold no value at all is absent: :attr:`SalesSeries.absent` says which, as data.

Point in time: only periods that ended on or before the report period's end (and on or before the run date,
when the report period is the current one) are series points; lines after that day are never read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from hierarchicalforecast.utils import aggregate

from salesperf.core.expr import counted_line, line_or_entity, money, with_attributes
from salesperf.core.periods import Period
from salesperf.data.engine import Engine

#: Ibis truncation unit, pandas period frequency, statsforecast frequency of period-end dates, season length.
GRAINS = {
    "month": ("M", "M", "ME", 12),
    "quarter": ("Q", "Q", "QE", 4),
    "week": ("W", "W-SUN", "W-SUN", 52),
}
#: The value of a line without a region, category, team or rep (the lifecycle analysis writes it the same).
NONE = "(none)"
#: Where each dimension's value may come from (table.column), in the order they are tried.
SOURCES = {
    "region": ("orders.region", "customers.region"),
    "category": ("orders.category", "products.category"),
    "rep": ("orders.rep_id",),
    "team": ("reps.team",),
}
DIMENSIONS = tuple(SOURCES)
CELL_COLUMNS = ["period", *DIMENSIONS, "y"]


#: Level names in the structures, and the dimension columns of each level (after the total).
_LEVEL_NAMES = {"": "total", "region": "region", "category": "category", "region/category": "cell",
                "team": "team", "team/rep": "rep", "rep": "rep"}


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


def last_complete_day(period: Period, today: date | None = None) -> date:
    """The end of the last period of ``period``'s grain that ended on or before the period's end and on or
    before ``today`` (the current, partial period is never a point: it ends before the report period does
    only when the report period is the current one)."""
    if today is None or period.end <= today:
        return period.end
    return period.start - timedelta(days=1)


def _present(engine: Engine, qualified: str) -> bool:
    table, column = qualified.split(".")
    return engine.has_table(table) and column in engine.table(table).columns


def _dimension_lines(engine: Engine, orders: ir.Table) -> tuple[ir.Table, dict]:
    """Order lines joined with their customers' region, products' category and reps' team; and per dimension
    the expression of its value (None when none of its columns exists)."""
    lines = orders
    joins = {"region": ("customers", "customer_id"), "category": ("products", "product_id"),
             "team": ("reps", "rep_id")}
    for dimension, (table, key) in joins.items():
        if _present(engine, f"{table}.{dimension}") and key in orders.columns:
            lines = with_attributes(lines, engine.table(table), key, [dimension])
    values = {
        "region": _value(lines, "region"),
        "category": _value(lines, "category"),
        "rep": lines.rep_id if "rep_id" in lines.columns else None,
        "team": lines._team if "_team" in lines.columns else None,
    }
    return lines, values


def _value(lines: ir.Table, column: str) -> ir.Value | None:
    if column in lines.columns or f"_{column}" in lines.columns:
        return line_or_entity(lines, column)
    return None


def sales_cells(engine: Engine, period: Period, today: date | None = None) -> pd.DataFrame:
    """Net revenue per period and hierarchy cell, from one aggregate query.

    Parameters
    ----------
    engine : Engine
        Holds ``orders`` (and, when present, ``customers``, ``products``, ``reps``).
    period : Period
        The report period: its grain is the series' grain; lines after :func:`last_complete_day` are not read.
    today : datetime.date, optional
        The run date (when the report period is the current one, its partial period is left out).

    Returns
    -------
    DataFrame
        One row per (period, region, category, rep, team) with at least one counted line: ``period``
        (period-end Timestamp), ``region``, ``category``, ``rep``, ``team`` (str, ``(none)`` where the line
        has no value; ``(none)`` throughout for a dimension whose columns do not exist), ``y`` (net revenue,
        rounded to cents in the engine). Sorted by every column but ``y``.
    """
    unit, period_freq, _, _ = GRAINS[period.grain]
    cut = last_complete_day(period, today)
    orders = engine.table("orders")
    lines, values = _dimension_lines(engine, orders)
    lines = lines.filter(counted_line(lines), lines.order_date <= ibis.date(cut))
    keys = {"period": lines.order_date.truncate(unit).cast("date")}
    for dimension, value in values.items():
        keys[dimension] = value.cast("string").fill_null(NONE) if value is not None else ibis.literal(NONE)
    cells = engine.fetch(lines.group_by(**keys).aggregate(y=money(lines.amount.sum())))
    starts = pd.to_datetime(cells["period"])
    cells["period"] = starts.dt.to_period(period_freq).dt.end_time.dt.normalize().astype("datetime64[ns]")
    cells["y"] = cells["y"].astype(float)
    return cells[CELL_COLUMNS].sort_values(CELL_COLUMNS[:-1], ignore_index=True)


def sales_series(engine: Engine, period: Period, today: date | None = None) -> SalesSeries:
    """The report's series (total, regions, categories, their cells, teams and reps) and their summing
    structures: :func:`sales_cells` summed per series by :func:`series_and_structures`.

    Returns
    -------
    SalesSeries
    """
    cells = sales_cells(engine, period, today)
    absent = tuple(
        (dimension, SOURCES[dimension])
        for dimension in DIMENSIONS
        if not any(_present(engine, source) for source in SOURCES[dimension])
        or (len(cells) and cells[dimension].eq(NONE).all())
    )
    _, _, freq, season = GRAINS[period.grain]
    cut = pd.Timestamp(last_complete_day(period, today))
    return series_and_structures(cells, period.grain, cut, [name for name, _ in absent],
                                 freq=freq, season_length=season, absent=absent)

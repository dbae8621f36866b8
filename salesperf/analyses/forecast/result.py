"""The forecast report's rich result and the small frames its sections show (pure, computed once from the
parts: series, model selection, reconciliation, pipeline outlook, ledger scores)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from salesperf.analyses.forecast.api import Selection
from salesperf.analyses.forecast.hierarchy import Reconciled
from salesperf.analyses.forecast.ledger import Scores
from salesperf.analyses.forecast.outlook import PipelineOutlook
from salesperf.analyses.forecast.queries import SalesSeries

#: Levels shown in the report's tables, in order (the region × category cells are bottom series only).
SHOWN_LEVELS = ("total", "region", "category", "team", "rep")


@dataclass
class Forecast:
    """Everything the forecast report shows.

    Attributes
    ----------
    as_of : datetime.date
        The report period's end.
    grain : {'month', 'quarter', 'week'}
    horizon : int
        Periods forecast.
    currency : str
    series : SalesSeries
        The history of every series, their levels and summing structures.
    selection : Selection or None
        Routes, backtest errors, coverage, components and timings of the models (None without history).
    reconciled : Reconciled or None
        Coherent forecasts of every series (None without history).
    pipeline : PipelineOutlook
    scores : Scores or None
        Earlier runs' forecasts scored against what happened (None when there are none to score).
    ledger_status : str
        ``stored`` (this run's forecasts were written to the ledger), ``no_run`` (outside ``salesperf run``:
        nothing stored), ``entity`` (a per-entity copy: the ledger is the whole company's), ``no_history``.
    earlier_runs : int
        Runs of the same grain found in the ledger before this one.
    labels : dict
        The report period in each language.
    has_opportunities : bool
        Whether the data hold an opportunities table (without it the page's stated line says so).
    """

    as_of: date
    grain: str
    horizon: int
    currency: str
    series: SalesSeries
    selection: Selection | None
    reconciled: Reconciled | None
    pipeline: PipelineOutlook
    scores: Scores | None = None
    ledger_status: str = "no_history"
    earlier_runs: int = 0
    labels: dict = field(default_factory=dict)
    has_opportunities: bool = False

    @property
    def has_forecast(self) -> bool:
        """Whether any series was forecast."""
        return self.reconciled is not None and not self.reconciled.forecasts.empty


def with_levels(frame: pd.DataFrame, series: SalesSeries) -> pd.DataFrame:
    """``frame`` (with ``unique_id``) joined to each series' ``level`` and display ``name`` (the last part
    of its id: ``region/East`` → ``East``, ``team/T/rep/R001`` → ``R001``)."""
    levels = series.levels[["unique_id", "level"]].drop_duplicates("unique_id")
    out = frame.merge(levels, on="unique_id", how="left")
    out["name"] = out["unique_id"].str.rsplit("/", n=1).str[-1]
    return out


def total_path(result: Forecast) -> pd.DataFrame:
    """History and forecast of the total, one row per period: ``ds``, ``part`` (history or forecast),
    ``value``, ``lo_80``, ``hi_80``, ``lo_95``, ``hi_95`` (NaN for history)."""
    history = result.series.history
    past = history[history["unique_id"] == "total"][["ds", "y"]].rename(columns={"y": "value"})
    future = result.reconciled.forecasts
    future = future[future["unique_id"] == "total"].rename(columns={"yhat": "value"})
    columns = ["ds", "value", "lo_80", "hi_80", "lo_95", "hi_95"]
    return pd.concat(
        [past.assign(part="history"), future[columns].assign(part="forecast")], ignore_index=True
    )[["ds", "part", *columns[1:]]]


def next_period_table(result: Forecast) -> pd.DataFrame:
    """One row per shown series: ``unique_id``, ``level``, ``name``, ``last`` (the last complete period's
    sales), ``year_ago`` (the same period a year before the forecast one, NaN without it), ``yhat``,
    ``lo_80``, ``hi_80`` (the first forecast period), ``change`` (yhat − last), ``model``, ``mase`` (the
    chosen model's backtest MASE), ``series_class``; ordered by level, then by forecast, largest first."""
    forecasts = result.reconciled.forecasts
    first = forecasts[forecasts["ds"] == forecasts["ds"].min()]
    history = result.series.history
    last = history[history["ds"] == result.series.last_period][["unique_id", "y"]]
    last = last.rename(columns={"y": "last"})
    dates = sorted(history["ds"].unique())  # the same period a season before the first forecast one
    m = result.series.season_length
    target = dates[len(dates) - m] if len(dates) >= m else None
    ago = history[history["ds"] == target][["unique_id", "y"]].rename(columns={"y": "year_ago"})
    bounds = ["lo_80", "hi_80", "lo_95", "hi_95"]
    out = first[["unique_id", "yhat", *bounds, "model"]].merge(last, on="unique_id", how="left")
    out = out.merge(ago, on="unique_id", how="left")
    out["last"] = out["last"].fillna(0.0)
    out["change"] = out["yhat"] - out["last"]
    errors = result.selection.errors
    chosen = errors[errors["chosen"]][["unique_id", "mase"]]
    routes = result.selection.routes[["unique_id", "series_class"]]
    out = with_levels(out.merge(chosen, on="unique_id", how="left").merge(routes, on="unique_id", how="left"),
                      result.series)
    out = out[out["level"].isin(SHOWN_LEVELS)]
    order = {level: i for i, level in enumerate(SHOWN_LEVELS)}
    out = out.assign(_order=out["level"].map(order)).sort_values(["_order", "yhat"], ascending=[True, False])
    return out.drop(columns="_order").reset_index(drop=True)


def coverage_summary(selection: Selection) -> pd.DataFrame:
    """Backtest coverage of the delivered intervals over every series, one row per level: ``level``,
    ``nominal``, ``empirical`` (weighted by backtest points), ``own`` (the models' own intervals, where they
    have them), ``series``, ``conformal`` (series whose intervals were replaced by conformal ones)."""
    cov = selection.coverage.dropna(subset=["empirical"])
    if cov.empty:
        return pd.DataFrame(columns=["level", "nominal", "empirical", "own", "series", "conformal"])

    def one(group: pd.DataFrame) -> pd.Series:
        weights = group["points"].clip(lower=1)
        own = group.dropna(subset=["own"])
        return pd.Series({
            "nominal": group["nominal"].iloc[0],
            "empirical": (group["empirical"] * weights).sum() / weights.sum(),
            "own": (own["own"] * own["points"]).sum() / own["points"].sum() if len(own) else float("nan"),
            "series": group["unique_id"].nunique(),
            "conformal": int(group["conformal"].sum()),
        })

    return cov.groupby("level").apply(one, include_groups=False).reset_index()


def accuracy_by_level(result: Forecast) -> pd.DataFrame:
    """Backtest accuracy of the chosen models beside seasonal naive's, one row per shown level: ``level``,
    ``series``, ``mase`` (median over the level's series), ``naive_mase`` (seasonal naive's median, where it
    was backtested), ``smape`` (median, percent), ``models`` (the chosen models, most frequent first)."""
    errors = with_levels(result.selection.errors, result.series)
    errors = errors[errors["level"].isin(SHOWN_LEVELS)]
    chosen = errors[errors["chosen"]]
    naive = errors[errors["model"] == "SeasonalNaive"].dropna(subset=["mase"])
    naive = naive.groupby("level")["mase"].median()
    rows = []
    for level in SHOWN_LEVELS:
        part = chosen[chosen["level"] == level]
        if part.empty:
            continue
        models = part["model"].value_counts()
        rows.append({
            "level": level,
            "series": len(part),
            "mase": _median(part["mase"]),
            "naive_mase": naive.get(level, float("nan")),
            "smape": _median(part["smape"]),
            "models": ", ".join(f"{m} {n}" for m, n in models.items()),
        })
    return pd.DataFrame(rows, columns=["level", "series", "mase", "naive_mase", "smape", "models"])


def _median(values: pd.Series) -> float:
    """The median of the known values; NaN without any (a series too short for a backtest has none)."""
    known = values.dropna()
    return float(known.median()) if len(known) else float("nan")


def drivers(selection: Selection, uid: str = "total") -> dict | None:
    """How the first forecast period differs from the last history period of ``uid``, split into trend and
    season (the additive STL components of :attr:`Selection.components`); None without them."""
    comp = selection.components
    comp = comp[comp["unique_id"] == uid]
    past, future = comp[comp["part"] == "history"], comp[comp["part"] == "forecast"]
    if past.empty or future.empty:
        return None
    last, first = past.sort_values("ds").iloc[-1], future.sort_values("ds").iloc[0]
    return {
        "trend": float(first["trend"] - last["trend"]),
        "season": float(first["season"] - last["season"]),
        "has_season": bool((comp["season"] != 0).any()),
    }

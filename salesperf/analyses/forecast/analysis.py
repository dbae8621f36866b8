"""The forecast analysis behind the :class:`~salesperf.analyses.base.Analysis` interface.

One aggregate query gives every series (:mod:`.queries`); the models are chosen per series by a rolling-origin
backtest (:mod:`.api`); the forecasts are made coherent (:mod:`.hierarchy`); open deals give the pipeline
outlook (:mod:`.pipeline_queries`); a run stores its forecasts in the ledger and scores the earlier runs'
(:mod:`.ledger`).

The ledger of a run lives in the run's period folder (``reports/<period>/forecast-ledger/<period>.parquet``):
a later run reads the ledgers of the other period folders of the same reports folder, of the same grain and
made before it; a re-run of a period replaces that period's forecasts with the same ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from salesperf.analyses.base import Analysis, Context, Needs, Result
from salesperf.analyses.forecast import ledger, tables, text
from salesperf.analyses.forecast.api import select_and_forecast
from salesperf.analyses.forecast.hierarchy import reconcile
from salesperf.analyses.forecast.pipeline_queries import read_outlook
from salesperf.analyses.forecast.queries import sales_series
from salesperf.analyses.forecast.result import Forecast, next_period_table
from salesperf.core.periods import parse_period
from salesperf.core.present import Exhibit
from salesperf.core.vocab import LANGUAGES

#: The frequency the models are given, by report grain.
MODEL_FREQ = {"month": "M", "quarter": "Q", "week": "W"}


def run_folder(ds) -> Path | None:
    """The folder a run's reports are written to (it becomes ``reports/<period>``); None outside a run or
    for a per-entity copy (the ledger is the whole company's)."""
    if ds.store is None or ds.entity:
        return None
    return ds.store.parents[1]


def earlier_ledgers(folder: Path, grain: str, origin: pd.Timestamp) -> pd.DataFrame:
    """The ledger rows of the other period folders beside ``folder``: runs of ``grain`` whose forecasts were
    made from history ending before ``origin`` (a later or the same period is never read)."""
    frames = []
    for sibling in sorted(folder.parent.iterdir()):
        if sibling == folder or not (sibling / ledger.LEDGER_FOLDER).is_dir():
            continue
        rows = ledger.load(sibling)
        if rows.empty:
            continue
        grains = {run: _grain(run) for run in rows["run"].unique()}
        keep = rows["run"].map(grains).eq(grain) & (rows["origin"] < origin)
        frames.append(rows[keep])
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=ledger.LEDGER_COLUMNS)


def _grain(label: str) -> str:
    try:
        return parse_period(label).grain
    except Exception:  # a folder of another tool: not a period of ours
        return ""


class ForecastAnalysis(Analysis):
    """Sales forecasts by total, region, category, team and rep; accuracy, intervals, pipeline and ledger."""

    name = "forecast"
    needs = Needs(
        optional={
            "orders.region / customers.region": ("by_level", "region_series"),
            "orders.category / products.category": ("by_level", "category_series"),
            "orders.rep_id": ("by_level", "rep_series"),
            "reps.team": ("by_level", "team_series"),
            "opportunities": ("pipeline", "pipeline_outlook"),
            "opportunity_history": ("pipeline", "stage_history_rates"),
            "targets": ("pipeline", "quota_gaps"),
        }
    )
    parameters = {"horizon": 6, "folds": 3, "pipeline_periods": 3}
    words = text.WORDS

    def compute(self, ds, ctx: Context, upstream: Mapping[str, Result]) -> Forecast:
        """Series, chosen models, coherent forecasts, pipeline outlook and ledger scores of ``ds``'s
        period."""
        horizon, folds = int(self.param(ctx, "horizon")), int(self.param(ctx, "folds"))
        period = ds.period
        series = sales_series(ds.engine, period, ds.today)
        pipeline = read_outlook(ds.engine, period.end, period.grain, int(self.param(ctx, "pipeline_periods")))
        result = Forecast(
            as_of=period.end,
            grain=period.grain,
            horizon=horizon,
            currency=ctx.currency,
            series=series,
            selection=None,
            reconciled=None,
            pipeline=pipeline,
            labels={lang: period.label_in(lang) for lang in LANGUAGES},
            has_opportunities=ds.has("opportunities"),
        )
        if series.last_period is None or series.to_forecast.empty:
            return result
        result.selection = select_and_forecast(
            series.to_forecast, horizon, MODEL_FREQ[period.grain], series.season_length, (80, 95), folds
        )
        result.reconciled = reconcile(series, result.selection.forecasts, result.selection.backtest)
        self._ledger(ds, result)
        return result

    def _ledger(self, ds, result: Forecast) -> None:
        folder = run_folder(ds)
        if folder is None:
            result.ledger_status = "entity" if ds.entity else "no_run"
            return
        rows = ledger.ledger_rows(
            ds.period.label, result.reconciled.forecasts, result.series.history, result.series.season_length
        )
        ledger.store(rows, folder)
        result.ledger_status = "stored"
        earlier = earlier_ledgers(folder, result.grain, result.series.last_period)
        result.earlier_runs = earlier["run"].nunique()
        if result.earlier_runs:
            scores = ledger.score(earlier, result.series.history, as_of=result.series.last_period)
            result.scores = scores if len(scores.rows) else None

    def summarise(self, detail: Forecast, ds, ctx: Context) -> Result:
        """Tiles, findings (the outlook, its drivers, the least reliable series), the next-period table by
        region and category, and the forecasts of every series (for the reps analysis's potential)."""
        lang = ctx.lang
        exhibits, shared = [], {}
        if detail.has_forecast:
            table = next_period_table(detail)
            shown = table[table["level"].isin(("total", "region", "category"))]
            exhibits.append(
                Exhibit(text.WORDS("by_level", lang), shown, tables.next_period_spec(lang),
                        text.changes_sentence(detail, lang))
            )
            shared["forecasts"] = detail.reconciled.forecasts
        return Result(
            self.name,
            headline=text.tiles(detail, lang),
            findings=text.findings(detail, lang),
            exhibits=exhibits,
            shared=shared,
        )

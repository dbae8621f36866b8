"""All words of the forecast report: tiles and sentences in English and Chinese, computed from the
:class:`~salesperf.analyses.forecast.result.Forecast` (templates in ``vocab.yml``; table headers in
:mod:`.tables`)."""

from __future__ import annotations

import math

import pandas as pd

from salesperf.analyses.forecast.pipeline import ALL_TEAMS
from salesperf.analyses.forecast.result import (
    Forecast,
    accuracy_by_level,
    coverage_summary,
    drivers,
    next_period_table,
)
from salesperf.core import fmt
from salesperf.core.narrative import change_sentence
from salesperf.core.periods import containing, parse_period
from salesperf.core.present import Tile
from salesperf.core.vocab import CORE, Vocabulary

WORDS = Vocabulary(__package__, CORE)
#: A series is "least reliable" when its backtest MASE is at least this (worse than a seasonal naive
#: forecast made in-sample).
UNRELIABLE_MASE = 1.0


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _money(x, f: Forecast, lang: str) -> str:
    return fmt.money(x, lang, f.currency)


def _range(lo, hi, f: Forecast, lang: str) -> str:
    return WORDS("range", lang, lo=_money(lo, f, lang), hi=_money(hi, f, lang))


def period_label(ds, grain: str, lang: str) -> str:
    """``November 2026`` / ``2026年11月`` for the period ending on ``ds``."""
    return containing(grain, pd.Timestamp(ds).date()).label_in(lang)


def _level(level: str, lang: str) -> str:
    return WORDS(f"level_{level}", lang)


def _total_next(f: Forecast) -> pd.Series | None:
    table = next_period_table(f)
    total = table[table["unique_id"] == "total"]
    return None if total.empty else total.iloc[0]


# ------------------------------------------------------------------------------------------------------ tiles


def tiles(f: Forecast, lang: str) -> list[Tile]:
    """Next period's total with its 80 % range, the backtest error against seasonal naive, the 80 %
    interval's backtest coverage, and the pipeline's expected bookings."""
    if not f.has_forecast:
        return [Tile(WORDS("tile_forecast", lang), "–", WORDS("tile_no_history", lang))]
    total = _total_next(f)
    first = f.reconciled.forecasts["ds"].min()
    out = [
        Tile(
            WORDS("tile_forecast_for", lang, period=period_label(first, f.grain, lang)),
            _money(total["yhat"], f, lang),
            _range(total["lo_80"], total["hi_80"], f, lang),
            fmt.signed_percent(fmt.relative_change(total["yhat"], total["last"]))
            + " " + WORDS("vs_last", lang) if total["last"] else "",
        )
    ]
    accuracy = accuracy_by_level(f)
    row = accuracy[accuracy["level"] == "total"]
    if len(row) and not _missing(row.iloc[0]["mase"]):
        naive = row.iloc[0]["naive_mase"]
        out.append(Tile(
            WORDS("tile_mase", lang),
            fmt.number(row.iloc[0]["mase"], 2),
            "" if _missing(naive) else WORDS("tile_naive", lang, mase=fmt.number(naive, 2)),
            tone="good" if not _missing(naive) and row.iloc[0]["mase"] < naive else "neutral",
        ))
    cov = coverage_summary(f.selection)
    at80 = cov[cov["level"] == 80]
    if len(at80):
        out.append(Tile(WORDS("tile_coverage", lang), fmt.percent(at80.iloc[0]["empirical"], 0),
                        WORDS("tile_nominal", lang, pct=fmt.percent(0.8, 0))))
    if f.pipeline.status == "ok" and len(f.pipeline.bookings):
        b = f.pipeline.bookings
        first_total = b[(b["team"] == ALL_TEAMS) & (b["period"] == 1)]
        if len(first_total):
            out.append(Tile(WORDS("tile_pipeline", lang), _money(first_total.iloc[0]["expected"], f, lang),
                            _range(first_total.iloc[0]["low"], first_total.iloc[0]["high"], f, lang)))
    return out


# -------------------------------------------------------------------------------------------------- sentences


def outlook_sentence(f: Forecast, lang: str) -> str:
    """The next period's total with its range and its change on the last period and on a year before."""
    if not f.has_forecast:
        return WORDS("no_history", lang)
    total = _total_next(f)
    first = f.reconciled.forecasts["ds"].min()
    label = WORDS("forecast_of", lang, period=period_label(first, f.grain, lang))
    comparisons = [(total["last"], period_label(f.series.last_period, f.grain, lang))]
    if not _missing(total["year_ago"]):
        comparisons.append((total["year_ago"], WORDS("year_before", lang)))
    said = change_sentence(
        label, total["yhat"], comparisons, lang, currency=f.currency, sentence="forecast_sentence"
    )
    return " ".join([said, WORDS("range_sentence", lang, lo=_money(total["lo_80"], f, lang),
                                 hi=_money(total["hi_80"], f, lang), lo95=_money(total["lo_95"], f, lang),
                                 hi95=_money(total["hi_95"], f, lang))])


def drivers_sentence(f: Forecast, lang: str) -> str:
    """How much of the total's change from the last period is trend and how much season."""
    if not f.has_forecast:
        return ""
    split = drivers(f.selection)
    if split is None or not split["has_season"]:
        return WORDS("drivers_no_season", lang) if split is not None else ""
    key = "drivers_season" if abs(split["season"]) >= abs(split["trend"]) else "drivers_trend"
    return WORDS(key, lang, season=fmt.signed_money(split["season"], lang, f.currency),
                 trend=fmt.signed_money(split["trend"], lang, f.currency))


def changes_sentence(f: Forecast, lang: str, n: int = 3) -> str:
    """The largest expected changes from the last period among regions and categories."""
    if not f.has_forecast:
        return ""
    table = next_period_table(f)
    parts = table[table["level"].isin(("region", "category")) & (table["name"] != "(none)")]
    parts = parts.reindex(parts["change"].abs().sort_values(ascending=False).index).head(n)
    parts = parts[parts["change"].abs() > 0]
    if parts.empty:
        return ""
    items = WORDS("list_join", lang).join(
        WORDS("change_item", lang, name=row["name"], level=_level(row["level"], lang),
              change=fmt.signed_money(row["change"], lang, f.currency))
        for _, row in parts.iterrows()
    )
    return WORDS("changes_sentence", lang, items=items)


def reliability_sentence(f: Forecast, lang: str, n: int = 3) -> str:
    """Where the forecast is least reliable, and why (its backtest error, intermittent or short history)."""
    if not f.has_forecast:
        return ""
    table = next_period_table(f)
    shown = table[table["level"] != "total"]
    weak = shown[(shown["mase"] >= UNRELIABLE_MASE) | shown["series_class"].isin(("intermittent", "short"))]
    if weak.empty:
        return WORDS("reliable_all", lang, mase=fmt.number(UNRELIABLE_MASE, 1))
    weak = weak.assign(_weight=weak["mase"].fillna(99)).sort_values(["_weight", "yhat"], ascending=False)
    items = []
    for _, row in weak.head(n).iterrows():
        short_or_sparse = row["series_class"] in ("intermittent", "short")
        why = f"why_{row['series_class']}" if short_or_sparse else "why_error"
        items.append(WORDS("weak_item", lang, name=row["name"], level=_level(row["level"], lang),
                           why=WORDS(why, lang, mase=fmt.number(row["mase"], 2))))
    return WORDS("reliability_sentence", lang, n=len(weak), items=WORDS("list_join", lang).join(items))


def coverage_sentence(f: Forecast, lang: str) -> str:
    """Backtest coverage of the 80 % and 95 % intervals and how many series got conformal intervals."""
    if not f.has_forecast:
        return ""
    cov = coverage_summary(f.selection)
    if cov.empty:
        return WORDS("coverage_none", lang)
    by = {int(r["level"]): r for _, r in cov.iterrows()}
    conformal = int(cov["conformal"].max())
    return WORDS(
        "coverage_sentence",
        lang,
        c80=fmt.percent(by[80]["empirical"], 0) if 80 in by else "–",
        c95=fmt.percent(by[95]["empirical"], 0) if 95 in by else "–",
        conformal=fmt.number(conformal),
        series=fmt.number(int(cov["series"].max())),
    )


def routes_sentence(f: Forecast, lang: str) -> str:
    """How many series got which kind of method (regular, intermittent, short history, no sales)."""
    if not f.has_forecast:
        return ""
    counts = f.selection.routes["series_class"].value_counts()
    parts = [WORDS(f"route_{k}", lang, n=fmt.number(counts[k])) for k in ("regular", "intermittent", "short",
                                                                          "empty") if k in counts]
    total_route = f.selection.routes[f.selection.routes["unique_id"] == "total"]
    short = ""
    if len(total_route) and total_route.iloc[0]["series_class"] == "short":
        short = " " + WORDS("total_short", lang, points=fmt.number(total_route.iloc[0]["points"]),
                            unit=WORDS(f"units_{f.grain}", lang))
    return WORDS("routes_sentence", lang, parts=WORDS("list_join", lang).join(parts)) + short


def reconciliation_sentence(f: Forecast, lang: str) -> str:
    """Which reconciliation made the levels add up, and why bottom-up where MinT was not used."""
    if not f.has_forecast or f.reconciled.methods.empty:
        return ""
    parts = []
    for _, row in f.reconciled.methods.iterrows():
        if row["method"] == "none":
            continue
        what = WORDS(f"structure_{row['structure']}", lang)
        if row["method"] == "mint_shrink":
            parts.append(WORDS("reconciled_mint", lang, what=what))
        else:
            parts.append(WORDS("reconciled_bottom_up", lang, what=what,
                               why=WORDS(f"bottom_up_{row['reason'] or 'chosen'}", lang)))
    return " ".join(parts)


def pipeline_sentences(f: Forecast, lang: str) -> list[str]:
    """The pipeline outlook in words: why there is none, what it expects next period against the CRM's own
    probabilities, and what degraded (a missing table is said by the section's stated line instead)."""
    p = f.pipeline
    if p.status == "no_opportunities" and not f.has_opportunities:
        return []  # the section's stated line says the table is missing
    if p.status != "ok":
        return [WORDS(f"pipeline_{p.status}", lang)]
    out = []
    b = p.bookings
    everyone = b[b["team"] == ALL_TEAMS]
    if len(everyone):
        first = everyone.sort_values("period").iloc[0]
        out.append(WORDS("pipeline_sentence", lang, period=parse_period(first["label"]).label_in(lang),
                         expected=_money(first["expected"], f, lang),
                         range=_range(first["low"], first["high"], f, lang),
                         crm=_money(first["crm_expected"], f, lang),
                         rate=fmt.percent(p.overall_rate, 0)))
    # a missing targets or history table has the section's stated line instead of a note
    said = {"no_targets", "no_stage_history"}
    out += [WORDS(f"pipeline_note_{note}", lang) for note in dict.fromkeys(p.notes) if note not in said]
    return out


def gap_sentence(f: Forecast, lang: str) -> str:
    """The team furthest from its next-period quota after the expected pipeline."""
    gaps = f.pipeline.gaps
    if gaps is None or gaps.empty:
        return ""
    first = gaps[gaps["period"] == gaps["period"].min()]
    teams = first[first["team"] != ALL_TEAMS] if (first["team"] != ALL_TEAMS).any() else first
    worst = teams.loc[teams["gap"].idxmax()]
    period = parse_period(worst["label"]).label_in(lang)
    if worst["gap"] <= 0:
        return WORDS("gap_covered", lang, period=period)
    return WORDS("gap_sentence", lang, team=worst["team"], period=period,
                 gap=_money(worst["gap"], f, lang), quota=_money(worst["quota"], f, lang))


def ledger_sentence(f: Forecast, lang: str) -> str:
    """How good the earlier runs' forecasts were, or why there is nothing to score yet."""
    if f.ledger_status != "stored":
        return WORDS(f"ledger_{f.ledger_status}", lang)
    if f.scores is None:
        return WORDS("ledger_first", lang, runs=fmt.number(f.earlier_runs))
    total = f.scores.by_series_step
    total = total[total["unique_id"] == "total"]
    if total.empty:
        return WORDS("ledger_first", lang, runs=fmt.number(f.earlier_runs))
    one = total.sort_values("step").iloc[0]
    return WORDS("ledger_sentence", lang, runs=fmt.number(f.scores.by_run["run"].nunique()),
                 n=fmt.number(int(one["n"])), mae=_money(one["mae"], f, lang),
                 bias=fmt.signed_money(one["bias"], lang, f.currency),
                 c80=fmt.percent(one["coverage_80"], 0))


def findings(f: Forecast, lang: str) -> list[str]:
    """The executive summary's sentences: the outlook, its drivers, the pipeline and where not to trust it."""
    found = [outlook_sentence(f, lang), drivers_sentence(f, lang), changes_sentence(f, lang)]
    if f.pipeline.status == "ok":
        found.append(pipeline_sentences(f, lang)[0])
    found.append(reliability_sentence(f, lang))
    return [s for s in found if s]


def methods(lang: str) -> str:
    """The methods paragraph of the footer."""
    return WORDS("methods_text", lang)

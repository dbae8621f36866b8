"""Tables of the forecast report: which columns each table shows, with which headers and formats, and the
display frames whose values need words (levels, "all teams")."""

from __future__ import annotations

import pandas as pd

from salesperf.analyses.forecast.pipeline import ALL_TEAMS, NO_TEAM
from salesperf.analyses.forecast.result import (
    Forecast,
    accuracy_by_level,
    coverage_summary,
    next_period_table,
)
from salesperf.analyses.forecast.text import WORDS
from salesperf.core.present import TableSpec, table


def shown_levels(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``frame`` with its ``level`` column (and the total's ``name``, where it has one) in words."""
    out = frame.assign(level=[WORDS(f"level_{level}", lang) for level in frame["level"]])
    if "name" in out:
        out["name"] = out["name"].where(frame["level"] != "total", WORDS("level_total", lang))
    return out


def shown_teams(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``frame`` with the pipeline's "(all teams)" and "(no team)" rows in words."""
    if "team" not in frame:  # no gaps without targets: an empty frame
        return frame
    words = {ALL_TEAMS: WORDS("level_total", lang), NO_TEAM: "–"}
    return frame.assign(team=frame["team"].map(lambda t: words.get(t, t)))


def next_period_rows(f: Forecast, lang: str) -> pd.DataFrame:
    """:func:`~.result.next_period_table` for display (empty without a forecast)."""
    return shown_levels(next_period_table(f), lang) if f.has_forecast else pd.DataFrame()


def accuracy_rows(f: Forecast, lang: str) -> pd.DataFrame:
    """:func:`~.result.accuracy_by_level` for display (empty without a forecast)."""
    return shown_levels(accuracy_by_level(f), lang) if f.has_forecast else pd.DataFrame()


def coverage_rows(f: Forecast) -> pd.DataFrame:
    """:func:`~.result.coverage_summary` (empty without a forecast)."""
    return coverage_summary(f.selection) if f.has_forecast else pd.DataFrame()


def next_period_spec(lang: str) -> TableSpec:
    """One row per series: the last period, the forecast with its 80 % range, the change and the model."""
    return table(
        ("name", WORDS("series_name", lang)),
        ("level", WORDS("level", lang)),
        ("last", WORDS("last_period", lang), "money"),
        ("year_ago", WORDS("year_ago_actual", lang), "money"),
        ("yhat", WORDS("forecast_next", lang), "money"),
        ("lo_80", WORDS("low_80", lang), "money"),
        ("hi_80", WORDS("high_80", lang), "money"),
        ("change", WORDS("change", lang), "money"),
        ("model", WORDS("model", lang)),
        ("mase", WORDS("mase", lang), "float"),
    )


def accuracy_spec(lang: str) -> TableSpec:
    """Backtest accuracy per level beside seasonal naive."""
    return table(
        ("level", WORDS("level", lang)),
        ("series", WORDS("series_count", lang), "int"),
        ("mase", WORDS("mase", lang), "float"),
        ("naive_mase", WORDS("naive_mase", lang), "float"),
        ("smape", WORDS("smape", lang), "float"),
        ("models", WORDS("models", lang)),
    )


def coverage_spec(lang: str) -> TableSpec:
    """Nominal against backtest coverage of the ranges."""
    return table(
        ("nominal", WORDS("nominal", lang), "pct"),
        ("empirical", WORDS("empirical", lang), "pct"),
        ("own", WORDS("own", lang), "pct"),
        ("series", WORDS("series_count", lang), "int"),
        ("conformal", WORDS("conformal", lang), "int"),
    )


def stages_spec(lang: str) -> TableSpec:
    """Open deals per stage with the learned win rate beside the CRM's probability."""
    return table(
        ("pipeline", WORDS("pipeline_name", lang)),
        ("stage", WORDS("stage", lang)),
        ("open_deals", WORDS("open_deals", lang), "int"),
        ("open_amount", WORDS("open_amount", lang), "money"),
        ("win_rate", WORDS("win_rate", lang), "pct"),
        ("crm_probability", WORDS("crm_probability", lang), "pct"),
        ("deals", WORDS("closed_deals", lang), "int"),
    )


def bookings_spec(lang: str) -> TableSpec:
    """Expected bookings per team and period with the 80 % range and the CRM's figure."""
    return table(
        ("team", WORDS("team", lang)),
        ("label", WORDS("period", lang)),
        ("expected", WORDS("expected", lang), "money"),
        ("low", WORDS("low", lang), "money"),
        ("high", WORDS("high", lang), "money"),
        ("crm_expected", WORDS("crm_expected", lang), "money"),
    )


def gaps_spec(lang: str) -> TableSpec:
    """Quota against expected bookings per team and period."""
    return table(
        ("team", WORDS("team", lang)),
        ("label", WORDS("period", lang)),
        ("quota", WORDS("quota", lang), "money"),
        ("expected", WORDS("expected", lang), "money"),
        ("gap", WORDS("gap", lang), "money"),
    )


def ledger_frame(scores) -> pd.DataFrame:
    """The total's scores per earlier run (the trend), oldest first."""
    return scores.by_run[scores.by_run["unique_id"] == "total"].sort_values("run")


def ledger_spec(lang: str) -> TableSpec:
    """The total's forecast errors per earlier run."""
    return table(
        ("run", WORDS("run", lang)),
        ("n", WORDS("n_forecasts", lang), "int"),
        ("mae", WORDS("mae", lang), "money"),
        ("mase", WORDS("mase", lang), "float"),
        ("bias", WORDS("bias", lang), "money"),
        ("coverage_80", WORDS("coverage_80", lang), "pct"),
    )


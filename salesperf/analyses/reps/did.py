"""What both training-effect estimators share: the result, cohort timing, summaries and the Wald test.

Periods are blocks of ``months_per_period`` calendar months counted from the first month of the data; a rep's
cohort is the period holding its first completion (of a programme, when one is given). Frames in, frames out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import chi2, norm

from salesperf.core.errors import UserError

WIN_LOG_ODDS, WIN_PROBABILITY = "win_log_odds", "win_probability"
OVERALL_COLUMNS = ["kpi", "effect", "se", "low", "high", "p_value", "treated_reps", "control_reps", "n"]
EVENT_COLUMNS = ["kpi", "event_time", "effect", "se", "low", "high", "n"]
PRETREND_COLUMNS = ["kpi", "statistic", "df", "p_value"]


@dataclass
class TrainingImpact:
    """Training effects per KPI.

    Attributes
    ----------
    overall : pandas.DataFrame
        One row per KPI: ``kpi``, ``effect`` (average effect on the trained reps after completion, in the
        KPI's unit; ``win_log_odds`` on the log-odds, ``win_probability`` as a change of the win probability),
        ``se`` (clustered by rep), ``low``, ``high`` (interval at ``level``), ``p_value`` (two-sided, effect
        = 0), ``treated_reps``, ``control_reps`` (never-trained reps), ``n`` (deals or rep-periods used).
    event_time : pandas.DataFrame
        One row per (KPI, event time in periods; 0 = the completion period, negative = before):
        ``kpi``, ``event_time``, ``effect``, ``se``, ``low``, ``high``, ``n`` (treated deals or reps).
    pretrend : pandas.DataFrame
        One row per KPI: ``kpi``, ``statistic`` (Wald chi-square that all pre-period effects are 0), ``df``,
        ``p_value`` (NaN when there is no pre-period effect to test).
    level : float
        Interval level.
    """

    overall: pd.DataFrame
    event_time: pd.DataFrame
    pretrend: pd.DataFrame
    level: float


def month_index(values) -> np.ndarray:
    """Months since year 0 of dates or ``YYYY-MM`` labels."""
    stamps = pd.to_datetime(pd.Series(values).astype(str).str.slice(0, 7), format="%Y-%m")
    return (stamps.dt.year * 12 + stamps.dt.month - 1).to_numpy()


def cohorts(training: pd.DataFrame, program: str | None) -> pd.Series:
    """First completion date per rep (of ``program`` when given): Series indexed by rep_id."""
    if not {"rep_id", "completed_at"} <= set(training.columns):
        raise UserError(f"training: columns 'rep_id' and 'completed_at' needed; has {list(training)}")
    rows = training if program is None else training[training["program"] == program]
    rows = rows.dropna(subset=["rep_id", "completed_at"])
    return pd.to_datetime(rows["completed_at"]).groupby(rows["rep_id"].astype(str)).min()


def effect_summary(effect: float, se: float, level: float) -> dict:
    """``effect``, ``se``, ``low``, ``high`` (normal interval at ``level``) and the two-sided ``p_value``."""
    z = norm.ppf(0.5 + level / 2)
    if not np.isfinite(effect) or not np.isfinite(se):
        p_value = np.nan
    else:
        p_value = 2 * norm.sf(abs(effect / se)) if se > 0 else (0.0 if effect else 1.0)
    return {"effect": effect, "se": se, "low": effect - z * se, "high": effect + z * se, "p_value": p_value}


def wald(effects: np.ndarray, cov: np.ndarray) -> tuple[float, int, float]:
    """Joint Wald test that all ``effects`` are 0: (chi-square, df, p-value)."""
    if len(effects) == 0:
        return np.nan, 0, np.nan
    rank = int(np.linalg.matrix_rank(cov))
    statistic = float(effects @ np.linalg.pinv(cov) @ effects)
    return statistic, rank, float(chi2.sf(statistic, rank)) if rank else np.nan


def periods(months: np.ndarray, origin: int, months_per_period: int) -> np.ndarray:
    """Period number of month indices: blocks of ``months_per_period`` months from ``origin``."""
    return (months - origin) // months_per_period


def timing(rep_ids: pd.Series, months: np.ndarray, training, program, months_per_period):
    """Period of every row and its rep's cohort: the completion period, -1 never trained (or only after the
    data), -2 trained in or before the first period (no before: left out)."""
    origin = int(months.min())
    period = periods(months, origin, months_per_period)
    done = cohorts(training, program).reindex(rep_ids.astype(str).unique())
    month = month_index(done.fillna(pd.Timestamp(0)))
    cohort = np.where(done.isna(), -1, periods(month, origin, months_per_period))
    cohort = np.where(cohort > period.max(), -1, np.where(done.notna() & (cohort <= 0), -2, cohort))
    return period, rep_ids.astype(str).map(pd.Series(cohort, index=done.index)).to_numpy()

"""Training impact: staggered difference-in-differences, clustered by rep (docs/reps-methods.md).

* **Deals** (:func:`~salesperf.analyses.reps.did_deals.deal_did`): a logit of each closed deal's win with one
  effect per treated cell, so that trained reps never serve as controls.
* **Rep-periods** (:func:`~salesperf.analyses.reps.did_panel.panel_did`): Callaway & Sant'Anna group-time
  effects with not-yet-treated and never-treated reps as controls.

Both test the pre-period (placebo) effects jointly; their shared timing, summaries and Wald test are in
:mod:`.did`. Reps trained in or before the first period have no before and are left out. No maintained PyPI
package fits: ``differences`` (Callaway-Sant'Anna) would add polars to the pinned set and has no deal-level
logit.
"""

from __future__ import annotations

import pandas as pd

from salesperf.analyses.reps.did import TrainingImpact, cohorts
from salesperf.analyses.reps.did_deals import deal_did
from salesperf.analyses.reps.did_panel import panel_did

__all__ = ["TrainingImpact", "after_training", "deal_did", "panel_did", "training_impact"]


def training_impact(
    deals: pd.DataFrame,
    panel: pd.DataFrame | None,
    training: pd.DataFrame,
    *,
    program: str | None = None,
    months_per_period: int = 3,
    leads: int = 3,
    max_event: int = 8,
    level: float = 0.95,
) -> TrainingImpact:
    """Deal-level win effects (:func:`deal_did`) and rep-period KPI effects (:func:`panel_did`) in one result.

    Parameters
    ----------
    deals, panel, training : pandas.DataFrame
        As in :func:`deal_did` and :func:`panel_did` (``panel`` may be None: the deal-level KPIs only).
    program, months_per_period, leads, max_event, level
        As in :func:`deal_did` (shared by both).

    Returns
    -------
    TrainingImpact
        The frames of both, concatenated (KPIs ``win_log_odds``, ``win_probability``, then the panel's).
    """
    options = {"program": program, "months_per_period": months_per_period, "leads": leads}
    options |= {"max_event": max_event, "level": level}
    parts = [deal_did(deals, training, **options)]
    if panel is not None and len(panel):
        parts.append(panel_did(panel, training, **options))
    return TrainingImpact(
        _stack([p.overall for p in parts]),
        _stack([p.event_time for p in parts]),
        _stack([p.pretrend for p in parts]),
        level,
    )


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The frames one under the other; empty ones skipped and all-missing columns typed as floats (so that
    the result's types do not depend on which estimator had nothing to say)."""
    kept = [f for f in frames if len(f)] or frames[:1]
    typed = [f.astype({c: "float64" for c in f.columns if f[c].isna().all()}) for f in kept]
    return pd.concat(typed, ignore_index=True)


def after_training(deals: pd.DataFrame, training: pd.DataFrame, program: str | None = None) -> pd.Series:
    """1.0 for deals created on or after their owner's (first) completion date, else 0.0.

    Parameters
    ----------
    deals : pandas.DataFrame
        ``rep_id``, ``created_at``; one row per deal.
    training : pandas.DataFrame
        ``rep_id``, ``completed_at`` (``program`` when ``program`` is given).

    Returns
    -------
    pandas.Series
        Aligned with ``deals`` (a covariate for :func:`salesperf.analyses.reps.ranking.fair_ranking`).
    """
    completed = deals["rep_id"].astype(str).map(cohorts(training, program))
    return (pd.to_datetime(deals["created_at"]) >= completed).astype(float)

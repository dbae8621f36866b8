"""The pipeline outlook's result (computed by :mod:`salesperf.analyses.forecast.pipeline`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd


@dataclass
class PipelineOutlook:
    """What the pipeline section shows.

    Attributes
    ----------
    as_of : datetime.date
    grain : str
        ``month``, ``quarter`` or ``week``.
    status : str
        ``ok``, or why there is no outlook: ``no_opportunities`` (no table or no deal created by ``as_of``),
        ``no_open_deals``, ``no_closed_history`` (no deal won or lost by ``as_of`` to learn from).
    notes : list of str
        What degraded and what is used instead, as codes the text module turns into sentences:
        ``no_stage_history`` (rates by current stage where meaningful, timing from creation),
        ``overall_rate_only`` (no meaningful stage split: one overall rate), ``no_status`` and
        ``no_close_date`` (nothing to learn from), ``no_amount`` (amounts count 0), ``no_probability``,
        ``no_expected_close``, ``no_targets``, ``no_reps`` (one team), ``no_targets_for_periods`` (targets
        end before the next periods), ``targets_need_month_grain``, ``stale_deals`` (some deals get
        nothing), ``pipeline_without_history`` (a pipeline with open deals but no closed one: not forecast).
    stages : DataFrame
        One row per (pipeline, stage): ``pipeline`` ('' without a pipeline column), ``stage, open_deals,
        open_amount, win_rate`` (NaN for a pipeline without closed deals: its deals are not forecast),
        ``raw_rate, crm_probability, deals`` (closed deals learned from), ``observations, won_observations,
        stale_deals, stale_amount``.
    periods : DataFrame
        One row per next period: ``period`` (1..horizon), ``label``, ``start``, ``end``.
    bookings : DataFrame
        One row per (team, period), teams then :data:`ALL_TEAMS`: ``team, period, label, expected, sd,
        low, high`` (80 % range), ``crm_expected`` (amount x CRM probability of the deals whose expected
        close date falls in the period, a date already past counting in the first, over the deals still in
        the stage the probability was typed for; 0 without those columns).
    gaps : DataFrame
        One row per (team, period) with a quota: ``team, period, label, quota, booked, expected, gap,
        gap_low, gap_high`` (``gap = quota - booked - expected``; ``booked`` is 0: nothing of a period after
        the as-of date is booked by then). Empty without targets.
    overall_rate : float
        Win rate over all observations (NaN without closed history).
    """

    as_of: date
    grain: str
    status: str
    notes: list = field(default_factory=list)
    stages: pd.DataFrame = field(default_factory=pd.DataFrame)
    periods: pd.DataFrame = field(default_factory=pd.DataFrame)
    bookings: pd.DataFrame = field(default_factory=pd.DataFrame)
    gaps: pd.DataFrame = field(default_factory=pd.DataFrame)
    overall_rate: float = float("nan")

"""Engine work of the pipeline outlook: engine-neutral Ibis queries (DuckDB, PostgreSQL, Spark) over
``opportunities``, ``opportunity_history``, ``reps`` and ``targets`` that return small aggregates; the
computations are :mod:`salesperf.analyses.forecast.pipeline`.

Point in time (as of ``as_of``, the report period's end): a deal is *open* if created on or before ``as_of``
and not closed on or before it (a deal closed later was open then; a won/lost deal without a close date is
closed at an unknown day: neither open nor learned from). Only deals closed on or before ``as_of`` are
learned from, and a deal's stage at a day is the stage of its latest history entry on or before that day.
Days are compared as ``epoch_days`` integers, the same on every engine.
"""

from __future__ import annotations

import math
from datetime import date

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from salesperf.analyses.forecast.outlook import PipelineOutlook
from salesperf.analyses.forecast.pipeline import (
    ALL_TEAMS,  # noqa: F401 - re-exported for the text module
    ANY_STAGE,
    NO_TEAM,
    next_periods,
    pipeline_outlook,
)
from salesperf.core.expr import as_date, money
from salesperf.data.engine import Engine

CLOSED = ("won", "lost")
#: Days between the as-of points at which closed deals are looked at (see the module docstring of pipeline).
STEP_DAYS = 7
OBSERVATION_COLUMNS = ("pipeline", "stage", "observations", "won_observations", "deals", "won_deals")
OPEN_KEYS = ("team", "pipeline", "stage", "timing_stage", "age_days", "expected_period")


def _table(engine: Engine, name: str) -> ir.Table | None:
    return engine.table(name) if engine.has_table(name) else None


def _day(value) -> int:
    return (as_date(value) - date(1970, 1, 1)).days


def _days(column: ir.Value) -> ir.IntegerValue:
    """A date column as days since 1970-01-01 (a timestamp column, as a copy into a warehouse may make it,
    is cut to its day first)."""
    return (column.date() if column.type().is_timestamp() else column).epoch_days()


def _one_if(condition: ir.BooleanValue) -> ir.IntegerValue:
    """1 where ``condition`` holds, else 0 (PostgreSQL casts no boolean to a bigint)."""
    return ibis.ifelse(condition, 1, 0)


def _closed_by(opps: ir.Table, end: int) -> ir.BooleanValue:
    """Deals closed (won or lost) on or before the day ``end``, with their close day."""
    if "closed_at" not in opps.columns:
        return ibis.literal(False)
    closed = opps.status.isin(CLOSED) & opps.closed_at.notnull() & (_days(opps.closed_at) <= end)
    return closed.fill_null(False)


def _stage_spans(history: ir.Table) -> ir.Table:
    """One row per history entry: ``opportunity_id, stage, entered_day, next_day`` (the next entry's day,
    NULL for the latest; entries of one day ordered by stage name, the same on every engine)."""
    rows = history.mutate(entered_day=_days(history.entered_at))
    window = ibis.window(group_by=rows.opportunity_id, order_by=[rows.entered_day, rows.stage])
    return rows.mutate(next_day=rows.entered_day.lead().over(window)).select(
        "opportunity_id", "stage", "entered_day", "next_day"
    )


def _stage_at(rows: ir.Table, spans: ir.Table, day_column: str, how: str) -> ir.Table:
    """``rows`` joined with the stage span holding each row's ``day_column`` (``span_stage``,
    ``span_entered``)."""
    rows = rows.view()  # a new relation: ``rows`` may be the projection of an earlier join
    day = rows[day_column]
    on = [
        rows.opportunity_id == spans.opportunity_id,
        spans.entered_day <= day,
        spans.next_day.isnull() | (day < spans.next_day),
    ]
    joined = rows.join(spans, on, how=how)
    return joined.select(
        *[joined[c] for c in rows.columns], span_stage=spans.stage, span_entered=spans.entered_day
    )


def _pipeline(opps: ir.Table) -> ir.StringValue:
    """A deal's pipeline (sales process): its ``pipeline``, '' without one. Stages of different pipelines are
    different steps, so rates are learned per pipeline."""
    return opps.pipeline.fill_null("") if "pipeline" in opps.columns else ibis.literal("")


def _filled(engine: Engine, rows: ir.Table) -> set:
    """The columns of ``rows`` that hold at least one value (a validated table has every canonical column,
    empty where the export had none)."""
    counts = engine.fetch(rows.aggregate(**{c: rows[c].count() for c in rows.columns}))
    return {c for c in rows.columns if counts[c].iloc[0] > 0}


def has_stage_history(engine: Engine) -> bool:
    """Whether the dataset has an ``opportunity_history`` table with at least one row."""
    history = _table(engine, "opportunity_history")
    return history is not None and engine.scalar(history.count()) > 0


def stage_observations(engine: Engine, as_of, step_days: int = STEP_DAYS) -> pd.DataFrame:
    """Closed deals looked at while open, every ``step_days`` days back from ``as_of``, by their stage then.

    The stage is the history's (:func:`has_stage_history`), else the deal's current stage.

    Returns
    -------
    DataFrame
        One row per (pipeline, stage): ``pipeline`` ('' without), ``stage, observations`` ((deal, as-of
        point) pairs), ``won_observations``, ``deals`` (distinct closed deals), ``won_deals``; sorted. Empty
        without a status column or closed deals.
    """
    opps, end = engine.table("opportunities"), _day(as_of)
    if "status" not in opps.columns:
        return pd.DataFrame(columns=list(OBSERVATION_COLUMNS))
    closed = opps.filter(_closed_by(opps, end) & (_days(opps.created_at) <= end))
    closed = closed.select(
        "opportunity_id",
        "stage",
        pipeline=_pipeline(closed),
        won=closed.status == "won",
        created_day=_days(closed.created_at),
        closed_day=_days(closed.closed_at),
    )
    first = engine.scalar(closed.created_day.min())
    if first is None:
        return pd.DataFrame(columns=list(OBSERVATION_COLUMNS))
    steps = ibis.memtable({"step": np.arange(math.ceil((end - first) / step_days) + 1, dtype="int64")})
    look = end - steps.step * step_days
    seen = closed.join(steps, [closed.created_day <= look, look < closed.closed_day])
    seen = seen.select("opportunity_id", "pipeline", "stage", "won", as_of_day=end - seen.step * step_days)
    if has_stage_history(engine):
        seen = _stage_at(seen, _stage_spans(engine.table("opportunity_history")), "as_of_day", "inner")
        seen = seen.mutate(stage=seen.span_stage)
    won = _one_if(seen.won)
    counts = seen.group_by(["pipeline", "stage"]).aggregate(
        observations=seen.count(),
        won_observations=won.sum(),
        deals=seen.opportunity_id.nunique(),
        won_deals=seen.opportunity_id.nunique(where=seen.won),
    )
    return engine.fetch(counts.order_by(["pipeline", "stage"]))


def won_days_to_close(engine: Engine, as_of) -> pd.DataFrame:
    """Days in each stage and from entering it to closing (without history: from creation), of the deals won
    on or before ``as_of``.

    Returns
    -------
    DataFrame
        One row per (stage, stage_days, days): ``stage`` (``(any stage)`` without history), ``stage_days``
        (days spent in the stage: to the next history entry or the close; without history the same as
        ``days``), ``days`` (> 0, to the close), ``won_deals``; sorted. Empty without a status column.
    """
    columns = ["stage", "stage_days", "days", "won_deals"]
    opps, end = engine.table("opportunities"), _day(as_of)
    if "status" not in opps.columns:
        return pd.DataFrame(columns=columns)
    won = opps.filter(_closed_by(opps, end) & (opps.status == "won"))
    won = won.select("opportunity_id", created_day=_days(won.created_at), closed_day=_days(won.closed_at))
    if has_stage_history(engine):
        spans = _stage_spans(engine.table("opportunity_history"))
        entries = won.join(spans, won.opportunity_id == spans.opportunity_id)
        left = ibis.least(spans.next_day.fill_null(won.closed_day), won.closed_day)
        entries = entries.select(
            stage=spans.stage,
            stage_days=left - spans.entered_day,
            days=won.closed_day - spans.entered_day,
        )
    else:
        days = won.closed_day - won.created_day
        entries = won.select(stage=ibis.literal(ANY_STAGE), stage_days=days, days=days)
    entries = entries.filter(entries.days > 0)
    counts = entries.group_by(["stage", "stage_days", "days"]).aggregate(won_deals=entries.count())
    return engine.fetch(counts.order_by(["stage", "stage_days", "days"]))


def _period_index(day: ir.DateValue, as_of: date, grain: str) -> ir.IntegerValue:
    """Index of the period holding ``day`` relative to the one holding ``as_of`` (as_of's period is 0)."""
    if grain == "week":
        start = _day(as_of) - as_of.weekday()  # Monday of as_of's ISO week
        return (_days(day) - start + 7 * 10_000) // 7 - 10_000  # shifted: // of a positive number
    size = 3 if grain == "quarter" else 1
    months = day.year() * 12 + day.month() - 1
    return (months // size) - (as_of.year * 12 + as_of.month - 1) // size


def open_deal_cells(engine: Engine, as_of, grain: str = "month", horizon: int = 3) -> pd.DataFrame:
    """The deals open at ``as_of``, summed per (team, stage at as_of, days in that stage, CRM close period).

    Returns
    -------
    DataFrame
        One row per (team, pipeline, stage, timing_stage, age_days, expected_period): ``team`` (the owner's;
        ``(no team)`` without one), ``pipeline`` ('' without), ``stage`` (at as_of from the history, else
        current), ``timing_stage`` (the history's stage, else ``(any stage)``), ``age_days`` (days since
        entering that stage, else since creation), ``expected_period`` (period of expected_close_date
        relative to as_of's: 0 on or before as_of's period, 1..horizon, horizon + 1 later; NULL without),
        ``deals``, ``amount``, ``amount_squared`` (sums; a missing amount counts 0), ``amount_missing``
        (deals), ``crm_weighted`` (sum of amount x probability), ``crm_probability_sum`` and
        ``crm_probability_n``, all three over the deals still in the stage the CRM's probability was typed
        for (the probability is today's: of a deal that moved on since as_of, it would tell the future).
        Sorted by the keys.
    """
    opps, end, day = engine.table("opportunities"), _day(as_of), as_date(as_of)
    dated = "closed_at" in opps.columns
    closed = (opps.closed_at.notnull() & (_days(opps.closed_at) <= end)) if dated else ibis.literal(False)
    if "status" in opps.columns:
        closed |= (opps.closed_at.isnull() if dated else ibis.literal(True)) & opps.status.isin(CLOSED)
    closed = closed.fill_null(False)  # a NULL status or close date: not closed
    live = opps.filter((_days(opps.created_at) <= end) & ~closed)
    live = live.mutate(as_of_day=ibis.literal(end), created_day=_days(live.created_at))
    history = has_stage_history(engine)
    if history:
        live = _stage_at(live, _stage_spans(engine.table("opportunity_history")), "as_of_day", "left")
    else:
        live = live.mutate(span_stage=ibis.null("string"), span_entered=ibis.null("int64"))
    reps = _table(engine, "reps")
    if reps is not None and "team" in reps.columns:
        teams = reps.filter(reps.rep_id.notnull()).group_by("rep_id").aggregate(team=reps.team.min())
        live = live.left_join(teams, "rep_id").select(*live.columns, "team")
    else:
        live = live.mutate(team=ibis.null("string"))
    amount = live.amount.fill_null(0.0) if "amount" in live.columns else ibis.literal(0.0)
    missing = live.amount.isnull() if "amount" in live.columns else ibis.literal(True)
    stage = live.span_stage.fill_null(live.stage)
    if "expected_close_date" in live.columns:
        index = _period_index(live.expected_close_date, day, grain)
        expected = ibis.ifelse(index < 1, 0, ibis.ifelse(index > horizon, horizon + 1, index))
    else:
        expected = ibis.null("int64")
    if "probability" in live.columns:
        typed = live.probability.notnull() & (stage == live.stage)
        probability = ibis.ifelse(typed, live.probability, 0.0)
        weighted = amount * probability
        typed_n = _one_if(typed)
    else:
        weighted = probability = ibis.literal(0.0)
        typed_n = ibis.literal(0)
    cells = live.select(
        team=live.team.fill_null(NO_TEAM),
        pipeline=_pipeline(live),
        stage=stage,
        timing_stage=live.span_stage.fill_null(ANY_STAGE),
        age_days=ibis.literal(end) - live.span_entered.fill_null(live.created_day),
        expected_period=expected.cast("int64"),
        amount=amount,
        missing=_one_if(missing),
        weighted=weighted,
        probability=probability,
        typed_n=typed_n,
    )
    sums = cells.group_by(list(OPEN_KEYS)).aggregate(
        deals=cells.count(),
        amount=money(cells.amount.sum()),
        amount_squared=money((cells.amount * cells.amount).sum()),
        amount_missing=cells.missing.sum(),
        crm_weighted=money(cells.weighted.sum()),
        crm_probability_sum=cells.probability.sum().round(9),
        crm_probability_n=cells.typed_n.sum(),
    )
    return engine.fetch(sums.order_by(list(OPEN_KEYS)))


def team_month_quotas(engine: Engine, months) -> pd.DataFrame:
    """Quota per (team, month) for ``months`` (``YYYY-MM`` texts).

    Returns
    -------
    DataFrame
        One row per (team, month): ``team`` (``(no team)`` for reps without one), ``month``, ``quota``;
        sorted. Empty without a targets table.
    """
    targets = _table(engine, "targets")
    if targets is None or not months:
        return pd.DataFrame(columns=["team", "month", "quota"])
    rows = targets.filter(targets.period.isin(list(months)) & targets.quota.notnull())
    reps = _table(engine, "reps")
    if reps is not None and "team" in reps.columns:
        teams = reps.filter(reps.rep_id.notnull()).group_by("rep_id").aggregate(team=reps.team.min())
        rows = rows.left_join(teams, "rep_id").select(*rows.columns, "team")
    else:
        rows = rows.mutate(team=ibis.null("string"))
    rows = rows.mutate(team=rows.team.fill_null(NO_TEAM))
    sums = rows.group_by(["team", "period"]).aggregate(quota=money(rows.quota.sum()))
    return engine.fetch(sums.rename(month="period").order_by(["team", "month"]))


def read_outlook(
    engine: Engine, as_of, grain: str = "month", horizon: int = 3, step_days: int = STEP_DAYS
) -> PipelineOutlook:
    """The pipeline outlook as of ``as_of`` from the dataset in ``engine``.

    A dataset without opportunities (no table, or no deal created by ``as_of``) gives a result whose
    ``status`` is ``no_opportunities``; each missing piece adds a note (see
    :class:`~salesperf.analyses.forecast.outlook.PipelineOutlook`).
    """
    day = as_date(as_of)
    opps = _table(engine, "opportunities")
    if opps is None or engine.scalar(opps.filter(opps.created_at <= ibis.date(day)).count()) == 0:
        return PipelineOutlook(as_of=day, grain=grain, status="no_opportunities")
    history = has_stage_history(engine)
    notes = [] if history else ["no_stage_history"]
    filled = _filled(engine, opps)
    for column, note in (
        ("status", "no_status"),
        ("closed_at", "no_close_date"),
        ("amount", "no_amount"),
        ("probability", "no_probability"),
        ("expected_close_date", "no_expected_close"),
    ):
        if column not in filled:
            notes.append(note)
    reps = _table(engine, "reps")
    if reps is None or "team" not in _filled(engine, reps):
        notes.append("no_reps")
    months = sorted({m for ms in next_periods(day, grain, horizon)["months"] for m in ms})
    quotas = team_month_quotas(engine, months) if _table(engine, "targets") is not None else None
    if quotas is None:
        notes.append("no_targets")
    return pipeline_outlook(
        stage_observations(engine, day, step_days),
        won_days_to_close(engine, day),
        open_deal_cells(engine, day, grain, horizon),
        quotas,
        day,
        grain,
        horizon,
        by_stage=history,
        notes=notes,
    )

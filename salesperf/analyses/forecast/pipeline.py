"""Pipeline outlook: open opportunities x win probability learned from closed history x close timing →
bookings expected in the next periods per team, with a range, and the gap to quota (pure computations; the
engine work is :mod:`salesperf.analyses.forecast.pipeline_queries`).

Definitions (what the report states):

* **Learned win rate of a stage** — of the closed deals that were *open at that stage at an as-of point*
  (every ``step_days`` days back from the as-of date), the share later won. Each (deal, as-of point) pair is
  one observation, so a deal counts in proportion to the time it spent in the stage: the same sampling as
  "open at stage S today", which is what the rate is applied to (a per-deal "ever reached S" rate would
  count a deal lost within days of entering S like one that sat there for months). The raw rate
  ``won observations / observations`` is shrunk toward the pipeline's overall rate with a Beta prior worth
  ``prior_deals`` deals: ``(deals x raw + prior_deals x overall) / (deals + prior_deals)`` (``deals`` =
  distinct closed deals behind the stage's observations, so repeated looks at one deal add no weight).
  Rates are learned per pipeline (sales process): a pipeline with open deals but no closed one gets none,
  and its deals are listed but not forecast.
* Without a stage history the stage of a closed deal is its *current* stage, which most CRMs set to a
  closing stage ("Closed Won"): per-stage rates are then used only where meaningful — when some stage held
  by open deals also holds closed deals of both outcomes — else every stage gets the overall rate.
* **Close timing** — for won deals, the days from entering a stage to closing, ``T`` (without history: from
  creation). An open deal that has been in its stage ``a`` days closes after ``T - a`` days, ``T`` drawn from
  the won deals that spent more than ``a`` days in that stage (the deal's time in stage is conditioned on;
  conditioning on ``T > a`` instead would let a young deal skip the stages still ahead of it). A deal longer
  in its stage than every won deal ever was is **stale**: no expected bookings (shown apart).
* **Range** — each deal is a Bernoulli(p x q_k) draw of its amount for period k: variance
  ``sum amount^2 p q (1 - p q)``; the range is the normal approximation ``expected ± z sd`` (z = 1.2816 for
  80 %), floored at 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesperf.analyses.forecast.outlook import PipelineOutlook

#: Stage key of the timing sample when it is not split by stage (no stage history).
ANY_STAGE = "(any stage)"
#: Team of the deals whose owner has no team (or without a reps table), and the all-teams total.
NO_TEAM, ALL_TEAMS = "(no team)", "(all teams)"
#: z of the central 80 % range of a normal distribution.
Z80 = 1.2815515655446004
FREQ = {"month": "M", "quarter": "Q", "week": "W-SUN"}
STAGE_COLUMNS = ("stage", "observations", "won_observations", "deals", "won_deals")


def next_periods(as_of, grain: str, horizon: int) -> pd.DataFrame:
    """The ``horizon`` periods after the one holding ``as_of``.

    Returns
    -------
    DataFrame
        One row per period: ``period`` (1..horizon), ``label`` (``2026-11``, ``2026-Q1``, ``2026-W45``),
        ``start``, ``end`` (dates), ``months`` (tuple of the ``YYYY-MM`` months it covers; empty for weeks).
    """
    if grain not in FREQ:
        raise ValueError(f"grain must be one of {sorted(FREQ)}, got {grain!r}")
    current = pd.Period(pd.Timestamp(as_of), FREQ[grain])
    rows = []
    for k in range(1, horizon + 1):
        p = current + k
        start, end = p.start_time.date(), p.end_time.date()
        if grain == "month":
            label, months = f"{start:%Y-%m}", (f"{start:%Y-%m}",)
        elif grain == "quarter":
            label = f"{start.year}-Q{p.quarter}"
            months = tuple(f"{start.year}-{m:02d}" for m in range(start.month, start.month + 3))
        else:
            year, week, _ = start.isocalendar()
            label, months = f"{year}-W{week:02d}", ()
        rows.append({"period": k, "label": label, "start": start, "end": end, "months": months})
    return pd.DataFrame(rows)


def period_of_delay(as_of, days, grain: str, horizon: int) -> np.ndarray:
    """Period index (1..horizon, ``horizon + 1`` for later) of the day ``as_of + days`` for each of
    ``days`` (> 0), relative to the period holding ``as_of`` (a day still in that period counts in the
    first: the report's as_of is a period's last day)."""
    freq = FREQ[grain]
    current = pd.Period(pd.Timestamp(as_of), freq)
    stamps = pd.DatetimeIndex(pd.Timestamp(as_of) + pd.to_timedelta(np.asarray(days, dtype="int64"), "D"))
    index = np.array([(p - current).n for p in stamps.to_period(freq)], dtype="int64")
    return np.clip(
        index, 1, horizon + 1
    )  # an as_of before its period's end: the rest of it counts as the next


def win_rates(observations: pd.DataFrame, open_stages=None, by_stage: bool = True, prior_deals: float = 10.0):
    """Learned win rate per (pipeline, stage), shrunk toward the pipeline's overall rate.

    Parameters
    ----------
    observations : DataFrame
        One row per (pipeline, stage): ``pipeline, stage, observations, won_observations, deals, won_deals``
        (closed deals seen open at the stage at an as-of point; see the module docstring).
    open_stages : DataFrame, optional
        ``pipeline, stage`` of the open deals: each gets a row (its pipeline's overall rate where history has
        none of the stage; NaN where the pipeline has no closed deal at all).
    by_stage : bool
        False when the stages of closed deals are their current stages (no history): the split is kept only
        where meaningful (an open stage holding closed deals of both outcomes), else all get the overall rate.
    prior_deals : float
        Weight of the Beta prior centred on the pipeline's overall rate, in deals.

    Returns
    -------
    (DataFrame, float, bool)
        One row per (pipeline, stage) (the observed ones, then the open ones without history): the input
        columns (counts 0 where none), ``raw_rate`` (NaN without observations), ``win_rate``; the overall rate
        of all pipelines (NaN without observations); whether the rates are split by stage.
    """
    keys = ["pipeline", "stage"]
    frame = observations.loc[:, ["pipeline", *STAGE_COLUMNS]].copy()
    if open_stages is not None and len(open_stages):
        seen = frame.set_index(keys).index
        wanted = open_stages[keys].drop_duplicates()
        frame = pd.concat([frame, wanted[~wanted.set_index(keys).index.isin(seen)]], ignore_index=True)
    counts = list(STAGE_COLUMNS[1:])
    frame[counts] = frame[counts].astype("float64").fillna(0).astype("int64")
    total = frame["observations"].sum()
    overall = frame["won_observations"].sum() / total if total else float("nan")
    sums = frame.groupby("pipeline")[["won_observations", "observations"]].transform("sum")
    base = sums["won_observations"] / sums["observations"].where(sums["observations"] > 0)
    split = by_stage
    if not by_stage:
        open_keys = set() if open_stages is None else set(map(tuple, open_stages[keys].to_numpy()))
        held = pd.Series([k in open_keys for k in map(tuple, frame[keys].to_numpy())], index=frame.index)
        both = held & frame["won_deals"].gt(0) & frame["deals"].gt(frame["won_deals"])
        split = bool(both.any())
    frame["raw_rate"] = frame["won_observations"] / frame["observations"].where(frame["observations"] > 0)
    if split:
        raw = frame["raw_rate"].fillna(base)
        frame["win_rate"] = (frame["deals"] * raw + prior_deals * base) / (frame["deals"] + prior_deals)
    else:
        frame["win_rate"] = base
    return frame, float(overall), split


def close_shares(days_to_close: pd.DataFrame, ages: pd.DataFrame, as_of, grain: str, horizon: int):
    """Share of each open deal's win that falls in each next period, conditioned on its time in stage.

    A deal ``a`` days into its stage is like the won deals that stayed longer than ``a`` days in that
    stage: it closes ``days - a`` days after as_of, ``days`` drawn from them (weighted by their counts).

    Parameters
    ----------
    days_to_close : DataFrame
        One row per (stage, stage_days, days): ``stage`` (or :data:`ANY_STAGE`), ``stage_days`` (days the won
        deal spent in the stage), ``days`` from entering the stage (creation) to closing won, ``won_deals``.
    ages : DataFrame
        One row per distinct (stage, age_days) of the open deals: ``stage`` (key of ``days_to_close``; a stage
        it lacks uses all its rows pooled), ``age_days`` (days in the stage, or since creation, at as_of).
    as_of, grain, horizon
        See :func:`next_periods`.

    Returns
    -------
    DataFrame
        One row per (stage, age_days, period) with ``period`` 1..horizon + 1 (the last: later) and ``share``
        (the chance that a deal that will be won closes in that period); a (stage, age_days) with no won deal
        longer than ``age_days`` in the stage gets no rows (stale).
    """
    rows = []
    pooled = days_to_close.groupby(["stage_days", "days"], as_index=False)["won_deals"].sum()
    samples = {s: g for s, g in days_to_close.groupby("stage")}
    for (stage, age), _ in ages.groupby(["stage", "age_days"]):
        sample = samples.get(stage, pooled)
        longer = sample[sample["stage_days"] > age]
        if longer.empty or longer["won_deals"].sum() == 0:
            continue
        index = period_of_delay(as_of, longer["days"].to_numpy() - age, grain, horizon)
        weights = longer["won_deals"].to_numpy(dtype="float64")
        share = np.bincount(index, weights=weights, minlength=horizon + 2)[1:] / weights.sum()
        rows += [(stage, age, k, share[k - 1]) for k in range(1, horizon + 2)]
    return pd.DataFrame(rows, columns=["stage", "age_days", "period", "share"]).astype(
        {"period": "int64", "share": "float64"}
    )


def expected_bookings(open_deals: pd.DataFrame, rates: pd.DataFrame, shares: pd.DataFrame, periods):
    """Bookings expected from the open deals per (team, period), with an 80 % range.

    Parameters
    ----------
    open_deals : DataFrame
        One row per (team, pipeline, stage, timing_stage, age_days, expected_period): ``deals, amount,
        amount_squared`` (sums over the deals), ``crm_weighted`` (sum of amount x CRM probability),
        ``expected_period`` (period index of the CRM's expected close date: 0 on or before as_of, 1..h,
        h+1 later; NaN without one).
    rates : DataFrame
        ``pipeline, stage, win_rate`` (:func:`win_rates`; deals of a NaN rate are left out).
    shares : DataFrame
        ``stage, age_days, period, share`` (:func:`close_shares`; ``stage`` there is ``timing_stage``).
    periods : DataFrame
        :func:`next_periods`.

    Returns
    -------
    DataFrame
        One row per (team, period), each team then :data:`ALL_TEAMS`: ``team, period, label, expected, sd,
        low, high, crm_expected``.
    """
    deals = open_deals.merge(rates[["pipeline", "stage", "win_rate"]], on=["pipeline", "stage"], how="left")
    deals = deals[deals["win_rate"].notna()]  # a pipeline without closed deals is not forecast
    timing = shares.rename(columns={"stage": "timing_stage"})
    cells = deals.merge(timing, on=["timing_stage", "age_days"], how="inner")
    cells = cells[cells["period"].isin(periods["period"])]
    pq = cells["win_rate"] * cells["share"]
    cells = cells.assign(expected=cells["amount"] * pq, variance=cells["amount_squared"] * pq * (1 - pq))
    teams = sorted(open_deals["team"].unique())
    grid = pd.MultiIndex.from_product([teams, periods["period"]], names=["team", "period"])
    out = cells.groupby(["team", "period"])[["expected", "variance"]].sum().reindex(grid, fill_value=0.0)
    crm_period = open_deals["expected_period"].clip(lower=1)  # a date already past: the next period
    crm = open_deals.assign(period=crm_period).groupby(["team", "period"])
    out["crm_expected"] = crm["crm_weighted"].sum().reindex(grid).fillna(0.0)
    out = out.reset_index()
    total = out.groupby("period", as_index=False)[["expected", "variance", "crm_expected"]].sum()
    out = pd.concat([out, total.assign(team=ALL_TEAMS)], ignore_index=True)
    out["sd"] = np.sqrt(out.pop("variance"))
    out["low"] = (out["expected"] - Z80 * out["sd"]).clip(lower=0.0)
    out["high"] = out["expected"] + Z80 * out["sd"]
    out = out.merge(periods[["period", "label"]], on="period")
    return out[["team", "period", "label", "expected", "sd", "low", "high", "crm_expected"]]


def quota_gaps(bookings: pd.DataFrame, quotas: pd.DataFrame, periods: pd.DataFrame) -> pd.DataFrame:
    """Gap to quota per (team, period) where targets exist.

    Parameters
    ----------
    bookings : DataFrame
        :func:`expected_bookings`.
    quotas : DataFrame
        One row per (team, month): ``team, month`` (``YYYY-MM``), ``quota``.
    periods : DataFrame
        :func:`next_periods` (its ``months`` say which months make a period).

    Returns
    -------
    DataFrame
        One row per (team, period) with a quota, teams then :data:`ALL_TEAMS`: ``team, period, label, quota,
        booked`` (0: the period starts after the as-of date), ``expected, gap, gap_low, gap_high`` (``gap =
        quota - booked - expected``; its 80 % range from the bookings' ``high`` and ``low``).
    """
    month_period = periods.explode("months")[["period", "months"]].rename(columns={"months": "month"})
    cells = quotas.merge(month_period.dropna(), on="month")
    per_team = cells.groupby(["team", "period"], as_index=False)["quota"].sum()
    if per_team.empty:
        return pd.DataFrame(
            columns=["team", "period", "label", "quota", "booked", "expected", "gap", "gap_low", "gap_high"]
        )
    total = per_team.groupby("period", as_index=False)["quota"].sum().assign(team=ALL_TEAMS)
    gaps = pd.concat([per_team, total], ignore_index=True)
    gaps = gaps.merge(
        bookings[["team", "period", "label", "expected", "low", "high"]], on=["team", "period"], how="left"
    )
    gaps["label"] = gaps["label"].fillna(gaps["period"].map(periods.set_index("period")["label"]))
    gaps[["expected", "low", "high"]] = gaps[["expected", "low", "high"]].fillna(0.0)
    gaps["booked"] = 0.0
    gaps["gap"] = gaps["quota"] - gaps["booked"] - gaps["expected"]
    gaps["gap_low"] = gaps["quota"] - gaps["booked"] - gaps.pop("high")
    gaps["gap_high"] = gaps["quota"] - gaps["booked"] - gaps.pop("low")
    return gaps[["team", "period", "label", "quota", "booked", "expected", "gap", "gap_low", "gap_high"]]


def stage_table(open_deals: pd.DataFrame, rates: pd.DataFrame, shares: pd.DataFrame) -> pd.DataFrame:
    """The stage table: open deals and amount, learned rate beside the CRM's probability, stale deals.

    Parameters
    ----------
    open_deals : DataFrame
        As in :func:`expected_bookings`, plus ``crm_probability_sum`` and ``crm_probability_n`` (CRM
        probabilities of the deals still in the stage the CRM typed them for).
    rates, shares : DataFrame
        :func:`win_rates` and :func:`close_shares`.

    Returns
    -------
    DataFrame
        One row per (pipeline, stage) of ``rates``: ``pipeline, stage, open_deals, open_amount, win_rate,
        raw_rate, crm_probability`` (mean; NaN without), ``deals, observations, won_observations,
        stale_deals, stale_amount``.
    """
    timed = shares[["stage", "age_days"]].drop_duplicates().rename(columns={"stage": "timing_stage"})
    flagged = open_deals.merge(timed.assign(timed=True), on=["timing_stage", "age_days"], how="left")
    stale = flagged[flagged["timed"].isna()]
    keys = ["pipeline", "stage"]
    grouped = open_deals.groupby(keys)
    table = rates.set_index(keys).assign(
        open_deals=grouped["deals"].sum(),
        open_amount=grouped["amount"].sum(),
        crm_probability=grouped["crm_probability_sum"].sum()
        / grouped["crm_probability_n"].sum().where(lambda n: n > 0),
        stale_deals=stale.groupby(keys)["deals"].sum(),
        stale_amount=stale.groupby(keys)["amount"].sum(),
    )
    fill = ["open_deals", "open_amount", "stale_deals", "stale_amount"]
    table[fill] = table[fill].fillna(0)
    table[["open_deals", "stale_deals"]] = table[["open_deals", "stale_deals"]].astype("int64")
    columns = [
        "open_deals",
        "open_amount",
        "win_rate",
        "raw_rate",
        "crm_probability",
        "deals",
        "observations",
        "won_observations",
        "stale_deals",
        "stale_amount",
    ]
    return table.reset_index()[[*keys, *columns]]


def pipeline_outlook(
    observations: pd.DataFrame,
    days_to_close: pd.DataFrame,
    open_deals: pd.DataFrame,
    quotas: pd.DataFrame | None,
    as_of,
    grain: str = "month",
    horizon: int = 3,
    by_stage: bool = True,
    notes=(),
    prior_deals: float = 10.0,
) -> PipelineOutlook:
    """The whole outlook from the engine's aggregates.

    Parameters
    ----------
    observations : DataFrame
        :func:`win_rates`'s input (empty without closed history).
    days_to_close : DataFrame
        :func:`close_shares`'s input (empty without won history).
    open_deals : DataFrame
        :func:`stage_table`'s input (one row per (team, pipeline, stage, timing_stage, age_days,
        expected_period)).
    quotas : DataFrame or None
        :func:`quota_gaps`'s input; None without targets.
    as_of, grain, horizon
        See :func:`next_periods`.
    by_stage : bool
        Whether ``observations`` come from the stage history (see :func:`win_rates`).
    notes : iterable of str
        Degradations found while reading the tables (see :class:`PipelineOutlook`).

    Returns
    -------
    PipelineOutlook
    """
    notes = list(notes)
    periods = next_periods(as_of, grain, horizon)
    base = PipelineOutlook(as_of=as_of, grain=grain, status="ok", notes=notes, periods=periods)
    if open_deals.empty:
        base.status = "no_open_deals"
        return base
    rates, overall, split = win_rates(observations, open_deals[["pipeline", "stage"]], by_stage, prior_deals)
    if not by_stage and not split:
        notes.append("overall_rate_only")
    shares = close_shares(
        days_to_close,
        open_deals[["timing_stage", "age_days"]].drop_duplicates().rename(columns={"timing_stage": "stage"}),
        as_of,
        grain,
        horizon,
    )
    base.overall_rate = overall
    base.stages = stage_table(open_deals, rates, shares)
    if np.isnan(overall) or days_to_close.empty:
        base.status = "no_closed_history"
        return base
    if base.stages["stale_deals"].gt(0).any():
        notes.append("stale_deals")
    if base.stages.loc[base.stages["open_deals"] > 0, "win_rate"].isna().any():
        notes.append("pipeline_without_history")
    base.bookings = expected_bookings(open_deals, rates, shares, periods)
    if quotas is not None and grain != "week":
        base.gaps = quota_gaps(base.bookings, quotas, periods)
        if base.gaps.empty:
            notes.append("no_targets_for_periods")
    elif quotas is not None:
        notes.append("targets_need_month_grain")
    return base

"""Opportunities, their stage history, and sales activities.

Plants: the win model (``logit P(won) = base + rep skill + TRAINING_EFFECT x trained-before-created + source
effect + log-amount effect``), Gamma stage durations and where lost deals drop out, one open New Business deal
per prospect, and activities at each rep's rate per open-deal week. Forecasting and rep-evaluation analyses
plant their pipeline effects here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from salesperf.data.demo.config import (
    ACTIVITY_TYPE_SHARE,
    CATEGORIES,
    DAYS_PER_WEEK,
    GROUPS,
    LOST,
    LOST_AT_STAGE_SHARE,
    LOST_REASONS,
    OPPORTUNITIES_PER_BUYER,
    PRODUCTS_PER_CATEGORY,
    SOURCE_SHARE,
    SOURCES,
    STAGE_MEAN_DAYS,
    STAGES,
    TRAINING_EFFECT,
    WIN_BASE_LOG_ODDS,
    WIN_LOG_AMOUNT_EFFECT,
    WIN_SOURCE_EFFECT,
    WON,
)
from salesperf.data.demo.customers import People
from salesperf.data.demo.targets import Org
from salesperf.data.demo.timeline import Calendar, choose


@dataclass
class Deals:
    """Opportunities (arrays of length ``n``, sorted by creation day) and their stage history.

    ``history_*`` arrays hold one row per stage entered.
    """

    n: int
    rep: np.ndarray
    customer: np.ndarray
    created: np.ndarray
    expected_close: np.ndarray
    closed: np.ndarray  # -1 when open
    stage: np.ndarray  # index into stage_names
    status: np.ndarray  # 0 open, 1 won, 2 lost
    pipeline: np.ndarray  # 0 Expansion, 1 New Business
    amount: np.ndarray
    product: np.ndarray
    source: np.ndarray
    lost_reason: np.ndarray  # -1 when not lost
    history_opp: np.ndarray
    history_stage: np.ndarray
    history_day: np.ndarray
    stage_names: tuple = (*STAGES, WON, LOST)


def simulate_opportunities(rng: np.random.Generator, cal: Calendar, people: People, org: Org) -> Deals:
    """Draw Expansion deals on buyers and one New Business deal per prospect, with their stage history.

    Parameters
    ----------
    rng : numpy.random.Generator
        The pipeline's stream.
    cal : Calendar
        The data window; deals closing after ``cal.end`` are open at the end.
    people : People
        The customers (buyers get ``round(OPPORTUNITIES_PER_BUYER * buyers)`` deals weighted by group).
    org : Org
        The organisation: owner skill and training completion enter the win model.

    Returns
    -------
    Deals
        One row per opportunity; ``status`` 0 open, 1 won, 2 lost. New Business deals stay open.
    """
    buyers = np.flatnonzero(people.group >= 0)
    prospects = np.flatnonzero(people.group < 0)
    # Expansion deals on existing buyers (weighted by group), created between acquisition and end.
    weight = np.array([g.opportunity_weight for g in GROUPS])[people.group[buyers]]
    n_expansion = round(OPPORTUNITIES_PER_BUYER * len(buyers))
    expansion_customer = buyers[choose(rng, weight / weight.sum(), n_expansion)]
    lo = people.created[expansion_customer]
    expansion_created = lo + np.floor(rng.random(n_expansion) * (cal.end - lo + 1)).astype(np.int64)
    # Each prospect has one New Business deal created within two weeks of the account, still open at `end`.
    prospect_created = np.minimum(cal.end, people.created[prospects] + rng.integers(0, 15, len(prospects)))
    customer = np.concatenate([expansion_customer, prospects])
    created = np.concatenate([expansion_created, prospect_created])
    pipeline = np.concatenate(
        [np.zeros(n_expansion, dtype=np.int64), np.ones(len(prospects), dtype=np.int64)]
    )
    order = np.lexsort((customer, created))
    customer, created, pipeline = customer[order], created[order], pipeline[order]
    n = len(customer)
    rep = org.holder(people.slot[customer], created)
    group = people.group[customer]
    median_amount = np.where(
        group >= 0, np.array([g.opportunity_amount for g in GROUPS] + [5000.0])[group], 5000.0
    )
    amount = np.round(median_amount * np.exp(rng.normal(0.0, 0.6, n)), -2)
    amount = np.maximum(amount, 100.0)
    product = rng.integers(0, len(CATEGORIES) * PRODUCTS_PER_CATEGORY, n)
    source = choose(rng, np.array(SOURCE_SHARE), n)
    # Planted win model (log-odds).
    trained_at = org.completed_day[rep]
    after_training = (trained_at >= 0) & (created >= trained_at)
    log_odds = (
        WIN_BASE_LOG_ODDS
        + org.skill[rep]
        + TRAINING_EFFECT * after_training
        + np.array([WIN_SOURCE_EFFECT[s] for s in SOURCES])[source]
        + WIN_LOG_AMOUNT_EFFECT * np.log(amount / median_amount)
    )
    won = rng.random(n) < 1.0 / (1.0 + np.exp(-log_odds))
    lost_at = choose(rng, np.array(LOST_AT_STAGE_SHARE), n)
    open_stages = np.where(won, len(STAGES), lost_at + 1)  # stages entered before closing
    durations = np.ceil(rng.gamma(2.0, np.array(STAGE_MEAN_DAYS) / 2.0, (n, len(STAGES)))).astype(np.int64)
    entry = created[:, None] + np.concatenate(
        [np.zeros((n, 1), dtype=np.int64), np.cumsum(durations, axis=1)], axis=1
    )  # n x 5
    close_day = entry[np.arange(n), open_stages]
    new_business = pipeline == 1
    closes = (close_day <= cal.end) & ~new_business
    # Stage entries known at `end`.
    column = np.arange(len(STAGES) + 1)[None, :]
    entered = (column < open_stages[:, None]) & (entry <= cal.end)
    entered[new_business, :] = (entry[new_business] <= cal.end) & (column[0] < len(STAGES))[None, :]
    entered[:, len(STAGES)] = closes
    stage_index = np.where(column < len(STAGES), column, 0) + np.zeros((n, 1), dtype=np.int64)
    stage_index[:, len(STAGES)] = np.where(won, len(STAGES), len(STAGES) + 1)
    entry[:, len(STAGES)] = close_day  # the closing "stage" is entered on the close day
    opp_idx, col_idx = np.nonzero(entered)
    history_stage = stage_index[opp_idx, col_idx]
    history_day = entry[opp_idx, col_idx]
    last_col = (entered * column).max(axis=1)
    stage = stage_index[np.arange(n), last_col]
    status = np.where(closes, np.where(won, 1, 2), 0)
    planned = created + np.ceil(rng.gamma(4.0, 13.0, n)).astype(np.int64)
    overdue = (status == 0) & (planned <= cal.end)
    expected_close = np.where(overdue, cal.end + rng.integers(1, 31, n), planned)
    lost_reason = np.where(status == 2, rng.integers(0, len(LOST_REASONS), n), -1)
    return Deals(
        n,
        rep,
        customer,
        created,
        expected_close,
        np.where(closes, close_day, -1),
        stage,
        status,
        pipeline,
        amount,
        product,
        source,
        lost_reason,
        opp_idx,
        history_stage,
        history_day,
    )


@dataclass
class Activities:
    """Sales activities, arrays of equal length sorted by day (stable)."""

    deal: np.ndarray
    rep: np.ndarray
    customer: np.ndarray
    kind: np.ndarray
    day: np.ndarray


def simulate_activities(rng: np.random.Generator, cal: Calendar, deals: Deals, org: Org) -> Activities:
    """Draw activities on each deal while it is open, at its owner's rate per open-deal week.

    Parameters
    ----------
    rng : numpy.random.Generator
        The activities' stream.
    cal : Calendar
        The data window; open deals get activities up to ``cal.end``.
    deals : Deals
        The opportunities.
    org : Org
        The organisation (``activity_rate`` per rep).

    Returns
    -------
    Activities
        Poisson(rate x open weeks) activities per deal, each on a uniform day between creation and close.
    """
    last = np.where(deals.closed >= 0, deals.closed, cal.end)
    weeks = (last - deals.created + 1) / DAYS_PER_WEEK
    count = rng.poisson(org.activity_rate[deals.rep] * weeks)
    deal = np.repeat(np.arange(deals.n), count)
    span = (last - deals.created + 1)[deal]
    day = deals.created[deal] + np.floor(rng.random(len(deal)) * span).astype(np.int64)
    kind = choose(rng, np.array(ACTIVITY_TYPE_SHARE), len(deal))
    order = np.argsort(day, kind="stable")
    deal, day, kind = deal[order], day[order], kind[order]
    return Activities(deal, deals.rep[deal], deals.customer[deal], kind, day)

"""Support tickets and survey feedback (NPS and CSAT).

Plants: ticket satisfaction as ``intercept + first-response and resolution slopes + priority + agent effect +
noise`` (``TICKET_SATISFACTION``), and survey scores as ``group base + slope x tickets in the last 90 days +
noise`` (``FEEDBACK_DRIVERS``). A satisfaction analysis plants its effects here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from salesperf.data.demo.config import (
    AGENT_EFFECT_SD,
    COMMENT_SHARE,
    FEEDBACK_DRIVERS,
    FEEDBACK_TICKET_WINDOW_DAYS,
    FIRST_RESPONSE_MEAN_DAYS,
    GROUPS,
    N_AGENTS,
    NPS_SHARE_OF_SURVEYS,
    PRIORITIES,
    PRIORITY_SHARE,
    RESOLUTION_MEAN_DAYS,
    TICKET_CATEGORIES,
    TICKET_SATISFACTION,
)
from salesperf.data.demo.customers import People
from salesperf.data.demo.purchases import Occasions
from salesperf.data.demo.targets import Org
from salesperf.data.demo.timeline import Calendar, choose


@dataclass
class Tickets:
    """Support tickets, arrays of equal length sorted by (opened, customer), and each agent's effect."""

    customer: np.ndarray
    opened: np.ndarray
    first_response: np.ndarray  # -1 when not yet answered at end
    resolved: np.ndarray  # -1 when unresolved at end
    category: np.ndarray
    priority: np.ndarray
    satisfaction: np.ndarray  # nan when not rated
    agent: np.ndarray
    agent_effect: np.ndarray


def simulate_tickets(rng: np.random.Generator, cal: Calendar, people: People, occ: Occasions) -> Tickets:
    """Draw support tickets after purchase occasions, with their planted satisfaction.

    Parameters
    ----------
    rng : numpy.random.Generator
        The tickets' stream.
    cal : Calendar
        The data window; tickets opened after ``cal.end`` are dropped, later answers and resolutions unknown.
    people, occ
        The customers and their purchase occasions (each leads to a ticket with its group's ``ticket_rate``).

    Returns
    -------
    Tickets
        One row per ticket; ``satisfaction`` NaN when not rated (only resolved tickets are rated).
    """
    group = people.group[occ.customer]
    rate = np.array([g.ticket_rate for g in GROUPS])[group]
    chosen = np.flatnonzero(rng.random(len(occ.day)) < rate)
    opened = occ.day[chosen] + rng.integers(0, 31, len(chosen))
    keep = opened <= cal.end
    chosen, opened = chosen[keep], opened[keep]
    n = len(chosen)
    customer = occ.customer[chosen]
    priority = choose(rng, np.array(PRIORITY_SHARE), n)
    category = rng.integers(0, len(TICKET_CATEGORIES), n)
    response_mean = np.array([FIRST_RESPONSE_MEAN_DAYS[p] for p in PRIORITIES])[priority]
    first_response_days = np.floor(rng.exponential(response_mean)).astype(np.int64)
    resolution_mean = np.array([RESOLUTION_MEAN_DAYS[c] for c in TICKET_CATEGORIES])[category]
    resolution_days = first_response_days + np.floor(rng.gamma(1.5, resolution_mean / 1.5)).astype(np.int64)
    agent_effect = np.round(rng.normal(0.0, AGENT_EFFECT_SD, N_AGENTS), 3)
    agent = rng.integers(0, N_AGENTS, n)
    drivers = TICKET_SATISFACTION
    latent = (
        drivers["intercept"]
        + drivers["first_response_days"] * first_response_days
        + drivers["resolution_days"] * resolution_days
        + np.array([drivers["priority"][p] for p in PRIORITIES])[priority]
        + agent_effect[agent]
        + rng.normal(0.0, drivers["noise_sd"], n)
    )
    first_response = opened + first_response_days
    resolved = opened + resolution_days
    rated = (rng.random(n) < drivers["response_rate"]) & (resolved <= cal.end)
    satisfaction = np.where(rated, np.clip(np.round(latent), 1, 5), np.nan)
    order = np.lexsort((customer, opened))
    first_response = np.where(first_response <= cal.end, first_response, -1)
    resolved = np.where(resolved <= cal.end, resolved, -1)
    return Tickets(
        customer[order],
        opened[order],
        first_response[order],
        resolved[order],
        category[order],
        priority[order],
        satisfaction[order],
        agent[order],
        agent_effect,
    )


@dataclass
class Feedback:
    """Survey responses, arrays of equal length sorted by (day, customer)."""

    customer: np.ndarray
    day: np.ndarray
    score: np.ndarray
    is_nps: np.ndarray
    comment: np.ndarray  # index into the flat comment list, -1 none
    rep: np.ndarray


def simulate_feedback(
    rng, cal: Calendar, people: People, occ: Occasions, tickets: Tickets, org: Org
) -> Feedback:
    """Draw NPS and CSAT survey responses after purchase occasions.

    Parameters
    ----------
    rng : numpy.random.Generator
        The feedback's stream.
    cal : Calendar
        The data window.
    people, occ, tickets, org
        Customers, occasions (each leads to a survey with its group's ``survey_rate``), tickets (recent ones
        lower the score) and the organisation (the territory holder on the response day).

    Returns
    -------
    Feedback
        One row per response; ``score`` on 0-10 for NPS, 1-5 for CSAT.
    """
    group = people.group[occ.customer]
    rate = np.array([g.survey_rate for g in GROUPS])[group]
    chosen = np.flatnonzero(rng.random(len(occ.day)) < rate)
    day = occ.day[chosen] + rng.integers(3, 11, len(chosen))
    keep = day <= cal.end
    chosen, day = chosen[keep], day[keep]
    n = len(chosen)
    customer = occ.customer[chosen]
    group = people.group[customer]
    # Tickets the customer opened in the 90 days up to and including the response day.
    span = np.int64(1 << 20)
    ticket_key = np.sort(tickets.customer.astype(np.int64) * span + tickets.opened)
    key = customer.astype(np.int64) * span + day
    recent = np.searchsorted(ticket_key, key, side="right") - np.searchsorted(
        ticket_key, key - FEEDBACK_TICKET_WINDOW_DAYS + 1, side="left"
    )
    is_nps = rng.random(n) < NPS_SHARE_OF_SURVEYS
    nps_base = np.array([g.nps_base for g in GROUPS])[group]
    csat_base = np.array([g.csat_base for g in GROUPS])[group]
    nps, csat = FEEDBACK_DRIVERS["nps"], FEEDBACK_DRIVERS["csat"]
    noise = rng.normal(0.0, 1.0, n)
    nps_score = np.clip(np.round(nps_base + nps["tickets_90d"] * recent + nps["noise_sd"] * noise), 0, 10)
    csat_score = np.clip(np.round(csat_base + csat["tickets_90d"] * recent + csat["noise_sd"] * noise), 1, 5)
    score = np.where(is_nps, nps_score, csat_score)
    band = np.where(is_nps, np.digitize(score, [7, 9]), np.digitize(score, [3, 4]))  # 0 low, 1 mid, 2 high
    has_comment = rng.random(n) < COMMENT_SHARE
    comment = np.where(has_comment, band * 3 + rng.integers(0, 3, n), -1)
    rep = org.holder(people.slot[customer], day)
    order = np.lexsort((customer, day))
    return Feedback(customer[order], day[order], score[order], is_nps[order], comment[order], rep[order])

"""Customers: buyers of the planted behavioural groups and prospects.

Plants: group membership (``GROUPS`` shares), acquisition days with trend and seasonality, region and
territory, channel and size mixes per group, and each buyer's BG/NBD rate and drop-out and Gamma-Gamma spend
rate. Prospects (``PROSPECT_SHARE``) were created in the last ``PROSPECT_WINDOW_DAYS`` and never buy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from salesperf.data.demo.config import (
    ACQUISITION_GROWTH_PER_YEAR,
    CHANNELS,
    GROUPS,
    INDUSTRIES,
    PROSPECT_SHARE,
    PROSPECT_WINDOW_DAYS,
    REGION_SHARE,
    SIZES,
    SLOTS_PER_REGION,
)
from salesperf.data.demo.targets import Org
from salesperf.data.demo.timeline import Calendar, choose


@dataclass
class People:
    """Per-customer arrays, all of length ``n`` (index = customer number - 1, CRM creation order)."""

    n: int
    group: np.ndarray  # group index, -1 for prospects
    created: np.ndarray  # day the CRM first knew them (= acquisition = first purchase for buyers)
    region: np.ndarray
    slot: np.ndarray
    channel: np.ndarray
    size: np.ndarray
    industry: np.ndarray
    rate: np.ndarray  # BG/NBD lambda per week (nan for prospects)
    dropout: np.ndarray  # BG/NBD p
    nu: np.ndarray  # Gamma-Gamma per-customer rate


def simulate_customers(rng: np.random.Generator, cal: Calendar, n: int, org: Org) -> People:
    """Draw ``n`` CRM customers: buyers of the planted groups and prospects.

    Parameters
    ----------
    rng : numpy.random.Generator
        The customers' stream.
    cal : Calendar
        The data window.
    n : int
        Number of customers; ``round(PROSPECT_SHARE * n)`` of them are prospects.
    org : Org
        The organisation (territories are ``SLOTS_PER_REGION`` per region).

    Returns
    -------
    People
        ``n`` customers sorted by creation day; prospects have ``group == -1`` and NaN purchase parameters.
    """
    n_prospects = round(PROSPECT_SHARE * n)
    n_buyers = n - n_prospects
    shares = np.array([g.share for g in GROUPS])
    group_of_buyer = np.searchsorted(np.cumsum(shares) / shares.sum(), rng.random(n_buyers), side="right")
    acquired = cal.draw_days(rng, n_buyers, ACQUISITION_GROWTH_PER_YEAR, seasonal=True)
    prospect_created = cal.end - rng.integers(0, PROSPECT_WINDOW_DAYS, n_prospects)
    group = np.concatenate([group_of_buyer, np.full(n_prospects, -1)])
    created = np.concatenate([acquired, prospect_created])
    order = np.lexsort((rng.random(n), created))  # customer numbers follow CRM creation order
    group, created = group[order], created[order]

    region = choose(rng, np.array(REGION_SHARE), n)
    slot_in_region = rng.integers(0, SLOTS_PER_REGION, n)
    slot = region * SLOTS_PER_REGION + slot_in_region
    channel = np.empty(n, dtype=np.int64)
    size = np.empty(n, dtype=np.int64)
    rate = np.full(n, np.nan)
    dropout = np.full(n, np.nan)
    nu = np.full(n, np.nan)
    prospects = group < 0
    channel[prospects] = choose(rng, np.array([0.3, 0.5, 0.2]), int(prospects.sum()))
    size[prospects] = choose(rng, np.array([0.3, 0.35, 0.25, 0.1]), int(prospects.sum()))
    for g, spec in enumerate(GROUPS):
        members = group == g
        m = int(members.sum())
        channel[members] = choose(rng, np.array([spec.channel_mix[c] for c in CHANNELS]), m)
        size[members] = choose(rng, np.array([spec.size_mix[s] for s in SIZES]), m)
        bg, gg = spec.bgnbd, spec.gamma_gamma
        rate[members] = rng.gamma(bg["r"], 1.0 / bg["alpha"], m)
        dropout[members] = np.clip(rng.beta(bg["a"], bg["b"], m), 1e-12, 1.0)
        nu[members] = rng.gamma(gg["q"], 1.0 / gg["gamma"], m)
    industry = rng.integers(0, len(INDUSTRIES), n)
    return People(n, group, created, region, slot, channel, size, industry, rate, dropout, nu)

"""Reps, teams, territories, training and monthly quotas.

Plants: rep skill (win log-odds) and activity rate, rep churn with manager-covered vacancies, the training
programme's completion dates (its effect on win odds is applied in :mod:`salesperf.data.demo.pipeline`), and
quotas as ``QUOTA_STRETCH`` x the territory's smoothed realised revenue. A rep-evaluation analysis plants its
effects here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from salesperf.data.demo.config import QUOTA_STRETCH, REGIONS, REP_SKILL_SD, SLOTS_PER_REGION, TRAINED_SHARE
from salesperf.data.demo.timeline import Calendar


@dataclass
class Org:
    """Reps (arrays of length ``len(rep_ids)``, managers first) and territory slots with their holders."""

    rep_ids: list[str]
    names: list[str]
    team: np.ndarray  # region index of each rep
    manager: np.ndarray  # index of the manager rep, -1 for managers
    hire_day: np.ndarray
    end_day: np.ndarray  # -1 when still employed
    skill: np.ndarray
    activity_rate: np.ndarray  # activities per open-deal week
    completed_day: np.ndarray  # training completion day, -1 if untrained
    trained_reps: np.ndarray
    slot_region: np.ndarray  # region of each territory slot
    slot_breaks: list[np.ndarray]  # per slot: first day of each holding period
    slot_holders: list[np.ndarray]  # per slot: rep index holding it from that day

    def holder(self, slot: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Rep index holding each (slot, day)."""
        result = np.empty(len(slot), dtype=np.int64)
        for s in range(len(self.slot_breaks)):
            mask = slot == s
            period = np.searchsorted(self.slot_breaks[s], day[mask], side="right") - 1
            result[mask] = self.slot_holders[s][np.maximum(period, 0)]
        return result


def simulate_org(rng: np.random.Generator, cal: Calendar) -> Org:
    """Draw the sales organisation: one manager per region, ``SLOTS_PER_REGION`` territories each.

    Parameters
    ----------
    rng : numpy.random.Generator
        The organisation's stream.
    cal : Calendar
        The data window; about 35 % of territory reps leave inside it and are replaced after a vacancy.

    Returns
    -------
    Org
        Reps with skill, activity rate and training completion (``-1`` when untrained).
    """
    first = (
        "Anna",
        "Ben",
        "Clara",
        "David",
        "Eva",
        "Felix",
        "Grace",
        "Hugo",
        "Iris",
        "Jonas",
        "Kira",
        "Leo",
        "Mia",
        "Noah",
        "Olga",
        "Paul",
        "Rosa",
        "Sam",
        "Tara",
        "Ugo",
        "Vera",
        "Will",
        "Xenia",
        "Yusuf",
        "Zoe",
        "Aron",
        "Bianca",
        "Carl",
        "Dora",
        "Emil",
        "Fiona",
        "Gustav",
        "Hanna",
        "Ivan",
    )
    last = (
        "Meyer",
        "Novak",
        "Rossi",
        "Silva",
        "Berg",
        "Kowalski",
        "Dubois",
        "Jensen",
        "Lindqvist",
        "Moreau",
        "Costa",
        "Fischer",
        "Horvat",
        "Larsen",
        "Schmidt",
        "Garcia",
    )
    span = cal.end - cal.start
    team, manager, hire, leave = [], [], [], []
    for region in range(len(REGIONS)):  # managers first: long tenure, never leave
        team.append(region)
        manager.append(-1)
        hire.append(cal.start - int(rng.integers(3 * 365, 12 * 365)))
        leave.append(-1)
    slot_region, slot_breaks, slot_holders = [], [], []
    for region in range(len(REGIONS)):
        for _slot in range(SLOTS_PER_REGION):
            first_rep = len(team)
            team.append(region)
            manager.append(region)
            hire.append(cal.start - int(rng.integers(60, 8 * 365)))
            breaks, holders = [cal.start - 100_000], [first_rep]
            if rng.random() < 0.35:  # the rep leaves; manager covers a vacancy; a replacement is hired
                left = cal.start + int(rng.integers(int(0.15 * span), int(0.85 * span)))
                leave.append(left)
                vacancy = int(rng.integers(0, 46))
                new_rep = len(team)
                team.append(region)
                manager.append(region)
                hire.append(left + 1 + vacancy)
                leave.append(-1)
                breaks += [left + 1, left + 1 + vacancy]
                holders += [region, new_rep]
            else:
                leave.append(-1)
            slot_region.append(region)
            slot_breaks.append(np.array(breaks))
            slot_holders.append(np.array(holders))
    n = len(team)
    rep_ids = [f"R{i + 1:03d}" for i in range(n)]
    order = rng.permutation(len(first) * len(last))[:n]
    names = [f"{first[k % len(first)]} {last[k // len(first)]}" for k in order]
    hire_day, end_day = np.array(hire), np.array(leave)
    skill = np.round(rng.normal(0.0, REP_SKILL_SD, n), 3)
    activity_rate = np.round(np.exp(rng.normal(np.log(0.8), 0.35, n)), 3)
    completed = np.full(n, -1)
    # About half of the selling reps complete the programme, on a day between 35 % and 75 % of the window when
    # they have been employed for a month and still are for a month.
    lo, hi = cal.start + int(0.35 * span), cal.start + int(0.75 * span)
    first_day = np.maximum(lo, hire_day + 30)
    last_day = np.where(end_day >= 0, np.minimum(hi, end_day - 30), hi)
    sellers = np.flatnonzero(np.array(manager) >= 0)
    eligible = sellers[first_day[sellers] < last_day[sellers]]
    for i in rng.permutation(eligible)[: round(TRAINED_SHARE * len(sellers))]:
        completed[i] = int(rng.integers(first_day[i], last_day[i] + 1))
    trained = np.flatnonzero(completed >= 0)
    trained = trained[np.argsort(completed[trained], kind="stable")]
    return Org(
        rep_ids,
        names,
        np.array(team),
        np.array(manager),
        hire_day,
        end_day,
        skill,
        activity_rate,
        completed,
        trained,
        np.array(slot_region),
        slot_breaks,
        slot_holders,
    )


def monthly_quotas(
    cal: Calendar, org: Org, buyer_slot: np.ndarray, occasion_day: np.ndarray, occasion_value: np.ndarray
) -> dict:
    """Monthly quota per selling rep: stretch x smoothed company revenue per territory x territory weight.

    Parameters
    ----------
    cal : Calendar
        The data window; one quota per month a rep holds a territory in it (pro rata for part months).
    org : Org
        The organisation; months a manager covers a vacancy get no quota.
    buyer_slot : numpy.ndarray
        Territory of each buyer (the territory weight is its share of buyers).
    occasion_day, occasion_value : numpy.ndarray
        Day and value of every purchase occasion (the realised company revenue per month).

    Returns
    -------
    dict
        Columns ``rep_id``, ``period`` (``YYYY-MM``) and ``quota`` of the ``targets`` table, one row per
        (rep, month), sorted by rep then month.
    """
    months = np.arange(cal.month_index(np.array([cal.start]))[0], cal.month_index(np.array([cal.end]))[0] + 1)
    revenue = np.bincount(
        cal.month_index(occasion_day) - months[0], weights=occasion_value, minlength=len(months)
    )
    kernel = np.ones(3) / 3
    smooth = np.convolve(np.pad(revenue, 1, mode="edge"), kernel, mode="valid")
    n_slots = len(org.slot_breaks)
    slot_weight = np.bincount(buyer_slot, minlength=n_slots) / max(1, len(buyer_slot))
    month_start = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    month_end = (months + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) - 1
    reps, periods, quotas = [], [], []
    for s in range(n_slots):
        breaks = np.append(org.slot_breaks[s], cal.end + 1)
        for h, holder in enumerate(org.slot_holders[s]):
            if org.manager[holder] < 0:  # vacancy covered by the manager: no personal quota
                continue
            lo, hi = max(breaks[h], cal.start), min(breaks[h + 1] - 1, cal.end)
            covered = np.clip(np.minimum(month_end, hi) - np.maximum(month_start, lo) + 1, 0, None)
            days_in_month = month_end - month_start + 1
            active = covered > 0
            quota = QUOTA_STRETCH * smooth * slot_weight[s] * covered / days_in_month
            reps += [org.rep_ids[holder]] * int(active.sum())
            periods += [str(m) for m in months[active].astype("datetime64[M]")]
            quotas += list(np.maximum(100.0, np.round(quota[active], -2)))
    order = sorted(range(len(reps)), key=lambda i: (reps[i], periods[i]))
    return {
        "rep_id": pa.array([reps[i] for i in order], pa.string()),
        "period": pa.array([periods[i] for i in order], pa.string()),
        "quota": pa.array([quotas[i] for i in order], pa.float64()),
    }

"""The demo company: a seeded, vectorised generator of every canonical table with planted, known effects.

``generate(out_dir, customers=2000, seed=0)`` writes ``<table>.parquet`` (or ``.csv``) for every table in
:mod:`salesperf.data.schema`, a ``catalog.yml`` listing them and a ``truth.json`` holding every planted
quantity, so reports can be checked against what was put in. See docs/demo-company.md for the model and how to
recover it.

The purchase process of each behavioural group is exactly BG/NBD in continuous time (unit: weeks) and the
value of each purchase occasion is Gamma-Gamma (times the month's seasonality factor). All draws are
numpy array operations (no per-customer Python loop) so a million customers take well under two minutes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from salesperf.data.schema import TABLES
from salesperf.errors import UserError

Progress = Callable[[str], None] | None

DAYS_PER_WEEK = 7.0
EPOCH = dt.date(1970, 1, 1)

# ------------------------------------------------------------------------------------------------------------
# The planted company. Everything here is written to truth.json.
# ------------------------------------------------------------------------------------------------------------

REGIONS = ("North", "East", "South", "West")
REGION_SHARE = (0.30, 0.25, 0.25, 0.20)
SLOTS_PER_REGION = (
    5  # sales territories per region; each held by one rep at a time (manager covers vacancies)
)

CATEGORIES = ("Hardware", "Software", "Services", "Consumables", "Support Plans")
PRODUCTS_PER_CATEGORY = 6
CATEGORY_PRICE = {
    "Hardware": 180.0,
    "Software": 120.0,
    "Services": 250.0,
    "Consumables": 25.0,
    "Support Plans": 90.0,
}

# Planted co-purchase: the first time a customer buys a trigger product, one line of the customer's next order
# becomes its complement with probability BUNDLE_FOLLOW_PROBABILITY (the order's value is unchanged: only the
# product on the line changes). Products are "<category> <Basic|Standard|Pro|Plus|Max|Ultra>"; every product is in
# at most one pair, and complements are not among the most popular products.
PRODUCT_BUNDLES = (
    (("Hardware", "Standard"), ("Consumables", "Pro")),  # printer -> its toner
    (("Hardware", "Pro"), ("Support Plans", "Plus")),  # device -> extended warranty
    (("Software", "Basic"), ("Services", "Standard")),  # licence -> onboarding
    (("Software", "Pro"), ("Support Plans", "Max")),  # licence -> premium support
    (("Consumables", "Standard"), ("Consumables", "Ultra")),  # refill -> bulk pack
    (("Services", "Basic"), ("Software", "Plus")),  # consulting -> add-on module
)
BUNDLE_FOLLOW_PROBABILITY = 0.7

CHANNELS = ("online", "direct", "partner")
INDUSTRIES = (
    "Manufacturing",
    "Retail",
    "Healthcare",
    "Finance",
    "Logistics",
    "Education",
    "Public Sector",
    "Technology",
)
SIZES = ("small", "medium", "large", "enterprise")

# Monthly seasonality (Q4 peak, February trough); normalised to mean 1 in _seasonality().
SEASONALITY_RAW = {
    1: 0.90,
    2: 0.72,
    3: 0.95,
    4: 1.00,
    5: 1.00,
    6: 1.05,
    7: 0.92,
    8: 0.85,
    9: 1.05,
    10: 1.10,
    11: 1.22,
    12: 1.28,
}
ACQUISITION_GROWTH_PER_YEAR = 0.15  # new-customer volume grows 15 % a year (exponential trend)
PROSPECT_SHARE = 0.15  # CRM accounts that never bought; each has one open New Business opportunity
PROSPECT_WINDOW_DAYS = 120  # prospects were created in the last 120 days before `end`
RETURN_SHARE = 0.02  # share of purchase occasions later partly returned
RETURN_MAX_DELAY_DAYS = 45
MAX_LINES = 8


@dataclass(frozen=True)
class Group:
    """One planted behavioural group: its share of buyers and the parameters of its purchase and spend."""

    name: str
    share: float
    bgnbd: dict  # r, alpha (rate scale, per week), a, b
    gamma_gamma: dict  # p, q, gamma
    channel_mix: dict
    category_mix: dict
    size_mix: dict
    extra_lines_mean: float  # lines per occasion = 1 + min(Poisson(extra_lines_mean), MAX_LINES - 1)
    opportunity_weight: float  # relative chance a buyer of this group is the account of an Expansion deal
    opportunity_amount: float  # median deal amount
    ticket_rate: float  # chance a purchase occasion leads to a support ticket
    survey_rate: float  # chance a purchase occasion leads to a survey response
    nps_base: float
    csat_base: float


GROUPS: tuple[Group, ...] = (
    Group(
        "key_accounts",
        0.05,
        {"r": 2.0, "alpha": 8.0, "a": 0.4, "b": 8.0},
        {"p": 5.0, "q": 4.0, "gamma": 3000.0},
        {"online": 0.02, "direct": 0.90, "partner": 0.08},
        {"Hardware": 0.05, "Software": 0.35, "Services": 0.40, "Consumables": 0.02, "Support Plans": 0.18},
        {"small": 0.0, "medium": 0.10, "large": 0.40, "enterprise": 0.50},
        4.0,
        8.0,
        20000.0,
        0.06,
        0.03,
        8.3,
        4.3,
    ),
    Group(
        "regulars",
        0.20,
        {"r": 1.2, "alpha": 8.0, "a": 0.6, "b": 6.0},
        {"p": 4.0, "q": 5.0, "gamma": 1200.0},
        {"online": 0.10, "direct": 0.05, "partner": 0.85},
        {"Hardware": 0.10, "Software": 0.05, "Services": 0.03, "Consumables": 0.72, "Support Plans": 0.10},
        {"small": 0.15, "medium": 0.45, "large": 0.35, "enterprise": 0.05},
        1.5,
        3.0,
        6000.0,
        0.05,
        0.04,
        7.6,
        4.0,
    ),
    Group(
        "occasional",
        0.35,
        {"r": 0.6, "alpha": 14.0, "a": 0.8, "b": 2.5},
        {"p": 3.0, "q": 6.0, "gamma": 700.0},
        {"online": 0.80, "direct": 0.05, "partner": 0.15},
        {"Hardware": 0.10, "Software": 0.55, "Services": 0.05, "Consumables": 0.10, "Support Plans": 0.20},
        {"small": 0.45, "medium": 0.40, "large": 0.13, "enterprise": 0.02},
        1.0,
        1.0,
        2500.0,
        0.05,
        0.05,
        7.0,
        3.8,
    ),
    Group(
        "one_off",
        0.40,
        {"r": 0.25, "alpha": 40.0, "a": 1.5, "b": 1.5},
        {"p": 2.5, "q": 4.0, "gamma": 300.0},
        {"online": 0.90, "direct": 0.02, "partner": 0.08},
        {"Hardware": 0.75, "Software": 0.05, "Services": 0.02, "Consumables": 0.15, "Support Plans": 0.03},
        {"small": 0.70, "medium": 0.25, "large": 0.05, "enterprise": 0.0},
        0.5,
        0.3,
        1500.0,
        0.04,
        0.05,
        6.2,
        3.5,
    ),
)

# Sales pipeline.
STAGES = ("Qualification", "Needs Analysis", "Proposal", "Negotiation")
WON, LOST = "Closed Won", "Closed Lost"
STAGE_PROBABILITY = {
    "Qualification": 0.10,
    "Needs Analysis": 0.25,
    "Proposal": 0.50,
    "Negotiation": 0.75,
    WON: 1.0,
    LOST: 0.0,
}
STAGE_MEAN_DAYS = (10.0, 14.0, 16.0, 12.0)  # Gamma(shape 2) durations of each open stage
LOST_AT_STAGE_SHARE = (0.35, 0.25, 0.25, 0.15)  # where lost deals drop out
SOURCES = ("inbound", "outbound", "referral", "partner")
SOURCE_SHARE = (0.35, 0.30, 0.15, 0.20)
WIN_BASE_LOG_ODDS = -0.3
WIN_SOURCE_EFFECT = {"inbound": 0.3, "outbound": -0.5, "referral": 0.6, "partner": 0.0}
WIN_LOG_AMOUNT_EFFECT = -0.25  # per unit of log(amount / group median amount)
REP_SKILL_SD = 0.5
TRAINING_EFFECT = 0.6  # added to win log-odds of deals created on/after the owner's completion date
TRAINING_PROGRAM = "Consultative Selling"
TRAINED_SHARE = 0.5
LOST_REASONS = ("price", "competitor", "no decision", "timing", "product fit")
OPPORTUNITIES_PER_BUYER = 0.6
ACTIVITY_TYPES = ("call", "email", "visit", "meeting")
ACTIVITY_TYPE_SHARE = (0.40, 0.35, 0.10, 0.15)

# Support and satisfaction.
PRIORITIES = ("low", "normal", "high", "urgent")
PRIORITY_SHARE = (0.30, 0.45, 0.18, 0.07)
FIRST_RESPONSE_MEAN_DAYS = {"low": 2.0, "normal": 1.2, "high": 0.6, "urgent": 0.25}
TICKET_CATEGORIES = ("billing", "delivery", "product", "technical", "account")
RESOLUTION_MEAN_DAYS = {"billing": 3.0, "delivery": 5.0, "product": 6.0, "technical": 8.0, "account": 2.0}
N_AGENTS = 12
AGENT_EFFECT_SD = 0.15
# Ticket satisfaction: intercept + sum(coef * driver) + agent effect + N(0, noise_sd), rounded, clipped to 1-5
TICKET_SATISFACTION = {
    "intercept": 4.6,
    "first_response_days": -0.25,
    "resolution_days": -0.06,
    "priority": {"low": 0.0, "normal": -0.1, "high": -0.3, "urgent": -0.5},
    "noise_sd": 0.6,
    "response_rate": 0.6,
}
FEEDBACK_TICKET_WINDOW_DAYS = 90
FEEDBACK_DRIVERS = {  # latent = group base + tickets_90d * coef + N(0, noise_sd); round, clip to the scale
    "nps": {"tickets_90d": -1.2, "noise_sd": 1.6, "scale": [0, 10]},
    "csat": {"tickets_90d": -0.45, "noise_sd": 0.7, "scale": [1, 5]},
}
NPS_SHARE_OF_SURVEYS = 0.6
COMMENTS = {
    "low": ("Delivery was late again.", "Support took too long to answer.", "Too expensive for what we get."),
    "mid": ("OK overall.", "Fine, some room for improvement.", "Average experience."),
    "high": ("Great service, thank you!", "Our rep is very helpful.", "Fast and reliable."),
}
COMMENT_SHARE = 0.3

QUOTA_STRETCH = 1.10  # quotas = 110 % of the territory's smoothed realised revenue
CURRENCY = "EUR"


# ------------------------------------------------------------------------------------------------------------
# Public entry point
# ------------------------------------------------------------------------------------------------------------


def generate(
    out_dir,
    customers: int = 2000,
    seed: int = 0,
    end="2026-10-31",
    years: int = 4,
    fmt: str = "parquet",
    progress: Progress = None,
) -> Path:
    """Generate the demo company and write it to ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write to (created if missing; existing files of the same names are overwritten).
    customers : int
        Rows of the customers table: ``1 - PROSPECT_SHARE`` of them are buyers, the rest prospects with one
        open opportunity and no orders.
    seed : int
        Seed of the numpy Generator; the same arguments give the same data.
    end : str or date
        Last day of the data (ISO date). No row is dated after it except open deals' expected close dates.
    years : int
        Length of the history: data start the day after ``end`` minus ``years`` years.
    fmt : {'parquet', 'csv'}
        File format of the tables.
    progress : callable, optional
        Called with a short text before each long step.

    Returns
    -------
    Path
        ``out_dir``, holding ``<table>.<fmt>`` for each canonical table, ``catalog.yml`` and ``truth.json``.
    """
    end_date, start_date = _check_arguments(customers, seed, end, years, fmt)
    say = progress or (lambda _text: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables, truth = build(customers, seed, end_date, start_date, say)
    for name, table in tables.items():
        say(f"writing {name}.{fmt}")
        _write(table, out / f"{name}.{fmt}", fmt)
    (out / "catalog.yml").write_text(_catalog_text(seed, fmt), encoding="utf-8")
    say("writing truth.json")
    with open(out / "truth.json", "w", encoding="utf-8") as handle:
        json.dump(truth, handle, indent=1)
    return out


def build(
    customers: int,
    seed: int,
    end_date: dt.date,
    start_date: dt.date,
    say: Callable[[str], None] = lambda _t: None,
) -> tuple[dict[str, pa.Table], dict]:
    """Simulate the company in memory: ``({table name: pyarrow.Table}, truth dict)``; see :func:`generate`."""
    # One stream per part of the company. spawn(n) children do not depend on n, so adding a stream at the end
    # leaves every earlier draw unchanged.
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(11)]
    calendar = _Calendar(start_date, end_date)
    say("reps and products")
    org = _simulate_org(streams[0], calendar)
    products = _products(streams[1])
    say("customers")
    people = _simulate_customers(streams[2], calendar, customers, org)
    say("purchase occasions")
    occasions = _simulate_occasions(streams[3], calendar, people)
    say("order lines")
    lines = _order_lines(streams[4], calendar, people, occasions, org, products, streams[10])
    say("opportunities")
    deals = _simulate_opportunities(streams[5], calendar, people, org)
    say("activities")
    activities = _activities(streams[6], calendar, deals, org)
    say("tickets and feedback")
    tickets = _tickets(streams[7], calendar, people, occasions)
    feedback = _feedback(streams[8], calendar, people, occasions, tickets, org)
    say("targets")
    targets = _targets(calendar, org, people, occasions)

    customer_ids = _ids("C", np.arange(people.n), _width(people.n))
    tables = {
        "orders": _orders_table(lines, customer_ids, org, products),
        "customers": _customers_table(people, customer_ids, org, streams[9], calendar),
        "products": _products_table(products),
        "reps": _reps_table(org),
        "targets": _table("targets", targets),
        "opportunities": _opportunities_table(deals, customer_ids, org, products),
        "opportunity_history": _table(
            "opportunity_history",
            {
                "opportunity_id": _ids("OP", deals.history_opp, _width(deals.n)),
                "stage": _labels(deals.stage_names, deals.history_stage),
                "entered_at": _dates(deals.history_day),
            },
        ),
        "activities": _activities_table(activities, customer_ids, org, deals),
        "training": _table(
            "training",
            {
                "rep_id": _labels(org.rep_ids, org.trained_reps),
                "program": _labels([TRAINING_PROGRAM], np.zeros(len(org.trained_reps), dtype=np.int64)),
                "completed_at": _dates(org.completed_day[org.trained_reps]),
            },
        ),
        "feedback": _feedback_table(feedback, customer_ids, org),
        "tickets": _tickets_table(tickets, customer_ids),
    }
    truth = _truth(seed, calendar, people, customer_ids, org, products, tickets.agent_effect)
    return tables, truth


# ------------------------------------------------------------------------------------------------------------
# Arguments, calendar
# ------------------------------------------------------------------------------------------------------------


def _check_arguments(customers, seed, end, years, fmt) -> tuple[dt.date, dt.date]:
    if isinstance(customers, bool) or not isinstance(customers, (int, np.integer)) or customers < 10:
        raise UserError(f"demo: customers must be a whole number of at least 10, got {customers!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UserError(f"demo: seed must be a non-negative whole number, got {seed!r}")
    if isinstance(years, bool) or not isinstance(years, (int, np.integer)) or not 1 <= years <= 30:
        raise UserError(f"demo: years must be a whole number from 1 to 30, got {years!r}")
    if fmt not in ("parquet", "csv"):
        raise UserError(f"demo: fmt must be 'parquet' or 'csv', got {fmt!r}")
    if isinstance(end, dt.datetime):
        end_date = end.date()
    elif isinstance(end, dt.date):
        end_date = end
    else:
        try:
            end_date = dt.date.fromisoformat(str(end))
        except ValueError:
            raise UserError(f"demo: end must be an ISO date like '2026-10-31', got {end!r}") from None
    try:
        start_date = end_date.replace(year=end_date.year - int(years)) + dt.timedelta(days=1)
    except ValueError:  # 29 February
        start_date = end_date.replace(year=end_date.year - int(years), day=28) + dt.timedelta(days=1)
    if start_date.year < 1971:
        raise UserError(
            f"demo: end {end_date} minus {years} years is before 1971", hint="choose a later end date"
        )
    return end_date, start_date


class _Calendar:
    """Days are integers since 1970-01-01; the window is ``start..end`` inclusive."""

    def __init__(self, start: dt.date, end: dt.date):
        self.start_date, self.end_date = start, end
        self.start = (start - EPOCH).days
        self.end = (end - EPOCH).days
        self.days = np.arange(self.start, self.end + 1)
        self.seasonality = _seasonality()

    def month(self, days: np.ndarray) -> np.ndarray:
        """Calendar month 1..12 of each day."""
        return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1

    def month_index(self, days: np.ndarray) -> np.ndarray:
        """Months since 1970-01 of each day."""
        return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)

    def season(self, days: np.ndarray) -> np.ndarray:
        """Seasonality factor of each day's month."""
        factors = np.array([self.seasonality[m] for m in range(1, 13)])
        return factors[self.month(days) - 1]

    def draw_days(self, rng: np.random.Generator, n: int, growth: float, seasonal: bool) -> np.ndarray:
        """Draw ``n`` days in the window with density proportional to trend x seasonality."""
        years_in = (self.days - self.start) / 365.25
        weight = (1.0 + growth) ** years_in
        if seasonal:
            weight = weight * self.season(self.days)
        cumulative = np.cumsum(weight)
        picks = np.searchsorted(cumulative, rng.random(n) * cumulative[-1], side="right")
        return self.days[np.minimum(picks, len(self.days) - 1)]


def _seasonality() -> dict[int, float]:
    mean = sum(SEASONALITY_RAW.values()) / 12
    return {m: round(f / mean, 4) for m, f in SEASONALITY_RAW.items()}


# ------------------------------------------------------------------------------------------------------------
# Organisation: reps, managers, territories, churn, skill, training
# ------------------------------------------------------------------------------------------------------------


@dataclass
class _Org:
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


def _simulate_org(rng: np.random.Generator, cal: _Calendar) -> _Org:
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
    return _Org(
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


# ------------------------------------------------------------------------------------------------------------
# Products
# ------------------------------------------------------------------------------------------------------------


@dataclass
class _Products:
    ids: list[str]
    names: list[str]
    category: np.ndarray  # category index
    list_price: np.ndarray
    popularity: np.ndarray  # within-category choice probability


PRODUCT_LEVELS = ("Basic", "Standard", "Pro", "Plus", "Max", "Ultra")


def _product_index(category: str, level: str) -> int:
    return CATEGORIES.index(category) * PRODUCTS_PER_CATEGORY + PRODUCT_LEVELS.index(level)


def _bundle_pairs() -> np.ndarray:
    """(trigger, complement) product indices of PRODUCT_BUNDLES, one row per pair."""
    return np.array([[_product_index(*t), _product_index(*c)] for t, c in PRODUCT_BUNDLES], dtype=np.int64)


def _products(rng: np.random.Generator) -> _Products:
    adjectives = PRODUCT_LEVELS
    ids, names, category, price, popularity = [], [], [], [], []
    zipf = 1.0 / np.arange(1, PRODUCTS_PER_CATEGORY + 1)
    zipf = zipf / zipf.sum()
    for c, cat in enumerate(CATEGORIES):
        base = CATEGORY_PRICE[cat]
        for k in range(PRODUCTS_PER_CATEGORY):
            ids.append(f"P{len(ids) + 1:03d}")
            names.append(f"{cat} {adjectives[k]}")
            category.append(c)
            price.append(round(float(base * (0.6 + 0.35 * k) * np.exp(rng.normal(0, 0.1))), 2))
            popularity.append(zipf[k])
    return _Products(ids, names, np.array(category), np.array(price), np.array(popularity))


# ------------------------------------------------------------------------------------------------------------
# Customers
# ------------------------------------------------------------------------------------------------------------


@dataclass
class _People:
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


def _simulate_customers(rng: np.random.Generator, cal: _Calendar, n: int, org: _Org) -> _People:
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

    region = _choose(rng, np.array(REGION_SHARE), n)
    slot_in_region = rng.integers(0, SLOTS_PER_REGION, n)
    slot = region * SLOTS_PER_REGION + slot_in_region
    channel = np.empty(n, dtype=np.int64)
    size = np.empty(n, dtype=np.int64)
    rate = np.full(n, np.nan)
    dropout = np.full(n, np.nan)
    nu = np.full(n, np.nan)
    prospects = group < 0
    channel[prospects] = _choose(rng, np.array([0.3, 0.5, 0.2]), int(prospects.sum()))
    size[prospects] = _choose(rng, np.array([0.3, 0.35, 0.25, 0.1]), int(prospects.sum()))
    for g, spec in enumerate(GROUPS):
        members = group == g
        m = int(members.sum())
        channel[members] = _choose(rng, np.array([spec.channel_mix[c] for c in CHANNELS]), m)
        size[members] = _choose(rng, np.array([spec.size_mix[s] for s in SIZES]), m)
        bg, gg = spec.bgnbd, spec.gamma_gamma
        rate[members] = rng.gamma(bg["r"], 1.0 / bg["alpha"], m)
        dropout[members] = np.clip(rng.beta(bg["a"], bg["b"], m), 1e-12, 1.0)
        nu[members] = rng.gamma(gg["q"], 1.0 / gg["gamma"], m)
    industry = rng.integers(0, len(INDUSTRIES), n)
    return _People(n, group, created, region, slot, channel, size, industry, rate, dropout, nu)


# ------------------------------------------------------------------------------------------------------------
# Purchase occasions: exact BG/NBD counts and times, Gamma-Gamma values
# ------------------------------------------------------------------------------------------------------------


@dataclass
class _Occasions:
    customer: np.ndarray  # sorted by (day, customer)
    day: np.ndarray
    value: np.ndarray  # occasion value (sum of its completed lines before rounding)
    channel: np.ndarray


def _simulate_occasions(rng: np.random.Generator, cal: _Calendar, people: _People) -> _Occasions:
    buyers = np.flatnonzero(people.group >= 0)
    lam, p = people.rate[buyers], people.dropout[buyers]
    acquired = people.created[buyers]
    horizon = (cal.end - acquired) / DAYS_PER_WEEK  # T in weeks: the whole day of `end` is not observed
    # BG/NBD: repeat purchases are a Poisson(lambda) process; after each repeat the customer dies with prob.
    # p. K = Poisson events in (0, T]; N = repeat after which the customer dies (Geometric(p) on 1, 2, ...).
    potential = rng.poisson(lam * horizon)
    death_after = rng.geometric(p)
    repeats = np.minimum(potential, death_after)
    # Times of the first `repeats` of K uniform order statistics on (0, T): U_(j) = S_j / S_(K+1), with S the
    # cumulative sums of K+1 standard exponentials; S_(K+1) = S_x + Gamma(K + 1 - x).
    owner = np.repeat(np.arange(len(buyers)), repeats)
    cumulative = _segment_cumsum(rng.exponential(1.0, len(owner)), repeats)
    last = np.zeros(len(buyers))
    has = repeats > 0
    ends = np.cumsum(repeats) - 1
    last[has] = cumulative[ends[has]]
    total = last + rng.gamma(potential - repeats + 1.0)
    weeks = horizon[owner] * cumulative / total[owner]
    repeat_day = acquired[owner] + np.floor(weeks * DAYS_PER_WEEK).astype(np.int64)

    # First purchase at acquisition, then the repeats (already in time order per customer).
    counts = repeats + 1
    starts = np.cumsum(counts) - counts
    customer = np.repeat(buyers, counts)
    day = np.empty(len(customer), dtype=np.int64)
    is_first = np.zeros(len(customer), dtype=bool)
    is_first[starts] = True
    day[is_first] = acquired
    day[~is_first] = repeat_day
    # Gamma-Gamma value of each purchase, times the month's seasonality factor.
    spend_shape = np.array([g.gamma_gamma["p"] for g in GROUPS])[people.group[customer]]
    value = rng.gamma(spend_shape, 1.0 / people.nu[customer]) * cal.season(day)
    # One occasion per customer and day: merge purchases that fall on the same day.
    new = np.ones(len(day), dtype=bool)
    new[1:] = (customer[1:] != customer[:-1]) | (day[1:] != day[:-1])
    key = np.cumsum(new) - 1
    value = np.bincount(key, weights=value)
    customer, day = customer[new], day[new]
    # Channel of each occasion from the group's channel mix.
    channel = np.empty(len(day), dtype=np.int64)
    group = people.group[customer]
    for g, spec in enumerate(GROUPS):
        members = group == g
        channel[members] = _choose(rng, np.array([spec.channel_mix[c] for c in CHANNELS]), int(members.sum()))
    order = np.lexsort((customer, day))
    return _Occasions(customer[order], day[order], value[order], channel[order])


def _segment_cumsum(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Cumulative sums restarting at each segment of ``lengths`` consecutive values."""
    running = np.cumsum(values)
    starts = np.cumsum(lengths) - lengths
    offsets = np.zeros(len(lengths))
    nonempty = (lengths > 0) & (starts > 0)
    offsets[nonempty] = running[starts[nonempty] - 1]
    return running - np.repeat(offsets, lengths)


# ------------------------------------------------------------------------------------------------------------
# Order lines and returns
# ------------------------------------------------------------------------------------------------------------


@dataclass
class _Lines:
    order: np.ndarray  # occasion index = order number - 1
    customer: np.ndarray
    day: np.ndarray
    amount: np.ndarray
    quantity: np.ndarray
    unit_price: np.ndarray
    product: np.ndarray
    rep: np.ndarray
    channel: np.ndarray
    returned: np.ndarray  # bool: status 'returned'
    n_orders: int


def _order_lines(
    rng,
    cal: _Calendar,
    people: _People,
    occ: _Occasions,
    org: _Org,
    products: _Products,
    bundle_rng: np.random.Generator,
) -> _Lines:
    n_occ = len(occ.day)
    group = people.group[occ.customer]
    extra = np.array([g.extra_lines_mean for g in GROUPS])[group]
    k = 1 + np.minimum(rng.poisson(extra), MAX_LINES - 1)
    order = np.repeat(np.arange(n_occ), k)
    line_group = group[order]
    # Category from the group's category mix, product by within-category popularity.
    category = np.empty(len(order), dtype=np.int64)
    for g, spec in enumerate(GROUPS):
        members = line_group == g
        category[members] = _choose(
            rng, np.array([spec.category_mix[c] for c in CATEGORIES]), int(members.sum())
        )
    within = _choose(rng, products.popularity[:PRODUCTS_PER_CATEGORY], len(order))
    product = category * PRODUCTS_PER_CATEGORY + within
    product = _plant_bundles(bundle_rng, occ.customer, order, product, len(products.ids))
    # Split the occasion value: Dirichlet(1, ..., 1) shares.
    weight = rng.exponential(1.0, len(order))
    share = weight / np.bincount(order, weights=weight, minlength=n_occ)[order]
    raw = occ.value[order] * share
    price = products.list_price[product]
    quantity = np.maximum(1.0, np.ceil(raw / price))
    unit_price = np.maximum(0.01, np.round(raw / quantity, 2))
    amount = np.round(quantity * unit_price, 2)
    rep = org.holder(people.slot[occ.customer], occ.day)[order]
    day = occ.day[order]
    customer = occ.customer[order]
    channel = occ.channel[order]

    # Returns: ~2 % of orders get one negative line on a later day (part or all of one of their lines).
    chosen = np.flatnonzero(rng.random(n_occ) < RETURN_SHARE)
    starts = np.cumsum(k) - k
    line = starts[chosen] + np.floor(rng.random(len(chosen)) * k[chosen]).astype(np.int64)
    back_day = day[line] + rng.integers(1, RETURN_MAX_DELAY_DAYS + 1, len(line))
    keep = back_day <= cal.end
    line, back_day = line[keep], back_day[keep]
    back_qty = np.ceil(rng.random(len(line)) * quantity[line])
    lines = _Lines(
        order=np.concatenate([order, order[line]]),
        customer=np.concatenate([customer, customer[line]]),
        day=np.concatenate([day, back_day]),
        amount=np.concatenate([amount, -np.round(back_qty * unit_price[line], 2)]),
        quantity=np.concatenate([quantity, -back_qty]),
        unit_price=np.concatenate([unit_price, unit_price[line]]),
        product=np.concatenate([product, product[line]]),
        rep=np.concatenate([rep, rep[line]]),
        channel=np.concatenate([channel, channel[line]]),
        returned=np.concatenate([np.zeros(len(order), dtype=bool), np.ones(len(line), dtype=bool)]),
        n_orders=n_occ,
    )
    sort = np.argsort(lines.day, kind="stable")
    for name in (
        "order",
        "customer",
        "day",
        "amount",
        "quantity",
        "unit_price",
        "product",
        "rep",
        "channel",
        "returned",
    ):
        setattr(lines, name, getattr(lines, name)[sort])
    return lines


def _plant_bundles(
    rng: np.random.Generator,
    occasion_customer: np.ndarray,
    order: np.ndarray,
    product: np.ndarray,
    n_products: int,
) -> np.ndarray:
    """Products of the lines after planting PRODUCT_BUNDLES (see there); ``order`` (the occasion of each line)
    is non-decreasing and occasions are in time order, so the first line with a product is its first purchase."""
    pairs = _bundle_pairs()
    bundle_of = np.full(n_products, -1)
    bundle_of[pairs[:, 0]] = np.arange(len(pairs))
    in_pair = np.zeros(n_products, dtype=bool)
    in_pair[pairs.ravel()] = True
    # First occasion of each (customer, trigger).
    trigger_lines = np.flatnonzero(bundle_of[product] >= 0)
    key = occasion_customer[order[trigger_lines]] * len(pairs) + bundle_of[product[trigger_lines]]
    first_key, first_line = np.unique(key, return_index=True)
    first_occasion = order[trigger_lines[first_line]]
    complement = pairs[first_key % len(pairs), 1]
    # The same customer's next occasion.
    n_occ = len(occasion_customer)
    by_customer = np.lexsort((np.arange(n_occ), occasion_customer))
    following = np.full(n_occ, -1)
    same = occasion_customer[by_customer[1:]] == occasion_customer[by_customer[:-1]]
    following[by_customer[:-1][same]] = by_customer[1:][same]
    target = following[first_occasion]
    follows = (rng.random(len(target)) < BUNDLE_FOLLOW_PROBABILITY) & (target >= 0)
    target, complement = target[follows], complement[follows]
    # Nothing to do where the next order already holds the complement.
    held = np.isin(target * n_products + complement, order * n_products + product)
    target, complement = target[~held], complement[~held]
    # The r-th complement planted in an occasion replaces its r-th line whose product is in no pair.
    events = np.lexsort((complement, target))
    target, complement = target[events], complement[events]
    event_rank = np.arange(len(target)) - np.searchsorted(target, target, side="left")
    free = np.flatnonzero(~in_pair[product])
    free_rank = np.arange(len(free)) - np.searchsorted(order[free], order[free], side="left")
    slot_key = order[free] * MAX_LINES + free_rank
    wanted = target * MAX_LINES + event_rank
    where = np.minimum(np.searchsorted(slot_key, wanted), len(slot_key) - 1)
    found = slot_key[where] == wanted
    product = product.copy()
    product[free[where[found]]] = complement[found]
    return product


# ------------------------------------------------------------------------------------------------------------
# Opportunities, stage history, activities
# ------------------------------------------------------------------------------------------------------------


@dataclass
class _Deals:
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


def _simulate_opportunities(rng: np.random.Generator, cal: _Calendar, people: _People, org: _Org) -> _Deals:
    buyers = np.flatnonzero(people.group >= 0)
    prospects = np.flatnonzero(people.group < 0)
    # Expansion deals on existing buyers (weighted by group), created between acquisition and end.
    weight = np.array([g.opportunity_weight for g in GROUPS])[people.group[buyers]]
    n_expansion = round(OPPORTUNITIES_PER_BUYER * len(buyers))
    expansion_customer = buyers[_choose(rng, weight / weight.sum(), n_expansion)]
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
    source = _choose(rng, np.array(SOURCE_SHARE), n)
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
    lost_at = _choose(rng, np.array(LOST_AT_STAGE_SHARE), n)
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
    return _Deals(
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
class _Activities:
    deal: np.ndarray
    rep: np.ndarray
    customer: np.ndarray
    kind: np.ndarray
    day: np.ndarray


def _activities(rng: np.random.Generator, cal: _Calendar, deals: _Deals, org: _Org) -> _Activities:
    last = np.where(deals.closed >= 0, deals.closed, cal.end)
    weeks = (last - deals.created + 1) / DAYS_PER_WEEK
    count = rng.poisson(org.activity_rate[deals.rep] * weeks)
    deal = np.repeat(np.arange(deals.n), count)
    span = (last - deals.created + 1)[deal]
    day = deals.created[deal] + np.floor(rng.random(len(deal)) * span).astype(np.int64)
    kind = _choose(rng, np.array(ACTIVITY_TYPE_SHARE), len(deal))
    order = np.argsort(day, kind="stable")
    deal, day, kind = deal[order], day[order], kind[order]
    return _Activities(deal, deals.rep[deal], deals.customer[deal], kind, day)


# ------------------------------------------------------------------------------------------------------------
# Tickets and feedback
# ------------------------------------------------------------------------------------------------------------


@dataclass
class _Tickets:
    customer: np.ndarray
    opened: np.ndarray
    first_response: np.ndarray  # -1 when not yet answered at end
    resolved: np.ndarray  # -1 when unresolved at end
    category: np.ndarray
    priority: np.ndarray
    satisfaction: np.ndarray  # nan when not rated
    agent: np.ndarray
    agent_effect: np.ndarray


def _tickets(rng: np.random.Generator, cal: _Calendar, people: _People, occ: _Occasions) -> _Tickets:
    group = people.group[occ.customer]
    rate = np.array([g.ticket_rate for g in GROUPS])[group]
    chosen = np.flatnonzero(rng.random(len(occ.day)) < rate)
    opened = occ.day[chosen] + rng.integers(0, 31, len(chosen))
    keep = opened <= cal.end
    chosen, opened = chosen[keep], opened[keep]
    n = len(chosen)
    customer = occ.customer[chosen]
    priority = _choose(rng, np.array(PRIORITY_SHARE), n)
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
    return _Tickets(
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
class _Feedback:
    customer: np.ndarray
    day: np.ndarray
    score: np.ndarray
    is_nps: np.ndarray
    comment: np.ndarray  # index into the flat comment list, -1 none
    rep: np.ndarray


def _feedback(
    rng, cal: _Calendar, people: _People, occ: _Occasions, tickets: _Tickets, org: _Org
) -> _Feedback:
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
    return _Feedback(customer[order], day[order], score[order], is_nps[order], comment[order], rep[order])


# ------------------------------------------------------------------------------------------------------------
# Targets
# ------------------------------------------------------------------------------------------------------------


def _targets(cal: _Calendar, org: _Org, people: _People, occ: _Occasions) -> dict:
    """Monthly quota per selling rep: stretch x smoothed company revenue per territory x territory weight."""
    months = np.arange(cal.month_index(np.array([cal.start]))[0], cal.month_index(np.array([cal.end]))[0] + 1)
    revenue = np.bincount(cal.month_index(occ.day) - months[0], weights=occ.value, minlength=len(months))
    kernel = np.ones(3) / 3
    smooth = np.convolve(np.pad(revenue, 1, mode="edge"), kernel, mode="valid")
    n_slots = len(org.slot_breaks)
    slot_weight = np.bincount(people.slot[people.group >= 0], minlength=n_slots) / max(
        1, (people.group >= 0).sum()
    )
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


# ------------------------------------------------------------------------------------------------------------
# Arrow tables
# ------------------------------------------------------------------------------------------------------------

_ARROW_TYPES = {"VARCHAR": pa.string(), "DATE": pa.date32(), "DOUBLE": pa.float64()}


def _table(name: str, columns: dict) -> pa.Table:
    """Arrow table with exactly the canonical columns of ``name`` in schema order and types."""
    spec = TABLES[name]
    missing = set(spec.names) - set(columns)
    extra = set(columns) - set(spec.names)
    assert not missing and not extra, (name, missing, extra)
    arrays = [
        pa.array(columns[c.name]).cast(_ARROW_TYPES[c.type])
        if not isinstance(columns[c.name], pa.Array)
        else columns[c.name].cast(_ARROW_TYPES[c.type])
        for c in spec.columns
    ]
    return pa.Table.from_arrays(arrays, names=spec.names)


def _width(n: int) -> int:
    return max(4, len(str(max(1, n))))


def _ids(prefix: str, index: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + 1-based zero-padded numbers; negative index -> null."""
    index = np.asarray(index, dtype=np.int64)
    mask = index < 0
    numbers = pa.array(index + 1, mask=mask if mask.any() else None)
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(pc.cast(numbers, pa.string()), width, "0"), "")


def _labels(values, index: np.ndarray) -> pa.Array:
    """Strings from ``values`` by position; negative index -> null."""
    index = np.asarray(index, dtype=np.int64)
    mask = index < 0
    return pa.array(list(values), pa.string()).take(
        pa.array(np.maximum(index, 0), mask=mask if mask.any() else None)
    )


def _dates(days: np.ndarray) -> pa.Array:
    days = np.asarray(days, dtype=np.int64)
    mask = days < 0
    return pa.array(days.astype(np.int32), pa.int32(), mask=mask if mask.any() else None).cast(pa.date32())


def _orders_table(lines: _Lines, customer_ids: pa.Array, org: _Org, products: _Products) -> pa.Table:
    return _table(
        "orders",
        {
            "order_id": _ids("O", lines.order, _width(lines.n_orders)),
            "customer_id": customer_ids.take(pa.array(lines.customer)),
            "order_date": _dates(lines.day),
            "amount": lines.amount,
            "quantity": lines.quantity,
            "unit_price": lines.unit_price,
            "product_id": _labels(products.ids, lines.product),
            "category": _labels(CATEGORIES, products.category[lines.product]),
            "rep_id": _labels(org.rep_ids, lines.rep),
            "channel": _labels(CHANNELS, lines.channel),
            "currency": _labels([CURRENCY], np.zeros(len(lines.day), dtype=np.int64)),
            "status": _labels(["completed", "returned"], lines.returned.astype(np.int64)),
        },
    )


def _customers_table(
    people: _People, customer_ids: pa.Array, org: _Org, rng: np.random.Generator, cal: _Calendar
) -> pa.Table:
    prefix = (
        "Alpine",
        "Blue",
        "Cedar",
        "Delta",
        "Echo",
        "Falcon",
        "Granite",
        "Harbor",
        "Iron",
        "Juniper",
        "Keystone",
        "Lumen",
        "Maple",
        "Nordic",
        "Orion",
        "Pioneer",
        "Quartz",
        "River",
        "Summit",
        "Tandem",
        "Union",
        "Vertex",
        "Willow",
        "Zenith",
    )
    noun = (
        "Systems",
        "Foods",
        "Logistics",
        "Health",
        "Works",
        "Partners",
        "Labs",
        "Supply",
        "Motors",
        "Energy",
        "Media",
        "Retail",
        "Finance",
        "Builders",
        "Textiles",
        "Tools",
    )
    suffix = ("Ltd", "GmbH", "Inc", "SA", "BV", "AB", "Oy", "plc")
    name = pc.binary_join_element_wise(
        _labels(prefix, rng.integers(0, len(prefix), people.n)),
        _labels(noun, rng.integers(0, len(noun), people.n)),
        _labels(suffix, rng.integers(0, len(suffix), people.n)),
        " ",
    )
    owner = org.holder(people.slot, np.full(people.n, cal.end))  # current owner (the manager while vacant)
    return _table(
        "customers",
        {
            "customer_id": customer_ids,
            "name": name,
            "created_at": _dates(people.created),
            "region": _labels(REGIONS, people.region),
            "industry": _labels(INDUSTRIES, people.industry),
            "size": _labels(SIZES, people.size),
            "channel": _labels(CHANNELS, people.channel),
            "owner_rep_id": _labels(org.rep_ids, owner),
        },
    )


def _products_table(products: _Products) -> pa.Table:
    return _table(
        "products",
        {
            "product_id": pa.array(products.ids, pa.string()),
            "name": pa.array(products.names, pa.string()),
            "category": _labels(CATEGORIES, products.category),
            "list_price": products.list_price,
        },
    )


def _reps_table(org: _Org) -> pa.Table:
    return _table(
        "reps",
        {
            "rep_id": pa.array(org.rep_ids, pa.string()),
            "name": pa.array(org.names, pa.string()),
            "team": _labels([f"Team {r}" for r in REGIONS], org.team),
            "region": _labels(REGIONS, org.team),
            "manager_id": _labels(org.rep_ids, org.manager),
            "hire_date": _dates(org.hire_day),
            "end_date": _dates(org.end_day),
        },
    )


def _opportunities_table(deals: _Deals, customer_ids: pa.Array, org: _Org, products: _Products) -> pa.Table:
    probability = np.array([STAGE_PROBABILITY[s] for s in deals.stage_names])[deals.stage]
    return _table(
        "opportunities",
        {
            "opportunity_id": _ids("OP", np.arange(deals.n), _width(deals.n)),
            "rep_id": _labels(org.rep_ids, deals.rep),
            "customer_id": customer_ids.take(pa.array(deals.customer)),
            "created_at": _dates(deals.created),
            "expected_close_date": _dates(deals.expected_close),
            "closed_at": _dates(deals.closed),
            "stage": _labels(deals.stage_names, deals.stage),
            "pipeline": _labels(["Expansion", "New Business"], deals.pipeline),
            "status": _labels(["open", "won", "lost"], deals.status),
            "amount": deals.amount,
            "currency": _labels([CURRENCY], np.zeros(deals.n, dtype=np.int64)),
            "probability": probability,
            "product_id": _labels(products.ids, deals.product),
            "source": _labels(SOURCES, deals.source),
            "lost_reason": _labels(LOST_REASONS, deals.lost_reason),
        },
    )


def _activities_table(acts: _Activities, customer_ids: pa.Array, org: _Org, deals: _Deals) -> pa.Table:
    return _table(
        "activities",
        {
            "activity_id": _ids("A", np.arange(len(acts.day)), _width(len(acts.day))),
            "rep_id": _labels(org.rep_ids, acts.rep),
            "customer_id": customer_ids.take(pa.array(acts.customer)),
            "opportunity_id": _ids("OP", acts.deal, _width(deals.n)),
            "type": _labels(ACTIVITY_TYPES, acts.kind),
            "at": _dates(acts.day),
        },
    )


def _tickets_table(t: _Tickets, customer_ids: pa.Array) -> pa.Table:
    return _table(
        "tickets",
        {
            "ticket_id": _ids("T", np.arange(len(t.opened)), _width(len(t.opened))),
            "customer_id": customer_ids.take(pa.array(t.customer)),
            "opened_at": _dates(t.opened),
            "resolved_at": _dates(t.resolved),
            "first_response_at": _dates(t.first_response),
            "category": _labels(TICKET_CATEGORIES, t.category),
            "priority": _labels(PRIORITIES, t.priority),
            "satisfaction": pa.array(t.satisfaction, pa.float64(), from_pandas=True),
            "agent_id": _labels([f"S{i + 1:02d}" for i in range(N_AGENTS)], t.agent),
        },
    )


def _feedback_table(f: _Feedback, customer_ids: pa.Array, org: _Org) -> pa.Table:
    comments = COMMENTS["low"] + COMMENTS["mid"] + COMMENTS["high"]
    return _table(
        "feedback",
        {
            "response_id": _ids("F", np.arange(len(f.day)), _width(len(f.day))),
            "customer_id": customer_ids.take(pa.array(f.customer)),
            "responded_at": _dates(f.day),
            "score": f.score,
            "kind": _labels(["csat", "nps"], f.is_nps.astype(np.int64)),
            "comment": _labels(comments, f.comment),
            "rep_id": _labels(org.rep_ids, f.rep),
        },
    )


# ------------------------------------------------------------------------------------------------------------
# Truth, catalog, writing
# ------------------------------------------------------------------------------------------------------------


def _truth(
    seed: int,
    cal: _Calendar,
    people: _People,
    customer_ids: pa.Array,
    org: _Org,
    products: _Products,
    agent_effect: np.ndarray,
) -> dict:
    buyers = np.flatnonzero(people.group >= 0)
    names = [g.name for g in GROUPS]
    ids = customer_ids.to_numpy(zero_copy_only=False)
    return {
        "seed": int(seed),
        "start": cal.start_date.isoformat(),
        "end": cal.end_date.isoformat(),
        "customers": int(people.n),
        "buyers": len(buyers),
        "prospects": int(people.n - len(buyers)),
        "time_unit": "week",
        "groups": {
            g.name: {
                "share": g.share,
                "bgnbd": dict(g.bgnbd),
                "gamma_gamma": dict(g.gamma_gamma),
                "channel_mix": dict(g.channel_mix),
                "category_mix": dict(g.category_mix),
                "size_mix": dict(g.size_mix),
                "lines_per_order": {"one_plus_poisson_mean": g.extra_lines_mean, "max": MAX_LINES},
                "ticket_rate_per_occasion": g.ticket_rate,
                "survey_rate_per_occasion": g.survey_rate,
                "nps_base": g.nps_base,
                "csat_base": g.csat_base,
                "expansion_opportunity_weight": g.opportunity_weight,
                "opportunity_median_amount": g.opportunity_amount,
            }
            for g in GROUPS
        },
        "customer_segment": dict(
            zip(ids[buyers].tolist(), [names[g] for g in people.group[buyers]], strict=True)
        ),
        "prospect_ids_note": "customers absent from customer_segment are prospects: no orders, one open deal",
        "seasonality": {str(m): f for m, f in cal.seasonality.items()},
        "seasonality_applies_to": [
            "occasion value (multiplier on the Gamma-Gamma draw)",
            "acquisition volume (new buyers per day)",
        ],
        "trend": {
            "acquisition_growth_per_year": ACQUISITION_GROWTH_PER_YEAR,
            "form": "new-buyer density proportional to (1 + growth) ** years_since_start x seasonality",
        },
        "returns": {
            "share_of_orders": RETURN_SHARE,
            "delay_days": [1, RETURN_MAX_DELAY_DAYS],
            "form": "one negative line, same order_id, status 'returned', part or all of one line",
        },
        "regions": {r: s for r, s in zip(REGIONS, REGION_SHARE, strict=True)},
        "rep_skill": {org.rep_ids[i]: float(org.skill[i]) for i in range(len(org.rep_ids))},
        "rep_activity_rate_per_open_deal_week": {
            org.rep_ids[i]: float(org.activity_rate[i]) for i in range(len(org.rep_ids))
        },
        "activity_type_mix": dict(zip(ACTIVITY_TYPES, ACTIVITY_TYPE_SHARE, strict=True)),
        "training_effect": TRAINING_EFFECT,
        "training": {
            "program": TRAINING_PROGRAM,
            "applies_to": "win log-odds of opportunities created on or after the owner's completed_at",
            "completed_at": {org.rep_ids[i]: _iso(org.completed_day[i]) for i in org.trained_reps},
        },
        "win_model": {
            "form": "logit P(won) = base + rep_skill + training_effect * trained_before_created"
            " + source_effect + log_amount_effect * log(amount / group median amount)",
            "base_log_odds": WIN_BASE_LOG_ODDS,
            "source_effect": dict(WIN_SOURCE_EFFECT),
            "log_amount_effect": WIN_LOG_AMOUNT_EFFECT,
            "stage_mean_days": dict(zip(STAGES, STAGE_MEAN_DAYS, strict=True)),
            "lost_at_stage_share": dict(zip(STAGES, LOST_AT_STAGE_SHARE, strict=True)),
            "crm_stage_probability": dict(STAGE_PROBABILITY),
            "opportunities_per_buyer": OPPORTUNITIES_PER_BUYER,
        },
        "satisfaction_drivers": {
            "tickets": {
                **TICKET_SATISFACTION,
                "form": "satisfaction = clip(round(intercept + first_response_days * c1 + resolution_days"
                " * c2 + priority[p] + agent_effect[agent] + N(0, noise_sd)), 1, 5); days are"
                " whole days from opened_at",
                "agent_effect": {f"S{i + 1:02d}": float(e) for i, e in enumerate(agent_effect)},
            },
            "feedback": {
                **FEEDBACK_DRIVERS,
                "base": {g.name: {"nps": g.nps_base, "csat": g.csat_base} for g in GROUPS},
                "tickets_window_days": FEEDBACK_TICKET_WINDOW_DAYS,
                "form": "score = clip(round(group base + tickets_90d * coef + noise_sd * z), scale);"
                " tickets_90d = tickets the customer opened in the 90 days up to the response",
            },
            "first_response_mean_days": dict(FIRST_RESPONSE_MEAN_DAYS),
            "resolution_mean_days": dict(RESOLUTION_MEAN_DAYS),
        },
        "quota_stretch": QUOTA_STRETCH,
        "product_bundles": {
            "pairs": [
                {
                    "trigger": products.ids[t],
                    "trigger_name": products.names[t],
                    "complement": products.ids[c],
                    "complement_name": products.names[c],
                }
                for t, c in _bundle_pairs()
            ],
            "follow_probability": BUNDLE_FOLLOW_PROBABILITY,
            "form": "the first time a customer buys `trigger`, one line of the customer's next order (a line"
            " whose product is in no pair) becomes `complement` with probability follow_probability, unless"
            " that order already holds it; the order's value, lines and dates are unchanged",
        },
        "products": {
            pid: {"category": CATEGORIES[c], "list_price": float(p)}
            for pid, c, p in zip(products.ids, products.category, products.list_price, strict=True)
        },
    }


def _iso(day: int) -> str:
    return (EPOCH + dt.timedelta(days=int(day))).isoformat()


def _catalog_text(seed: int, fmt: str) -> str:
    rows = "".join(f"  {name}: {name}.{fmt}\n" for name in TABLES)
    return f"# salesperf data catalog for the demo company (seed {seed})\ntables:\n{rows}"


def _write(table: pa.Table, path: Path, fmt: str) -> None:
    if fmt == "parquet":
        pq.write_table(table, path, compression="snappy")
    else:
        pacsv.write_csv(table, path)


def _choose(rng: np.random.Generator, probabilities: np.ndarray, n: int) -> np.ndarray:
    """``n`` draws of category indices with the given probabilities (vectorised inverse CDF)."""
    cumulative = np.cumsum(probabilities / probabilities.sum())
    return np.minimum(np.searchsorted(cumulative, rng.random(n), side="right"), len(cumulative) - 1)

"""The planted company's parameters: every constant here is written to truth.json.

Plants: regions and territories, the product catalogue and its bundles, the behavioural groups (BG/NBD
purchase process, Gamma-Gamma spend, channel / category / size mixes, ticket and survey rates, satisfaction
bases), seasonality and acquisition trend, returns, the sales pipeline and its win model, the training effect,
support and satisfaction drivers, and the quota stretch. A new planted effect starts here as a named constant,
is used by the module that simulates it and is recorded in :mod:`salesperf.data.demo.truth`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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
# product on the line changes). Products are "<category> <Basic|Standard|Pro|Plus|Max|Ultra>"; every product
# is in at most one pair, and complements are not among the most popular products.
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
CURRENCY = "CNY"  # the reports of the demo company read in 元 / 万元

PRODUCT_LEVELS = ("Basic", "Standard", "Pro", "Plus", "Max", "Ultra")

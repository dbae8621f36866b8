"""truth.json: every planted quantity, so reports can be checked against what was put in.

Plants nothing itself: records the constants of :mod:`salesperf.data.demo.config` and the drawn per-customer,
per-rep and per-agent truths (segment, skill, activity rate, training date, agent effect). A module that
plants a new effect adds it here under its own key.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from salesperf.data.demo.config import (
    ACQUISITION_GROWTH_PER_YEAR,
    ACTIVITY_TYPE_SHARE,
    ACTIVITY_TYPES,
    BUNDLE_FOLLOW_PROBABILITY,
    CATEGORIES,
    EPOCH,
    FEEDBACK_DRIVERS,
    FEEDBACK_TICKET_WINDOW_DAYS,
    FIRST_RESPONSE_MEAN_DAYS,
    GROUPS,
    LOST_AT_STAGE_SHARE,
    MAX_LINES,
    OPPORTUNITIES_PER_BUYER,
    QUOTA_STRETCH,
    REGION_SHARE,
    REGIONS,
    RESOLUTION_MEAN_DAYS,
    RETURN_MAX_DELAY_DAYS,
    RETURN_SHARE,
    STAGE_MEAN_DAYS,
    STAGE_PROBABILITY,
    STAGES,
    TICKET_SATISFACTION,
    TRAINING_EFFECT,
    TRAINING_PROGRAM,
    WIN_BASE_LOG_ODDS,
    WIN_LOG_AMOUNT_EFFECT,
    WIN_SOURCE_EFFECT,
)
from salesperf.data.demo.customers import People
from salesperf.data.demo.purchases import Products, bundle_pairs
from salesperf.data.demo.targets import Org
from salesperf.data.demo.timeline import Calendar


def planted_truth(
    seed: int,
    cal: Calendar,
    people: People,
    customer_ids: pa.Array,
    org: Org,
    products: Products,
    agent_effect: np.ndarray,
) -> dict:
    """Every planted quantity as a JSON-ready dict (written to ``truth.json``).

    Returns
    -------
    dict
        Window and counts, the groups' parameters, ``customer_segment`` (buyer id -> group), seasonality and
        trend, returns, rep skill and activity rates, training, the win model, satisfaction drivers (with
        agent effects), quota stretch, product bundles and the product catalogue.
    """
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
                for t, c in bundle_pairs()
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

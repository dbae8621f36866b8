"""Words of the overview: KPI tiles, sentences and table specs in English and Chinese, computed from its
result.
"""

from __future__ import annotations

import math

import pandas as pd

from salesperf.core import fmt, narrative
from salesperf.core.present import TableSpec, Tile, table
from salesperf.core.vocab import CORE, Vocabulary

WORDS = Vocabulary(__package__, CORE)


def comparison_tiles(kpis: dict, lang: str, currency: str) -> list[Tile]:
    """Revenue, orders, buying customers and average order value, each with its change vs the previous period
    and vs the same period a year ago (``kpis``: current, previous, year_ago :class:`~.queries.Kpis`)."""
    tiles = []
    for key, attr, money in (
        ("revenue", "revenue", True),
        ("orders", "orders", False),
        ("buying_customers", "customers", False),
        ("aov", "aov", True),
    ):
        value = getattr(kpis["current"], attr)
        d_prev = fmt.relative_change(value, getattr(kpis["previous"], attr))
        d_year = fmt.relative_change(value, getattr(kpis["year_ago"], attr))
        tone = "neutral" if math.isnan(d_prev) or d_prev == 0 else ("good" if d_prev > 0 else "bad")
        tiles.append(
            Tile(
                WORDS(key, lang),
                fmt.money(value, lang, currency) if money else fmt.number(value),
                f"{WORDS('vs_previous', lang)} {fmt.signed_percent(d_prev)}",
                f"{WORDS('vs_year_ago', lang)} {fmt.signed_percent(d_year)}",
                tone,
            )
        )
    return tiles


def attainment_tile(total: pd.DataFrame | None, lang: str, currency: str) -> list[Tile]:
    """The attainment tile (empty list when no quota applies to the period)."""
    if total is None or total.empty or math.isnan(total["attainment"].iloc[0]):
        return []
    row = total.iloc[0]
    return [
        Tile(
            WORDS("attainment", lang),
            fmt.percent(row["attainment"]),
            f"{WORDS('target', lang)} {fmt.money(row['quota'], lang, currency)}",
            tone="good" if row["attainment"] >= 1 else "bad",
        )
    ]


def change_sentence(kpis: dict, attr: str, period, lang: str, currency: str) -> str:
    """A sentence such as:

    "Revenue was ¥1.23 M, down 8.2% vs September 2026 (−¥110.0 k) and up 3.0% vs October 2025 (+¥35.8 k)."
    """
    key = {"revenue": "revenue", "customers": "buying_customers", "aov": "aov"}[attr]
    versus = [
        (getattr(kpis["previous"], attr), period.previous.label_in(lang)),
        (getattr(kpis["year_ago"], attr), period.year_ago.label_in(lang)),
    ]
    return narrative.change_sentence(
        WORDS(key, lang),
        getattr(kpis["current"], attr),
        versus,
        lang,
        money=attr != "customers",
        currency=currency,
    )


def attainment_sentence(total: pd.DataFrame | None, lang: str, currency: str) -> str:
    """ "Reps with a quota sold ¥469.9 k against ¥465.5 k, 100.9% of target (+¥4.4 k)."."""
    if not attainment_tile(total, lang, currency):
        return ""
    row = total.iloc[0]
    return WORDS(
        "attainment_sentence",
        lang,
        revenue=fmt.money(row["revenue"], lang, currency),
        quota=fmt.money(row["quota"], lang, currency),
        attainment=fmt.percent(row["attainment"]),
        gap=fmt.signed_money(row["revenue"] - row["quota"], lang, currency),
    )


def attainment_spread_sentence(groups: pd.DataFrame | None, lang: str) -> str:
    """Name the teams furthest above and below target."""
    if groups is None:
        return ""
    groups = groups.dropna(subset=["attainment"])
    if len(groups) < 2:
        return ""
    best, worst = groups.loc[groups["attainment"].idxmax()], groups.loc[groups["attainment"].idxmin()]
    return WORDS(
        "attainment_spread",
        lang,
        best=best["group"],
        best_attainment=fmt.percent(best["attainment"]),
        worst=worst["group"],
        worst_attainment=fmt.percent(worst["attainment"]),
        below=int((groups["attainment"] < 1).sum()),
        groups=len(groups),
    )


def region_sentence(regions: pd.DataFrame, lang: str, currency: str) -> str:
    """Which region drove the change of revenue."""
    return narrative.driver_sentence(regions, WORDS("region", lang), lang, currency)


def concentration_sentence(frame: pd.DataFrame, what: str, lang: str) -> str:
    """How concentrated revenue is among the top customers or products (``what``: customer, product)."""
    return narrative.concentration_sentence(frame, WORDS(what, lang), lang)


def driver_sentence(frame: pd.DataFrame, what: str, lang: str, currency: str) -> str:
    """Which customer or product drove the change of revenue (``what``: customer, product, region)."""
    return narrative.driver_sentence(frame, WORDS(what, lang), lang, currency)


def trend_table(lang: str) -> TableSpec:
    return table(
        ("month", WORDS("month", lang), "month"),
        ("revenue", WORDS("revenue", lang), "money"),
        ("orders", WORDS("orders", lang), "int"),
        ("customers", WORDS("customers", lang), "int"),
        ("aov", WORDS("aov", lang), "money"),
    )


def dimension_table(what: str, lang: str) -> TableSpec:
    """Revenue by one dimension (``what``: customer, product, region): name, revenue, share, previous,
    change."""
    return table(
        ("name", WORDS(what, lang)),
        ("revenue", WORDS("revenue", lang), "money"),
        ("share", WORDS("share", lang), "pct"),
        ("previous", WORDS("previous", lang), "money"),
        ("change", WORDS("change", lang), "signed_pct"),
    )


def attainment_table(lang: str) -> TableSpec:
    return table(
        ("group", WORDS("team", lang)),
        ("quota", WORDS("quota", lang), "money"),
        ("revenue", WORDS("revenue", lang), "money"),
        ("attainment", WORDS("attainment", lang), "pct"),
    )


def methods(lang: str) -> str:
    return WORDS("overview_methods", lang)



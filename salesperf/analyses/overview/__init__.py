"""Sales overview: revenue, orders, customers and average order value of the period against the previous
period and last year, the monthly trend, revenue by region, customer and product, and attainment against
quota.

Parts: :mod:`.queries` (engine work), :mod:`.text` (words), ``vocab.yml``; this module holds the result type
and the :class:`Overview` analysis.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from salesperf.analyses.base import Analysis, Context, Needs, Result
from salesperf.analyses.overview import text
from salesperf.analyses.overview.queries import Kpis, attainment, by_dimension, comparison, monthly
from salesperf.core.present import Exhibit

__all__ = ["ANALYSIS", "Kpis", "OverviewResult", "attainment", "by_dimension", "comparison", "monthly"]


@dataclass
class OverviewResult:
    """What the overview report shows.

    Attributes
    ----------
    kpis : dict of Kpis
        ``current``, ``previous`` and ``year_ago`` figures.
    trend : DataFrame
        One row per month (``months`` of them, ending with the period's): month, revenue, orders, customers,
        aov.
    regions, customers, products : DataFrame
        Revenue by value of the dimension (see :func:`~.queries.by_dimension`); regions are the order line's
        where it has one, else the customer's (empty without orders.region and customers.region); products
        empty without orders.product_id; customers and products hold the top ``top_n``.
    attainment_total, attainment_by_team : DataFrame or None
        Revenue against quota for the whole company and by team (None without a targets table).
    """

    kpis: dict
    trend: pd.DataFrame
    regions: pd.DataFrame
    customers: pd.DataFrame
    products: pd.DataFrame
    attainment_total: pd.DataFrame | None
    attainment_by_team: pd.DataFrame | None


class Overview(Analysis):
    name = "overview"
    needs = Needs(
        optional={
            "orders.region / customers.region": ("top_regions", "top_regions"),
            "orders.product_id": ("top_products", "top_products"),
            "targets": ("attainment", "attainment"),
            "reps.team": ("attainment", "attainment_by_team"),
        }
    )
    parameters = {"top_n": 10, "months": 24}
    words = text.WORDS

    def compute(self, ds, ctx: Context, upstream) -> OverviewResult:
        period, top_n, engine = ds.period, self.param(ctx, "top_n"), ds.engine
        has_targets = ds.has("targets")
        return OverviewResult(
            kpis=comparison(engine, period),
            trend=monthly(engine, period.end, self.param(ctx, "months")),
            regions=by_dimension(engine, "region", period, top=None, has_customers=ds.has("customers")),
            customers=by_dimension(engine, "customer", period, top_n, has_customers=ds.has("customers")),
            products=by_dimension(engine, "product", period, top_n, has_products=ds.has("products"))
            if ds.has("orders", "product_id")
            else pd.DataFrame(columns=["key", "name", "revenue", "share"]),
            attainment_total=attainment(engine, period) if has_targets else None,
            attainment_by_team=attainment(engine, period, by="team")
            if has_targets and ds.has("reps", "team")
            else None,
        )

    def summarise(self, detail: OverviewResult, ds, ctx: Context) -> Result:
        lang, currency = ctx.lang, ctx.currency
        findings = [
            text.change_sentence(detail.kpis, "revenue", ds.period, lang, currency),
            text.attainment_sentence(detail.attainment_total, lang, currency),
            text.attainment_spread_sentence(detail.attainment_by_team, lang),
            text.region_sentence(detail.regions, lang, currency),
            text.concentration_sentence(detail.products, "product", lang),
        ]
        exhibits = []
        if detail.attainment_by_team is not None and not detail.attainment_by_team.empty:
            exhibits.append(
                Exhibit(
                    text.WORDS("attainment_by_team", lang),
                    detail.attainment_by_team,
                    text.attainment_table(lang),
                )
            )
        return Result(
            self.name,
            headline=text.attainment_tile(detail.attainment_total, lang, currency)
            + text.comparison_tiles(detail.kpis, lang, currency),
            findings=[f for f in findings if f],
            exhibits=exhibits,
        )


ANALYSIS = Overview()

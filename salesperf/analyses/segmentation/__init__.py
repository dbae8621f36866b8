"""Customer segmentation: RFM segments (eleven named segments and the Chinese eight classes), status (the
lifecycle stage, plus potential), ABC value tiers and grades (with lifecycle's CLV), behavioural clusters,
migration since the previous period, profiles, next-product suggestions and the customer export table.

Parts: ``queries`` (the one per-customer aggregate, an engine-neutral Ibis query; ``sources`` says what
the data hold) and ``base`` (its frames); the pure computations ``rfm``, ``status``, ``value``, ``clusters``,
``profiles``, ``migration``, ``suggest``, ``export``; ``analysis`` (the whole run,
:class:`SegmentationAnalysis`); ``text`` (every word shown, from ``vocab.yml``); ``rules.yml`` (rule
tables, :func:`load_rules`). :data:`ANALYSIS` is what the report and the registry run.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from salesperf.analyses.base import Analysis, Context, Needs, Result
from salesperf.analyses.segmentation import text
from salesperf.analyses.segmentation.analysis import SegmentationAnalysis, segmentation_analysis
from salesperf.analyses.segmentation.base import customer_base_sql
from salesperf.analyses.segmentation.clusters import cluster_customers
from salesperf.analyses.segmentation.migration import migration
from salesperf.analyses.segmentation.rfm import rfm_sql, segment_rfm
from salesperf.analyses.segmentation.rules import load_rules
from salesperf.analyses.segmentation.status import customer_status, status_inputs_sql
from salesperf.analyses.segmentation.value import abc_tiers, grade_customers, window_revenue_sql
from salesperf.core.vocab import CORE, Vocabulary


def clv_series(upstream: Mapping[str, Result]) -> pd.Series | None:
    """CLV per customer_id from lifecycle's shared ``customer_value`` frame (customer_id, p_alive,
    expected_purchases, clv); None when the lifecycle result or the frame is missing (grading then says
    so)."""
    found = upstream.get("lifecycle")
    frame = None if found is None else found.shared.get("customer_value")
    if frame is None or not {"customer_id", "clv"} <= set(frame.columns):
        return None
    return pd.Series(
        frame["clv"].to_numpy(dtype="float64"), index=frame["customer_id"].astype(str).to_numpy()
    )


class Segmentation(Analysis):
    """The segmentation report's analysis: :func:`segmentation_analysis` on the report period and the previous
    calendar period, grading with lifecycle's CLV."""

    name = "segmentation"
    needs = Needs(
        optional={
            "customers / opportunities": ("customer_status", "potential_customers"),
            "orders.category / products.category": ("segment_profiles", "top_categories"),
            "orders.channel / customers.channel": ("segment_profiles", "top_channels"),
            "orders.region / customers.region": ("segment_profiles", "top_regions"),
            "customers.owner_rep_id": ("segment_profiles", "top_owner_reps"),
            "feedback": ("segment_profiles", "mean_csat"),
            "activities": ("clusters", "contact_counts"),
            "orders.product_id": ("suggestions", "suggestions"),
        }
    )
    uses = ("lifecycle",)
    parameters = {"lookback_days": 0, "clusters_max": 8}
    words = Vocabulary(__package__, CORE)

    def compute(self, ds, ctx: Context, upstream: Mapping[str, Result]) -> SegmentationAnalysis:
        period = ds.period
        lookback = int(self.param(ctx, "lookback_days")) or None
        return segmentation_analysis(
            ds.engine,
            period.end,
            period.previous.end,
            period.previous.previous.end,
            lookback_days=lookback,
            k_range=(2, int(self.param(ctx, "clusters_max"))),
            clv=lambda: clv_series(upstream),  # read when grading: lifecycle may still be computing it
        )

    def summarise(self, detail: SegmentationAnalysis, ds, ctx: Context) -> Result:
        previous = ds.period.previous.label_in(ctx.lang)
        return Result(
            self.name, text.tiles(detail, ctx.lang), text.findings(detail, previous, ctx.lang, ctx.currency)
        )


ANALYSIS = Segmentation()

__all__ = [
    "ANALYSIS",
    "SegmentationAnalysis",
    "abc_tiers",
    "cluster_customers",
    "clv_series",
    "customer_base_sql",
    "customer_status",
    "grade_customers",
    "load_rules",
    "migration",
    "rfm_sql",
    "segment_rfm",
    "segmentation_analysis",
    "status_inputs_sql",
    "window_revenue_sql",
]

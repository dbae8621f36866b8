"""The whole segmentation analysis for one period in one call (what ``ANALYSIS.compute`` and the benchmark
run).

Each field of :class:`SegmentationAnalysis` is the result object of one notebook section (numbers and frames
only; :mod:`salesperf.analyses.segmentation.text` words them). The analysis itself reads the order lines once
for every per-customer aggregate (:func:`~salesperf.analyses.segmentation.base.customer_base_sql`, both dates
in one query) and once for the product pairs of the suggestions; every section then works on those aggregated
frames, which share one customer order.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from salesperf.analyses.lifecycle import LifecycleRules
from salesperf.analyses.segmentation.base import customer_base_sql
from salesperf.analyses.segmentation.clusters import ClusterResult, cluster_customers
from salesperf.analyses.segmentation.export import customer_table
from salesperf.analyses.segmentation.migration import Migration, migration
from salesperf.analyses.segmentation.profiles import group_profiles
from salesperf.analyses.segmentation.rfm import RfmSegmentation, segment_rfm
from salesperf.analyses.segmentation.rules import STATUSES, SegmentRules, load_rules
from salesperf.analyses.segmentation.sources import as_engine, columns_of
from salesperf.analyses.segmentation.status import CustomerStatus, customer_status
from salesperf.analyses.segmentation.suggest import (
    CoPurchaseSuggester,
    SuggestionEvaluation,
    evaluate_suggestions,
    purchase_pairs_sql,
)
from salesperf.analyses.segmentation.value import AbcTiers, Grades, abc_tiers, grade_customers
from salesperf.core.errors import UserError
from salesperf.data.engine import Engine


@dataclass
class SegmentationAnalysis:
    """Every section's result for one period (see the module functions for each field's contents).

    ``rules`` are the segmentation rules applied (labels for the text layer); ``product_names`` maps
    product_id to the products table's name (empty without one).
    """

    as_of: dt.date
    previous_as_of: dt.date
    before_previous: dt.date
    rules: SegmentRules
    rfm: RfmSegmentation
    previous_rfm: RfmSegmentation
    status: CustomerStatus
    previous_status: CustomerStatus
    abc: AbcTiers
    grades: Grades
    features: pd.DataFrame
    clusters: ClusterResult | None
    segment_profiles: pd.DataFrame
    cluster_profiles: pd.DataFrame | None
    segment_migration: Migration
    status_migration: Migration
    suggestions: pd.DataFrame | None
    suggestion_evaluation: SuggestionEvaluation | None
    customers: pd.DataFrame
    product_names: dict = field(default_factory=dict)

    @property
    def segment_summary(self) -> pd.DataFrame:
        """The RFM segment summary (``rfm.summary``)."""
        return self.rfm.summary


def segmentation_analysis(
    engine: Engine,
    as_of,
    previous_as_of,
    before_previous,
    *,
    lookback_days: int | None = None,
    growth_window_days: int = 365,
    holdout_days: int = 90,
    rules: SegmentRules | None = None,
    k_range: tuple[int, int] = (2, 8),
    sample_size: int = 20_000,
    n_bootstrap: int = 10,
    random_state: int = 0,
    clv: pd.Series | Callable[[], pd.Series | None] | None = None,
    p_alive: pd.Series | None = None,
    timings: dict | None = None,
    cpu_timings: dict | None = None,
    lifecycle_rules: LifecycleRules | None = None,
) -> SegmentationAnalysis:
    """Run RFM, status, value tiers, clusters, profiles, migration, suggestions and the export table.

    Parameters
    ----------
    engine : Engine
        With ``orders`` and optionally customers, opportunities, activities, feedback (canonical columns).
    as_of, previous_as_of, before_previous : date-like
        Ends of this period, the previous one and the one before it: this period is (previous_as_of, as_of],
        the previous one (before_previous, previous_as_of] (for a report period ``p``: ``p.end``,
        ``p.previous.end``, ``p.previous.previous.end``).
    lookback_days : int, optional
        RFM / feature window; None = all history.
    growth_window_days : int
        Window for the revenue growth used in grading (this window vs the one before it).
    holdout_days : int
        Suggestions are evaluated by fitting on purchases up to as_of - holdout_days.
    clv : Series or callable, optional
        CLV per customer_id (lifecycle's ``customer_value``); the grading rules with a CLV condition use it.
        A callable is called only when grading needs it (an upstream result may still be being computed).
    p_alive : Series, optional
        P(alive) per customer_id; where given it decides status instead of the stage rule.
    timings, cpu_timings : dict, optional
        Filled with wall seconds / process CPU seconds per section (for benchmarks).
    lifecycle_rules : LifecycleRules, optional
        The status rule (lifecycle stages, :func:`salesperf.analyses.lifecycle.load_rules`; defaults to
        lifecycle.yml).

    Returns
    -------
    SegmentationAnalysis
    """
    engine, rules = as_engine(engine), rules or load_rules()
    clock = _Clock(timings, cpu_timings)
    with clock("customer aggregates"):
        base = customer_base_sql(
            engine,
            as_of,
            previous_as_of,
            before_previous,
            lookback_days=lookback_days,
            growth_window_days=growth_window_days,
            lifecycle_rules=lifecycle_rules,
        )
    as_of, previous = base.as_of, base.previous_as_of
    now_rows, previous_rows = base.mask("rfm"), base.mask("previous_rfm")

    with clock("rfm"):
        rfm_now = segment_rfm(base.rfm("current"), rules)
        rfm_prev = segment_rfm(base.rfm("previous"), rules)
    with clock("status"):
        crm = any("customer_id" in columns_of(engine, t) for t in ("customers", "opportunities"))
        status_now = customer_status(
            base.status_inputs("current"),
            as_of,
            previous,
            rules,
            p_alive,
            lifecycle_rules=lifecycle_rules,
            crm=crm,
        )
        status_prev = customer_status(
            base.status_inputs("previous"),
            previous,
            base.before_previous,
            rules,
            lifecycle_rules=lifecycle_rules,
            crm=crm,
        )

    with clock("value tiers"):
        abc = abc_tiers(rfm_now.customers, rules)
        windows = base.window_revenue()
        now_ids = pd.Index(rfm_now.customers["customer_id"].to_numpy(), name="customer_id")
        graded = pd.DataFrame(
            {
                "customer_id": now_ids,
                "monetary": rfm_now.customers["monetary"].to_numpy(),
                "abc_tier": abc.customers["abc_tier"].to_numpy(),
            }
        )
        before = pd.Series(windows["before"].to_numpy()[now_rows], index=now_ids)
        current = pd.Series(windows["current"].to_numpy()[now_rows], index=now_ids)
        clv = clv() if callable(clv) else clv
        grades = grade_customers(graded, before, clv, rules, current_revenue=current)

    with clock("features"):
        features = base.features()  # same customers, same order as rfm_now.customers
    # The per-customer aggregate is the largest frame of the analysis: keep only its row masks and ids
    status_rows, previous_status_rows = base.mask("status"), base.mask("previous_status")
    index, before_previous = base.index, base.before_previous
    del base
    release_arrow_memory()
    with clock("clusters"):
        interaction = "activities" if "activities" in features and features["activities"].sum() > 0 else None
        clusters = None
        # prediction strength fits k clusters on each half of the sample: a half must hold at least k
        # customers
        k_high = min(k_range[1], len(features) // 2)
        if k_high >= max(2, k_range[0]):
            clusters = cluster_customers(
                features, (k_range[0], k_high), sample_size, interaction, n_bootstrap, random_state
            )
    with clock("profiles"):
        labelled = features.copy(deep=False)  # shares the feature columns: no copy of the big frame
        labelled["segment"] = rfm_now.customers["segment"].to_numpy()
        segment_profiles = group_profiles(labelled, "segment", order=list(rules.segment_labels()))
        cluster_profiles = None
        if clusters is not None:
            labelled["cluster"] = clusters.labels["cluster"].to_numpy()
            cluster_profiles = group_profiles(labelled, "cluster")

    with clock("migration"):

        def on_base(values: np.ndarray, rows: np.ndarray) -> pd.Series:
            full = np.full(len(index), None, dtype=object)
            full[rows] = values
            return pd.Series(full, index=index)

        at_stake = windows["at_previous"]
        seg_migration = migration(
            on_base(rfm_prev.customers["segment"].to_numpy(), previous_rows),
            on_base(rfm_now.customers["segment"].to_numpy(), now_rows),
            at_stake,
            order=list(rules.segment_labels()),
        )
        status_migration = migration(
            on_base(status_prev.customers["status"].to_numpy(), previous_status_rows),
            on_base(status_now.customers["status"].to_numpy(), status_rows),
            at_stake,
            order=list(STATUSES),
        )

    with clock("suggestions"):
        suggestions, evaluation = next_products(engine, as_of, holdout_days)
        release_arrow_memory()

    with clock("export table"):
        owners = features[["customer_id", "owner_rep_id"]] if "owner_rep_id" in features else None
        table = customer_table(
            rfm_now.customers,
            status_now.customers,
            abc.customers,
            grades.customers,
            clusters.labels if clusters is not None else None,
            suggestions,
            owners,
        )
    names = product_names(engine) if suggestions is not None else {}
    return SegmentationAnalysis(
        as_of,
        previous,
        before_previous,
        rules,
        rfm_now,
        rfm_prev,
        status_now,
        status_prev,
        abc,
        grades,
        features,
        clusters,
        segment_profiles,
        cluster_profiles,
        seg_migration,
        status_migration,
        suggestions,
        evaluation,
        table,
        names,
    )


def next_products(
    engine: Engine, as_of: dt.date, holdout_days: int
) -> tuple[pd.DataFrame | None, SuggestionEvaluation | None]:
    """Three suggestions per buyer of a product (customer_id, suggestion_1..3) and their evaluation on a
    holdout of ``holdout_days`` before ``as_of``; (None, None) without product ids or with one product
    only. The purchase pairs (one row per customer and product) are freed on return."""
    if "product_id" not in columns_of(engine, "orders"):
        return None, None
    pairs = purchase_pairs_sql(engine, as_of)
    everything = pairs.incidence()
    if everything.matrix.shape[1] <= 1:
        return None, None
    suggestions = CoPurchaseSuggester(n=3).fit(everything).suggest(everything)
    del everything
    cutoff = as_of - dt.timedelta(days=holdout_days)
    try:
        return suggestions, evaluate_suggestions(pairs.incidence(until=cutoff), pairs.incidence(since=cutoff))
    except UserError:
        return suggestions, None


#: DuckDB settings that make its allocator give freed memory back at once (it kept 1.4 GB after the
#: per-customer query at 1 M customers, for the rest of the analysis); measured to cost no time.
def release_arrow_memory() -> None:
    """Give back what Arrow's allocator kept of freed query results (0.5 GB once the per-customer aggregate
    of 1 M customers is dropped)."""
    pa.default_memory_pool().release_unused()


def product_names(engine: Engine) -> dict:
    """{product_id: name} of the products table (empty without one or without names)."""
    if not {"product_id", "name"} <= set(columns_of(engine, "products")):
        return {}
    products = engine.table("products")
    named = products.filter(products.name.notnull()).select("product_id", "name")
    frame = engine.fetch(named.order_by("product_id", "name"))
    return dict(zip(frame["product_id"], frame["name"], strict=True))


class _Clock:
    """Context manager factory adding wall seconds per section to ``timings`` and process CPU seconds (all
    threads, DuckDB's included) to ``cpu_timings``; no-op without them."""

    def __init__(self, timings: dict | None, cpu_timings: dict | None = None):
        self.timings = timings
        self.cpu_timings = cpu_timings

    @contextmanager
    def __call__(self, name: str):
        start, cpu = time.perf_counter(), time.process_time()
        yield
        if self.timings is not None:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start
        if self.cpu_timings is not None:
            self.cpu_timings[name] = self.cpu_timings.get(name, 0.0) + time.process_time() - cpu

"""Customer lifecycle: acquisition cohorts, NRR/GRR, lifecycle stages and their flows, survival, customer
value and
action lists.

Modules (engine work in ``history``, ``queries`` and ``clv.summary``, engine-neutral Ibis run by the dataset's
:class:`~salesperf.data.engine.Engine`; the rest is pure unless it says otherwise):

``history``            the counted order lines as activity rows, summed per (customer, day) once per run
``queries``            cohort activity, customer history summary, customer revenue windows
``cohorts``            triangles, pooled curves, :class:`CohortReport`
``revenue_retention``  NRR and GRR as finance defines them
``rules``              :class:`LifecycleRules` from ``rules.yml``
``stages``             stage assignment, per-stage summary, flows, :func:`lifecycle_snapshot`
``survival``           durations, Kaplan–Meier with Greenwood bands, event-time quantiles
``actions``            win-back list and second-purchase-due list
``value``              CLV and holdout check with graceful failure (models in the ``clv`` subpackage)
``result`` / ``analysis``  the rich result and the :class:`~salesperf.analyses.base.Analysis`
``text``               every word of the report (templates in ``vocab.yml``)
"""

from __future__ import annotations

from salesperf.analyses.lifecycle import clv
from salesperf.analyses.lifecycle.actions import (
    SecondPurchaseDue,
    at_risk_actions,
    historical_value,
    second_purchase_due,
)
from salesperf.analyses.lifecycle.analysis import LifecycleAnalysis
from salesperf.analyses.lifecycle.cohorts import (
    ACTIVITY_COLUMNS,
    GRAINS,
    CohortReport,
    cohort_curves,
    cohort_revenue_retention,
    cohort_tables,
    cumulative_revenue_per_customer,
    period_label,
    retention_triangle,
)
from salesperf.analyses.lifecycle.history import History, counted_lines, daily, kept_days
from salesperf.analyses.lifecycle.queries import (
    SUMMARY_COLUMNS,
    cohort_activity_sql,
    customer_period_revenue_sql,
    customer_period_revenues_sql,
    customer_summary,
    customer_summary_sql,
    holds_values,
)
from salesperf.analyses.lifecycle.result import Lifecycle
from salesperf.analyses.lifecycle.revenue_retention import retention_by_period, revenue_retention
from salesperf.analyses.lifecycle.rules import (
    DEFAULT_RULES_PATH,
    ENTRY_STAGE,
    STAGES,
    LifecycleRules,
    load_rules,
)
from salesperf.analyses.lifecycle.stages import (
    LifecycleSnapshot,
    assign_stages,
    lifecycle_snapshot,
    stage_flows,
    stage_summary,
)
from salesperf.analyses.lifecycle.survival import SurvivalCurves, lifetime_durations, survival_curves
from salesperf.analyses.lifecycle.value import (
    CustomerValue,
    HoldoutCheck,
    calibration_holdout,
    customer_value_sql,
)


def cohort_report(source, as_of, grain: str = "month", by: str | None = None) -> CohortReport:
    """Cohort tables in one call: :func:`cohort_activity_sql` then :func:`cohort_tables` (``source``: an
    Engine, a History or a DuckDB connection)."""
    return cohort_tables(cohort_activity_sql(source, as_of, grain, by), grain, by)


ANALYSIS = LifecycleAnalysis()

__all__ = [
    "ACTIVITY_COLUMNS",
    "ANALYSIS",
    "DEFAULT_RULES_PATH",
    "ENTRY_STAGE",
    "GRAINS",
    "History",
    "STAGES",
    "SUMMARY_COLUMNS",
    "CohortReport",
    "CustomerValue",
    "HoldoutCheck",
    "Lifecycle",
    "LifecycleRules",
    "LifecycleSnapshot",
    "SecondPurchaseDue",
    "SurvivalCurves",
    "at_risk_actions",
    "assign_stages",
    "calibration_holdout",
    "clv",
    "cohort_activity_sql",
    "cohort_curves",
    "cohort_report",
    "cohort_revenue_retention",
    "cohort_tables",
    "counted_lines",
    "cumulative_revenue_per_customer",
    "customer_period_revenue_sql",
    "customer_period_revenues_sql",
    "customer_summary",
    "customer_summary_sql",
    "holds_values",
    "customer_value_sql",
    "daily",
    "historical_value",
    "kept_days",
    "lifecycle_snapshot",
    "lifetime_durations",
    "load_rules",
    "period_label",
    "retention_by_period",
    "retention_triangle",
    "revenue_retention",
    "second_purchase_due",
    "stage_flows",
    "stage_summary",
    "survival_curves",
]

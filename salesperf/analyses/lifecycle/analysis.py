"""The lifecycle analysis behind the :class:`~salesperf.analyses.base.Analysis` interface.

Every query runs in the dataset's engine (:attr:`Dataset.engine`, DuckDB by default, a warehouse or Spark when
the catalog names one). The counted order lines are summed per (customer, day) once per run
(:func:`kept_days`) and the customer summaries, the CLV summaries, the cohort activity and the revenue windows
are aggregated from those daily rows; only the first-purchase dimension of the cohort comparison reads the
order lines again.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from salesperf.analyses.base import Analysis, Context, Needs, Result
from salesperf.analyses.lifecycle import tables, text
from salesperf.analyses.lifecycle.actions import at_risk_actions, second_purchase_due
from salesperf.analyses.lifecycle.cohorts import CohortReport, cohort_tables, period_label
from salesperf.analyses.lifecycle.history import History, first_order_day, kept_days, table
from salesperf.analyses.lifecycle.queries import (
    cohort_activity_sql,
    customer_period_revenues_sql,
    dimension_source,
)
from salesperf.analyses.lifecycle.result import MIN_COHORTS, Lifecycle
from salesperf.analyses.lifecycle.revenue_retention import retention_by_period, revenue_retention
from salesperf.analyses.lifecycle.rules import load_rules
from salesperf.analyses.lifecycle.stages import lifecycle_snapshot
from salesperf.analyses.lifecycle.survival import lifetime_durations, survival_curves
from salesperf.analyses.lifecycle.value import VALUE_COLUMNS, calibration_holdout, customer_value_sql
from salesperf.core.errors import UserError
from salesperf.core.present import Exhibit
from salesperf.core.vocab import LANGUAGES

NRR_PERIODS = {"month": 6, "quarter": 4}  # NRR/GRR rows: the report period and the ones before it
MIN_HOLDOUT_MONTHS = 3  # a shorter holdout holds too few repeat purchases to check a forecast against


def history_months(engine, as_of) -> int:
    """Calendar months from the first order's month to ``as_of``'s, both counted (0 without orders)."""
    first = first_order_day(engine, as_of)
    if first is None:
        return 0
    return (as_of.year - first.year) * 12 + as_of.month - first.month + 1


def holdout_window(requested: int, history: int) -> int:
    """Months of the holdout check: the requested ones, at most half the history (the other half calibrates);
    0 (no check) when that leaves fewer than :data:`MIN_HOLDOUT_MONTHS`."""
    months = min(max(requested, 1), history // 2)
    return months if months >= MIN_HOLDOUT_MONTHS else 0


def _months_back(day, months: int):
    """The month end ``months`` months before the month of ``day`` (2026-10-31, 12 → 2025-10-31)."""
    return (
        pd.Timestamp(day) + pd.offsets.MonthEnd(0) - pd.DateOffset(months=months) + pd.offsets.MonthEnd(0)
    ).date()


def _by_dimension(history: History, as_of, grain: str, by: str) -> CohortReport | None:
    try:
        dimension_source(history, by)
    except UserError:
        return None
    return cohort_tables(cohort_activity_sql(history, as_of, grain, by), grain, by)


def _customers(engine) -> pd.DataFrame | None:
    """``customer_id`` (str) and, where held, ``owner_rep_id`` and ``name``: one row per customers row; None
    without the table or its id."""
    customers = table(engine, "customers")
    held = customers.columns if customers is not None else []
    wanted = [c for c in ("customer_id", "owner_rep_id", "name") if c in held]
    if "customer_id" not in wanted:
        return None
    frame = engine.fetch(customers.select(*wanted))
    frame["customer_id"] = frame["customer_id"].astype(str)
    return frame


def _nrr(history: History, as_of, grain: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    step = 3 if grain == "quarter" else 1
    ends = [_months_back(as_of, k * step) if k else as_of for k in range(NRR_PERIODS[grain] - 1, -1, -1)]
    frames = {
        period_label(pd.Series([pd.Timestamp(end)]), grain).iloc[0]: frame
        for end, frame in customer_period_revenues_sql(history, ends).items()
    }
    latest = frames[next(reversed(frames))]
    by_cohort = revenue_retention(
        latest.assign(acquired_in=period_label(latest["first_date"], "year")), "acquired_in"
    )
    return retention_by_period(frames), by_cohort


class LifecycleAnalysis(Analysis):
    """Acquisition cohorts, NRR/GRR, lifecycle stages and flows, survival, customer value and action lists."""

    name = "lifecycle"
    needs = Needs(optional={"customers": ("action_lists", "owners_and_names")})
    parameters = {
        "cohort_grain": "month",
        "compare_by": "channel",
        "horizon_months": 12,
        "holdout_months": 12,
    }
    words = text.WORDS

    def compute(self, ds, ctx: Context, upstream: Mapping[str, Result]) -> Lifecycle:
        """Every table and figure input of the lifecycle report for ``ds``'s period (:class:`Lifecycle`)."""
        grain, by = self.param(ctx, "cohort_grain"), self.param(ctx, "compare_by")
        horizon, holdout_months = (
            int(self.param(ctx, "horizon_months")),
            int(self.param(ctx, "holdout_months")),
        )
        end = ds.period.end
        rules = load_rules()
        with kept_days(ds.engine, end) as history:
            return self._compute(ds, ctx, history, grain, by, horizon, holdout_months, rules)

    def _compute(self, ds, ctx, history: History, grain, by, horizon, holdout_months, rules) -> Lifecycle:
        period = ds.period
        end, previous = period.end, period.previous.end
        by_dimension = _by_dimension(history, end, grain, by)
        curves = by_dimension.curves if by_dimension is not None else pd.DataFrame()
        if not curves.empty:
            curves = curves[curves["cohorts"] >= MIN_COHORTS]
        nrr_by_period, nrr_by_cohort = _nrr(history, end, grain)
        stages = lifecycle_snapshot(history, end, previous, rules)
        survival = survival_curves(lifetime_durations(stages.customers, end, "churn", cohort_grain="year"))
        months = history_months(ds.engine, end)
        used = holdout_window(holdout_months, months)
        calibration_end = _months_back(end, used or max(holdout_months, 1))
        holdout = calibration_holdout(history, calibration_end, end) if used else "short_history"
        value = customer_value_sql(history, end, horizon)
        customers = _customers(ds.engine)
        return Lifecycle(
            as_of=end,
            previous_as_of=previous,
            previous_label={lang: period.previous.label_in(lang) for lang in LANGUAGES},
            grain=grain,
            compare_by=by,
            currency=ctx.currency,
            cohorts=cohort_tables(cohort_activity_sql(history, end, grain), grain),
            by_dimension=by_dimension,
            comparison_curves=curves,
            nrr_by_period=nrr_by_period,
            nrr_by_cohort=nrr_by_cohort,
            base_end=_months_back(end, 12),
            stages=stages,
            survival=survival,
            holdout=None if isinstance(holdout, str) else holdout,
            holdout_status=holdout if isinstance(holdout, str) else "fitted",
            calibration_end=calibration_end,
            value=value,
            history_months=months,
            holdout_months=used,
            holdout_requested=holdout_months,
            actions=at_risk_actions(stages.customers, value.clv, customers),
            due=second_purchase_due(stages.customers, end, rules, customers),
            has_customers=customers is not None,
        )

    def summarise(self, detail: Lifecycle, ds, ctx: Context) -> Result:
        """Tiles, findings (flows, retention, NRR, value), the stage table and the per-customer value."""
        lang = ctx.lang
        stages = Exhibit(
            text.WORDS("lifecycle_stages", lang),
            detail.stages.summary,
            tables.stages_table(lang),
            text.stage_sentence(detail.stages.headline, lang),
        )
        return Result(
            self.name,
            headline=text.tiles(detail, lang),
            findings=text.findings(detail, lang),
            exhibits=[stages],
            shared={"customer_value": detail.value.frame[VALUE_COLUMNS]},
        )

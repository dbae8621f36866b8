"""The lifecycle analysis behind the :class:`~salesperf.analyses.base.Analysis` interface."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from salesperf.analyses.base import Analysis, Context, Needs, Result
from salesperf.analyses.lifecycle import tables, text
from salesperf.analyses.lifecycle.actions import at_risk_actions, second_purchase_due
from salesperf.analyses.lifecycle.cohorts import CohortReport, cohort_tables, period_label
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
from salesperf.core.sql import relation_columns
from salesperf.core.vocab import LANGUAGES

NRR_PERIODS = {"month": 6, "quarter": 4}  # NRR/GRR rows: the report period and the ones before it
MIN_HOLDOUT_MONTHS = 3  # a shorter holdout holds too few repeat purchases to check a forecast against


def history_months(con, as_of) -> int:
    """Calendar months from the first order's month to ``as_of``'s, both counted (0 without orders)."""
    query = f"SELECT min(order_date) FROM orders WHERE order_date <= DATE '{as_of}'"
    [(first,)] = con.execute(query).fetchall()  # fetched to the end: no result left open on con
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


def _by_dimension(con, as_of, grain: str, by: str) -> CohortReport | None:
    try:
        dimension_source(con, by)
    except UserError:
        return None
    return cohort_tables(cohort_activity_sql(con, as_of, grain, by), grain, by)


def _customers(ds) -> pd.DataFrame | None:
    columns = relation_columns(ds.con, "customers") if ds.has("customers") else None
    wanted = [c for c in ("customer_id", "owner_rep_id", "name") if columns and c in columns]
    if "customer_id" not in wanted:
        return None
    frame = ds.sql(f"SELECT {', '.join(wanted)} FROM customers")
    frame["customer_id"] = frame["customer_id"].astype(str)
    return frame


def _nrr(con, as_of, grain: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    step = 3 if grain == "quarter" else 1
    ends = [_months_back(as_of, k * step) if k else as_of for k in range(NRR_PERIODS[grain] - 1, -1, -1)]
    frames = {
        period_label(pd.Series([pd.Timestamp(end)]), grain).iloc[0]: frame
        for end, frame in customer_period_revenues_sql(con, ends).items()
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
        con, period = ds.con, ds.period
        end, previous = period.end, period.previous.end
        rules = load_rules()
        by_dimension = _by_dimension(con, end, grain, by)
        curves = by_dimension.curves if by_dimension is not None else pd.DataFrame()
        if not curves.empty:
            curves = curves[curves["cohorts"] >= MIN_COHORTS]
        nrr_by_period, nrr_by_cohort = _nrr(con, end, grain)
        stages = lifecycle_snapshot(con, end, previous, rules)
        survival = survival_curves(lifetime_durations(stages.customers, end, "churn", cohort_grain="year"))
        history = history_months(con, end)
        used = holdout_window(holdout_months, history)
        calibration_end = _months_back(end, used or max(holdout_months, 1))
        holdout = calibration_holdout(con, calibration_end, end) if used else "short_history"
        value = customer_value_sql(con, end, horizon)
        customers = _customers(ds)
        return Lifecycle(
            as_of=end,
            previous_as_of=previous,
            previous_label={lang: period.previous.label_in(lang) for lang in LANGUAGES},
            grain=grain,
            compare_by=by,
            currency=ctx.currency,
            cohorts=cohort_tables(cohort_activity_sql(con, end, grain), grain),
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
            history_months=history,
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

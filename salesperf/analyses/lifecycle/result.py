"""The rich result of the lifecycle analysis: everything its report shows, computed once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from salesperf.analyses.lifecycle.actions import SecondPurchaseDue
from salesperf.analyses.lifecycle.cohorts import CohortReport
from salesperf.analyses.lifecycle.stages import LifecycleSnapshot
from salesperf.analyses.lifecycle.survival import SurvivalCurves
from salesperf.analyses.lifecycle.value import CustomerValue, HoldoutCheck


@dataclass
class Lifecycle:
    """What the lifecycle notebook shows.

    Attributes
    ----------
    as_of, previous_as_of : datetime.date
    previous_label : dict
        Language → label of the previous period (``September 2026`` / ``2026年9月``).
    grain, compare_by, currency : str
    cohorts : CohortReport
        All dimension values together.
    by_dimension : CohortReport or None
        Split by ``compare_by``; None when neither orders nor customers have that column.
    comparison_curves : DataFrame
        ``by_dimension.curves`` of the dimension values with at least :data:`MIN_COHORTS` cohorts (empty
        without).
    nrr_by_period : DataFrame
        NRR and GRR at the end of this and the previous periods (``period`` and the columns of
        :func:`~salesperf.analyses.lifecycle.revenue_retention.revenue_retention`).
    nrr_by_cohort : DataFrame
        NRR and GRR at ``as_of`` per acquisition year (``acquired_in``).
    base_end : datetime.date
        End of the NRR base window (a year before ``as_of``).
    stages : LifecycleSnapshot
    survival : SurvivalCurves
        Time to churn by acquisition year.
    holdout : HoldoutCheck or None
    holdout_status : str
        ``fitted`` or why there is no holdout check (see
        :class:`~salesperf.analyses.lifecycle.value.CustomerValue`).
    calibration_end : datetime.date
    history_months, holdout_months, holdout_requested : int
        Calendar months of order history; months of the holdout check actually used (at most half the
        history, 0 when too short: ``holdout_status`` is then ``short_history``) and asked for.
    value : CustomerValue
    actions : DataFrame
        Win-back list (see :func:`~salesperf.analyses.lifecycle.actions.at_risk_actions`).
    due : SecondPurchaseDue
    has_customers : bool
        Whether the customers table (owners, names) was available.
    """

    as_of: date
    previous_as_of: date
    previous_label: dict
    grain: str
    compare_by: str
    currency: str
    cohorts: CohortReport
    by_dimension: CohortReport | None
    comparison_curves: pd.DataFrame
    nrr_by_period: pd.DataFrame
    nrr_by_cohort: pd.DataFrame
    base_end: date
    stages: LifecycleSnapshot
    survival: SurvivalCurves
    holdout: HoldoutCheck | None
    holdout_status: str
    calibration_end: date
    value: CustomerValue
    actions: pd.DataFrame
    due: SecondPurchaseDue
    has_customers: bool
    history_months: int = 0
    holdout_months: int = 0
    holdout_requested: int = 0

    @property
    def holdout_groups(self) -> pd.DataFrame:
        """The holdout table without its total row, frequency group as a column (for the chart)."""
        if self.holdout is None:
            return pd.DataFrame(columns=["calibration_frequency", "actual_mean", "predicted_mean"])
        return self.holdout.table.drop(index="total").reset_index()

    @property
    def flows_shown(self) -> pd.DataFrame:
        """Stage flows with at least one customer."""
        flows = self.stages.flows
        return flows if flows is None else flows[flows["customers"] > 0]


MIN_COHORTS = 6  # a dimension value's pooled curve on fewer cohorts is one or two cohorts' noise

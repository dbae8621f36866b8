"""Action lists, pure: win-back (at-risk and churned customers by value at stake) and second-purchase-due."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesperf.analyses.lifecycle.rules import STAGES, LifecycleRules, load_rules
from salesperf.analyses.lifecycle.stages import require
from salesperf.analyses.lifecycle.survival import event_time_quantile, lifetime_durations
from salesperf.core.errors import UserError

ACTION_COLUMNS = [
    "rank",
    "customer_id",
    "stage",
    "stage_label_en",
    "stage_label_zh",
    "value_at_stake",
    "value_basis",
    "owner_rep_id",
    "last_date",
    "recency_days",
    "churn_after_days",
    "revenue_net",
    "revenue_12m",
    "treatment",
    "treatment_en",
    "treatment_zh",
]
DUE_COLUMNS = [
    "customer_id",
    "stage",
    "first_date",
    "days_since_first",
    "days_overdue",
    "revenue_net",
    "owner_rep_id",
    "treatment",
    "treatment_en",
    "treatment_zh",
]


def _owners(stages: pd.DataFrame, customers: pd.DataFrame | None, owner_col: str) -> pd.Series:
    if customers is None or owner_col not in customers.columns or "customer_id" not in customers.columns:
        return pd.Series(pd.NA, index=stages.index, dtype="string")
    owners = customers.assign(customer_id=customers["customer_id"].astype(str)).drop_duplicates("customer_id")
    return stages["customer_id"].astype(str).map(owners.set_index("customer_id")[owner_col]).astype("string")


def historical_value(stages: pd.DataFrame) -> pd.Series:
    """Annual net revenue while active: ``revenue_net * 365 / max(365, last_date - first_date)``.

    The value at stake when no CLV is available (never more than what the customer actually spent).

    Returns
    -------
    Series of float, same index as ``stages``.
    """
    span = (pd.to_datetime(stages["last_date"]) - pd.to_datetime(stages["first_date"])).dt.days.clip(
        lower=365
    )
    return stages["revenue_net"].astype(float) * 365.0 / span


def at_risk_actions(
    stages: pd.DataFrame,
    value: pd.Series | None = None,
    customers: pd.DataFrame | None = None,
    include: tuple[str, ...] = ("at_risk", "churned"),
    top: int | None = None,
    owner_col: str = "owner_rep_id",
) -> pd.DataFrame:
    """At-risk and churned customers ranked by the value at stake, with owner rep and treatment.

    Parameters
    ----------
    stages : DataFrame
        Per-customer stages.
    value : Series, optional
        Expected value per customer (index customer_id), e.g. the CLV; customers missing from it (or NaN) fall
        back to :func:`historical_value`.
    customers : DataFrame, optional
        Customers table; ``owner_rep_id`` (and ``name``) are taken from it.
    include : tuple of str
        Stages to list.
    top : int, optional
        Keep the first ``top`` rows.

    Returns
    -------
    DataFrame
        :data:`ACTION_COLUMNS` (plus ``name`` when the customers table has it); highest value first.
    """
    unknown = set(include) - set(STAGES)
    if unknown:
        raise UserError(
            f"unknown lifecycle stage(s) {sorted(unknown)}", hint=f"stages are {', '.join(STAGES)}"
        )
    picked = stages.loc[stages["stage"].isin(include)].copy()
    fallback = historical_value(picked)
    model = (
        picked["customer_id"].astype(str).map(value.rename(index=str)).astype(float)
        if value is not None
        else pd.Series(np.nan, index=picked.index)
    )
    picked["value_basis"] = np.where(model.notna(), "clv", "historical")
    picked["value_at_stake"] = model.fillna(fallback)
    picked["owner_rep_id"] = _owners(picked, customers, owner_col)
    picked = picked.sort_values(["value_at_stake", "customer_id"], ascending=[False, True], ignore_index=True)
    picked.insert(0, "rank", np.arange(1, len(picked) + 1))
    columns = list(ACTION_COLUMNS)
    if customers is not None and "name" in customers.columns:
        names = customers.assign(customer_id=customers["customer_id"].astype(str)).drop_duplicates(
            "customer_id"
        )
        picked["name"] = picked["customer_id"].astype(str).map(names.set_index("customer_id")["name"])
        columns.insert(2, "name")
    return picked[columns].head(top) if top else picked[columns]


@dataclass
class SecondPurchaseDue:
    """One-time buyers past the typical time to a second purchase.

    Attributes
    ----------
    customers : DataFrame
        :data:`DUE_COLUMNS`, most overdue first.
    typical_days : float
        The rules' quantile of the time from first to second purchase among customers who buy twice within the
        observed horizon, from the Kaplan–Meier curve (NaN when nobody bought twice).
    quantile : float
    repeaters : int
        Customers who bought a second time.
    repeat_share : float
        Kaplan–Meier share of customers who bought a second time within the observed horizon.
    """

    customers: pd.DataFrame
    typical_days: float
    quantile: float
    repeaters: int
    repeat_share: float = float("nan")


def second_purchase_due(
    stages: pd.DataFrame,
    as_of,
    rules: LifecycleRules | None = None,
    customers: pd.DataFrame | None = None,
    owner_col: str = "owner_rep_id",
) -> SecondPurchaseDue:
    """New customers due for a second purchase: one purchase day, not churned, past the typical time to a
    second.

    The typical time is estimated on every customer (those who have not bought twice are censored at their
    days since the first purchase: :func:`~salesperf.analyses.lifecycle.survival.event_time_quantile`).

    Parameters
    ----------
    stages : DataFrame
        Per-customer stages.
    as_of : date-like
        The stages' date.
    rules : LifecycleRules, optional
        ``second_purchase_quantile`` sets "typical".
    customers : DataFrame, optional
        For ``owner_rep_id``.

    Returns
    -------
    SecondPurchaseDue
    """
    rules = rules or load_rules()
    require(
        stages,
        ["customer_id", "first_date", "second_date", "occasions", "stage", "days_since_first"],
        "stages",
    )
    durations = lifetime_durations(stages, as_of, "second_purchase")
    typical, share = event_time_quantile(durations, rules.second_purchase_quantile)
    due = stages.loc[
        (stages["occasions"] == 1) & (stages["stage"] != "churned") & (stages["days_since_first"] > typical)
    ].copy()
    due["days_overdue"] = due["days_since_first"] - typical
    due["owner_rep_id"] = _owners(due, customers, owner_col)
    due = due.sort_values(["days_overdue", "customer_id"], ascending=[False, True], ignore_index=True)
    return SecondPurchaseDue(
        due[DUE_COLUMNS], typical, rules.second_purchase_quantile, int(durations["event"].sum()), share
    )

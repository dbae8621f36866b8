"""Acquisition cohorts, pure: triangles and pooled curves from the long cohort activity frame.

The activity frame (:func:`salesperf.analyses.lifecycle.queries.cohort_activity_sql`) has one row per
([dimension,] cohort, age) with ``customers``, ``revenue_net``, ``revenue_gross``, ``cohort_size`` and
``is_complete``.

*Cohort revenue retention* is a cohort's revenue at age k over its revenue at age 0: a curve of how a cohort's
spending decays, not the NRR / GRR of finance (those follow the same customers from a base window and cap them
in GRR: :mod:`salesperf.analyses.lifecycle.revenue_retention`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from salesperf.core.errors import UserError, examples

GRAINS = {"month": 1, "quarter": 3}
ACTIVITY_COLUMNS = (
    "cohort",
    "age",
    "customers",
    "revenue_net",
    "revenue_gross",
    "cohort_size",
    "is_complete",
)
HEADLINE_AGES = {"month": (1, 3, 6, 12), "quarter": (1, 2, 4)}
CURVE_COLUMNS = (
    "age",
    "cohorts",
    "customers_acquired",
    "customers",
    "retention",
    "cohort_revenue_retention_net",
    "cohort_revenue_retention_gross",
    "revenue_per_customer",
    "cumulative_revenue_per_customer",
)


def check_grain(grain: str) -> int:
    """Months per period of a cohort grain; UserError for an unknown grain."""
    if grain not in GRAINS:
        raise UserError(f"cohort grain {grain!r} is not supported", hint=f"use one of {', '.join(GRAINS)}")
    return GRAINS[grain]


def age_of_months(months: int, grain: str) -> int:
    """The cohort age that ends ``months`` months after acquisition at ``grain`` (12 months = age 12 or 4)."""
    return months // check_grain(grain)


def _period_start(day: date, months: int) -> date:
    return date(day.year, (day.month - 1) // months * months + 1, 1)


def _period_end(day: date, months: int) -> date:
    start = _period_start(day, months)
    month_index = start.year * 12 + start.month - 1 + months
    return date(month_index // 12, month_index % 12 + 1, 1) - timedelta(days=1)


def period_label(starts: pd.Series, grain: str) -> pd.Series:
    """Label days as ``2026-03`` (month), ``2026-Q1`` (quarter) or ``2026`` (year), the labels of
    core.periods.

    Parameters
    ----------
    starts : Series of datetime-like
        Any day inside the period.
    grain : {'month', 'quarter', 'year'}

    Returns
    -------
    Series of str, same index.
    """
    starts = pd.to_datetime(starts)
    if grain == "month":
        return starts.dt.strftime("%Y-%m")
    if grain == "quarter":
        return starts.dt.year.astype(str) + "-Q" + starts.dt.quarter.astype(str)
    if grain == "year":
        return starts.dt.year.astype(str)
    raise UserError(f"grain {grain!r} is not supported", hint="use month, quarter or year")


def complete_cohort_grid(long: pd.DataFrame, as_of: date, grain: str, dims: list[str]) -> pd.DataFrame:
    """Zero-fill every age a cohort has reached, add cohort sizes, labels and the completeness flag.

    Parameters
    ----------
    long : DataFrame
        ``[dims], cohort`` (period start), ``age``, ``customers``, ``revenue_net``, ``revenue_gross`` for the
        observed cells only.
    as_of : date
    grain : {'month', 'quarter'}
    dims : list of str

    Returns
    -------
    DataFrame
        The activity frame (see the module doc), sorted by [dims], cohort, age.
    """
    months = GRAINS[grain]
    columns = [*dims, *ACTIVITY_COLUMNS]
    if long.empty:
        types = {
            "age": "int64",
            "customers": "int64",
            "revenue_net": float,
            "revenue_gross": float,
            "cohort_size": "int64",
            "is_complete": bool,
        }
        return pd.DataFrame({c: pd.Series(dtype=types.get(c, object)) for c in columns})
    long["cohort"] = pd.to_datetime(long["cohort"])
    last_start = pd.Timestamp(_period_start(as_of, months))
    cohort_keys = long[[*dims, "cohort"]].drop_duplicates()
    reached = (
        (last_start.year - cohort_keys["cohort"].dt.year) * 12
        + last_start.month
        - cohort_keys["cohort"].dt.month
    ) // months
    grid = cohort_keys.loc[cohort_keys.index.repeat(reached + 1)].copy()
    grid["age"] = grid.groupby([*dims, "cohort"]).cumcount()
    long["age"] = long["age"].astype(int)
    out = grid.merge(long, on=[*dims, "cohort", "age"], how="left")
    for column in ("customers", "revenue_net", "revenue_gross"):
        out[column] = out[column].fillna(0)
    out["customers"] = out["customers"].astype("int64")
    sizes = out.loc[out["age"] == 0].set_index([*dims, "cohort"])["customers"].rename("cohort_size")
    out = out.join(sizes, on=[*dims, "cohort"])
    period_month_index = out["cohort"].dt.year * 12 + out["cohort"].dt.month - 1 + out["age"] * months
    out["is_complete"] = ~(
        (period_month_index == last_start.year * 12 + last_start.month - 1)
        & (as_of != _period_end(as_of, months))
    )
    out["cohort"] = period_label(out["cohort"], grain)
    return out[columns].sort_values([*dims, "cohort", "age"], ignore_index=True)


def dimensions(activity: pd.DataFrame) -> list[str]:
    """The dimension columns of an activity frame (none, or the ``by`` column)."""
    missing = [c for c in ACTIVITY_COLUMNS if c not in activity.columns]
    if missing:
        raise UserError(
            f"cohort activity: column {missing[0]!r} is missing; columns present: "
            f"{examples(activity.columns, 8)}"
        )
    return [c for c in activity.columns if c not in ACTIVITY_COLUMNS]


def pooled_over_dimensions(activity: pd.DataFrame) -> pd.DataFrame:
    """The activity of all dimension values together: one row per (cohort, age), sizes and revenues summed."""
    dims = dimensions(activity)
    if not dims:
        return activity
    return activity.groupby(["cohort", "age"], as_index=False).agg(
        customers=("customers", "sum"),
        revenue_net=("revenue_net", "sum"),
        revenue_gross=("revenue_gross", "sum"),
        cohort_size=("cohort_size", "sum"),
        is_complete=("is_complete", "all"),
    )[list(ACTIVITY_COLUMNS)]


def _pivot(activity: pd.DataFrame, values: pd.Series, complete_only: bool) -> pd.DataFrame:
    dims = dimensions(activity)
    frame = activity.assign(value=values)
    if complete_only:
        frame.loc[~frame["is_complete"].astype(bool), "value"] = np.nan
    table = frame.set_index([*dims, "cohort", "age"])["value"].astype(float).unstack("age")
    table.columns.name = "age"
    return table


def retention_triangle(activity: pd.DataFrame, complete_only: bool = True) -> pd.DataFrame:
    """Share of each cohort with a purchase occasion at age k.

    Returns
    -------
    DataFrame
        Index ([by,] cohort), columns age 0..K, values in [0, 1] (age 0 is 1); NaN where not reached or
        running.
    """
    return _pivot(activity, activity["customers"] / activity["cohort_size"], complete_only)


def _basis_column(basis: str) -> str:
    if basis not in ("net", "gross"):
        raise UserError(f"revenue basis {basis!r} is not supported", hint="use net or gross")
    return f"revenue_{basis}"


def cohort_revenue_retention(
    activity: pd.DataFrame, basis: str = "net", complete_only: bool = True
) -> pd.DataFrame:
    """Cohort revenue retention: a cohort's revenue at age k over its revenue at age 0 (not NRR; see module
    doc).

    Parameters
    ----------
    activity : DataFrame
        Cohort activity.
    basis : {'net', 'gross'}
        ``net`` nets returns; ``gross`` counts purchase lines only.
    complete_only : bool
        Blank the cells of the period still running at the as-of date.

    Returns
    -------
    DataFrame
        Index ([by,] cohort), columns age; revenue_k / revenue_0 (NaN when revenue_0 <= 0 or not reached).
    """
    column = _basis_column(basis)
    dims = dimensions(activity)
    base = activity.loc[activity["age"] == 0].set_index([*dims, "cohort"])[column]
    base = activity[[*dims, "cohort"]].join(base.where(base > 0).rename("base"), on=[*dims, "cohort"])["base"]
    return _pivot(activity, activity[column] / base, complete_only)


def cumulative_revenue_per_customer(
    activity: pd.DataFrame, basis: str = "net", complete_only: bool = True
) -> pd.DataFrame:
    """Each cohort's revenue up to and including age k per acquired customer.

    Returns
    -------
    DataFrame
        Index ([by,] cohort), columns age, values in currency per acquired customer.
    """
    column = _basis_column(basis)
    dims = dimensions(activity)
    ordered = activity.sort_values([*dims, "cohort", "age"])
    cumulative = ordered.groupby([*dims, "cohort"])[column].cumsum() / ordered["cohort_size"]
    return _pivot(ordered, cumulative, complete_only)


def cohort_curves(activity: pd.DataFrame, complete_only: bool = True) -> pd.DataFrame:
    """Cohorts pooled into one curve per dimension value.

    Each age pools the cohorts that have completed it, weighted by size. The cumulative revenue per acquired
    customer adds up the per-age means (``revenue_per_customer``: revenue at age k per customer acquired, over
    the cohorts that reached k), so that it cannot fall because old cohorts differ from young ones (it falls
    only when net returns exceed purchases at an age).

    Returns
    -------
    DataFrame
        One row per ([by,] age): ``cohorts`` pooled, ``customers_acquired``, ``customers`` active,
        ``retention``, ``cohort_revenue_retention_net`` / ``_gross`` (revenue at age k over the same cohorts'
        age-0 revenue), ``revenue_per_customer``, ``cumulative_revenue_per_customer`` (net).
    """
    dims = dimensions(activity)
    frame = activity.sort_values([*dims, "cohort", "age"]).copy()
    base = frame.loc[frame["age"] == 0].set_index([*dims, "cohort"])[["revenue_net", "revenue_gross"]]
    frame = frame.join(base.add_suffix("_age0"), on=[*dims, "cohort"])
    if complete_only:
        frame = frame[frame["is_complete"].astype(bool)]
    pooled = (
        frame.groupby([*dims, "age"])
        .agg(
            cohorts=("cohort", "nunique"),
            customers_acquired=("cohort_size", "sum"),
            customers=("customers", "sum"),
            revenue_net=("revenue_net", "sum"),
            revenue_gross=("revenue_gross", "sum"),
            revenue_net_age0=("revenue_net_age0", "sum"),
            revenue_gross_age0=("revenue_gross_age0", "sum"),
        )
        .reset_index()
    )
    pooled["retention"] = pooled["customers"] / pooled["customers_acquired"]
    for basis in ("net", "gross"):
        denominator = pooled[f"revenue_{basis}_age0"].where(pooled[f"revenue_{basis}_age0"] > 0)
        pooled[f"cohort_revenue_retention_{basis}"] = pooled[f"revenue_{basis}"] / denominator
    pooled["revenue_per_customer"] = pooled["revenue_net"] / pooled["customers_acquired"]
    if dims:
        pooled["cumulative_revenue_per_customer"] = pooled.groupby(dims)["revenue_per_customer"].cumsum()
    else:
        pooled["cumulative_revenue_per_customer"] = pooled["revenue_per_customer"].cumsum()
    return pooled[[*dims, *CURVE_COLUMNS]]


@dataclass
class CohortReport:
    """Every cohort table of one report section, plus the headline numbers for its sentences.

    Attributes
    ----------
    grain : str
    by : str or None
    activity : DataFrame
        Long cohort activity.
    retention, cohort_revenue_retention_net, cohort_revenue_retention_gross, cumulative_revenue : DataFrame
        Triangles (index [by,] cohort; columns age).
    curves : DataFrame
        Pooled curves per dimension value (see :func:`cohort_curves`).
    headline : dict
        ``cohorts``, ``customers_acquired``, ``largest_cohort`` / ``largest_cohort_size``; for each age of
        :data:`HEADLINE_AGES` reached: ``retention_age{k}``, ``cohort_revenue_retention_net_age{k}``,
        ``cumulative_revenue_per_customer_age{k}``; and ``retention_12m`` / ``cumulative_revenue_12m`` at the
        age that ends 12 months after acquisition (age 12 monthly, 4 quarterly). Pooled over every dimension
        value.
    """

    grain: str
    by: str | None
    activity: pd.DataFrame
    retention: pd.DataFrame
    cohort_revenue_retention_net: pd.DataFrame
    cohort_revenue_retention_gross: pd.DataFrame
    cumulative_revenue: pd.DataFrame
    curves: pd.DataFrame
    headline: dict = field(default_factory=dict)


def cohort_tables(activity: pd.DataFrame, grain: str = "month", by: str | None = None) -> CohortReport:
    """Build every cohort table and the headline numbers from a cohort activity frame.

    The headline pools the dimension values first (one row per cohort and age), so that splitting by a
    dimension never changes it.
    """
    check_grain(grain)
    overall = cohort_curves(pooled_over_dimensions(activity)).set_index("age")
    sizes = activity.loc[activity["age"] == 0]
    headline: dict = {
        "cohorts": int(sizes["cohort"].nunique()),
        "customers_acquired": int(sizes["cohort_size"].sum()),
    }
    if not sizes.empty:
        per_cohort = sizes.groupby("cohort")["cohort_size"].sum()
        headline["largest_cohort"] = str(per_cohort.idxmax())
        headline["largest_cohort_size"] = int(per_cohort.max())
    for k in HEADLINE_AGES[grain]:
        if k in overall.index:
            headline[f"retention_age{k}"] = float(overall.loc[k, "retention"])
            headline[f"cohort_revenue_retention_net_age{k}"] = float(
                overall.loc[k, "cohort_revenue_retention_net"]
            )
            headline[f"cumulative_revenue_per_customer_age{k}"] = float(
                overall.loc[k, "cumulative_revenue_per_customer"]
            )
    year = age_of_months(12, grain)
    headline["retention_12m"] = (
        float(overall.loc[year, "retention"]) if year in overall.index else float("nan")
    )
    headline["cumulative_revenue_12m"] = (
        float(overall.loc[year, "cumulative_revenue_per_customer"]) if year in overall.index else float("nan")
    )
    return CohortReport(
        grain=grain,
        by=by,
        activity=activity,
        retention=retention_triangle(activity),
        cohort_revenue_retention_net=cohort_revenue_retention(activity, "net"),
        cohort_revenue_retention_gross=cohort_revenue_retention(activity, "gross"),
        cumulative_revenue=cumulative_revenue_per_customer(activity),
        curves=cohort_curves(activity),
        headline=headline,
    )

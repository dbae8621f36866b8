"""Customer lifecycle: acquisition cohorts, lifecycle stages and their flows, survival curves and action lists.

Definitions (shared by the DuckDB and the pandas implementations, which tests hold to agree):

* a *purchase line* is an order line with ``amount > 0`` whose status is not a return word (``returned``, ...:
  ``salesperf.data.validate.RETURNED``); cancelled lines (``validate.CANCELLED``) are ignored everywhere; returns
  (negative or return-status lines) count in net revenue only;
* a *purchase occasion* is a distinct (customer_id, order_date) day with at least one purchase line;
* a customer's *cohort* is the month (or quarter) of their first purchase occasion; *age* k is the number of whole
  periods since it (age 0 = the acquisition period);
* *net revenue* sums every non-cancelled line (returns netted), *gross revenue* sums purchase lines only.

Engine-side functions (``*_sql``) take a DuckDB connection with the canonical relation ``orders`` (and optionally
``customers``); pure functions take pandas frames. A notebook needs about one call per section:
:func:`cohort_report`, :func:`lifecycle_snapshot`, :func:`survival_curves`, :func:`at_risk_actions`,
:func:`second_purchase_due`, :func:`calibration_holdout`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import yaml
from scipy.stats import norm
from statsmodels.duration.survfunc import SurvfuncRight

from salesperf.analyses.lifecycle import clv
from salesperf.core.sql import CANCELLED, RETURNED
from salesperf.core.errors import UserError, examples

GRAINS = {"month": 1, "quarter": 3}
STAGES = ("new", "reactivated", "active", "at_risk", "churned")
ENTRY_STAGE = "none"
ACTIVITY_COLUMNS = ("cohort", "age", "customers", "revenue_net", "revenue_gross", "cohort_size", "is_complete")
DEFAULT_RULES_PATH = Path(__file__).parent / "rules.yml"


# ----------------------------------------------------------------------------------------------------------- helpers


def _as_date(value, what: str = "as_of") -> date:
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        stamp = pd.NaT
    if pd.isna(stamp):
        raise UserError(f"{what} {value!r} is not a date", hint="use an ISO date such as 2026-10-31")
    return stamp.date()


def _check_grain(grain: str) -> int:
    if grain not in GRAINS:
        raise UserError(f"cohort grain {grain!r} is not supported", hint=f"use one of {', '.join(GRAINS)}")
    return GRAINS[grain]


def _period_start(day: date, months: int) -> date:
    return date(day.year, (day.month - 1) // months * months + 1, 1)


def _period_end(day: date, months: int) -> date:
    start = _period_start(day, months)
    month_index = start.year * 12 + start.month - 1 + months
    return date(month_index // 12, month_index % 12 + 1, 1) - timedelta(days=1)


def period_label(starts: pd.Series, grain: str) -> pd.Series:
    """Label period start dates as ``2026-03`` (month) or ``2026-Q1`` (quarter), the labels of salesperf.core.periods.

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


def _relation_columns(con: duckdb.DuckDBPyConnection, name: str) -> list[str] | None:
    try:
        return [c.lower() for c in con.sql(f"SELECT * FROM {name} LIMIT 0").columns]
    except duckdb.Error:
        return None


def _orders_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    cols = _relation_columns(con, "orders")
    if cols is None:
        raise UserError("orders: the table is missing", hint="every analysis needs the orders table")
    missing = [c for c in ("customer_id", "order_date", "amount") if c not in cols]
    if missing:
        raise UserError(f"orders: column {missing[0]!r} is missing; columns present: {examples(cols, 8)}")
    return cols


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


def _line_filters(cols: list[str]) -> tuple[str, str]:
    """SQL for (keep line, is purchase line) over the canonical orders columns present.

    Status words are those of salesperf.data.validate, matched exactly: validated orders have cancelled lines removed
    and returns made negative already, so this only matters for raw frames, and an exact IN list costs far less than
    lower() on every line.
    """
    if "status" not in cols:
        return "TRUE", "amount > 0"
    keep = f"(status IS NULL OR status NOT IN {_sql_list(CANCELLED)})"
    purchase = f"amount > 0 AND (status IS NULL OR status NOT IN {_sql_list(RETURNED)})"
    return keep, purchase


def _pandas_line_flags(orders: pd.DataFrame, amount_col: str, status_col: str) -> tuple[pd.Series, pd.Series]:
    if status_col not in orders:
        return pd.Series(True, index=orders.index), orders[amount_col] > 0
    status = orders[status_col]
    keep = ~status.isin(CANCELLED)
    purchase = (orders[amount_col] > 0) & ~status.isin(RETURNED)
    return keep, purchase


def _require(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise UserError(
            f"{what}: column {missing[0]!r} is missing; columns present: {examples(frame.columns, 8)}",
            hint="pass the column name with the matching *_col= keyword",
        )


# ----------------------------------------------------------------------------------------------------------- cohorts


def _dimension_source(con: duckdb.DuckDBPyConnection, by: str, order_cols: list[str]) -> tuple[str, str]:
    """Where the cohort dimension comes from: ('orders', column) of the first purchase, or ('customers', column)."""
    table, _, column = by.rpartition(".")
    column = column.lower()
    if table in ("", "orders") and column in order_cols:
        return "orders", column
    customer_cols = _relation_columns(con, "customers") or []
    if table in ("", "customers") and column in customer_cols:
        return "customers", column
    raise UserError(
        f"cohort dimension {by!r} is neither an orders column nor a customers column",
        hint=f"orders has {examples(order_cols, 12)}; customers has {examples(customer_cols, 12) or 'no table'}",
    )


def cohort_activity_sql(
    con: duckdb.DuckDBPyConnection, as_of, grain: str = "month", by: str | None = None
) -> pd.DataFrame:
    """Acquisition-cohort activity computed in DuckDB over the relation ``orders``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection with the canonical relation ``orders`` (and ``customers`` when ``by`` names one of its columns).
    as_of : date-like
        Lines after this day are ignored.
    grain : {'month', 'quarter'}
        Cohort and age period.
    by : str, optional
        Compare cohorts by a dimension: an orders column (``channel``, ``category``, ``product_id``, ...) taken from
        the largest purchase line of the customer's first purchase day (ties: the smallest value), or a customers
        column (``region``, ...).
        ``customers.channel`` / ``orders.channel`` disambiguates. Missing values become ``'(none)'``.

    Returns
    -------
    DataFrame
        One row per ([by,] cohort, age) for every age the cohort has reached by ``as_of`` (zero-filled):
        ``[by], cohort`` (period label), ``age`` (int), ``customers`` (distinct customers with a purchase occasion at
        that age), ``revenue_net``, ``revenue_gross``, ``cohort_size`` (customers acquired), ``is_complete`` (False for
        the period containing ``as_of`` unless ``as_of`` is its last day). Sorted by [by], cohort, age.
    """
    day = _as_date(as_of)
    months = _check_grain(grain)
    cols = _orders_columns(con)
    keep, purchase = _line_filters(cols)
    dimension_cte, dim_select, dim_join = "", "", ""
    if by is not None:
        source, column = _dimension_source(con, by, cols)
        dim_select = "coalesce(CAST(d.dim AS VARCHAR), '(none)') AS dim, "
        dim_join = "LEFT JOIN dims d ON d.customer_id = c.customer_id"
        if source == "orders":
            dimension_cte = f""",
            first_lines AS (
                SELECT l.customer_id, l.amount, l.{column} AS dim
                FROM lines l JOIN cohorts c ON l.customer_id = c.customer_id AND l.order_date = c.first_date
                WHERE l.is_purchase
            ),
            dims AS (
                SELECT fl.customer_id, min(fl.dim) AS dim
                FROM first_lines fl
                JOIN (SELECT customer_id, max(amount) AS top FROM first_lines GROUP BY customer_id) t
                  ON t.customer_id = fl.customer_id AND fl.amount = t.top
                GROUP BY fl.customer_id
            )"""
        else:
            dimension_cte = f""",
            dims AS (SELECT CAST(customer_id AS VARCHAR) AS customer_id, max({column}) AS dim
                     FROM customers GROUP BY CAST(customer_id AS VARCHAR))"""
    dim_line = f", {column}" if by is not None and source == "orders" else ""
    age = (
        "(EXTRACT(year FROM cp.period) - EXTRACT(year FROM c.cohort)) * 12"
        " + EXTRACT(month FROM cp.period) - EXTRACT(month FROM c.cohort)"
    )
    sql = f"""
        WITH lines AS (
            SELECT CAST(customer_id AS VARCHAR) AS customer_id, CAST(order_date AS DATE) AS order_date,
                   CAST(amount AS DOUBLE) AS amount, ({purchase}) AS is_purchase{dim_line}
            FROM orders
            WHERE CAST(order_date AS DATE) <= DATE '{day.isoformat()}' AND {keep} AND customer_id IS NOT NULL
        ),
        customer_period AS (
            SELECT customer_id, CAST(date_trunc('{grain}', order_date) AS DATE) AS period,
                   max(CASE WHEN is_purchase THEN 1 ELSE 0 END) AS purchased,
                   min(CASE WHEN is_purchase THEN order_date END) AS first_purchase_date,
                   sum(amount) AS revenue_net,
                   sum(CASE WHEN is_purchase THEN amount ELSE 0 END) AS revenue_gross
            FROM lines
            GROUP BY customer_id, CAST(date_trunc('{grain}', order_date) AS DATE)
        ),
        cohorts AS (
            SELECT customer_id, min(period) AS cohort, min(first_purchase_date) AS first_date
            FROM customer_period WHERE purchased = 1 GROUP BY customer_id
        ){dimension_cte}
        SELECT {dim_select}c.cohort, CAST(({age}) / {months} AS INTEGER) AS age,
               sum(cp.purchased) AS customers, sum(cp.revenue_net) AS revenue_net,
               sum(cp.revenue_gross) AS revenue_gross
        FROM customer_period cp
        JOIN cohorts c ON c.customer_id = cp.customer_id
        {dim_join}
        WHERE cp.period >= c.cohort
        GROUP BY ALL
    """
    long = con.sql(sql).df()
    if by is not None:
        long = long.rename(columns={"dim": by.rpartition(".")[2]})
    return _complete_cohort_grid(long, day, grain, dims=[by.rpartition(".")[2]] if by else [])


def _complete_cohort_grid(long: pd.DataFrame, as_of: date, grain: str, dims: list[str]) -> pd.DataFrame:
    """Zero-fill every age a cohort has reached, add cohort sizes, labels and the completeness flag."""
    months = GRAINS[grain]
    columns = [*dims, *ACTIVITY_COLUMNS]
    if long.empty:
        types = {"age": "int64", "customers": "int64", "revenue_net": float, "revenue_gross": float,
                 "cohort_size": "int64", "is_complete": bool}
        return pd.DataFrame({c: pd.Series(dtype=types.get(c, object)) for c in columns})
    long["cohort"] = pd.to_datetime(long["cohort"])
    last_start = pd.Timestamp(_period_start(as_of, months))
    cohort_keys = long[[*dims, "cohort"]].drop_duplicates()
    reached = ((last_start.year - cohort_keys["cohort"].dt.year) * 12
               + last_start.month - cohort_keys["cohort"].dt.month) // months
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
    out["is_complete"] = ~((period_month_index == last_start.year * 12 + last_start.month - 1)
                           & (as_of != _period_end(as_of, months)))
    out["cohort"] = period_label(out["cohort"], grain)
    return out[columns].sort_values([*dims, "cohort", "age"], ignore_index=True)


def cohort_activity(
    orders: pd.DataFrame,
    as_of,
    grain: str = "month",
    by: str | None = None,
    customers: pd.DataFrame | None = None,
    *,
    customer_col: str = "customer_id",
    date_col: str = "order_date",
    amount_col: str = "amount",
    status_col: str = "status",
) -> pd.DataFrame:
    """Pandas twin of :func:`cohort_activity_sql` for frames that fit in memory (same definitions, same output).

    Parameters
    ----------
    orders : DataFrame
        One row per order line with customer, date, amount and optionally status and the ``by`` column.
    as_of, grain, by
        As in :func:`cohort_activity_sql`; ``by`` is looked up in ``orders`` first, then in ``customers``.
    customers : DataFrame, optional
        Customers table (``customer_id`` plus the ``by`` column) for customer dimensions.

    Returns
    -------
    DataFrame
        Same columns and rows as :func:`cohort_activity_sql`.
    """
    day = _as_date(as_of)
    months = _check_grain(grain)
    _require(orders, [customer_col, date_col, amount_col], "orders")
    keep, purchase = _pandas_line_flags(orders, amount_col, status_col)
    lines = pd.DataFrame({
        "customer_id": orders[customer_col].astype("string"),
        "order_date": pd.to_datetime(orders[date_col]).dt.normalize(),
        "amount": orders[amount_col].astype(float),
        "is_purchase": purchase,
    })
    lines = lines[keep & (lines["order_date"] <= pd.Timestamp(day)) & lines["customer_id"].notna()]
    lines["period"] = lines["order_date"].dt.to_period("M" if months == 1 else "Q").dt.start_time
    lines["gross"] = lines["amount"].where(lines["is_purchase"], 0.0)
    per = lines.groupby(["customer_id", "period"]).agg(
        purchased=("is_purchase", "max"), revenue_net=("amount", "sum"), revenue_gross=("gross", "sum")
    ).reset_index()
    cohort = per[per["purchased"]].groupby("customer_id")["period"].min().rename("cohort")
    per = per.join(cohort, on="customer_id", how="inner")
    per = per[per["period"] >= per["cohort"]]
    per["age"] = ((per["period"].dt.year - per["cohort"].dt.year) * 12
                  + per["period"].dt.month - per["cohort"].dt.month) // months
    dims: list[str] = []
    if by is not None:
        column = by.rpartition(".")[2]
        dims = [column]
        if column in orders.columns and not by.startswith("customers."):
            first = lines[lines["is_purchase"]].assign(dim=orders.loc[lines.index, column])
            first = first[first["order_date"] == first.groupby("customer_id")["order_date"].transform("min")]
            first = first.sort_values(["customer_id", "amount", "dim"], ascending=[True, False, True],
                                      na_position="last")
            dim = first.drop_duplicates("customer_id").set_index("customer_id")["dim"]
        elif customers is not None and column in customers.columns:
            dim = customers.assign(customer_id=customers[customer_col].astype("string")).groupby(
                "customer_id")[column].max()
        else:
            raise UserError(f"cohort dimension {by!r} is neither an orders column nor a customers column")
        per[column] = per["customer_id"].map(dim).astype(object).where(lambda s: s.notna(), "(none)").astype(str)
    per["customers"] = per["purchased"].astype(int)
    long = per.groupby([*dims, "cohort", "age"], as_index=False)[
        ["customers", "revenue_net", "revenue_gross"]].sum()
    return _complete_cohort_grid(long, day, grain, dims)


def _dims(activity: pd.DataFrame) -> list[str]:
    _require(activity, list(ACTIVITY_COLUMNS), "cohort activity")
    return [c for c in activity.columns if c not in ACTIVITY_COLUMNS]


def _pivot(activity: pd.DataFrame, values: pd.Series, complete_only: bool) -> pd.DataFrame:
    dims = _dims(activity)
    frame = activity.assign(value=values)
    if complete_only:
        frame.loc[~frame["is_complete"].astype(bool), "value"] = np.nan
    table = frame.set_index([*dims, "cohort", "age"])["value"].astype(float).unstack("age")
    table.columns.name = "age"
    return table


def retention_triangle(activity: pd.DataFrame, complete_only: bool = True) -> pd.DataFrame:
    """Customer retention triangle: share of each cohort with a purchase occasion at age k.

    Parameters
    ----------
    activity : DataFrame
        Output of :func:`cohort_activity_sql` / :func:`cohort_activity`.
    complete_only : bool
        Blank (NaN) the cells of the period still running at the as-of date.

    Returns
    -------
    DataFrame
        Index ([by,] cohort), columns age 0..K, values in [0, 1]; age 0 is 1 by definition; NaN where not reached.
    """
    return _pivot(activity, activity["customers"] / activity["cohort_size"], complete_only)


def revenue_retention(activity: pd.DataFrame, basis: str = "net", complete_only: bool = True) -> pd.DataFrame:
    """Revenue retention triangle: cohort revenue at age k divided by its revenue at age 0.

    Parameters
    ----------
    activity : DataFrame
        Output of :func:`cohort_activity_sql` / :func:`cohort_activity`.
    basis : {'net', 'gross'}
        ``net`` nets returns (can exceed 1 with expansion, can drop with returns); ``gross`` ignores returns.
    complete_only : bool
        Blank the cells of the period still running at the as-of date.

    Returns
    -------
    DataFrame
        Index ([by,] cohort), columns age, values revenue_k / revenue_0 (NaN when revenue_0 <= 0 or not reached).
    """
    column = _basis_column(basis)
    dims = _dims(activity)
    base = activity.loc[activity["age"] == 0].set_index([*dims, "cohort"])[column]
    base = activity[[*dims, "cohort"]].join(base.where(base > 0).rename("base"), on=[*dims, "cohort"])["base"]
    return _pivot(activity, activity[column] / base, complete_only)


def _basis_column(basis: str) -> str:
    if basis not in ("net", "gross"):
        raise UserError(f"revenue basis {basis!r} is not supported", hint="use net or gross")
    return f"revenue_{basis}"


def cumulative_revenue_per_customer(
    activity: pd.DataFrame, basis: str = "net", complete_only: bool = True
) -> pd.DataFrame:
    """Cumulative revenue per acquired customer by cohort age (revenue up to and including age k / cohort size).

    Parameters
    ----------
    activity : DataFrame
        Output of :func:`cohort_activity_sql` / :func:`cohort_activity`.
    basis : {'net', 'gross'}
    complete_only : bool
        Blank the cells of the period still running at the as-of date.

    Returns
    -------
    DataFrame
        Index ([by,] cohort), columns age, values in currency per acquired customer.
    """
    column = _basis_column(basis)
    dims = _dims(activity)
    ordered = activity.sort_values([*dims, "cohort", "age"])
    cumulative = ordered.groupby([*dims, "cohort"])[column].cumsum() / ordered["cohort_size"]
    return _pivot(ordered, cumulative, complete_only)


def cohort_curves(activity: pd.DataFrame, complete_only: bool = True) -> pd.DataFrame:
    """Cohorts pooled into one curve per dimension value: the numbers a sentence or a line chart needs.

    Each age pools only the cohorts that have completed it, weighted by size (so young cohorts do not drag the tail).

    Parameters
    ----------
    activity : DataFrame
        Output of :func:`cohort_activity_sql` / :func:`cohort_activity`.
    complete_only : bool
        Leave out the cells of the period still running at the as-of date.

    Returns
    -------
    DataFrame
        One row per ([by,] age): ``cohorts`` pooled, ``customers_acquired`` (their total size), ``customers`` active,
        ``retention``, ``revenue_retention_net``, ``revenue_retention_gross`` (revenue at age k / the same cohorts'
        revenue at age 0), ``cumulative_revenue_per_customer`` (net, same cohorts).
    """
    dims = _dims(activity)
    frame = activity.sort_values([*dims, "cohort", "age"]).copy()
    frame["cumulative_net"] = frame.groupby([*dims, "cohort"])["revenue_net"].cumsum()
    base = frame.loc[frame["age"] == 0].set_index([*dims, "cohort"])[["revenue_net", "revenue_gross"]]
    frame = frame.join(base.add_suffix("_age0"), on=[*dims, "cohort"])
    if complete_only:
        frame = frame[frame["is_complete"].astype(bool)]
    pooled = frame.groupby([*dims, "age"]).agg(
        cohorts=("cohort", "nunique"), customers_acquired=("cohort_size", "sum"), customers=("customers", "sum"),
        revenue_net=("revenue_net", "sum"), revenue_gross=("revenue_gross", "sum"),
        revenue_net_age0=("revenue_net_age0", "sum"), revenue_gross_age0=("revenue_gross_age0", "sum"),
        cumulative_net=("cumulative_net", "sum"),
    ).reset_index()
    pooled["retention"] = pooled["customers"] / pooled["customers_acquired"]
    for basis in ("net", "gross"):
        denominator = pooled[f"revenue_{basis}_age0"].where(pooled[f"revenue_{basis}_age0"] > 0)
        pooled[f"revenue_retention_{basis}"] = pooled[f"revenue_{basis}"] / denominator
    pooled["cumulative_revenue_per_customer"] = pooled["cumulative_net"] / pooled["customers_acquired"]
    return pooled[[*dims, "age", "cohorts", "customers_acquired", "customers", "retention",
                   "revenue_retention_net", "revenue_retention_gross", "cumulative_revenue_per_customer"]]


@dataclass
class CohortReport:
    """Every cohort table of one report section, plus the headline numbers for its generated sentences.

    Attributes
    ----------
    grain : str
    by : str or None
    activity : DataFrame
        Long cohort activity (see :func:`cohort_activity_sql`).
    retention, revenue_retention_net, revenue_retention_gross, cumulative_revenue : DataFrame
        The triangles (index [by,] cohort; columns age).
    curves : DataFrame
        Pooled curves (see :func:`cohort_curves`).
    headline : dict
        ``cohorts``, ``customers_acquired``, ``largest_cohort`` / ``largest_cohort_size``, and for each age in
        (1, 3, 6, 12) [months; quarters (1, 2, 4)] reached: ``retention_age{k}``, ``revenue_retention_net_age{k}``,
        ``cumulative_revenue_per_customer_age{k}`` (pooled over all cohorts and dimension values).
    """

    grain: str
    by: str | None
    activity: pd.DataFrame
    retention: pd.DataFrame
    revenue_retention_net: pd.DataFrame
    revenue_retention_gross: pd.DataFrame
    cumulative_revenue: pd.DataFrame
    curves: pd.DataFrame
    headline: dict = field(default_factory=dict)


def cohort_tables(activity: pd.DataFrame, grain: str = "month", by: str | None = None) -> CohortReport:
    """Build every cohort table and the headline numbers from a cohort activity frame (pure).

    Parameters
    ----------
    activity : DataFrame
        Output of :func:`cohort_activity_sql` / :func:`cohort_activity`.
    grain : {'month', 'quarter'}
        Grain the activity was computed at (decides which ages the headline reports).
    by : str, optional
        The dimension the activity was split by (for the record).

    Returns
    -------
    CohortReport
    """
    months = _check_grain(grain)
    overall = cohort_curves(activity.drop(columns=_dims(activity)))
    sizes = activity.loc[activity["age"] == 0]
    headline: dict = {
        "cohorts": int(sizes["cohort"].nunique()),
        "customers_acquired": int(sizes["cohort_size"].sum()),
    }
    if not sizes.empty:
        per_cohort = sizes.groupby("cohort")["cohort_size"].sum()
        headline["largest_cohort"] = str(per_cohort.idxmax())
        headline["largest_cohort_size"] = int(per_cohort.max())
    for k in ((1, 3, 6, 12) if months == 1 else (1, 2, 4)):
        row = overall.loc[overall["age"] == k]
        if not row.empty:
            headline[f"retention_age{k}"] = float(row["retention"].iloc[0])
            headline[f"revenue_retention_net_age{k}"] = float(row["revenue_retention_net"].iloc[0])
            headline[f"cumulative_revenue_per_customer_age{k}"] = float(
                row["cumulative_revenue_per_customer"].iloc[0])
    return CohortReport(
        grain=grain, by=by, activity=activity,
        retention=retention_triangle(activity),
        revenue_retention_net=revenue_retention(activity, "net"),
        revenue_retention_gross=revenue_retention(activity, "gross"),
        cumulative_revenue=cumulative_revenue_per_customer(activity),
        curves=cohort_curves(activity), headline=headline,
    )


def cohort_report(
    con: duckdb.DuckDBPyConnection, as_of, grain: str = "month", by: str | None = None
) -> CohortReport:
    """Cohort section in one call: :func:`cohort_activity_sql` then :func:`cohort_tables`.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection with the relation ``orders`` (and ``customers`` for customer dimensions).
    as_of, grain, by
        As in :func:`cohort_activity_sql`.

    Returns
    -------
    CohortReport
    """
    return cohort_tables(cohort_activity_sql(con, as_of, grain, by), grain, by)


# ------------------------------------------------------------------------------------------------------------ rules


@dataclass(frozen=True)
class LifecycleRules:
    """Stage thresholds and treatments (see salesperf/conf/lifecycle.yml for the meaning of each field)."""

    new_days: int
    reactivation_days: int
    at_risk_days: int
    churn_days: int
    rhythm_enabled: bool
    rhythm_min_occasions: int
    rhythm_at_risk_multiple: float
    rhythm_churn_multiple: float
    rhythm_min_days: int
    rhythm_max_days: int
    second_purchase_quantile: float
    stages: dict
    treatments: dict
    entry_stage: dict

    def stage_label(self, stage: str, lang: str = "en") -> str:
        """Label of a stage (or of the entry pseudo-stage ``none``) in ``en`` or ``zh``."""
        source = self.entry_stage if stage == ENTRY_STAGE else self.stages[stage]
        return source[f"label_{lang}"]


def _merge(base: dict, override: dict, where: str) -> dict:
    out = dict(base)
    for key, value in override.items():
        if key not in base:
            raise UserError(f"{where}: unknown key {key!r}", hint=f"known keys: {', '.join(map(str, base))}")
        out[key] = _merge(base[key], value, f"{where}.{key}") if isinstance(base[key], dict) and isinstance(
            value, dict) and key not in ("stages", "treatments") else value
    return out


def load_rules(path: str | Path | None = None, overrides: dict | None = None) -> LifecycleRules:
    """Read the lifecycle rules: the packaged defaults, then a user YAML file, then ``overrides``.

    Parameters
    ----------
    path : str or Path, optional
        A YAML file with any subset of the keys of salesperf/conf/lifecycle.yml.
    overrides : dict, optional
        Same structure, e.g. ``{'thresholds': {'churn_days': 180}}``.

    Returns
    -------
    LifecycleRules

    Raises
    ------
    UserError
        Unknown keys, non-positive thresholds, churn below at-risk, stages without a treatment or labels.
    """
    where = str(DEFAULT_RULES_PATH)
    config = yaml.safe_load(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))
    if path is not None:
        where = str(path)
        try:
            user = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            raise UserError(f"{path}: cannot read the lifecycle rules ({error})") from None
        if not isinstance(user, dict):
            raise UserError(f"{path}: expected a mapping of lifecycle rules")
        config = _merge(config, user, where)
    if overrides:
        config = _merge(config, overrides, "overrides")
    t, r = config["thresholds"], config["rhythm"]
    for name, value in [*t.items(), *((f"rhythm.{k}", v) for k, v in r.items() if k != "enabled")]:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise UserError(f"{where}: {name} must be a positive number, got {value!r}")
    if t["churn_days"] < t["at_risk_days"]:
        raise UserError(f"{where}: thresholds.churn_days ({t['churn_days']}) is below at_risk_days "
                        f"({t['at_risk_days']})", hint="a customer is at risk before being churned")
    if r["churn_multiple"] < r["at_risk_multiple"] or r["max_days"] < r["min_days"]:
        raise UserError(f"{where}: rhythm.churn_multiple must be >= at_risk_multiple and max_days >= min_days")
    quantile = config["second_purchase"]["typical_quantile"]
    if not 0 < quantile < 1:
        raise UserError(f"{where}: second_purchase.typical_quantile must be between 0 and 1, got {quantile!r}")
    for stage in STAGES:
        spec = config["stages"].get(stage)
        if not isinstance(spec, dict) or not all(spec.get(k) for k in ("label_en", "label_zh", "treatment")):
            raise UserError(f"{where}: stage {stage!r} needs label_en, label_zh and treatment")
        treatment = config["treatments"].get(spec["treatment"])
        if not isinstance(treatment, dict) or not all(treatment.get(k) for k in ("label_en", "label_zh")):
            raise UserError(f"{where}: treatment {spec['treatment']!r} (stage {stage!r}) needs label_en and label_zh")
    return LifecycleRules(
        new_days=int(t["new_days"]), reactivation_days=int(t["reactivation_days"]),
        at_risk_days=int(t["at_risk_days"]), churn_days=int(t["churn_days"]),
        rhythm_enabled=bool(r["enabled"]), rhythm_min_occasions=int(r["min_occasions"]),
        rhythm_at_risk_multiple=float(r["at_risk_multiple"]), rhythm_churn_multiple=float(r["churn_multiple"]),
        rhythm_min_days=int(r["min_days"]), rhythm_max_days=int(r["max_days"]),
        second_purchase_quantile=float(quantile),
        stages=config["stages"], treatments=config["treatments"], entry_stage=config["entry_stage"],
    )


# ------------------------------------------------------------------------------------------------ customer summaries

SUMMARY_COLUMNS = ("customer_id", "first_date", "second_date", "last_date", "occasions", "occasions_before_recent",
                   "typical_gap_days", "typical_gap_before_recent_days", "recent_max_gap_days", "revenue_net",
                   "revenue_gross", "revenue_12m")


def customer_summary_sql(
    con: duckdb.DuckDBPyConnection, as_of, recent_days: int | None = None
) -> pd.DataFrame:
    """Per-customer purchase history at ``as_of``, computed in DuckDB over the relation ``orders``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection with the canonical relation ``orders``.
    as_of : date-like
        Lines after this day are ignored.
    recent_days : int, optional
        Window for ``recent_max_gap_days`` (defaults to the rules' ``reactivation_days``).

    Returns
    -------
    DataFrame
        One row per customer with at least one purchase occasion: ``customer_id``, ``first_date``,
        ``second_date`` (NaT for one-time buyers), ``last_date``, ``occasions`` (purchase days),
        ``occasions_before_recent`` (occasions before the last ``recent_days`` days),
        ``typical_gap_days`` (median days between consecutive occasions; NaN with one occasion),
        ``typical_gap_before_recent_days`` (the same over the occasions before the last ``recent_days`` days: the
        rhythm a comeback is judged against), ``recent_max_gap_days`` (longest gap before an occasion in the last
        ``recent_days`` days; NaN if none),
        ``revenue_net``, ``revenue_gross``, ``revenue_12m`` (net, the 365 days up to ``as_of``).
    """
    day = _as_date(as_of)
    recent = int(recent_days if recent_days is not None else load_rules().reactivation_days)
    keep, purchase = _line_filters(_orders_columns(con))
    cut = f"DATE '{day.isoformat()}' - {recent}"
    sql = f"""
        WITH lines AS (
            SELECT CAST(customer_id AS VARCHAR) AS customer_id, CAST(order_date AS DATE) AS order_date,
                   CAST(amount AS DOUBLE) AS amount, ({purchase}) AS is_purchase
            FROM orders
            WHERE CAST(order_date AS DATE) <= DATE '{day.isoformat()}' AND {keep} AND customer_id IS NOT NULL
        ),
        days AS (
            SELECT customer_id, order_date, sum(amount) AS net,
                   sum(CASE WHEN is_purchase THEN amount ELSE 0 END) AS gross,
                   max(CASE WHEN is_purchase THEN 1 ELSE 0 END) AS purchased
            FROM lines GROUP BY customer_id, order_date
        ),
        occasions AS (
            SELECT customer_id, order_date,
                   order_date - lag(order_date) OVER (PARTITION BY customer_id ORDER BY order_date) AS gap,
                   row_number() OVER (PARTITION BY customer_id ORDER BY order_date) AS n
            FROM days WHERE purchased = 1
        ),
        history AS (
            SELECT customer_id, min(order_date) AS first_date,
                   min(CASE WHEN n = 2 THEN order_date END) AS second_date,
                   max(order_date) AS last_date, count(*) AS occasions,
                   sum(CASE WHEN order_date <= {cut} THEN 1 ELSE 0 END) AS occasions_before_recent,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY gap) AS typical_gap_days,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY CASE WHEN order_date <= {cut} THEN gap END)
                       AS typical_gap_before_recent_days,
                   max(CASE WHEN order_date > {cut} THEN gap END) AS recent_max_gap_days
            FROM occasions GROUP BY customer_id
        ),
        money AS (
            SELECT customer_id, sum(net) AS revenue_net, sum(gross) AS revenue_gross,
                   sum(CASE WHEN order_date > DATE '{day.isoformat()}' - 365 THEN net ELSE 0 END) AS revenue_12m
            FROM days GROUP BY customer_id
        )
        SELECT h.*, m.revenue_net, m.revenue_gross, m.revenue_12m
        FROM history h JOIN money m ON m.customer_id = h.customer_id
        ORDER BY h.customer_id
    """
    return _typed_summary(con.sql(sql).df())


def _typed_summary(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame[list(SUMMARY_COLUMNS)].copy()
    for column in ("first_date", "second_date", "last_date"):
        frame[column] = pd.to_datetime(frame[column])
    for column in ("occasions", "occasions_before_recent"):
        frame[column] = frame[column].astype("int64")
    for column in SUMMARY_COLUMNS[6:]:
        frame[column] = frame[column].astype(float)
    frame["customer_id"] = frame["customer_id"].astype(str)
    return frame.sort_values("customer_id", ignore_index=True)


def customer_summary(
    orders: pd.DataFrame,
    as_of,
    recent_days: int | None = None,
    *,
    customer_col: str = "customer_id",
    date_col: str = "order_date",
    amount_col: str = "amount",
    status_col: str = "status",
) -> pd.DataFrame:
    """Pandas twin of :func:`customer_summary_sql` for frames that fit in memory (same columns and values).

    Parameters
    ----------
    orders : DataFrame
        One row per order line.
    as_of, recent_days
        As in :func:`customer_summary_sql`.

    Returns
    -------
    DataFrame
        Same as :func:`customer_summary_sql`.
    """
    day = pd.Timestamp(_as_date(as_of))
    recent = int(recent_days if recent_days is not None else load_rules().reactivation_days)
    _require(orders, [customer_col, date_col, amount_col], "orders")
    keep, purchase = _pandas_line_flags(orders, amount_col, status_col)
    lines = pd.DataFrame({
        "customer_id": orders[customer_col].astype("string"),
        "order_date": pd.to_datetime(orders[date_col]).dt.normalize(),
        "amount": orders[amount_col].astype(float),
        "purchased": purchase,
    })
    lines = lines[keep & (lines["order_date"] <= day) & lines["customer_id"].notna()]
    lines["gross"] = lines["amount"].where(lines["purchased"], 0.0)
    days = lines.groupby(["customer_id", "order_date"]).agg(
        net=("amount", "sum"), gross=("gross", "sum"), purchased=("purchased", "max")).reset_index()
    occasions = days[days["purchased"]].sort_values(["customer_id", "order_date"]).copy()
    occasions["gap"] = occasions.groupby("customer_id")["order_date"].diff().dt.days
    occasions["n"] = occasions.groupby("customer_id").cumcount() + 1
    is_recent = occasions["order_date"] > day - pd.Timedelta(days=recent)
    occasions["recent_gap"] = occasions["gap"].where(is_recent)
    occasions["earlier_gap"] = occasions["gap"].where(~is_recent)
    occasions["earlier"] = (~is_recent).astype(int)
    history = occasions.groupby("customer_id").agg(
        first_date=("order_date", "min"), last_date=("order_date", "max"), occasions=("order_date", "size"),
        occasions_before_recent=("earlier", "sum"), typical_gap_days=("gap", "median"),
        typical_gap_before_recent_days=("earlier_gap", "median"), recent_max_gap_days=("recent_gap", "max"),
    )
    history["second_date"] = occasions[occasions["n"] == 2].set_index("customer_id")["order_date"]
    days["recent_net"] = days["net"].where(days["order_date"] > day - pd.Timedelta(days=365), 0.0)
    money = days.groupby("customer_id").agg(
        revenue_net=("net", "sum"), revenue_gross=("gross", "sum"), revenue_12m=("recent_net", "sum"))
    return _typed_summary(history.join(money, how="inner").reset_index())


# ----------------------------------------------------------------------------------------------------------- stages


def assign_stages(summary: pd.DataFrame, as_of, rules: LifecycleRules | None = None) -> pd.DataFrame:
    """Lifecycle stage of every customer at ``as_of`` (rules and their order: salesperf/conf/lifecycle.yml).

    Parameters
    ----------
    summary : DataFrame
        Output of :func:`customer_summary_sql` / :func:`customer_summary` (one row per customer).
    as_of : date-like
        The date the stages describe (the same as the summary's).
    rules : LifecycleRules, optional
        Defaults to :func:`load_rules`.

    Returns
    -------
    DataFrame
        The summary plus ``days_since_first``, ``recency_days``, ``has_rhythm``, ``at_risk_after_days``,
        ``churn_after_days`` (the customer's thresholds), ``lapse_after_days`` (the churn threshold of the rhythm
        before the recent window, which a comeback gap must exceed to count as reactivation), ``stage`` (one of new, reactivated, active, at_risk,
        churned), ``stage_label_en``, ``stage_label_zh``, ``treatment``, ``treatment_en``, ``treatment_zh``.
    """
    rules = rules or load_rules()
    _require(summary, list(SUMMARY_COLUMNS), "customer summary")
    day = pd.Timestamp(_as_date(as_of))
    out = summary.copy()
    out["days_since_first"] = (day - pd.to_datetime(out["first_date"])).dt.days
    out["recency_days"] = (day - pd.to_datetime(out["last_date"])).dt.days
    out["has_rhythm"], out["at_risk_after_days"], out["churn_after_days"] = _thresholds(
        out["occasions"], out["typical_gap_days"], rules)
    _, _, out["lapse_after_days"] = _thresholds(
        out["occasions_before_recent"], out["typical_gap_before_recent_days"], rules)
    conditions = [
        out["days_since_first"] < rules.new_days,
        out["recent_max_gap_days"].astype(float) > out["lapse_after_days"],
        out["recency_days"] <= out["at_risk_after_days"],
        out["recency_days"] <= out["churn_after_days"],
    ]
    out["stage"] = np.select(conditions, list(STAGES[:4]), default="churned")
    return _with_stage_labels(out, rules)


def _thresholds(occasions: pd.Series, typical_gap: pd.Series, rules: LifecycleRules):
    """(has rhythm, at-risk threshold, churn threshold) in days for each customer."""
    gap = typical_gap.astype(float)
    has_rhythm = rules.rhythm_enabled & (occasions >= rules.rhythm_min_occasions) & gap.notna()
    clip = {"lower": rules.rhythm_min_days, "upper": rules.rhythm_max_days}
    at_risk = np.where(has_rhythm, (gap * rules.rhythm_at_risk_multiple).clip(**clip), rules.at_risk_days)
    churn = np.maximum(at_risk, np.where(has_rhythm, (gap * rules.rhythm_churn_multiple).clip(**clip),
                                         rules.churn_days))
    return has_rhythm, at_risk, churn


def _with_stage_labels(frame: pd.DataFrame, rules: LifecycleRules) -> pd.DataFrame:
    # dictionaries over the few stage values, not a Python call per customer
    stages = frame["stage"].unique()
    for lang in ("en", "zh"):
        frame[f"stage_label_{lang}"] = frame["stage"].map({s: rules.stage_label(s, lang) for s in stages})
    frame["treatment"] = frame["stage"].map({s: rules.stages[s]["treatment"] for s in stages})
    treatments = frame["treatment"].unique()
    for lang in ("en", "zh"):
        frame[f"treatment_{lang}"] = frame["treatment"].map({t: rules.treatments[t][f"label_{lang}"] for t in treatments})
    return frame


def stage_summary(stages: pd.DataFrame, rules: LifecycleRules | None = None) -> pd.DataFrame:
    """Customers, share and revenue per lifecycle stage, with the recommended treatment.

    Parameters
    ----------
    stages : DataFrame
        Output of :func:`assign_stages`.
    rules : LifecycleRules, optional

    Returns
    -------
    DataFrame
        One row per stage in lifecycle order (all five, zero-filled): ``stage``, ``customers``, ``share``,
        ``revenue_12m``, ``revenue_net`` (lifetime), ``median_recency_days``, ``stage_label_en``,
        ``stage_label_zh``, ``treatment``, ``treatment_en``, ``treatment_zh``.
    """
    rules = rules or load_rules()
    _require(stages, ["stage", "revenue_12m", "revenue_net", "recency_days"], "stages")
    grouped = stages.groupby("stage").agg(
        customers=("stage", "size"), revenue_12m=("revenue_12m", "sum"), revenue_net=("revenue_net", "sum"),
        median_recency_days=("recency_days", "median"),
    ).reindex(list(STAGES))
    grouped[["customers", "revenue_12m", "revenue_net"]] = grouped[
        ["customers", "revenue_12m", "revenue_net"]].fillna(0)
    grouped["customers"] = grouped["customers"].astype("int64")
    grouped["share"] = grouped["customers"] / max(int(grouped["customers"].sum()), 1)
    out = grouped.rename_axis("stage").reset_index()
    out = _with_stage_labels(out, rules)
    return out[["stage", "customers", "share", "revenue_12m", "revenue_net", "median_recency_days",
                "stage_label_en", "stage_label_zh", "treatment", "treatment_en", "treatment_zh"]]


def stage_flows(previous: pd.DataFrame, current: pd.DataFrame, rules: LifecycleRules | None = None) -> pd.DataFrame:
    """Movements between lifecycle stages from the previous as-of date to this one.

    Parameters
    ----------
    previous, current : DataFrame
        Outputs of :func:`assign_stages` at the previous and at this as-of date.
    rules : LifecycleRules, optional
        For the labels.

    Returns
    -------
    DataFrame
        One row per observed (from_stage, to_stage): ``customers``, ``revenue`` (net revenue the movers brought in
        between the two dates), ``from_label_en/zh``, ``to_label_en/zh``. Customers who had not bought by the previous
        date come from the pseudo-stage ``none``. Ordered by lifecycle order of from, then to.
    """
    rules = rules or load_rules()
    _require(previous, ["customer_id", "stage", "revenue_net"], "previous stages")
    _require(current, ["customer_id", "stage", "revenue_net"], "current stages")
    before = previous.set_index("customer_id")[["stage", "revenue_net"]]
    moves = current.join(before, on="customer_id", rsuffix="_before")
    moves["from_stage"] = moves["stage_before"].fillna(ENTRY_STAGE)
    moves["revenue"] = (moves["revenue_net"] - moves["revenue_net_before"].fillna(0.0)).round(2)
    flows = moves.groupby(["from_stage", "stage"]).agg(
        customers=("customer_id", "size"), revenue=("revenue", "sum")).reset_index()
    flows = flows.rename(columns={"stage": "to_stage"})
    order = {s: i for i, s in enumerate((ENTRY_STAGE, *STAGES))}
    flows = flows.sort_values(["from_stage", "to_stage"], key=lambda s: s.map(order), ignore_index=True)
    for side in ("from", "to"):
        for lang in ("en", "zh"):
            flows[f"{side}_label_{lang}"] = flows[f"{side}_stage"].map(
                lambda s, lang=lang: rules.stage_label(s, lang))
    return flows


@dataclass
class LifecycleSnapshot:
    """The lifecycle section of a report.

    Attributes
    ----------
    as_of, previous_as_of : datetime.date
    customers : DataFrame
        Per-customer stages at ``as_of`` (see :func:`assign_stages`).
    summary : DataFrame
        Per-stage counts, revenue and treatments (see :func:`stage_summary`).
    flows : DataFrame or None
        Stage flows since ``previous_as_of`` (see :func:`stage_flows`), None without a previous date.
    headline : dict
        ``customers``, ``{stage}`` counts and ``{stage}_share``, and with flows ``active_to_at_risk``,
        ``at_risk_to_churned``, ``reactivated_from_churned``, ``newly_acquired``.
    """

    as_of: date
    previous_as_of: date | None
    customers: pd.DataFrame
    summary: pd.DataFrame
    flows: pd.DataFrame | None
    headline: dict = field(default_factory=dict)


def lifecycle_snapshot(
    con: duckdb.DuckDBPyConnection, as_of, previous_as_of=None, rules: LifecycleRules | None = None
) -> LifecycleSnapshot:
    """Lifecycle section in one call: stages at ``as_of``, per-stage summary and flows since ``previous_as_of``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection with the relation ``orders``.
    as_of : date-like
    previous_as_of : date-like, optional
        E.g. the end of the previous report period.
    rules : LifecycleRules, optional

    Returns
    -------
    LifecycleSnapshot
    """
    rules = rules or load_rules()
    day = _as_date(as_of)
    current = assign_stages(customer_summary_sql(con, day, rules.reactivation_days), day, rules)
    summary = stage_summary(current, rules)
    headline: dict = {"customers": int(summary["customers"].sum())}
    for row in summary.itertuples():
        headline[row.stage] = int(row.customers)
        headline[f"{row.stage}_share"] = float(row.share)
    flows, before_day = None, None
    if previous_as_of is not None:
        before_day = _as_date(previous_as_of, "previous_as_of")
        if before_day >= day:
            raise UserError(f"previous_as_of {before_day} is not before as_of {day}")
        previous = assign_stages(customer_summary_sql(con, before_day, rules.reactivation_days), before_day, rules)
        flows = stage_flows(previous, current, rules)
        count = flows.set_index(["from_stage", "to_stage"])["customers"]
        for name, key in [("active_to_at_risk", ("active", "at_risk")), ("at_risk_to_churned", ("at_risk", "churned")),
                          ("reactivated_from_churned", ("churned", "reactivated"))]:
            headline[name] = int(count.get(key, 0))
        headline["newly_acquired"] = int(flows.loc[flows["from_stage"] == ENTRY_STAGE, "customers"].sum())
    return LifecycleSnapshot(day, before_day, current, summary, flows, headline)


# --------------------------------------------------------------------------------------------------------- survival


def lifetime_durations(
    stages: pd.DataFrame,
    as_of,
    event: str = "churn",
    group_col: str | None = None,
    cohort_grain: str | None = None,
) -> pd.DataFrame:
    """Per-customer durations and event flags for Kaplan–Meier (pure).

    ``event='churn'``: a customer counts as lost the day their churn threshold passes without a purchase, so the
    duration of a churned customer is ``last_date + churn_after_days - first_date`` (event 1); everyone else is
    censored at ``as_of - first_date``. Using the day the loss becomes known keeps censoring non-informative; the
    active part of a lifetime is this minus the churn threshold.
    ``event='second_purchase'``: duration ``second_date - first_date`` (event 1), else censored at
    ``as_of - first_date``.

    Parameters
    ----------
    stages : DataFrame
        Output of :func:`assign_stages` (``second_purchase`` needs only the summary columns).
    as_of : date-like
    event : {'churn', 'second_purchase'}
    group_col : str, optional
        Column of ``stages`` to split by (segment, region, ...).
    cohort_grain : {'month', 'quarter', 'year'}, optional
        Split by acquisition cohort instead (label of ``first_date``).

    Returns
    -------
    DataFrame
        ``customer_id``, ``group`` (``'all'`` without a split), ``duration_days`` (float, >= 0), ``event`` (0/1).
    """
    day = pd.Timestamp(_as_date(as_of))
    first = pd.to_datetime(stages["first_date"])
    censored = (day - first).dt.days.astype(float)
    if event == "churn":
        _require(stages, ["stage", "last_date", "churn_after_days"], "stages")
        happened = stages["stage"].eq("churned")
        lost_after = (pd.to_datetime(stages["last_date"]) - first).dt.days + stages["churn_after_days"]
        duration = np.where(happened, lost_after, censored)
    elif event == "second_purchase":
        happened = stages["second_date"].notna()
        duration = np.where(happened, (pd.to_datetime(stages["second_date"]) - first).dt.days, censored)
    else:
        raise UserError(f"survival event {event!r} is not supported", hint="use churn or second_purchase")
    if cohort_grain is not None:
        group = period_label(first, cohort_grain)
    elif group_col is not None:
        _require(stages, [group_col], "stages")
        group = stages[group_col].astype(object).where(stages[group_col].notna(), "(none)").astype(str)
    else:
        group = "all"
    return pd.DataFrame({
        "customer_id": stages["customer_id"].to_numpy(), "group": group,
        "duration_days": np.minimum(duration.astype(float), censored), "event": happened.astype(int).to_numpy(),
    })


@dataclass
class SurvivalCurves:
    """Kaplan–Meier curves per group.

    Attributes
    ----------
    curves : DataFrame
        Tidy, one row per (group, time): ``group``, ``time`` (days), ``survival``, ``lower``, ``upper`` (pointwise
        log-log band), ``at_risk``, ``events``; each group starts with a row at time 0, survival 1.
    medians : DataFrame
        One row per group: ``group``, ``customers``, ``events``, ``median_days`` (NaN when the curve never reaches
        0.5: "median not reached"), ``median_lower``, ``median_upper`` (confidence interval; upper may be inf).
    alpha : float
    """

    curves: pd.DataFrame
    medians: pd.DataFrame
    alpha: float


def survival_curves(durations: pd.DataFrame, alpha: float = 0.05, min_customers: int = 5) -> SurvivalCurves:
    """Kaplan–Meier survival curves with confidence bands and median lifetimes (statsmodels ``SurvfuncRight``).

    Parameters
    ----------
    durations : DataFrame
        Output of :func:`lifetime_durations`: ``group``, ``duration_days``, ``event``.
    alpha : float
        1 - confidence level of the bands and the median interval.
    min_customers : int
        Groups with fewer customers are left out (their curves are noise).

    Returns
    -------
    SurvivalCurves
    """
    _require(durations, ["group", "duration_days", "event"], "durations")
    z = norm.ppf(1 - alpha / 2)
    curve_parts, median_rows = [], []
    for group, frame in durations.groupby("group", sort=True):
        if len(frame) < min_customers:
            continue
        fit = SurvfuncRight(frame["duration_days"].to_numpy(float), frame["event"].to_numpy(int))
        survival, se = fit.surv_prob, fit.surv_prob_se
        with np.errstate(divide="ignore", invalid="ignore"):
            log_log = np.log(-np.log(survival))
            spread = z * se / np.abs(survival * np.log(survival))
            lower, upper = np.exp(-np.exp(log_log + spread)), np.exp(-np.exp(log_log - spread))
        lower = np.where(np.isfinite(lower), lower, survival)
        upper = np.where(np.isfinite(upper), upper, survival)
        curve_parts.append(pd.DataFrame({
            "group": group, "time": np.r_[0.0, fit.surv_times], "survival": np.r_[1.0, survival],
            "lower": np.r_[1.0, lower], "upper": np.r_[1.0, upper],
            "at_risk": np.r_[len(frame), fit.n_risk], "events": np.r_[0, fit.n_events],
        }))
        median, (low, high) = _km_median(fit, alpha)
        median_rows.append({"group": group, "customers": len(frame), "events": int(frame["event"].sum()),
                            "median_days": median, "median_lower": low, "median_upper": high})
    curves = pd.concat(curve_parts, ignore_index=True) if curve_parts else pd.DataFrame(
        columns=["group", "time", "survival", "lower", "upper", "at_risk", "events"])
    medians = pd.DataFrame(median_rows, columns=["group", "customers", "events", "median_days", "median_lower",
                                                  "median_upper"])
    return SurvivalCurves(curves, medians, alpha)


def _km_median(fit, alpha: float) -> tuple[float, tuple[float, float]]:
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # log(0) at the ends of the curve: no bound there
        median = float(fit.quantile(0.5))
        try:
            low, high = fit.quantile_ci(0.5, alpha=alpha, method="cloglog")
        except (ValueError, ZeroDivisionError):
            low, high = np.nan, np.nan
    return median, (float(low), float(high))


# ------------------------------------------------------------------------------------------------------ action lists


def _owners(stages: pd.DataFrame, customers: pd.DataFrame | None, owner_col: str) -> pd.Series:
    if customers is None or owner_col not in customers.columns or "customer_id" not in customers.columns:
        return pd.Series(pd.NA, index=stages.index, dtype="string")
    owners = customers.assign(customer_id=customers["customer_id"].astype(str)).drop_duplicates("customer_id")
    return stages["customer_id"].astype(str).map(owners.set_index("customer_id")[owner_col]).astype("string")


def historical_value(stages: pd.DataFrame) -> pd.Series:
    """Annual net revenue while active: ``revenue_net * 365 / max(365, last_date - first_date)`` (pure).

    The value at stake when no CLV model is available: what the customer was worth per year (never more than what
    they actually spent, since the span counts as at least a year).

    Parameters
    ----------
    stages : DataFrame
        With ``revenue_net``, ``first_date``, ``last_date``.

    Returns
    -------
    Series of float, same index.
    """
    span = (pd.to_datetime(stages["last_date"]) - pd.to_datetime(stages["first_date"])).dt.days.clip(lower=365)
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
        Output of :func:`assign_stages`.
    value : Series, optional
        Expected value per customer (index customer_id), e.g. a CLV from salesperf.analyses.lifecycle.clv; customers missing from it
        fall back to their historical value. Without it every customer uses :func:`historical_value`.
    customers : DataFrame, optional
        Customers table; ``owner_rep_id`` is taken from it (column empty when absent).
    include : tuple of str
        Stages to list.
    top : int, optional
        Keep the first ``top`` rows.

    Returns
    -------
    DataFrame
        ``rank``, ``customer_id``, ``stage``, ``stage_label_en/zh``, ``value_at_stake``, ``value_basis`` ('clv' or
        'historical'), ``owner_rep_id``, ``last_date``, ``recency_days``, ``churn_after_days``, ``revenue_net``,
        ``revenue_12m``, ``treatment``, ``treatment_en/zh``; highest value first.
    """
    unknown = set(include) - set(STAGES)
    if unknown:
        raise UserError(f"unknown lifecycle stage(s) {sorted(unknown)}", hint=f"stages are {', '.join(STAGES)}")
    picked = stages.loc[stages["stage"].isin(include)].copy()
    fallback = historical_value(picked)
    if value is not None:
        model = picked["customer_id"].astype(str).map(value.rename(index=str)).astype(float)
        picked["value_basis"] = np.where(model.notna(), "clv", "historical")
        picked["value_at_stake"] = model.fillna(fallback)
    else:
        picked["value_basis"] = "historical"
        picked["value_at_stake"] = fallback
    picked["owner_rep_id"] = _owners(picked, customers, owner_col)
    picked = picked.sort_values(["value_at_stake", "customer_id"], ascending=[False, True], ignore_index=True)
    picked.insert(0, "rank", np.arange(1, len(picked) + 1))
    columns = ["rank", "customer_id", "stage", "stage_label_en", "stage_label_zh", "value_at_stake", "value_basis",
               "owner_rep_id", "last_date", "recency_days", "churn_after_days", "revenue_net", "revenue_12m",
               "treatment", "treatment_en", "treatment_zh"]
    return picked[columns].head(top) if top else picked[columns]


@dataclass
class SecondPurchaseDue:
    """One-time buyers past the typical time to a second purchase.

    Attributes
    ----------
    customers : DataFrame
        ``customer_id``, ``stage``, ``first_date``, ``days_since_first``, ``days_overdue``, ``revenue_net``,
        ``owner_rep_id``, ``treatment``, ``treatment_en/zh``; most overdue first among the most recent stages.
    typical_days : float
        The quantile of first-to-second purchase gaps among repeat customers (NaN without repeaters).
    quantile : float
    repeaters : int
        Customers the typical gap was measured on.
    """

    customers: pd.DataFrame
    typical_days: float
    quantile: float
    repeaters: int


def second_purchase_due(
    stages: pd.DataFrame,
    rules: LifecycleRules | None = None,
    customers: pd.DataFrame | None = None,
    owner_col: str = "owner_rep_id",
) -> SecondPurchaseDue:
    """New customers due for a second purchase: one purchase day, not churned, past the typical time to a second.

    Parameters
    ----------
    stages : DataFrame
        Output of :func:`assign_stages`.
    rules : LifecycleRules, optional
        ``second_purchase_quantile`` sets "typical".
    customers : DataFrame, optional
        For ``owner_rep_id``.

    Returns
    -------
    SecondPurchaseDue
    """
    rules = rules or load_rules()
    gaps = (pd.to_datetime(stages["second_date"]) - pd.to_datetime(stages["first_date"])).dt.days.dropna()
    typical = float(gaps.quantile(rules.second_purchase_quantile)) if len(gaps) else float("nan")
    due = stages.loc[(stages["occasions"] == 1) & (stages["stage"] != "churned")
                     & (stages["days_since_first"] > typical)].copy()
    due["days_overdue"] = due["days_since_first"] - typical
    due["owner_rep_id"] = _owners(due, customers, owner_col)
    due = due.sort_values(["days_overdue", "customer_id"], ascending=[False, True], ignore_index=True)
    columns = ["customer_id", "stage", "first_date", "days_since_first", "days_overdue", "revenue_net",
               "owner_rep_id", "treatment", "treatment_en", "treatment_zh"]
    return SecondPurchaseDue(due[columns], typical, rules.second_purchase_quantile, len(gaps))


# ---------------------------------------------------------------------------------------------------------- BG/NBD


def customer_value_sql(
    con: duckdb.DuckDBPyConnection, as_of, horizon_months: int = 12, monthly_discount_rate: float = 0.01
) -> pd.Series:
    """Expected discounted value of each customer's purchases over the next months (BG/NBD + Gamma-Gamma).

    Both models come from :mod:`salesperf.analyses.lifecycle.clv` (weekly time unit); Gamma-Gamma is fitted on repeat customers with
    a positive mean repeat value. Feed the result to :func:`at_risk_actions` as ``value``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection with the relation ``orders``.
    as_of : date-like
    horizon_months : int
        Months ahead (monthly discounting steps of 52/12 weeks).
    monthly_discount_rate : float

    Returns
    -------
    Series
        CLV per customer, index ``customer_id`` (customers first seen on ``as_of`` are left out: no information).
    """
    summary = clv.summary_sql(con, _as_date(as_of), time_unit_days=7.0)
    summary = summary[summary["T"] > 0]
    purchases = clv.BetaGeo().fit(summary["frequency"], summary["recency"], summary["T"])
    repeaters = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    spend = clv.GammaGamma().fit(repeaters["frequency"], repeaters["monetary_value"])
    value = spend.customer_lifetime_value(
        purchases, summary["frequency"], summary["recency"], summary["T"], summary["monetary_value"],
        horizon=horizon_months, discount_rate=monthly_discount_rate, step=52.0 / 12.0,
    )
    return pd.Series(np.asarray(value, dtype=float), index=summary.index.astype(str), name="clv")


@dataclass
class HoldoutCheck:
    """Predicted vs actual repeat purchases in a holdout period.

    Attributes
    ----------
    table : DataFrame
        From :func:`salesperf.analyses.lifecycle.clv.calibration_holdout`: one row per calibration frequency group (``'0'`` ..
        ``'7+'``) and ``'total'``: ``customers, actual, predicted, actual_mean, predicted_mean``.
    params : dict
        Fitted BG/NBD parameters ``r, alpha (weeks), a, b``.
    calibration_end, as_of : datetime.date
    holdout_weeks : float
    headline : dict
        ``customers``, ``actual``, ``predicted`` (totals), ``error_pct`` ((predicted - actual) / actual * 100),
        ``holdout_weeks``.
    """

    table: pd.DataFrame
    params: dict
    calibration_end: date
    as_of: date
    holdout_weeks: float
    headline: dict


def calibration_holdout(
    con: duckdb.DuckDBPyConnection, calibration_end, as_of, max_frequency: int = 7
) -> HoldoutCheck:
    """Fit BG/NBD on the orders up to ``calibration_end`` and compare its forecast with the holdout up to ``as_of``.

    Thin wrapper over :func:`salesperf.analyses.lifecycle.clv.summary_sql` and :func:`salesperf.analyses.lifecycle.clv.calibration_holdout` (weekly unit).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection with the relation ``orders``.
    calibration_end : date-like
        Last day of the calibration period (customers first seen after it are not scored).
    as_of : date-like
        Last day of the holdout period.
    max_frequency : int
        Frequency groups ``0 .. max_frequency-1`` and ``max_frequency+``.

    Returns
    -------
    HoldoutCheck
    """
    cut, end = _as_date(calibration_end, "calibration_end"), _as_date(as_of)
    if cut >= end:
        raise UserError(f"calibration_end {cut} must be before as_of {end}", hint="leave a holdout period")
    summary = clv.summary_sql(con, end, time_unit_days=7.0, calibration_end=cut)
    summary = summary[summary["T"] > 0]
    model = clv.BetaGeo().fit(summary["frequency"], summary["recency"], summary["T"])
    table = clv.calibration_holdout(model, summary, max_frequency=max_frequency)
    total = table.loc["total"]
    weeks = (end - cut).days / 7.0
    headline = {
        "customers": int(total["customers"]), "actual": float(total["actual"]),
        "predicted": float(total["predicted"]), "holdout_weeks": weeks,
        "error_pct": float((total["predicted"] - total["actual"]) / total["actual"] * 100)
        if total["actual"] > 0 else float("nan"),
    }
    return HoldoutCheck(table, dict(model.params_), cut, end, weeks, headline)

"""Net and gross revenue retention (NRR, GRR) as finance and SaaS define them, pure.

The *base* customers are those with revenue in the base window (the 12 months ending a year before the as-of
date); their revenue in the current window (the 12 months up to the as-of date) over their base revenue is the
**NRR** (expansion counts, new customers do not); the **GRR** caps each customer at its base revenue (and at
zero below), so it measures only what was kept: X 100 → 300 and Y 100 → 0 give NRR 1.5 and GRR 0.5.

This is not the *cohort revenue retention* of :mod:`salesperf.analyses.lifecycle.cohorts` (a cohort's revenue
at age k over its first-period revenue), which the report shows as a separate, differently named curve.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesperf.core.errors import UserError

RETENTION_COLUMNS = (
    "customers_base",
    "customers_kept",
    "revenue_base",
    "revenue_now",
    "revenue_kept",
    "nrr",
    "grr",
)


def revenue_retention(customers: pd.DataFrame, group: str | None = None) -> pd.DataFrame:
    """NRR and GRR of the base customers, overall or per group.

    Parameters
    ----------
    customers : DataFrame
        One row per customer: ``revenue_base``, ``revenue_now`` (net revenue in each window) and ``group``
        when given (e.g. the acquisition cohort).
    group : str, optional
        Column to split by.

    Returns
    -------
    DataFrame
        One row per group (or one row): ``[group]``, ``customers_base`` (customers with base revenue > 0),
        ``customers_kept`` (of them, with revenue now > 0), ``revenue_base``, ``revenue_now``,
        ``revenue_kept`` (sum of ``min(max(now, 0), base)``), ``nrr`` = revenue_now / revenue_base, ``grr`` =
        revenue_kept / revenue_base (NaN without base revenue).
    """
    needed = ["revenue_base", "revenue_now", *([group] if group else [])]
    missing = [c for c in needed if c not in customers.columns]
    if missing:
        raise UserError(f"revenue retention: column {missing[0]!r} is missing")
    base = customers.loc[customers["revenue_base"] > 0].copy()
    base["revenue_kept"] = np.minimum(base["revenue_now"].clip(lower=0.0), base["revenue_base"])
    base["kept"] = base["revenue_now"] > 0
    keys = [group] if group else []
    if keys:
        out = (
            base.groupby(keys)
            .agg(
                customers_base=("revenue_base", "size"),
                customers_kept=("kept", "sum"),
                revenue_base=("revenue_base", "sum"),
                revenue_now=("revenue_now", "sum"),
                revenue_kept=("revenue_kept", "sum"),
            )
            .reset_index()
        )
    else:
        out = pd.DataFrame(
            {
                "customers_base": [len(base)],
                "customers_kept": [int(base["kept"].sum())],
                "revenue_base": [base["revenue_base"].sum()],
                "revenue_now": [base["revenue_now"].sum()],
                "revenue_kept": [base["revenue_kept"].sum()],
            }
        )
    positive = out["revenue_base"].where(out["revenue_base"] > 0)
    out["nrr"] = out["revenue_now"] / positive
    out["grr"] = out["revenue_kept"] / positive
    out["customers_kept"] = out["customers_kept"].astype("int64")
    return out[[*keys, *RETENTION_COLUMNS]]


def retention_by_period(by_period: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """NRR and GRR at several as-of dates.

    Parameters
    ----------
    by_period : dict
        Period label → per-customer frame of :func:`revenue_retention` at that period's end, oldest first.

    Returns
    -------
    DataFrame
        One row per period: ``period`` and the columns of :func:`revenue_retention`.
    """
    rows = [revenue_retention(frame).assign(period=label) for label, frame in by_period.items()]
    columns = ["period", *RETENTION_COLUMNS]
    return pd.concat(rows, ignore_index=True)[columns] if rows else pd.DataFrame(columns=columns)

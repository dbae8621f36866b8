"""Profiles of segments or clusters: size, revenue, order value, top categories / regions / channels /
reps.

Categories, channels and regions are shares of the group's purchase revenue, each order line counted under its
own value (the region of the line where it has one, else the customer's: see
:func:`salesperf.analyses.segmentation.queries.mix_source`); owner reps are shares of the group's customers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesperf.analyses.segmentation.features import (
    CATEGORY_PREFIX,
    CHANNEL_PREFIX,
    REGION_PREFIX,
    share_columns,
)


def _top_text(shares: pd.Series, top_n: int) -> str:
    shares = shares[shares > 0].sort_values(ascending=False, kind="stable").head(top_n)
    return ", ".join(f"{level} {share:.0%}" for level, share in shares.items())


def _mix(frame: pd.DataFrame, group_col: str, prefix: str, weight: pd.Series) -> pd.DataFrame | None:
    cols = share_columns(frame, prefix)
    if not cols:
        return None
    spend = frame[list(cols)].fillna(0.0).mul(weight, axis=0).rename(columns=cols)
    mix = spend.groupby(frame[group_col]).sum()
    return mix.div(mix.sum(axis=1).replace(0, np.nan), axis=0)


def _counts(frame: pd.DataFrame, group_col: str, col: str) -> pd.DataFrame:
    """Share of each level of ``col`` within each group (rows: groups, columns: levels)."""
    groups, group_levels = pd.factorize(frame[group_col], sort=True)
    values, levels = pd.factorize(frame[col].fillna("(unknown)"), sort=True)
    keep = groups >= 0
    cells = np.bincount(groups[keep] * len(levels) + values[keep], minlength=len(group_levels) * len(levels))
    table = pd.DataFrame(cells.reshape(len(group_levels), len(levels)), index=group_levels, columns=levels)
    return table.div(table.sum(axis=1), axis=0)


def group_profiles(
    customers: pd.DataFrame,
    group_col: str = "segment",
    top_n: int = 3,
    *,
    revenue_col: str = "monetary",
    orders_col: str | None = None,
    region_col: str = "region",
    rep_col: str = "owner_rep_id",
    satisfaction_cols: tuple[str, ...] = ("csat", "nps_score"),
    order: list | None = None,
) -> pd.DataFrame:
    """One profile row per segment or cluster.

    Parameters
    ----------
    customers : DataFrame
        One row per customer with ``group_col``, ``revenue_col`` and optionally n_orders (or frequency),
        gross_revenue, category_share__*/channel_share__*/region_share__* columns, owner_rep_id, csat,
        nps_score — as returned by :func:`customer_features_sql` joined to the segment/cluster labels. Without
        region_share__* columns, ``region_col`` (one region per customer) gives the region mix.
    group_col : str
        Column holding the segment or cluster.
    top_n : int
        Levels listed in the top_* text columns.
    orders_col : str, optional
        Orders per customer for the average order value; default n_orders, else frequency.
    order : list, optional
        Row order (e.g. the segment keys of the rule table); groups without customers are dropped.

    Returns
    -------
    DataFrame
        One row per group: group, customers, share, revenue, revenue_share, orders, avg_order_value,
        top_categories, top_channels, top_regions (shares of the group's purchase revenue), top_owner_reps
        (shares of its customers) as texts like 'Hardware 45%, Software 30%', and mean_<satisfaction col>
        when given.
    """
    frame = customers
    orders_col = orders_col or ("n_orders" if "n_orders" in frame else "frequency")
    grouped = frame.groupby(group_col)
    out = pd.DataFrame(
        {
            "customers": grouped.size(),
            "revenue": grouped[revenue_col].sum(),
            "orders": grouped[orders_col].sum(),
        }
    )
    out["share"] = out["customers"] / len(frame)
    total = frame[revenue_col].sum()
    out["revenue_share"] = out["revenue"] / total if total else np.nan
    out["avg_order_value"] = out["revenue"] / out["orders"].replace(0, np.nan)
    weight = frame["gross_revenue"] if "gross_revenue" in frame else pd.Series(1.0, frame.index)
    if not share_columns(frame, REGION_PREFIX) and region_col in frame:  # one region per customer
        regions = pd.get_dummies(frame[region_col], dtype="float64")  # no region: in no share
        frame = frame.join(regions.add_prefix(REGION_PREFIX))
    for prefix, name in (
        (CATEGORY_PREFIX, "top_categories"),
        (CHANNEL_PREFIX, "top_channels"),
        (REGION_PREFIX, "top_regions"),
    ):
        mix = _mix(frame, group_col, prefix, weight)
        if mix is not None:
            out[name] = [_top_text(mix.loc[g], top_n) if g in mix.index else "" for g in out.index]
    if rep_col in frame:
        shares = _counts(frame, group_col, rep_col)
        out["top_owner_reps"] = [_top_text(shares.loc[g], top_n) for g in out.index]
    for col in satisfaction_cols:
        if col in frame and frame[col].notna().any():
            out[f"mean_{col}"] = grouped[col].mean()
            out[f"responses_{col}"] = grouped[col].count()
    if order is not None:
        out = out.reindex([g for g in order if g in out.index] + [g for g in out.index if g not in order])
    out.index.name = "group"
    first = ["group", "customers", "share", "revenue", "revenue_share", "orders", "avg_order_value"]
    out = out.reset_index()
    return out[first + [c for c in out.columns if c not in first]]

"""Migration between two as-of dates: transition matrices of segment or status, revenue at stake, biggest
flows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

NONE = "(none)"


@dataclass
class Migration:
    """Result of :func:`migration`.

    Attributes
    ----------
    counts : DataFrame
        Customers by previous state (rows) and current state (columns); '(none)' = absent at that date.
    revenue : DataFrame
        Same shape: previous-window revenue of the customers in each cell.
    flows : DataFrame
        Off-diagonal cells as records sorted by customers (then revenue): from_state, to_state, customers,
        share_of_from (of the previous state's customers), revenue_at_stake.
    stayed_share : float
        Share of customers present at both dates whose state did not change (NaN when nobody is at both).
    """

    counts: pd.DataFrame
    revenue: pd.DataFrame
    flows: pd.DataFrame
    stayed_share: float

    @property
    def newcomers(self) -> int:
        """Customers absent at the previous date and present now."""
        return int(self.counts.loc[NONE].sum())


def migration(
    previous: pd.Series,
    current: pd.Series,
    previous_revenue: pd.Series | None = None,
    order: list[str] | None = None,
) -> Migration:
    """Transition matrix of a state (segment, status, tier...) between two dates.

    Parameters
    ----------
    previous, current : Series
        State per customer, indexed by customer_id, at the previous period end and now. Customers present (not
        missing) in only one of them move from/to '(none)'; customers missing in both are left out. Series
        sharing one index object are used as they are (no re-alignment).
    previous_revenue : Series, optional
        Previous-window revenue per customer_id (revenue at stake of the movers); missing = 0.
    order : list of str, optional
        Display order of the states.

    Returns
    -------
    Migration
    """
    both = pd.DataFrame({"from_state": previous, "to_state": current})
    revenue = (
        previous_revenue.reindex(both.index).fillna(0.0).to_numpy(dtype="float64")
        if previous_revenue is not None
        else np.zeros(len(both))
    )
    present = both.notna().any(axis=1).to_numpy()  # customers absent at both dates are not part of it
    from_state = both["from_state"].to_numpy(dtype=object)[present]
    to_state = both["to_state"].to_numpy(dtype=object)[present]
    revenue = revenue[present]
    from_state[pd.isna(from_state)] = NONE
    to_state[pd.isna(to_state)] = NONE
    seen = set(pd.unique(from_state)) | set(pd.unique(to_state))
    states = list(order or []) + sorted(seen - set(order or []) - {NONE})
    axis = states + [NONE]
    k = len(axis)
    from_code = pd.Categorical(from_state, categories=axis).codes.astype(np.int64)
    to_code = pd.Categorical(to_state, categories=axis).codes.astype(np.int64)
    cell = from_code * k + to_code
    counts = pd.DataFrame(np.bincount(cell, minlength=k * k).reshape(k, k), index=axis, columns=axis)
    money = pd.DataFrame(
        np.bincount(cell, weights=revenue, minlength=k * k).reshape(k, k), index=axis, columns=axis
    )
    counts.index.name, counts.columns.name = "from_state", "to_state"
    money.index.name, money.columns.name = "from_state", "to_state"

    cells = counts.stack().rename("customers").reset_index()
    cells["revenue_at_stake"] = money.stack().to_numpy()
    cells = cells[cells["customers"] > 0]
    cells["share_of_from"] = cells["customers"] / cells["from_state"].map(counts.sum(axis=1))
    moved = cells[cells["from_state"] != cells["to_state"]]
    flows = moved.sort_values(
        ["customers", "revenue_at_stake", "from_state", "to_state"],
        ascending=[False, False, True, True],
        ignore_index=True,
    )
    flows = flows[["from_state", "to_state", "customers", "share_of_from", "revenue_at_stake"]]
    both_dates = (from_code != k - 1) & (to_code != k - 1)
    stayed = (
        float((from_code[both_dates] == to_code[both_dates]).mean()) if both_dates.any() else float("nan")
    )
    return Migration(counts, money, flows, stayed)

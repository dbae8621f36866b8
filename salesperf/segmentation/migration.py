"""Migration between two as-of dates: transition matrices of segment or status, revenue at stake, biggest flows."""

from __future__ import annotations

from dataclasses import dataclass, field

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
        Share of customers present at both dates whose state did not change.
    sentences : list of str
    """

    counts: pd.DataFrame
    revenue: pd.DataFrame
    flows: pd.DataFrame
    stayed_share: float
    sentences: list[str] = field(default_factory=list)


def migration(previous: pd.Series, current: pd.Series, previous_revenue: pd.Series | None = None,
              order: list[str] | None = None, labels: dict | None = None, top: int = 5) -> Migration:
    """Transition matrix of a state (segment, status, tier...) between two dates.

    Parameters
    ----------
    previous, current : Series
        State per customer, indexed by customer_id, at the previous period end and now. Customers present in only
        one of them move from/to '(none)'.
    previous_revenue : Series, optional
        Previous-window revenue per customer_id (revenue at stake of the movers); missing = 0.
    order : list of str, optional
        Display order of the states.
    labels : dict, optional
        {state: Label} for the sentences.
    top : int
        Number of biggest flows described in ``sentences``.

    Returns
    -------
    Migration
    """
    both = pd.DataFrame({"from_state": previous, "to_state": current})
    both = both.fillna(NONE)
    revenue = (previous_revenue.reindex(both.index).fillna(0.0).astype("float64")
               if previous_revenue is not None else pd.Series(0.0, index=both.index))
    both["revenue"] = revenue
    seen = set(both["from_state"]) | set(both["to_state"])
    states = list(order or []) + sorted(seen - set(order or []) - {NONE})
    axis = states + [NONE]
    cells = both.groupby(["from_state", "to_state"], sort=False).agg(
        customers=("revenue", "size"), revenue_at_stake=("revenue", "sum")).reset_index()
    counts = cells.pivot(index="from_state", columns="to_state", values="customers")
    counts = counts.reindex(index=axis, columns=axis).fillna(0).astype("int64")
    money = cells.pivot(index="from_state", columns="to_state", values="revenue_at_stake")
    money = money.reindex(index=axis, columns=axis).fillna(0.0)
    counts.index.name, counts.columns.name = "from_state", "to_state"
    money.index.name, money.columns.name = "from_state", "to_state"

    from_size = cells.groupby("from_state")["customers"].sum()
    cells["share_of_from"] = cells["customers"] / cells["from_state"].map(from_size)
    moved = cells[cells["from_state"] != cells["to_state"]]
    flows = moved.sort_values(["customers", "revenue_at_stake", "from_state", "to_state"],
                              ascending=[False, False, True, True], ignore_index=True)
    flows = flows[["from_state", "to_state", "customers", "share_of_from", "revenue_at_stake"]]
    present = both[(both["from_state"] != NONE) & (both["to_state"] != NONE)]
    stayed = float((present["from_state"] == present["to_state"]).mean()) if len(present) else float("nan")

    def name(state):
        return labels[state].label_en if labels and state in labels else state

    sentences = [f"{stayed:.0%} of customers present at both dates kept their state."] if len(present) else []
    for row in flows.head(top).itertuples():
        sentences.append(f"{row.customers:,} customers moved from {name(row.from_state)} to {name(row.to_state)} "
                         f"({row.share_of_from:.0%} of {name(row.from_state)}), with {row.revenue_at_stake:,.0f} "
                         f"of previous-window revenue.")
    return Migration(counts, money, flows, stayed, sentences)

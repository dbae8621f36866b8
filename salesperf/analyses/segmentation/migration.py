"""Migration between two as-of dates: transition matrices of segment or status, revenue at stake, biggest flows."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salesperf.core import fmt
from salesperf.core.vocab import check_lang

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
        In the language asked for (:func:`migration_sentences` gives the other).
    """

    counts: pd.DataFrame
    revenue: pd.DataFrame
    flows: pd.DataFrame
    stayed_share: float
    sentences: list[str] = field(default_factory=list)


def migration(previous: pd.Series, current: pd.Series, previous_revenue: pd.Series | None = None,
              order: list[str] | None = None, labels: dict | None = None, top: int = 5, *, lang: str = "en",
              currency: str = "¥") -> Migration:
    """Transition matrix of a state (segment, status, tier...) between two dates.

    Parameters
    ----------
    previous, current : Series
        State per customer, indexed by customer_id, at the previous period end and now. Customers present (not
        missing) in only one of them move from/to '(none)'; customers missing in both are left out. Series sharing
        one index object are used as they are (no re-alignment).
    previous_revenue : Series, optional
        Previous-window revenue per customer_id (revenue at stake of the movers); missing = 0.
    order : list of str, optional
        Display order of the states.
    labels : dict, optional
        {state: Label} for the sentences.
    top : int
        Number of biggest flows described in ``sentences``.
    lang : {'en', 'zh'}
        Language of ``sentences``.
    currency : str
        Currency symbol for money in English sentences.

    Returns
    -------
    Migration
    """
    check_lang(lang)
    both = pd.DataFrame({"from_state": previous, "to_state": current})
    revenue = (previous_revenue.reindex(both.index).fillna(0.0).to_numpy(dtype="float64")
               if previous_revenue is not None else np.zeros(len(both)))
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
    money = pd.DataFrame(np.bincount(cell, weights=revenue, minlength=k * k).reshape(k, k), index=axis, columns=axis)
    counts.index.name, counts.columns.name = "from_state", "to_state"
    money.index.name, money.columns.name = "from_state", "to_state"

    cells = counts.stack().rename("customers").reset_index()
    cells["revenue_at_stake"] = money.stack().to_numpy()
    cells = cells[cells["customers"] > 0]
    cells["share_of_from"] = cells["customers"] / cells["from_state"].map(counts.sum(axis=1))
    moved = cells[cells["from_state"] != cells["to_state"]]
    flows = moved.sort_values(["customers", "revenue_at_stake", "from_state", "to_state"],
                              ascending=[False, False, True, True], ignore_index=True)
    flows = flows[["from_state", "to_state", "customers", "share_of_from", "revenue_at_stake"]]
    both_dates = (from_code != k - 1) & (to_code != k - 1)
    stayed = float((from_code[both_dates] == to_code[both_dates]).mean()) if both_dates.any() else float("nan")
    result = Migration(counts, money, flows, stayed)
    result.sentences = migration_sentences(result, labels, top, lang, currency)
    return result


def migration_sentences(result: Migration, labels: dict | None = None, top: int = 5, lang: str = "en",
                        currency: str = "¥") -> list[str]:
    """The share that kept its state and the ``top`` biggest flows, in ``lang`` (state names from ``labels``)."""
    check_lang(lang)

    def name(state):
        if labels and state in labels:
            return labels[state].label_zh if lang == "zh" else labels[state].label_en
        return state

    entered = result.counts.loc[NONE].sum()  # customers absent at the previous date
    sentences = []
    if not np.isnan(result.stayed_share):
        sentences.append(f"两个时点都在的客户中，{result.stayed_share:.0%} 保持原状态。" if lang == "zh" else
                         f"{result.stayed_share:.0%} of customers present at both dates kept their state.")
    for row in result.flows.head(top).itertuples():
        source, target, count = name(row.from_state), name(row.to_state), row.customers
        share, at_stake = f"{row.share_of_from:.0%}", fmt.money(row.revenue_at_stake, lang, currency)
        if row.from_state == NONE:
            sentences.append(f"{count:,} 位新出现的客户归入{target}（占新出现客户 {entered:,} 位的 {share}）。" if lang == "zh"
                             else f"{count:,} customers entered as {target} ({share} of the {entered:,} newcomers).")
        elif row.to_state == NONE:
            sentences.append(f"{count:,} 位{source}退出（占{source}的 {share}），涉及上一窗口销售额 {at_stake}。"
                             if lang == "zh" else
                             f"{count:,} customers left {source} without a new state ({share} of {source}), with "
                             f"{at_stake} of previous-window revenue.")
        elif lang == "zh":
            sentences.append(f"{count:,} 位客户从{source}转为{target}（占{source}的 {share}），涉及上一窗口销售额 "
                             f"{at_stake}。")
        else:
            sentences.append(f"{count:,} customers moved from {source} to {target} ({share} of {source}), with "
                             f"{at_stake} of previous-window revenue.")
    return sentences

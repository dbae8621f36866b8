"""Commission plans: a validated YAML plan (``plan.yml`` beside this module, format in docs/incentives.md),
the payroll it pays per rep and period, and the what-if of the same history under an alternative plan.

Money rule: every component of a payroll row is rounded to the cent (halves away from zero) and the payout is
the sum of the rounded components, in integer cents; the total of any column is the sum of its rows, so the
rows add up to the total exactly (:func:`add_total_row`, :func:`check_payroll`).

Inputs (built by the analysis with engine queries; pandas only sees these aggregates):

* ``bookings``: one row per (rep_id, period, category): ``amount`` = positive order lines booked in the period
  (``category`` may be absent: one category);
* ``returns``: one row per (rep_id, period, order_period, category): ``amount`` = amount returned in
  ``period`` of orders booked in ``order_period`` (positive or negative, read as its size; ``category``
  optional);
* ``quotas``: the ``targets`` table, one row per (rep_id, period): ``quota``;
* ``teams``: one row per rep (``rep_id``, ``team``), or per (rep_id, period) when reps change teams.

Periods are ``YYYY-MM`` texts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesperf.analyses.reps.quotas import team_of
from salesperf.core.rules import RuleChecker, read_rules

DEFAULT_PLAN_FILE = "plan.yml"
PLAN_KEYS = ("name", "base", "decelerator", "accelerators", "cap", "product_bonus", "team_bonus", "clawback")
COMPONENTS = ("base", "accelerator", "product_bonus", "capped", "team_bonus", "clawback")
PAYROLL_COLUMNS = ("rep_id", "period", "team", "bookings", "quota", "attainment", *COMPONENTS, "payout")
TOTAL = "total"


@dataclass(frozen=True)
class Tier:
    """An accelerator: ``rate`` on the bookings above ``above_attainment`` x quota (up to the next tier)."""

    above_attainment: float
    rate: float


@dataclass(frozen=True)
class CommissionPlan:
    """A validated plan; optional parts are None (``accelerators`` and ``product_bonus`` empty)."""

    name: str
    source: str
    base_rate: float
    decelerator_below: float | None
    decelerator_rate: float | None
    accelerators: tuple[Tier, ...]
    cap_attainment: float | None
    cap_payout: float | None
    product_bonus: dict[str, float]
    team_bonus_attainment: float | None
    team_bonus_amount: float | None
    clawback_share: float


def load_plan(path: str | Path | None = None) -> CommissionPlan:
    """Read and validate a commission plan; ``None`` reads the packaged ``plan.yml``.

    Raises
    ------
    UserError
        One line naming the file, the key and the bad value, e.g.
        ``accelerated.yml: accelerators[1].rate: expected a number in [0.0, 1.0], got -0.1``.
    """
    data, source = read_rules(__package__, DEFAULT_PLAN_FILE, path, what="commission plan")
    return plan_from_dict(data, source)


def plan_from_dict(data: Any, source: str = "<plan>") -> CommissionPlan:
    """Validate a plan mapping (as read from YAML); see docs/incentives.md for every key."""
    check = RuleChecker(source, hint="see docs/incentives.md for the plan format")
    if not isinstance(data, dict):
        check.fail("", f"expected a mapping at the top level, got {type(data).__name__}")
    check.known_keys(data, PLAN_KEYS)
    base_rate = check.number(_part(check, data, "base", ("rate",)), "rate", "base.rate", 0.0, 1.0)
    below = rate = None
    if (decel := _part(check, data, "decelerator", ("below_attainment", "rate"), optional=True)) is not None:
        below = check.number(decel, "below_attainment", "decelerator.below_attainment", 0.0, 1.0)
        rate = check.number(decel, "rate", "decelerator.rate", 0.0, 1.0)
        if rate > base_rate:
            check.fail("decelerator.rate", f"{rate!r} is above base.rate {base_rate!r} (it would pay more)")
    cap_attainment = cap_payout = None
    if (cap := _part(check, data, "cap", ("attainment", "payout"), optional=True)) is not None:
        if cap.get("attainment") is not None:
            cap_attainment = check.number(cap, "attainment", "cap.attainment", 1.0)
        if cap.get("payout") is not None:
            cap_payout = check.number(cap, "payout", "cap.payout", 0.0)
    tiers = _accelerators(check, data.get("accelerators"), cap_attainment)
    bonus = data.get("product_bonus") or {}
    if not isinstance(bonus, dict):
        check.fail("product_bonus", f"expected a mapping of category: rate, got {bonus!r}")
    product_bonus = {str(k): check.number(bonus, k, f"product_bonus.{k}", 0.0, 1.0) for k in bonus}
    team_attainment = team_amount = None
    if (team := _part(check, data, "team_bonus", ("team_attainment", "amount"), optional=True)) is not None:
        team_attainment = check.number(team, "team_attainment", "team_bonus.team_attainment", 0.0)
        team_amount = check.number(team, "amount", "team_bonus.amount", 0.0)
    claw = _part(check, data, "clawback", ("share",), optional=True)
    share = 0.0 if claw is None else check.number(claw, "share", "clawback.share", 0.0, 1.0)
    name = check.text(data, "name", "name") if "name" in data else Path(source).stem
    return CommissionPlan(
        name, source, base_rate, below, rate, tiers, cap_attainment, cap_payout, product_bonus,
        team_attainment, team_amount, share,
    )  # fmt: skip


def _part(
    check: RuleChecker, data: dict, key: str, keys: tuple[str, ...], optional: bool = False
) -> dict | None:
    """The section ``key`` (None when optional and absent), refusing keys other than ``keys``."""
    if optional and data.get(key) is None:
        return None
    section = check.section(data, key)
    check.known_keys(section, keys, key)
    return section


def _accelerators(check: RuleChecker, items: Any, cap_attainment: float | None) -> tuple[Tier, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        check.fail("accelerators", f"expected a list of tiers, got {items!r}")
    tiers: list[Tier] = []
    for i, item in enumerate(items):
        where = f"accelerators[{i}]"
        if not isinstance(item, dict):
            check.fail(where, f"expected a mapping with above_attainment and rate, got {item!r}")
        check.known_keys(item, ("above_attainment", "rate"), where)
        above = check.number(item, "above_attainment", f"{where}.above_attainment", 1.0)
        if tiers and above <= tiers[-1].above_attainment:
            previous = tiers[-1].above_attainment
            check.fail(
                f"{where}.above_attainment", f"{above!r} is not above the previous tier's {previous!r}"
            )
        if cap_attainment is not None and above >= cap_attainment:
            check.fail(f"{where}.above_attainment", f"{above!r} is not below cap.attainment {cap_attainment}")
        tiers.append(Tier(above, check.number(item, "rate", f"{where}.rate", 0.0, 1.0)))
    return tuple(tiers)


# ------------------------------------------------------------------------------------------------ payouts
def _cents(values) -> np.ndarray:
    """Amounts rounded to whole cents (halves away from zero) as int64."""
    x = np.asarray(values, dtype=float) * 100.0
    return (np.sign(x) * np.floor(np.abs(x) + 0.5 + 1e-9)).astype(np.int64)


def _banded(booked: np.ndarray, quota: np.ndarray, low: float, high: float) -> np.ndarray:
    """Bookings between ``low`` x quota and ``high`` x quota."""
    return np.clip(booked - low * quota, 0.0, None).clip(max=(high - low) * quota)


def _commission(plan: CommissionPlan, booked: np.ndarray, quota: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Base and accelerator commission of each row (floats; a row without a quota earns the base rate on all
    its bookings and no tier)."""
    has_quota = quota > 0
    q = np.where(has_quota, quota, 1.0)
    capped = np.minimum(booked, plan.cap_attainment * q) if plan.cap_attainment else booked
    first = plan.accelerators[0].above_attainment if plan.accelerators else np.inf
    rate = np.full(len(booked), plan.base_rate)
    if plan.decelerator_below is not None:
        rate = np.where(booked < plan.decelerator_below * q, plan.decelerator_rate, rate)
    base = rate * np.minimum(capped, first * q)
    accelerator = np.zeros(len(booked))
    bounds = [t.above_attainment for t in plan.accelerators[1:]] + [np.inf]
    for tier, high in zip(plan.accelerators, bounds, strict=False):  # no accelerators: no band
        accelerator += tier.rate * _banded(capped, q, tier.above_attainment, high)
    base = np.where(has_quota, base, plan.base_rate * booked)
    return base, np.where(has_quota, accelerator, 0.0)


def payroll(
    plan: CommissionPlan,
    bookings: pd.DataFrame,
    quotas: pd.DataFrame,
    returns: pd.DataFrame | None = None,
    teams: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """What ``plan`` pays each rep in each period.

    Parameters
    ----------
    plan : CommissionPlan
    bookings : DataFrame
        ``rep_id, period, amount`` and optionally ``category``: one row per (rep, period, category).
    quotas : DataFrame
        ``rep_id, period, quota``: one row per (rep, period).
    returns : DataFrame, optional
        ``rep_id, period, order_period, amount`` and optionally ``category``. Returns of orders of the same
        (or a later) period are netted in that period's bookings; returns of earlier periods are clawed back.
    teams : DataFrame, optional
        ``rep_id, team`` (and optionally ``period``); without it there is no team bonus.

    Returns
    -------
    DataFrame
        One row per (rep_id, period) in bookings, quotas or returns, sorted; columns :data:`PAYROLL_COLUMNS`:
        ``bookings`` (commissionable: net of same-period returns, at least 0), ``quota`` (NaN without one),
        ``attainment`` = bookings / quota, then the components in money (``capped`` and ``clawback`` are 0 or
        negative), and ``payout`` = their sum, to the cent.
    """
    lines = bookings if "category" in bookings else bookings.assign(category=None)
    lines = lines[["rep_id", "period", "category", "amount"]].astype({"amount": float})
    claw = (
        _empty_returns() if returns is None else returns.assign(amount=returns["amount"].astype(float).abs())
    )
    if "category" not in claw:
        claw = claw.assign(category=None)
    same = claw[claw["order_period"] >= claw["period"]]
    parts = [lines, same[lines.columns].assign(amount=-same["amount"])]
    netted = pd.concat([p for p in parts if len(p)] or [lines], ignore_index=True)
    by_category = netted.groupby(["rep_id", "period", "category"], dropna=False)["amount"].sum().reset_index()
    keys = ["rep_id", "period"]
    pieces = [frame[keys] for frame in (by_category, quotas, claw) if len(frame)]
    rows = pd.concat(pieces) if pieces else by_category[keys]
    rows = rows.drop_duplicates().sort_values(keys)
    rows = rows.reset_index(drop=True)
    booked = rows.merge(by_category.groupby(keys)["amount"].sum().reset_index(), on=keys, how="left")
    booked = booked["amount"].fillna(0.0).clip(lower=0.0).to_numpy()
    quota = rows.merge(quotas.groupby(keys)["quota"].sum().reset_index(), on=keys, how="left")["quota"]
    quota = quota.where(quota > 0).to_numpy(dtype=float)
    q = np.nan_to_num(quota, nan=0.0)
    base, accelerator = _commission(plan, booked, q)

    rate = by_category["category"].map(plan.product_bonus).fillna(0.0)
    bonus = (
        by_category.assign(bonus=rate * by_category["amount"].clip(lower=0.0)).groupby(keys)["bonus"].sum()
    )
    product_bonus = rows.merge(bonus.reset_index(), on=keys, how="left")["bonus"].fillna(0.0)

    out = rows.assign(team=team_of(rows, teams), bookings=booked, quota=quota)
    out["attainment"] = out["bookings"] / out["quota"]
    out["base"], out["accelerator"] = _cents(base), _cents(accelerator)
    out["product_bonus"] = _cents(product_bonus)
    variable = out["base"] + out["accelerator"] + out["product_bonus"]
    limit = np.inf if plan.cap_payout is None else _cents([plan.cap_payout])[0]
    out["capped"] = -np.clip(variable - limit, 0, None).astype(np.int64)
    out["team_bonus"] = _team_bonus(plan, out)
    out["clawback"] = _clawback(plan, out, claw[claw["order_period"] < claw["period"]])
    out["payout"] = out[list(COMPONENTS)].sum(axis=1)
    for column in (*COMPONENTS, "payout"):
        out[column] = out[column].astype(np.int64) / 100.0
    return out[list(PAYROLL_COLUMNS)]


def _empty_returns() -> pd.DataFrame:
    columns = {c: pd.Series(dtype=object) for c in ("rep_id", "period", "order_period", "category")}
    return pd.DataFrame({**columns, "amount": pd.Series(dtype=float)})


def _team_bonus(plan: CommissionPlan, out: pd.DataFrame) -> np.ndarray:
    """Cents of team bonus: ``amount`` to every rep with a quota whose team reached the threshold (team
    bookings / team quota over the team's reps with a quota)."""
    if plan.team_bonus_amount is None or out["team"].isna().all():
        return np.zeros(len(out), dtype=np.int64)
    with_quota = out[out["quota"].notna() & out["team"].notna()]
    team = with_quota.groupby(["team", "period"])[["bookings", "quota"]].sum()
    reached = (team["bookings"] >= plan.team_bonus_attainment * team["quota"]).rename("reached").reset_index()
    flag = out[["team", "period"]].merge(reached, on=["team", "period"], how="left")["reached"]
    paid = flag.eq(True).to_numpy() & out["quota"].notna().to_numpy()
    return np.where(paid, _cents([plan.team_bonus_amount])[0], 0)


def _clawback(plan: CommissionPlan, out: pd.DataFrame, late: pd.DataFrame) -> np.ndarray:
    """Cents taken back (0 or negative) in each row of ``out`` for returns of orders of earlier periods.

    A returned amount takes back ``share`` x the commission paid in the order's period per unit booked then
    (base + accelerator + product bonus after the cap, team bonus excluded); the total taken back for one
    (rep, order period) never exceeds what was paid in it. Orders of a period outside the payroll were not
    paid by it: nothing is taken back.
    """
    if plan.clawback_share == 0 or late.empty:
        return np.zeros(len(out), dtype=np.int64)
    paid = out.assign(paid=out[["base", "accelerator", "product_bonus", "capped"]].sum(axis=1))
    paid = paid[["rep_id", "period", "bookings", "paid"]].rename(columns={"period": "order_period"})
    keys = ["rep_id", "period"]
    late = late.groupby(["rep_id", "order_period", "period"])["amount"].sum().reset_index()
    late = late.merge(paid, on=["rep_id", "order_period"], how="inner")
    late = late.sort_values(["rep_id", "order_period", "period"], ignore_index=True)
    per_unit = (late["paid"] / late["bookings"].where(late["bookings"] > 0)).fillna(0.0)  # cents per unit
    late["wanted"] = _cents(plan.clawback_share * late["amount"] * per_unit / 100.0)
    running = late.groupby(["rep_id", "order_period"])["wanted"].cumsum().clip(upper=late["paid"])
    late["taken"] = running - running.groupby([late["rep_id"], late["order_period"]]).shift(fill_value=0)
    taken = late.groupby(keys)["taken"].sum().reset_index()
    return -out[keys].merge(taken, on=keys, how="left")["taken"].fillna(0).astype(np.int64).to_numpy()


def add_total_row(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` (a payroll) with a last row ``rep_id == 'total'`` holding the sum of every money column
    (bookings, quota, components, payout) and the overall attainment."""
    sums = {c: round(float(table[c].sum()), 2) for c in ("bookings", "quota", *COMPONENTS, "payout")}
    sums["attainment"] = sums["bookings"] / sums["quota"] if sums["quota"] else np.nan
    out = table.reset_index(drop=True)
    out.loc[len(out)] = {"rep_id": TOTAL, "period": None, "team": None, **sums}
    return out


def check_payroll(table: pd.DataFrame) -> None:
    """Raise ``ValueError`` unless every row's payout is the sum of its components to the cent (and, with a
    total row, the total is the sum of the rows)."""
    cents = {c: _cents(table[c]) for c in (*COMPONENTS, "payout")}
    wrong = np.flatnonzero(sum(cents[c] for c in COMPONENTS) != cents["payout"])
    if len(wrong):
        raise ValueError(f"payroll row {wrong[0]} does not add up: {table.iloc[wrong[0]].to_dict()}")
    is_total = (table["rep_id"] == TOTAL).to_numpy()
    if is_total.any():
        for column, values in cents.items():
            if values[~is_total].sum() != values[is_total].sum():
                raise ValueError(f"payroll total of {column} is not the sum of the rows")


# ------------------------------------------------------------------------------------------------ what-if
@dataclass(frozen=True)
class PlanComparison:
    """The numbers of the what-if sentences: totals, cost as a share of bookings, who gains or loses."""

    current_plan: str
    alternative_plan: str
    total_current: float
    total_alternative: float
    difference: float
    difference_share: float  # difference / total_current (NaN when the current total is 0)
    cost_share_current: float  # total payout / total bookings
    cost_share_alternative: float
    reps_gaining: int
    reps_losing: int
    reps_unchanged: int
    largest_gain: tuple[str, float] | None  # (rep_id, difference)
    largest_loss: tuple[str, float] | None


@dataclass(frozen=True)
class WhatIf:
    """The same history under two plans: both payrolls, the per-rep comparison and its summary."""

    current: pd.DataFrame
    alternative: pd.DataFrame
    per_rep: pd.DataFrame
    summary: PlanComparison


def compare_payrolls(
    current: pd.DataFrame, alternative: pd.DataFrame, current_name: str = "current",
    alternative_name: str = "alternative",
) -> tuple[pd.DataFrame, PlanComparison]:  # fmt: skip
    """Per-rep difference between two payrolls of the same history (without total rows).

    Returns
    -------
    per_rep : DataFrame
        One row per rep, largest gain first: ``rep_id, team, bookings, payout_current, payout_alternative,
        difference`` (alternative - current), ``difference_share`` (difference / payout_current, NaN when that
        is 0) and ``outcome`` (``gains``, ``loses`` or ``unchanged``, to the cent).
    summary : PlanComparison
    """

    def per_rep(table: pd.DataFrame, name: str) -> pd.DataFrame:
        rows = table[table["rep_id"] != TOTAL]
        team = rows.groupby("rep_id")["team"].last()
        return (
            rows.groupby("rep_id")[["bookings", "payout"]]
            .sum()
            .assign(team=team)
            .rename(columns={"payout": name})
        )

    a, b = per_rep(current, "payout_current"), per_rep(alternative, "payout_alternative")
    reps = a.join(b[["payout_alternative"]], how="outer").fillna(
        {"payout_current": 0, "payout_alternative": 0}
    )
    reps["difference"] = (_cents(reps["payout_alternative"]) - _cents(reps["payout_current"])) / 100.0
    reps["difference_share"] = reps["difference"] / reps["payout_current"].where(reps["payout_current"] != 0)
    reps["outcome"] = np.select(
        [reps["difference"] > 0, reps["difference"] < 0], ["gains", "loses"], "unchanged"
    )
    reps = reps.reset_index().sort_values(
        ["difference", "rep_id"], ascending=[False, True], ignore_index=True
    )
    reps = reps[["rep_id", "team", "bookings", "payout_current", "payout_alternative", "difference",
                 "difference_share", "outcome"]]  # fmt: skip
    total_a = float(_cents(reps["payout_current"]).sum()) / 100.0
    total_b = float(_cents(reps["payout_alternative"]).sum()) / 100.0
    booked = float(reps["bookings"].sum())
    gains, losses = reps[reps["outcome"] == "gains"], reps[reps["outcome"] == "loses"]
    summary = PlanComparison(
        current_name, alternative_name, total_a, total_b, round(total_b - total_a, 2),
        (total_b - total_a) / total_a if total_a else np.nan,
        total_a / booked if booked else np.nan, total_b / booked if booked else np.nan,
        len(gains), len(losses), len(reps) - len(gains) - len(losses),
        (gains.iloc[0]["rep_id"], float(gains.iloc[0]["difference"])) if len(gains) else None,
        (losses.iloc[-1]["rep_id"], float(losses.iloc[-1]["difference"])) if len(losses) else None,
    )  # fmt: skip
    return reps, summary


def what_if(
    current: CommissionPlan,
    alternative: CommissionPlan,
    bookings: pd.DataFrame,
    quotas: pd.DataFrame,
    returns: pd.DataFrame | None = None,
    teams: pd.DataFrame | None = None,
) -> WhatIf:
    """The same history (frames as in :func:`payroll`) paid under ``current`` and under ``alternative``."""
    a = payroll(current, bookings, quotas, returns, teams)
    b = payroll(alternative, bookings, quotas, returns, teams)
    reps, summary = compare_payrolls(a, b, current.name, alternative.name)
    return WhatIf(a, b, reps, summary)

"""Quota fairness and next-period quotas: how attainment is spread, whether quotas follow territory potential,
and a suggested quota per rep with the method stated.

Inputs (aggregates built by the analysis with engine queries):

* ``bookings``: one row per (rep_id, period): ``bookings`` (net revenue of the rep's order lines of the
  month);
* ``quotas``: the ``targets`` table, one row per (rep_id, period): ``quota``;
* ``potential``: one row per rep: ``potential``, what the rep's territory can book in the same span as the
  quota it is compared with (the forecast analysis's per-rep or per-region forecast, or history such as the
  territory's trailing-12-month bookings);
* ``teams``: one row per rep: ``rep_id``, ``team``.

Periods are ``YYYY-MM`` texts. Reps without a team are in team ``None`` (shown in the company row only).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

ALL = "all"
#: A rep's quota/potential is "far above" the company's when it is more than this much above it (x 1.25), and
#: "far below" when it is under 1 / 1.25 = 0.8 times it (the same distance on a log scale).
FAR_FROM_COMPANY = 0.25


def attainment(bookings: pd.DataFrame, quotas: pd.DataFrame) -> pd.DataFrame:
    """Attainment of every rep-month with a quota.

    Parameters
    ----------
    bookings : DataFrame
        ``rep_id, period, bookings``, one row per (rep, period).
    quotas : DataFrame
        ``rep_id, period, quota``, one row per (rep, period); rows with a quota of 0 or none are left out.

    Returns
    -------
    DataFrame
        One row per (rep_id, period) with a positive quota, sorted: ``bookings`` (0 without any),
        ``quota``, ``attainment`` = bookings / quota.
    """
    keys = ["rep_id", "period"]
    with_quota = quotas[quotas["quota"] > 0].groupby(keys, as_index=False)["quota"].sum()
    booked = bookings.groupby(keys, as_index=False)["bookings"].sum()
    out = with_quota.merge(booked, on=keys, how="left").fillna({"bookings": 0.0})
    out = out.assign(attainment=out["bookings"] / out["quota"])
    return out[[*keys, "bookings", "quota", "attainment"]].sort_values(keys, ignore_index=True)


def implied_stretch(months: pd.DataFrame) -> float:
    """The company's quota stretch: total quota / total bookings of the rep-months with a quota (1.1 means
    quotas were set 10 % above what was booked). NaN without bookings.

    Parameters
    ----------
    months : DataFrame
        :func:`attainment`'s frame (any window of it).
    """
    booked = float(months["bookings"].sum())
    return float(months["quota"].sum()) / booked if booked > 0 else float("nan")


def team_of(rows: pd.DataFrame, teams: pd.DataFrame | None) -> pd.Series:
    """The team of each row of ``rows`` (``rep_id`` and maybe ``period``), aligned with ``rows``.

    ``teams`` is ``rep_id, team``, or ``rep_id, period, team`` when reps change teams (then rows with a period
    get that period's team, rows without one the rep's latest team); None or empty: no teams (all None).
    """
    if teams is None or teams.empty:
        return pd.Series([None] * len(rows), index=rows.index, dtype=object)
    if "period" in teams.columns and "period" in rows.columns:
        lookup = teams.drop_duplicates(["rep_id", "period"], keep="last")[["rep_id", "period", "team"]]
        return (
            rows[["rep_id", "period"]]
            .merge(lookup, on=["rep_id", "period"], how="left")["team"]
            .set_axis(rows.index)
        )
    latest = teams.sort_values("period") if "period" in teams.columns else teams
    return rows["rep_id"].map(latest.drop_duplicates("rep_id", keep="last").set_index("rep_id")["team"])


@dataclass(frozen=True)
class AttainmentSpread:
    """Attainment over a window: per rep, per team (and the company), and the company's headline numbers."""

    per_rep: pd.DataFrame
    by_team: pd.DataFrame
    reps: int
    share_at_or_above: float
    median: float
    spread: float  # p75 - p25 of the reps' attainment


def attainment_spread(months: pd.DataFrame, teams: pd.DataFrame | None = None) -> AttainmentSpread:
    """How attainment is distributed over the reps, company-wide and by team.

    Parameters
    ----------
    months : DataFrame
        :func:`attainment`'s frame restricted to the window (e.g. the trailing 12 months).
    teams : DataFrame, optional
        ``rep_id, team``.

    Returns
    -------
    AttainmentSpread
        ``per_rep``: one row per rep, ``rep_id, team, periods, bookings, quota, attainment`` (the window's
        bookings / its quota), highest attainment first. ``by_team``: one row per team then the company
        (``team == 'all'``): ``reps, at_or_above`` (share of reps at >= 100 %), ``median, p25, p75, spread``
        (p75 - p25), ``lowest, highest``, ``attainment`` (the team's bookings / its quota).
    """
    per_rep = months.groupby("rep_id", as_index=False).agg(
        periods=("period", "nunique"), bookings=("bookings", "sum"), quota=("quota", "sum")
    )
    per_rep = per_rep.assign(team=team_of(per_rep, teams), attainment=per_rep["bookings"] / per_rep["quota"])
    per_rep = per_rep[["rep_id", "team", "periods", "bookings", "quota", "attainment"]]
    per_rep = per_rep.sort_values(["attainment", "rep_id"], ascending=[False, True], ignore_index=True)

    def describe(group: pd.DataFrame) -> dict:
        a = group["attainment"]
        p25, p75 = a.quantile(0.25), a.quantile(0.75)
        return {
            "reps": len(group),
            "at_or_above": float((a >= 1.0).mean()) if len(group) else np.nan,
            "median": a.median(),
            "p25": p25,
            "p75": p75,
            "spread": p75 - p25,
            "lowest": a.min(),
            "highest": a.max(),
            "attainment": group["bookings"].sum() / group["quota"].sum() if len(group) else np.nan,
        }

    rows = [{"team": team, **describe(g)} for team, g in per_rep.dropna(subset=["team"]).groupby("team")]
    company = describe(per_rep)
    by_team = pd.DataFrame([*rows, {"team": ALL, **company}])
    return AttainmentSpread(
        per_rep, by_team, company["reps"], company["at_or_above"], company["median"], company["spread"]
    )


def split_potential(group_potential: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """A per-rep potential from a per-group one (e.g. the forecast of a region), split by each rep's share of
    the group's bookings over a trailing window; a group without bookings is split evenly.

    Parameters
    ----------
    group_potential : DataFrame
        ``group, potential``: one row per group (region or team).
    history : DataFrame
        ``rep_id, group, bookings``: one row per rep, the rep's trailing bookings (negative counted as 0).

    Returns
    -------
    DataFrame
        ``rep_id, group, share, potential``: one row per rep of ``history`` whose group has a potential; the
        shares of a group add up to 1 and its reps' potentials to the group's.
    """
    reps = history[["rep_id", "group", "bookings"]].merge(group_potential[["group", "potential"]], on="group")
    weight = reps["bookings"].clip(lower=0)
    total = weight.groupby(reps["group"]).transform("sum")
    count = reps.groupby("group")["rep_id"].transform("count")
    reps["share"] = (weight / total.where(total > 0)).fillna(1 / count)
    reps["potential"] = reps["potential"] * reps["share"]
    return reps[["rep_id", "group", "share", "potential"]].reset_index(drop=True)


def quota_vs_potential(
    quotas: pd.DataFrame,
    potential: pd.DataFrame,
    teams: pd.DataFrame | None = None,
    far: float = FAR_FROM_COMPANY,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Quota against territory potential, per rep and per team.

    The rule: a rep's ``ratio`` = quota / potential is compared with the company's (total quota / total
    potential), which takes out the company's stretch; ``relative`` = ratio / company ratio is ``far_above``
    when it exceeds ``1 + far`` and ``far_below`` when it is under ``1 / (1 + far)``, else ``in_line``; a rep
    without a positive potential is ``no_potential``.

    Parameters
    ----------
    quotas : DataFrame
        ``rep_id, quota``: one row per rep, the quota over the span of ``potential`` (e.g. the sum of the
        trailing 12 monthly quotas, or the next month's).
    potential : DataFrame
        ``rep_id, potential``: one row per rep, over the same span.
    teams : DataFrame, optional
        ``rep_id, team``.
    far : float
        How far from the company's ratio counts as far (0.25: 25 % above, or 20 % below).

    Returns
    -------
    per_rep : DataFrame
        One row per rep with a quota: ``rep_id, team, quota, potential, ratio, relative, flag``, furthest
        above first.
    by_team : DataFrame
        One row per team then the company (``team == 'all'``): ``quota, potential, ratio, relative`` (team
        ratio / company ratio), ``reps``, ``far_above``, ``far_below`` (counts of reps).
    """
    per_rep = quotas[["rep_id", "quota"]].merge(potential[["rep_id", "potential"]], on="rep_id", how="left")
    per_rep = per_rep.assign(team=team_of(per_rep, teams))
    usable = per_rep["potential"] > 0
    company = (
        per_rep.loc[usable, "quota"].sum() / per_rep.loc[usable, "potential"].sum() if usable.any() else 0
    )
    per_rep["ratio"] = per_rep["quota"] / per_rep["potential"].where(usable)
    per_rep["relative"] = per_rep["ratio"] / company if company else np.nan
    per_rep["flag"] = np.select(
        [~usable, per_rep["relative"] > 1 + far, per_rep["relative"] < 1 / (1 + far)],
        ["no_potential", "far_above", "far_below"],
        "in_line",
    )
    per_rep = per_rep[["rep_id", "team", "quota", "potential", "ratio", "relative", "flag"]]
    per_rep = per_rep.sort_values(["relative", "rep_id"], ascending=[False, True], ignore_index=True)

    def describe(group: pd.DataFrame) -> dict:
        sure = group[group["flag"] != "no_potential"]
        ratio = sure["quota"].sum() / sure["potential"].sum() if len(sure) else np.nan
        return {
            "quota": group["quota"].sum(),
            "potential": sure["potential"].sum(),
            "ratio": ratio,
            "relative": ratio / company if company else np.nan,
            "reps": len(group),
            "far_above": int((group["flag"] == "far_above").sum()),
            "far_below": int((group["flag"] == "far_below").sum()),
        }

    rows = [{"team": t, **describe(g)} for t, g in per_rep.dropna(subset=["team"]).groupby("team")]
    return per_rep, pd.DataFrame([*rows, {"team": ALL, **describe(per_rep)}])


@dataclass(frozen=True)
class QuotaMethod:
    """How the next quotas were set (for the methods text): ``stretch`` x a blend of the territory's potential
    (weight ``potential_weight``) and the rep's run rate (the current quota x trailing attainment), limited to
    ``max_change`` around the current quota."""

    stretch: float
    potential_weight: float
    max_change: float


def suggest_quotas(
    current: pd.DataFrame,
    potential: pd.DataFrame,
    trailing: pd.DataFrame,
    stretch: float,
    potential_weight: float = 0.5,
    max_change: float = 0.15,
    teams: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, QuotaMethod]:
    """A suggested next-period quota per rep.

    Method: ``from_potential`` = stretch x the territory's potential for the next period; ``from_history`` =
    stretch x current quota x the rep's trailing attainment (the run rate the rep showed, stretched as the
    company stretches); ``blended`` = potential_weight x from_potential + (1 - potential_weight) x
    from_history (the one that exists when the other is missing); the suggestion is ``blended`` limited to
    current x (1 +/- max_change). A rep without a current quota (new in the territory) gets ``blended`` as is;
    a rep with neither potential nor history keeps the current quota.

    Parameters
    ----------
    current : DataFrame
        ``rep_id, quota``: one row per rep, the quota of the latest period (the reps to suggest for).
    potential : DataFrame
        ``rep_id, potential``: the territory's expected bookings in the next period.
    trailing : DataFrame
        ``rep_id, attainment``: one row per rep, attainment over the trailing window
        (:func:`attainment_spread`'s ``per_rep``).
    stretch : float
        The company's stretch (:func:`implied_stretch` of the trailing window, or a chosen one).
    potential_weight : float
        Weight of the potential in the blend, in [0, 1].
    max_change : float
        Largest change from the current quota, as a share (0.15: at most 15 % up or down).
    teams : DataFrame, optional
        ``rep_id, team``.

    Returns
    -------
    suggestions : DataFrame
        One row per rep of ``current``: ``rep_id, team, current_quota, potential, trailing_attainment,
        from_potential, from_history, blended, suggested_quota, change`` (suggested / current - 1) and
        ``limited`` (True when the +/- max_change limit set the suggestion).
    method : QuotaMethod
    """
    if not 0 <= potential_weight <= 1 or max_change < 0 or not stretch > 0:
        raise ValueError("potential_weight must be in [0, 1], max_change >= 0 and stretch > 0")
    out = current[["rep_id", "quota"]].rename(columns={"quota": "current_quota"})
    out = out.merge(potential[["rep_id", "potential"]], on="rep_id", how="left")
    out = out.merge(
        trailing[["rep_id", "attainment"]].rename(columns={"attainment": "trailing_attainment"}),
        on="rep_id",
        how="left",
    )
    out.insert(1, "team", team_of(out, teams))
    out["from_potential"] = stretch * out["potential"].where(out["potential"] > 0)
    out["from_history"] = stretch * out["current_quota"] * out["trailing_attainment"]
    both = potential_weight * out["from_potential"] + (1 - potential_weight) * out["from_history"]
    out["blended"] = both.fillna(out["from_potential"]).fillna(out["from_history"])
    low, high = out["current_quota"] * (1 - max_change), out["current_quota"] * (1 + max_change)
    limited = out["blended"].clip(lower=low, upper=high)
    out["suggested_quota"] = limited.where(out["current_quota"] > 0, out["blended"])
    out["suggested_quota"] = out["suggested_quota"].fillna(out["current_quota"])
    out["change"] = out["suggested_quota"] / out["current_quota"].where(out["current_quota"] > 0) - 1
    out["limited"] = (out["current_quota"] > 0) & out["blended"].notna() & (limited != out["blended"])
    return out.reset_index(drop=True), QuotaMethod(stretch, potential_weight, max_change)

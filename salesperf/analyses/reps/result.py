"""The rep-evaluation report's rich result and the small frames its sections need that the parts do not make
(pure): the active-month panel of the ranking without deals, the territory potential (from the forecast
analysis's shared forecasts, else from history), the quota rows of the payroll, the payroll of the report
period per rep.

Money and period texts are those of :mod:`.queries` (``YYYY-MM`` months)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from salesperf.analyses.reps.gaps import CoachingRules, SkillGaps
from salesperf.analyses.reps.incentives import COMPONENTS, TOTAL, WhatIf, add_total_row
from salesperf.analyses.reps.quotas import AttainmentSpread, QuotaMethod, split_potential
from salesperf.analyses.reps.ranking import SkillRanking
from salesperf.analyses.reps.scorecard import Scorecard
from salesperf.analyses.reps.training import TrainingImpact

#: Sections a per-rep copy leaves to the full report (they compare a rep with peers it does not hold).
PEER_SECTIONS = ("rollups", "ranking", "gaps", "quotas", "incentives", "training")
#: Pattern of a rep series of the forecast analysis (``team/T/rep/R001`` or ``rep/R001``).
REP_SERIES = r"(?:^|/)rep/(?P<rep_id>[^/]+)$"
REGION_SERIES = r"^region/(?P<group>[^/]+)$"


@dataclass
class Reps:
    """Everything the rep-evaluation report shows.

    Attributes
    ----------
    as_of : datetime.date
        The period end.
    grain : {'month', 'quarter', 'week'}
    currency : str
    entity : str
        ``rep:R001`` (or a team or region) for a fan-out copy, empty for the whole company.
    card : Scorecard
        The scorecard (``card.missing``: KPI family → reason key; ``{'bookings': 'no_reps'}`` without reps).
    rules : CoachingRules
    gaps : SkillGaps or None
        None in a per-rep copy or without scored reps.
    ranking : SkillRanking or None
    ranking_basis : str
        ``deals`` (win skill from closed deals), ``attainment`` or ``bookings`` (rep-month KPI) or ``none``.
    spread : AttainmentSpread or None
        Attainment over the trailing year (None without targets).
    fairness : DataFrame or None
        :func:`~.quotas.quota_vs_potential`'s per-rep frame (next period's quota against potential).
    fairness_by_team : DataFrame or None
    suggestions : DataFrame or None
        :func:`~.quotas.suggest_quotas`'s frame.
    method : QuotaMethod or None
    potential_source : str
        ``forecast_region``, ``forecast_rep``, ``history`` or ``none``.
    payroll : DataFrame or None
        The trailing year's payroll under the plan, one row per (rep, month) and a total row
        (:func:`~.incentives.add_total_row`).
    what_if : WhatIf or None
        The same history under the alternative plan (None without one).
    plan_name : str
    training : TrainingImpact or None
    training_status : str
        ``ok``, ``no_training`` (no records), ``no_data`` (no deals nor panel) or ``peers`` (a per-rep copy).
    """

    as_of: date
    grain: str
    currency: str
    entity: str
    card: Scorecard
    rules: CoachingRules
    gaps: SkillGaps | None = None
    ranking: SkillRanking | None = None
    ranking_basis: str = "none"
    spread: AttainmentSpread | None = None
    fairness: pd.DataFrame | None = None
    fairness_by_team: pd.DataFrame | None = None
    suggestions: pd.DataFrame | None = None
    method: QuotaMethod | None = None
    potential_source: str = "none"
    payroll: pd.DataFrame | None = None
    what_if: WhatIf | None = None
    plan_name: str = ""
    training: TrainingImpact | None = None
    training_status: str = "no_training"
    labels: dict = field(default_factory=dict)

    @property
    def has_reps(self) -> bool:
        """Whether the data name any rep (on the order lines or the deals)."""
        return self.card.missing.get("bookings") != "no_reps"

    @property
    def one_rep(self) -> bool:
        """Whether this is a per-rep copy (its peers are in the full report)."""
        return self.entity.startswith("rep:")

    def shows(self, section: str) -> bool:
        """Whether ``section`` has anything to show beyond one stated line."""
        if not self.has_reps:
            return False
        return not (self.one_rep and section in PEER_SECTIONS)

    def window(self, window: str = "period") -> pd.DataFrame:
        """The scorecard's per-rep KPIs of ``window`` (``period`` or ``year``), largest bookings first."""
        kpis = self.card.kpis
        rows = kpis[kpis["window"] == window]
        return rows.sort_values(["bookings", "rep_id"], ascending=[False, True], ignore_index=True)

    def rollup(self, level: str, window: str = "period") -> pd.DataFrame:
        """The roll-ups of ``level`` (``team``, ``region``, ``company``) in ``window``."""
        r = self.card.rollups
        return r[(r["level"] == level) & (r["window"] == window)].reset_index(drop=True)


def active_panel(
    panel: pd.DataFrame, quotas: pd.DataFrame | None, regions: pd.DataFrame | None
) -> pd.DataFrame:
    """The rep-month rows of a ranking without deals: every month from a rep's first to its last active one
    (0 bookings in a month without sales), with the month's quota and the rep's region.

    Parameters
    ----------
    panel : DataFrame
        :func:`~.queries.rep_month_panel`'s frame: ``rep_id``, ``period`` (``YYYY-MM``), ``bookings``, ...
    quotas : DataFrame or None
        ``rep_id``, ``month`` (``YYYY-MM``), ``quota``.
    regions : DataFrame or None
        ``rep_id``, ``region``: one row per rep.

    Returns
    -------
    DataFrame
        One row per (rep_id, period): ``bookings``, ``quota`` (NaN without one), ``attainment`` (bookings /
        a positive quota, else NaN), ``region`` (None without one).
    """
    columns = ["rep_id", "period", "bookings", "quota", "attainment", "region"]
    if panel.empty:
        return pd.DataFrame(columns=columns)
    months = pd.PeriodIndex(panel["period"], freq="M")
    spans = panel.assign(m=months).groupby("rep_id")["m"].agg(["min", "max"])
    grid = pd.DataFrame(
        [
            (rep, str(m))
            for rep, row in spans.iterrows()
            for m in pd.period_range(row["min"], row["max"], freq="M")
        ],
        columns=["rep_id", "period"],
    )
    out = grid.merge(panel[["rep_id", "period", "bookings"]], on=["rep_id", "period"], how="left")
    out["bookings"] = out["bookings"].fillna(0.0)
    if quotas is not None and len(quotas):
        q = quotas.rename(columns={"month": "period"})[["rep_id", "period", "quota"]]
        out = out.merge(q, on=["rep_id", "period"], how="left")
    else:
        out["quota"] = np.nan
    out["attainment"] = out["bookings"] / out["quota"].where(out["quota"] > 0)
    if regions is not None and len(regions):
        out = out.merge(regions[["rep_id", "region"]], on="rep_id", how="left")
    else:
        out["region"] = None
    return out[columns]


def forecast_potential(forecasts: pd.DataFrame, history: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Each rep's potential for the next period from the forecast analysis's reconciled forecasts: the
    forecast of the rep's region split by the reps' trailing bookings (:func:`~.quotas.split_potential`), else
    the rep's own series.

    Parameters
    ----------
    forecasts : DataFrame
        ``unique_id``, ``ds``, ``yhat`` (the forecast analysis's shared ``forecasts``).
    history : DataFrame
        ``rep_id``, ``region`` (None without one), ``bookings`` (trailing year): one row per rep.

    Returns
    -------
    potential : DataFrame
        ``rep_id``, ``potential``: one row per rep with a forecast.
    source : str
        ``forecast_region``, ``forecast_rep`` or ``none`` (no usable series).
    """
    empty = pd.DataFrame(columns=["rep_id", "potential"])
    if forecasts is None or forecasts.empty:
        return empty, "none"
    first = forecasts[forecasts["ds"] == forecasts["ds"].min()]
    ids = first["unique_id"].astype(str)
    regions = ids.str.extract(REGION_SERIES)["group"]
    by_region = pd.DataFrame({"group": regions, "potential": first["yhat"].to_numpy()}).dropna(
        subset=["group"]
    )
    known = history.dropna(subset=["region"])
    if len(by_region) and len(known):
        split = split_potential(by_region, known.rename(columns={"region": "group"}))
        if len(split):
            return split[["rep_id", "potential"]], "forecast_region"
    reps = ids.str.extract(REP_SERIES)["rep_id"]
    own = pd.DataFrame({"rep_id": reps, "potential": first["yhat"].to_numpy()}).dropna(subset=["rep_id"])
    own = own[own["rep_id"].isin(history["rep_id"])]
    if len(own):
        return own.groupby("rep_id", as_index=False)["potential"].sum(), "forecast_rep"
    return empty, "none"


def history_potential(year: pd.DataFrame, months_ahead: int) -> pd.DataFrame:
    """Each rep's potential for the next period from history: the trailing year's bookings per employed month
    times the months of the next period.

    Parameters
    ----------
    year : DataFrame
        The scorecard's ``year`` rows: ``rep_id``, ``bookings``, ``rep_months``.
    months_ahead : int
        Calendar months of the next period (1 for a month, 3 for a quarter).

    Returns
    -------
    DataFrame
        ``rep_id``, ``potential``: one row per rep with employed months.
    """
    months = year["rep_months"].where(year["rep_months"] > 0)
    out = year.assign(potential=year["bookings"].clip(lower=0) / months * months_ahead)
    return out.dropna(subset=["potential"])[["rep_id", "potential"]].reset_index(drop=True)


def payroll_quotas(quotas: pd.DataFrame | None, months: list[str]) -> pd.DataFrame:
    """The monthly quotas of ``months`` as the payroll reads them: ``rep_id``, ``period``, ``quota``."""
    if quotas is None or quotas.empty:
        return pd.DataFrame(
            {"rep_id": pd.Series(dtype=str), "period": pd.Series(dtype=str), "quota": pd.Series(dtype=float)}
        )
    rows = quotas[quotas["month"].isin(months)].rename(columns={"month": "period"})
    return rows[["rep_id", "period", "quota"]].reset_index(drop=True)


def payroll_of_period(payroll: pd.DataFrame, months: list[str]) -> pd.DataFrame:
    """The payroll rows of ``months`` summed per rep, with a total row: ``rep_id``, ``team``, ``bookings``,
    ``quota``, ``attainment`` (bookings / quota, NaN without one), every component and ``payout``; largest
    payout first."""
    rows = payroll[(payroll["rep_id"] != TOTAL) & payroll["period"].isin(months)]
    money = ["bookings", "quota", *COMPONENTS, "payout"]
    sums = rows.groupby("rep_id").agg(team=("team", "last"), **{c: (c, "sum") for c in money}).reset_index()
    sums["quota"] = sums["quota"].where(sums["quota"] > 0)
    sums["attainment"] = sums["bookings"] / sums["quota"]
    sums = sums.assign(period=None).sort_values(
        ["payout", "rep_id"], ascending=[False, True], ignore_index=True
    )
    out = add_total_row(
        sums[["rep_id", "period", "team", "bookings", "quota", "attainment", *COMPONENTS, "payout"]]
    )
    for c in money:
        out[c] = out[c].round(2)
    return out

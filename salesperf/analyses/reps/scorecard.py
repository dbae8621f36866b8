"""The rep scorecard, pure: per-rep KPIs of the report period and the trailing year from the aggregated frames
of :mod:`salesperf.analyses.reps.queries`, with team, region and company roll-ups that add up.

Every rate is recomputed from its additive parts, for a rep and for a group alike (:func:`with_rates`), never
averaged over reps:

* attainment = bookings of the reps with a quota / their quota (the quota of the window's months);
* win rate = won / (won + lost) deals closed in the window; average deal size = won amount / won;
* cycle = days from creation to close of the won deals: a rep's median, and the mean (days / won) for groups;
* coverage = open pipeline at the period end / the quota of the *following* period (month after a month,
  quarter after a quarter: at a period end the rest of its own quota is nil), for reps with that quota;
* NRR, GRR = the lifecycle report's definitions over the rep's book
  (:func:`salesperf.analyses.lifecycle.revenue_retention.revenue_retention`); they are 12-month measures, the
  same in both windows;
* NPS = (promoters − detractors) / responses, between −1 and 1; CSAT = mean score.

A KPI whose data are absent is NaN in every row and named in :attr:`Scorecard.missing` with its reason key.
Money: the engine rounds each rep-month to the cent; a window's bookings are the sum of its months (the
trend's figures), so they may differ from an unrounded sum of fractional-cent lines by 0.005 a month.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from salesperf.analyses.lifecycle.revenue_retention import revenue_retention

WINDOWS = ("period", "year")
NONE = "(none)"
#: Columns that add up over reps (a group's value is their sum); ``rep_months``: months of the window in which
#: the rep was employed (hire and leaving dates of the reps table; every month without them).
# fmt: off
ADDITIVE = (
    "rep_months", "bookings", "returns", "orders", "quota", "quota_bookings", "won", "lost", "won_amount",
    "cycle_days", "created", "pipeline_created", "open_deals", "open_amount", "next_quota", "covered_open",
    "activities", "new_customers", "customers_base", "customers_kept", "revenue_base", "revenue_now",
    "revenue_kept", "nps_responses", "promoters", "detractors", "csat_responses", "csat_score_sum",
)
#: Rates recomputed from :data:`ADDITIVE` columns by :func:`with_rates`; ``*_per_month`` per employed month
#: (for a group: per rep-month), so that a rep hired in the year is compared on the months worked.
RATES = (
    "attainment", "win_rate", "avg_deal", "cycle_mean_days", "coverage", "nrr", "grr", "nps", "csat_mean",
    "bookings_per_month", "pipeline_per_month", "activities_per_month", "new_customers_per_month",
)
#: The additive columns of each KPI family (NaN when the family is missing).
FAMILIES = {
    "attainment": ("quota", "quota_bookings"), "win_rate": ("won", "lost"), "deal_size": ("won_amount",),
    "cycle": ("cycle_days",), "pipeline": ("created", "pipeline_created", "open_deals", "open_amount"),
    "coverage": ("next_quota", "covered_open"), "activities": ("activities",),
    "new_customers": ("new_customers",),
    "retention": ("customers_base", "customers_kept", "revenue_base", "revenue_now", "revenue_kept"),
    "satisfaction": ("nps_responses", "promoters", "detractors", "csat_responses", "csat_score_sum"),
}
#: Which rates depend on which family.
RATE_FAMILY = {
    "attainment": "attainment", "win_rate": "win_rate", "avg_deal": "deal_size", "cycle_mean_days": "cycle",
    "coverage": "coverage", "nrr": "retention", "grr": "retention", "nps": "satisfaction",
    "csat_mean": "satisfaction", "pipeline_per_month": "pipeline", "activities_per_month": "activities",
    "new_customers_per_month": "new_customers",
}
# fmt: on


@dataclass
class Scorecard:
    """The scorecard of one period.

    Attributes
    ----------
    kpis : DataFrame
        One row per (rep_id, window) — window ``period`` or ``year`` (trailing 12 months) — sorted by rep:
        ``rep_id``, ``window``, ``name``, ``team``, ``region``, every column of :data:`ADDITIVE`,
        ``cycle_median_days`` and every rate of :data:`RATES`.
    activity_mix : DataFrame
        One row per (rep_id, window, type): ``activities``, ``share`` (of the rep's activities in the window).
    trend : DataFrame
        One row per (rep_id, month) of the trend months: ``month`` (``YYYY-MM``), ``bookings``, ``quota``
        (NaN without targets), ``attainment``.
    rollups : DataFrame
        One row per (level, group, window), level ``team``, ``region`` (when the reps table has them) and
        ``company`` (group ``all``): ``reps`` and the columns of :data:`ADDITIVE` (sums over the group's reps)
        and :data:`RATES` (recomputed from the sums).
    unassigned : DataFrame
        One row per window: ``bookings``, ``orders``, ``returns``, ``new_customers`` of the lines without a
        rep (not in any rep's or group's figures).
    missing : dict
        KPI family (``attainment``, ``win_rate``, ... ``team``, ``region``, ``rep_names``) → reason key.
    conventions : dict
        The rules this scorecard used: ``bookings_source`` (``orders`` / ``won_opportunities``),
        ``book_source``, ``coverage_base`` (grain of the following period), ``teams`` (``reps_table``),
        ``year_start``, ``period_end``.
    """

    kpis: pd.DataFrame
    activity_mix: pd.DataFrame
    trend: pd.DataFrame
    rollups: pd.DataFrame
    unassigned: pd.DataFrame
    missing: dict = field(default_factory=dict)
    conventions: dict = field(default_factory=dict)


def _divide(top: pd.Series, bottom: pd.Series) -> pd.Series:
    return top / bottom.where(bottom > 0)


def with_rates(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the rates of :data:`RATES` computed from its additive columns (one row per rep or per
    group; NaN where the denominator is 0 or missing)."""
    out = frame.copy()
    out["attainment"] = _divide(out["quota_bookings"], out["quota"])
    out["win_rate"] = _divide(out["won"], out["won"] + out["lost"])
    out["avg_deal"] = _divide(out["won_amount"], out["won"])
    out["cycle_mean_days"] = _divide(out["cycle_days"], out["won"])
    out["coverage"] = _divide(out["covered_open"], out["next_quota"])
    out["nrr"] = _divide(out["revenue_now"], out["revenue_base"])
    out["grr"] = _divide(out["revenue_kept"], out["revenue_base"])
    out["nps"] = _divide(out["promoters"] - out["detractors"], out["nps_responses"])
    out["csat_mean"] = _divide(out["csat_score_sum"], out["csat_responses"])
    for column in ("bookings", "pipeline_created", "activities", "new_customers"):
        out[f"{column.removesuffix('_created')}_per_month"] = _divide(out[column], out["rep_months"])
    return out


def _window_sums(monthly: pd.DataFrame | None, columns: list[str]) -> pd.DataFrame:
    """One row per (rep_id, window) of sums of ``columns`` of a per-(rep, month, in_period, in_year) frame."""
    if monthly is None or monthly.empty:
        return pd.DataFrame(columns=["rep_id", "window", *columns])
    parts = [
        monthly.loc[monthly[f"in_{name}"]].groupby("rep_id")[columns].sum().reset_index().assign(window=name)
        for name in WINDOWS
    ]
    return pd.concat(parts, ignore_index=True)


def _quotas(inputs, months_of: dict[str, list[str]], bookings: pd.DataFrame) -> pd.DataFrame:
    """``quota``, ``quota_bookings``, ``next_quota`` per (rep_id, window)."""
    quotas = inputs.quotas
    rows = []
    for name, months in months_of.items():
        chosen = quotas.loc[quotas["month"].isin(months)].groupby("rep_id")["quota"].sum()
        rows.append(pd.DataFrame({"rep_id": chosen.index, "window": name, "quota": chosen.to_numpy()}))
    frame = pd.concat(rows, ignore_index=True)
    upcoming = quotas.loc[quotas["month"].isin(_coverage_months(inputs)[0])].groupby("rep_id")["quota"].sum()
    frame = frame.merge(bookings[["rep_id", "window", "bookings"]], on=["rep_id", "window"], how="left")
    frame["quota_bookings"] = frame["bookings"].fillna(0.0).where(frame["quota"] > 0, 0.0)
    nxt = pd.DataFrame({"rep_id": upcoming.index, "next_quota": upcoming.to_numpy()})
    nxt = pd.concat([nxt.assign(window=name) for name in WINDOWS], ignore_index=True)
    frame = frame.merge(nxt, on=["rep_id", "window"], how="outer")
    return frame.drop(columns="bookings")


def _coverage_months(inputs) -> tuple[list[str], str]:
    """The months whose quota is the coverage's base and which they are: those of the following period
    (``following_period``) when the targets hold a quota for them, else those of the report period
    (``report_period``: targets not loaded that far, its quota stands for the run rate)."""
    w, quotas = inputs.windows, inputs.quotas
    following = month_labels(w.following.start, w.following.end)
    if quotas is not None and quotas.loc[quotas["month"].isin(following), "quota"].sum() > 0:
        return following, "following_period"
    return month_labels(w.period.start, w.end), "report_period"


def month_labels(start, end) -> list[str]:
    """``YYYY-MM`` labels of the months from ``start`` to ``end`` (dates)."""
    return [str(m) for m in pd.period_range(start, end, freq="M")]


def _deals(deals: pd.DataFrame) -> pd.DataFrame:
    """The deal query's wide frame as one row per (rep_id, window)."""
    parts = []
    for name in WINDOWS:
        part = deals[["rep_id", "open_deals", "open_amount"]].copy()
        for column in ("won", "lost", "won_amount", "cycle_days", "cycle_median_days", "created"):
            part[column] = deals[f"{column}_{name}"]
        part["pipeline_created"] = deals[f"created_amount_{name}"]
        parts.append(part.assign(window=name))
    return pd.concat(parts, ignore_index=True)


def _activities(activities: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per (rep_id, window) totals, the mix: per (rep_id, window, type) count and share)."""
    mix = activities.melt(
        id_vars=["rep_id", "type"], value_vars=list(WINDOWS), var_name="window", value_name="activities"
    )
    mix = mix.loc[mix["activities"] > 0]
    totals = mix.groupby(["rep_id", "window"], as_index=False)["activities"].sum()
    mix = mix.merge(totals.rename(columns={"activities": "total"}), on=["rep_id", "window"])
    mix["share"] = mix["activities"] / mix["total"]
    mix = mix.drop(columns="total").sort_values(["rep_id", "window", "type"], ignore_index=True)
    return totals, mix[["rep_id", "window", "type", "activities", "share"]]


def _satisfaction(answers: pd.DataFrame) -> pd.DataFrame:
    """NPS and CSAT parts per (rep_id, window)."""
    nps, csat = (answers.loc[answers["kind"] == kind].set_index("rep_id") for kind in ("nps", "csat"))
    parts = []
    for name in WINDOWS:
        columns = {"nps_responses": nps[f"responses_{name}"], "promoters": nps[f"promoters_{name}"]}
        columns |= {"detractors": nps[f"detractors_{name}"], "csat_responses": csat[f"responses_{name}"]}
        columns |= {"csat_score_sum": csat[f"score_sum_{name}"]}
        part = pd.concat(columns, axis=1).fillna(0)
        parts.append(part.rename_axis("rep_id").reset_index().assign(window=name))
    return pd.concat(parts, ignore_index=True)


def _retention(book: pd.DataFrame) -> pd.DataFrame:
    kept = revenue_retention(book, group="rep_id").drop(columns=["nrr", "grr"])
    return pd.concat([kept.assign(window=name) for name in WINDOWS], ignore_index=True)


def _directory(inputs, rep_ids: set) -> pd.DataFrame:
    """One row per rep to score: the reps table's reps employed at some time in the trailing year (one who
    left before it is not scored, even if customers still name them as owner), and the reps with figures that
    the table does not list; ``name`` (the id when unknown), ``team``, ``region`` (:data:`NONE` when
    unknown)."""
    w = inputs.windows
    if inputs.reps is not None:
        reps = inputs.reps
        hired = reps["hire_date"].isna() | (reps["hire_date"] <= pd.Timestamp(w.end))
        stayed = reps["end_date"].isna() | (reps["end_date"] >= pd.Timestamp(w.year_start))
        listed = reps.loc[hired & stayed, ["rep_id", "name", "team", "region"]]
        gone = set(reps["rep_id"]) - set(listed["rep_id"])
    else:
        listed, gone = pd.DataFrame(columns=["rep_id", "name", "team", "region"]), set()
    extra = sorted(rep_ids - set(listed["rep_id"]) - gone)
    listed = pd.concat([listed, pd.DataFrame({"rep_id": extra})], ignore_index=True)
    listed["name"] = listed["name"].fillna(listed["rep_id"])
    listed[["team", "region"]] = listed[["team", "region"]].fillna(NONE)
    return listed.sort_values("rep_id", ignore_index=True)


def build_scorecard(inputs) -> Scorecard:
    """The scorecard from the fetched inputs.

    Parameters
    ----------
    inputs : salesperf.analyses.reps.queries.ScorecardInputs
        Its frames (None where absent), ``windows``, ``bookings_source``, ``found`` and ``missing``.

    Returns
    -------
    Scorecard
    """
    inputs = replace(inputs, quotas=_rep_quotas(inputs))
    w = inputs.windows
    missing = dict(inputs.missing)
    empty = pd.DataFrame(columns=["rep_id", "month", "in_period", "in_year", "bookings", "orders", "returns"])
    booked = inputs.bookings if inputs.bookings is not None else empty
    assigned = booked.loc[booked["rep_id"].notna()]
    bookings = _window_sums(assigned, ["bookings", "returns", "orders"])
    parts = [bookings]
    months_of = {"period": month_labels(w.period.start, w.end), "year": month_labels(w.year_start, w.end)}
    if inputs.quotas is not None:
        parts.append(_quotas(inputs, months_of, bookings))
    if inputs.deals is not None:
        parts.append(_deals(inputs.deals))
    mix = pd.DataFrame(columns=["rep_id", "window", "type", "activities", "share"])
    if inputs.activities is not None:
        totals, mix = _activities(inputs.activities)
        parts.append(totals)
    if inputs.new_customers is not None:
        won = inputs.new_customers
        won = won.loc[won["rep_id"].notna()].rename(columns={"customers": "new_customers"})
        parts.append(_window_sums(won, ["new_customers"]))
    if inputs.book is not None:
        parts.append(_retention(inputs.book))
    if inputs.satisfaction is not None:
        parts.append(_satisfaction(inputs.satisfaction))
    rep_ids = {r for part in parts for r in part["rep_id"].dropna()}
    people = _directory(inputs, rep_ids)
    grid = _rep_months(inputs, people, months_of)
    for part in parts:
        grid = grid.merge(part, on=["rep_id", "window"], how="left")
    grid = grid.reindex(columns=[*grid.columns, *[c for c in ADDITIVE if c not in grid.columns]])
    grid["covered_open"] = grid["open_amount"].where(grid["next_quota"] > 0, 0.0)
    grid = _blank_missing(grid, missing)
    grid = _with_figures(grid)
    kpis = with_rates(grid)
    kpis = _blank_rates(kpis, missing)
    columns = ["rep_id", "window", "name", "team", "region", *ADDITIVE, "cycle_median_days", *RATES]
    kpis = kpis.reindex(columns=columns).sort_values(["rep_id", "window"], ignore_index=True)
    return Scorecard(
        kpis=kpis,
        activity_mix=mix,
        trend=_trend(inputs, assigned),
        rollups=rollups(kpis, missing),
        unassigned=_unassigned(inputs),
        missing=missing,
        conventions=_conventions(inputs),
    )


def _rep_months(inputs, people: pd.DataFrame, months_of: dict[str, list[str]]) -> pd.DataFrame:
    """``people`` once per window with ``rep_months``: the window's calendar months in which the rep was
    employed (hired by the month's end, not gone before its start; every month without dates)."""
    dates = people[["rep_id"]].assign(hire_date=pd.NaT, end_date=pd.NaT)
    if inputs.reps is not None:
        dates = people[["rep_id"]].merge(
            inputs.reps[["rep_id", "hire_date", "end_date"]], on="rep_id", how="left"
        )
    frames = []
    for name, labels in months_of.items():
        months = pd.PeriodIndex(labels, freq="M")
        starts, ends = months.start_time.to_numpy(), months.end_time.to_numpy()
        hired = dates["hire_date"].to_numpy("datetime64[ns]")[:, None]
        left = dates["end_date"].to_numpy("datetime64[ns]")[:, None]
        employed = (np.isnat(hired) | (hired <= ends)) & (np.isnat(left) | (left >= starts))
        frames.append(people.assign(window=name, rep_months=employed.sum(axis=1).astype(float)))
    return pd.concat(frames, ignore_index=True)


def _with_figures(grid: pd.DataFrame) -> pd.DataFrame:
    """The reps with a figure in the trailing year (a listed manager without deals, quota or sales is no rep
    to score)."""
    year = grid.loc[grid["window"] == "year"].set_index("rep_id")[list(ADDITIVE[1:])]
    active = year.index[year.fillna(0).ne(0).any(axis=1)]
    return grid.loc[grid["rep_id"].isin(active)]


def _rep_quotas(inputs) -> pd.DataFrame | None:
    """The quotas of reps: targets keyed by a team or region (any key that is neither in the reps table nor,
    without one, a rep of the orders, deals or activities) are not a rep's."""
    if inputs.quotas is None:
        return None
    if inputs.reps is not None:
        known = set(inputs.reps["rep_id"])
    else:
        frames = (inputs.bookings, inputs.deals, inputs.activities)
        known = {r for frame in frames if frame is not None for r in frame["rep_id"].dropna()}
    return inputs.quotas.loc[inputs.quotas["rep_id"].isin(known)].reset_index(drop=True)


def _blank_missing(grid: pd.DataFrame, missing: dict) -> pd.DataFrame:
    """Zeros for reps without figures of a family that exists; NaN for the families that are missing."""
    for family, columns in FAMILIES.items():
        grid[list(columns)] = np.nan if family in missing else grid[list(columns)].astype(float).fillna(0.0)
    grid[["bookings", "returns", "orders"]] = grid[["bookings", "returns", "orders"]].fillna(0.0)
    return grid


def _blank_rates(frame: pd.DataFrame, missing: dict) -> pd.DataFrame:
    for rate, family in RATE_FAMILY.items():
        if family in missing:
            frame[rate] = np.nan
    if "cycle" in missing and "cycle_median_days" in frame.columns:
        frame["cycle_median_days"] = np.nan
    return frame


def rollups(kpis: pd.DataFrame, missing: dict | None = None) -> pd.DataFrame:
    """Team, region and company figures: sums of the reps' :data:`ADDITIVE` columns and rates recomputed from
    them (see :class:`Scorecard`); a level whose data are missing (``team``/``region`` in ``missing``) is left
    out."""
    missing = missing or {}
    frames = []
    for level in ("team", "region", "company"):
        if level in missing:
            continue
        keyed = kpis.assign(group="all") if level == "company" else kpis.assign(group=kpis[level])
        sums = keyed.groupby(["group", "window"]).agg(
            reps=("rep_id", "nunique"), **{c: (c, lambda s: s.sum(min_count=1)) for c in ADDITIVE}
        )
        frames.append(sums.reset_index().assign(level=level))
    out = _blank_rates(with_rates(pd.concat(frames, ignore_index=True)), missing)
    money = [c for c in ADDITIVE if out[c].dtype.kind == "f"]
    out[money] = out[money].round(2)
    return out[["level", "group", "window", "reps", *ADDITIVE, *RATES]]


def _trend(inputs, assigned: pd.DataFrame) -> pd.DataFrame:
    w = inputs.windows
    months = month_labels(w.trend_start, w.end)
    columns = ["rep_id", "month", "bookings", "quota", "attainment"]
    label = assigned["month"].dt.strftime("%Y-%m") if len(assigned) else pd.Series(dtype=str)
    recent = assigned.assign(month=label).loc[lambda f: f["month"].isin(months)]
    sums = recent.groupby(["rep_id", "month"], as_index=False)["bookings"].sum()
    if inputs.quotas is not None:
        quotas = inputs.quotas.loc[inputs.quotas["month"].isin(months)]
        sums = sums.merge(quotas, on=["rep_id", "month"], how="outer")
        sums["bookings"] = sums["bookings"].fillna(0.0)
    else:
        sums["quota"] = np.nan
    sums["attainment"] = _divide(sums["bookings"], sums["quota"])
    return sums.reindex(columns=columns).sort_values(["rep_id", "month"], ignore_index=True)


def _unassigned(inputs) -> pd.DataFrame:
    frame = pd.DataFrame({"window": list(WINDOWS)})
    for rows, columns in (
        (inputs.bookings, ["bookings", "orders", "returns"]),
        (inputs.new_customers, ["customers"]),
    ):
        if rows is not None:
            sums = _window_sums(rows.loc[rows["rep_id"].isna()].assign(rep_id=""), columns)
            frame = frame.merge(sums.drop(columns="rep_id"), on="window", how="left")
    frame = frame.rename(columns={"customers": "new_customers"}).set_index("window")
    frame = frame.reindex(columns=["bookings", "orders", "returns", "new_customers"]).astype(float).fillna(0)
    return frame.astype({"orders": "int64", "new_customers": "int64"}).reset_index()


def _conventions(inputs) -> dict:
    books = {
        (True, True): "owner_else_largest_revenue",
        (True, False): "owner",
        (False, True): "largest_revenue",
    }
    return {
        "bookings_source": inputs.bookings_source,
        "book_source": books.get((bool(inputs.found.get("owners")), bool(inputs.found.get("order_reps")))),
        "coverage_base": _coverage_months(inputs)[1] if inputs.quotas is not None else None,
        "teams": "reps_table",
        "year_start": inputs.windows.year_start,
        "period_end": inputs.windows.end,
    }

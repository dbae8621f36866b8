"""Training impact: staggered difference-in-differences, clustered by rep (docs/reps-methods.md).

* **Deals** (:func:`deal_did`): a logit of each closed deal's win on rep effects, calendar-period effects,
  controls and one effect per treated cell (Wooldridge's 2023 extended two-way fixed effects): every deal
  created on or after its owner's completion date is absorbed by its cohort's cell, so trained reps never
  serve as controls and cohorts may differ; the pre-trend test adds leads in a second fit.
* **Rep-periods** (:func:`panel_did`): Callaway & Sant'Anna (2021) group-time effects with not-yet-treated
  and never-treated reps as controls and the base period ``g - 1``, aggregated with treated-rep weights.

Standard errors are clustered by rep; both test the pre-period (placebo) effects jointly. Periods are blocks
of ``months_per_period`` calendar months; a rep's cohort is the period holding its first completion; reps
trained in or before the first period have no before and are left out. No maintained PyPI package fits:
``differences`` (Callaway-Sant'Anna) would add polars to the pinned set and has no deal-level logit. The
module is longer than 400 lines because both estimators live here with the helpers they share (timing of
cohorts, summaries, the Wald test of the leads); the team's file ownership kept them in one file for now.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import chi2, norm

from salesperf.analyses.reps.ranking import RepLogit
from salesperf.core.errors import UserError

WIN_LOG_ODDS, WIN_PROBABILITY = "win_log_odds", "win_probability"
OVERALL_COLUMNS = ["kpi", "effect", "se", "low", "high", "p_value", "treated_reps", "control_reps", "n"]
EVENT_COLUMNS = ["kpi", "event_time", "effect", "se", "low", "high", "n"]
PRETREND_COLUMNS = ["kpi", "statistic", "df", "p_value"]


@dataclass
class TrainingImpact:
    """Training effects per KPI.

    Attributes
    ----------
    overall : pandas.DataFrame
        One row per KPI: ``kpi``, ``effect`` (average effect on the trained reps after completion, in the
        KPI's unit; ``win_log_odds`` on the log-odds, ``win_probability`` as a change of the win probability),
        ``se`` (clustered by rep), ``low``, ``high`` (interval at ``level``), ``p_value`` (two-sided, effect
        = 0), ``treated_reps``, ``control_reps`` (never-trained reps), ``n`` (deals or rep-periods used).
    event_time : pandas.DataFrame
        One row per (KPI, event time in periods; 0 = the completion period, negative = before):
        ``kpi``, ``event_time``, ``effect``, ``se``, ``low``, ``high``, ``n`` (treated deals or reps).
    pretrend : pandas.DataFrame
        One row per KPI: ``kpi``, ``statistic`` (Wald chi-square that all pre-period effects are 0), ``df``,
        ``p_value`` (NaN when there is no pre-period effect to test).
    level : float
        Interval level.
    """

    overall: pd.DataFrame
    event_time: pd.DataFrame
    pretrend: pd.DataFrame
    level: float


def _month_index(values) -> np.ndarray:
    """Months since year 0 of dates or ``YYYY-MM`` labels."""
    stamps = pd.to_datetime(pd.Series(values).astype(str).str.slice(0, 7), format="%Y-%m")
    return (stamps.dt.year * 12 + stamps.dt.month - 1).to_numpy()


def _cohorts(training: pd.DataFrame, program: str | None) -> pd.Series:
    """First completion date per rep (of ``program`` when given): Series indexed by rep_id."""
    if not {"rep_id", "completed_at"} <= set(training.columns):
        raise UserError(f"training: columns 'rep_id' and 'completed_at' needed; has {list(training)}")
    rows = training if program is None else training[training["program"] == program]
    rows = rows.dropna(subset=["rep_id", "completed_at"])
    return pd.to_datetime(rows["completed_at"]).groupby(rows["rep_id"].astype(str)).min()


def _summary(effect, se, level):
    z = norm.ppf(0.5 + level / 2)
    if not np.isfinite(effect) or not np.isfinite(se):
        p_value = np.nan
    else:
        p_value = 2 * norm.sf(abs(effect / se)) if se > 0 else (0.0 if effect else 1.0)
    return {"effect": effect, "se": se, "low": effect - z * se, "high": effect + z * se, "p_value": p_value}


def _wald(effects: np.ndarray, cov: np.ndarray) -> tuple[float, int, float]:
    """Joint Wald test that all ``effects`` are 0: (chi-square, df, p-value)."""
    if len(effects) == 0:
        return np.nan, 0, np.nan
    rank = int(np.linalg.matrix_rank(cov))
    statistic = float(effects @ np.linalg.pinv(cov) @ effects)
    return statistic, rank, float(chi2.sf(statistic, rank)) if rank else np.nan


def _periods(months: np.ndarray, origin: int, months_per_period: int) -> np.ndarray:
    return (months - origin) // months_per_period


def _timing(rep_ids: pd.Series, months: np.ndarray, training, program, months_per_period):
    """Period of every row and its rep's cohort: the completion period, -1 never trained (or only after the
    data), -2 trained in or before the first period (no before: left out)."""
    origin = int(months.min())
    period = _periods(months, origin, months_per_period)
    done = _cohorts(training, program).reindex(rep_ids.astype(str).unique())
    month = _month_index(done.fillna(pd.Timestamp(0)))
    cohort = np.where(done.isna(), -1, _periods(month, origin, months_per_period))
    cohort = np.where(cohort > period.max(), -1, np.where(done.notna() & (cohort <= 0), -2, cohort))
    return period, rep_ids.astype(str).map(pd.Series(cohort, index=done.index)).to_numpy()


# ---------------------------------------------------------------------------------------------- deal level

#: Ridge on the rep effects (a Normal(0, 10^2) prior on each rep's baseline log-odds): keeps a rep whose deals
#: were all won or all lost finite without moving the others.
REP_RIDGE = 0.01


@dataclass
class _CellLogit:
    """A fitted logit with rep effects and one indicator per treated cell; covariances of beta."""

    patterns: pd.DataFrame  # one row per (rep, covariate pattern): its keys, ``wins``, ``n``
    z: pd.DataFrame  # design without the rep effects, one row per pattern
    rep_effect: np.ndarray  # per pattern: its rep's baseline log-odds
    beta: np.ndarray
    cov: np.ndarray  # clustered by rep (sandwich)
    cov_model: np.ndarray  # model-based (inverse profiled information)
    cells: list  # treated cell labels
    cell_deals: pd.Series  # deals per cell

    def weights(self, chosen) -> np.ndarray:
        """Deal-weighted average of the chosen cells' effects, as a vector over the coefficients."""
        w = np.zeros(len(self.beta))
        for c in chosen:
            w[self.z.columns.get_loc(c)] = self.cell_deals[c]
        return w / w.sum()

    def covariance(self, w: np.ndarray) -> np.ndarray:
        """Covariance of ``w @ beta`` (rows of ``w``): the clustered one unless the model-based one is larger.

        A cell whose deals come from one rep has a clustered score of zero in that rep (the cell effect fits
        the rep's own before/after difference exactly), so clustering alone would understate its noise.
        """
        w = np.atleast_2d(w)
        clustered, model = w @ self.cov @ w.T, w @ self.cov_model @ w.T
        return clustered if np.trace(clustered) >= np.trace(model) else model

    def estimate(self, w: np.ndarray) -> tuple[float, float]:
        """``w @ beta`` and its standard error."""
        return float(w @ self.beta), float(np.sqrt(self.covariance(w)[0, 0]))


def deal_did(
    deals: pd.DataFrame,
    training: pd.DataFrame,
    *,
    program: str | None = None,
    controls=("source",),
    months_per_period: int = 3,
    leads: int = 3,
    max_event: int = 8,
    min_cell_deals: int = 10,
    level: float = 0.95,
) -> TrainingImpact:
    """Effect of training on the win log-odds and the win probability of deals created after completion.

    ``logit P(won) = rep_r + period_t + controls + sum_c tau_c 1[deal in treated cell c]``: rep effects make
    each trained rep its own before/after comparison, period effects are learnt from the reps not (yet)
    trained. The overall effect comes from one cell per completion cohort (a deal is treated when created on
    or after its owner's completion date; everything before is the reference), so cohorts may differ. The
    event-time profile and the pre-trend test come from a second fit with one cell per event time (pooled
    over cohorts; periods counted from the completion date), leads ``-leads .. -2`` included (reference:
    ``e = -1`` and earlier).

    Parameters
    ----------
    deals : pandas.DataFrame
        One row per closed opportunity: ``rep_id``, ``won`` (bool or 0/1), ``created_at`` (date), and the
        categorical ``controls`` present (e.g. ``source``; what the deal was given).
    training : pandas.DataFrame
        ``rep_id``, ``completed_at`` (date), ``program`` when ``program`` is given; one row per completion.
    program : str, optional
        Programme to evaluate (default: a rep's first completion of any programme).
    controls : sequence of str
        Categorical deal covariates.
    months_per_period : int
        Calendar months per period (3: quarters).
    leads, max_event : int
        Pre-periods ``-leads .. -2`` get placebo effects; event times after ``max_event`` pool into it.
    min_cell_deals : int
        A treated cell with fewer deals or whose deals are all won or all lost, and a trained rep with fewer
        reference deals, cannot be estimated: they are left out of that fit.
    level : float
        Interval level.

    Returns
    -------
    TrainingImpact
        KPIs ``win_log_odds`` and ``win_probability`` (overall); event-time effects and the pre-trend test on
        the log-odds.
    """
    need = {"rep_id", "won", "created_at"} - set(deals.columns)
    if need:
        raise UserError(f"closed deals for the training effect: column {sorted(need)[0]!r} missing")
    deals = deals.dropna(subset=["rep_id", "won", "created_at"]).reset_index(drop=True)
    created = pd.to_datetime(deals["created_at"])
    period, cohort = _timing(deals["rep_id"], _month_index(created), training, program, months_per_period)
    completed = deals["rep_id"].astype(str).map(_cohorts(training, program))
    days = (created - completed).dt.days.to_numpy()
    frame = pd.DataFrame(
        {
            "rep": deals["rep_id"].astype(str),
            "won": deals["won"].astype(float),
            "period": period,
            "cohort": cohort,
        }
    )
    for col in controls:
        if col in deals.columns:
            frame[f"c_{col}"] = deals[col].astype("string").fillna("unknown").to_numpy()
    treated = cohort >= 0
    event = np.clip(np.floor(days / (months_per_period * 30.4375)), -1e6, max_event)
    post = treated & (days >= 0)
    frame_overall = frame.assign(cell=np.where(post, "g" + frame["cohort"].astype(str), ""))
    in_window = post | (treated & (event >= -leads) & (event <= -2))
    labels = "e" + pd.Series(event).fillna(0).astype(int).astype(str)
    frame_events = frame.assign(
        cell=np.where(in_window, labels, ""), event=np.where(in_window, event, np.nan)
    )
    keep = cohort != -2
    overall_fit = _fit_cells(_estimable(frame_overall[keep], min_cell_deals))
    events_fit = _fit_cells(_estimable(frame_events[keep], min_cell_deals))
    rows = []
    if overall_fit is not None and overall_fit.cells:
        used = overall_fit.patterns
        counts = {
            "treated_reps": used.loc[used["cohort"] >= 0, "rep"].nunique(),
            "control_reps": used.loc[used["cohort"] == -1, "rep"].nunique(),
            "n": int(used["n"].sum()),
        }
        effect, se = overall_fit.estimate(overall_fit.weights(overall_fit.cells))
        rows.append({"kpi": WIN_LOG_ODDS, **_summary(effect, se, level), **counts})
        rows.append({"kpi": WIN_PROBABILITY, **_summary(*_probability_effect(overall_fit), level), **counts})
    events, pretrend = _event_study(events_fit, frame_events, level)
    return TrainingImpact(pd.DataFrame(rows, columns=OVERALL_COLUMNS), events, pretrend, level)


def _estimable(frame: pd.DataFrame, min_deals: int) -> pd.DataFrame:
    """Leave out trained reps with few reference deals, then treated cells too small or all won or lost."""
    reference = frame[(frame["cohort"] >= 0) & (frame["cell"] == "")].groupby("rep").size()
    trained = pd.Index(frame.loc[frame["cohort"] >= 0, "rep"].unique())
    frame = frame[~frame["rep"].isin(trained.difference(reference.index[reference >= min_deals]))]
    cells = frame[frame["cell"] != ""].groupby("cell")["won"].agg(["size", "mean"])
    weak = cells.index[(cells["size"] < min_deals) | (cells["mean"] % 1 == 0)]
    return frame[~frame["cell"].isin(weak)]


def _fit_cells(frame: pd.DataFrame) -> _CellLogit | None:
    """Newton fit of the logit with rep effects profiled out (Schur complement), rep-clustered sandwich."""
    if frame.empty or frame["won"].nunique() < 2 or not (frame["cell"] != "").any():
        return None
    keys = [c for c in frame.columns if c not in ("won", "event")]
    patterns = frame.groupby(keys, sort=True).agg(wins=("won", "sum"), n=("won", "size")).reset_index()
    cells = sorted(c for c in patterns["cell"].unique() if c)
    z = pd.concat(
        [
            pd.get_dummies(patterns["period"].astype(str), prefix="t", drop_first=True, dtype=float),
            *[
                pd.get_dummies(patterns[c], prefix=c, drop_first=True, dtype=float)
                for c in keys
                if c[:2] == "c_"
            ],
            pd.DataFrame({c: (patterns["cell"] == c).astype(float) for c in cells}, index=patterns.index),
        ],
        axis=1,
    )
    design = z.to_numpy(float)
    _, rep = np.unique(patterns["rep"].to_numpy(), return_inverse=True)
    n_reps = rep.max() + 1
    wins, n = patterns["wins"].to_numpy(float), patterns["n"].to_numpy(float)
    model = RepLogit(ridge=REP_RIDGE).fit(wins, n, design, rep, n_reps)
    bread = np.linalg.pinv(model.profiled_information_)
    meat = model.rep_scores_.T @ model.rep_scores_ * n_reps / max(n_reps - 1, 1)
    cell_deals = patterns.groupby("cell")["n"].sum()
    cov = bread @ meat @ bread
    return _CellLogit(patterns, z, model.alpha_[rep], model.beta_, cov, bread, cells, cell_deals)


def _probability_effect(fit: _CellLogit) -> tuple[float, float]:
    """Mean change of the win probability of the treated post-completion deals, delta-method se over beta."""
    treated = fit.patterns["cell"].isin(fit.cells).to_numpy()
    zt = fit.z.to_numpy(float)[treated]
    n = fit.patterns["n"].to_numpy()[treated]
    untreated = zt.copy()
    untreated[:, [fit.z.columns.get_loc(c) for c in fit.cells]] = 0.0
    base = fit.rep_effect[treated]
    p1, p0 = expit(base + zt @ fit.beta), expit(base + untreated @ fit.beta)
    effect = float(np.average(p1 - p0, weights=n))
    slope1, slope0 = (p1 * (1 - p1))[:, None], (p0 * (1 - p0))[:, None]
    gradient = np.average(zt * slope1 - untreated * slope0, weights=n, axis=0)
    return effect, float(np.sqrt(fit.covariance(gradient)[0, 0]))


def _event_study(fit: _CellLogit | None, frame: pd.DataFrame, level: float):
    """Event-time effects and the joint Wald test of the leads."""
    events = pd.DataFrame(columns=EVENT_COLUMNS)
    pretrend = pd.DataFrame([{"kpi": WIN_LOG_ODDS, "statistic": np.nan, "df": 0, "p_value": np.nan}])
    if fit is None or not fit.cells:
        return events, pretrend
    event_of = frame.drop_duplicates("cell").set_index("cell")["event"]
    rows, lead_weights = [], []
    for e in sorted(set(event_of[fit.cells])):
        chosen = [c for c in fit.cells if event_of[c] == e]
        w = fit.weights(chosen)
        summary = _summary(*fit.estimate(w), level)
        rows.append(
            {"kpi": WIN_LOG_ODDS, "event_time": int(e), **summary, "n": int(fit.cell_deals[chosen].sum())}
        )
        if e < -1:
            lead_weights.append(w)
    if lead_weights:
        w = np.array(lead_weights)
        statistic, df, p_value = _wald(w @ fit.beta, fit.covariance(w))
        pretrend = pd.DataFrame([{"kpi": WIN_LOG_ODDS, "statistic": statistic, "df": df, "p_value": p_value}])
    return pd.DataFrame(rows, columns=EVENT_COLUMNS), pretrend[PRETREND_COLUMNS]


# ------------------------------------------------------------------------------------------ rep-period panel


def panel_did(
    panel: pd.DataFrame,
    training: pd.DataFrame,
    *,
    kpis: dict | None = None,
    program: str | None = None,
    months_per_period: int = 3,
    leads: int = 3,
    max_event: int = 8,
    level: float = 0.95,
) -> TrainingImpact:
    """Callaway-Sant'Anna group-time effects of training on rep-period KPIs, not-yet-treated controls.

    Parameters
    ----------
    panel : pandas.DataFrame
        One row per (rep, month) the rep was active: ``rep_id``, ``period`` (``YYYY-MM``) and the columns the
        ``kpis`` name (summable counts or amounts, e.g. ``deals`` and ``wins`` of the deals created that month
        that have closed, ``bookings``; 0 in an active month without any). Absent rows are not observed.
    training : pandas.DataFrame
        ``rep_id``, ``completed_at`` (``program`` when ``program`` is given).
    kpis : dict, optional
        KPI name -> ``(numerator column, denominator column or None)``; summed over the months of a period,
        then divided (a period with a zero denominator is not observed). Default: ``win_rate`` =
        ``wins / deals`` and ``bookings`` = ``bookings`` (the pairs whose columns are present).
    program, months_per_period, leads, max_event, level
        As in :func:`deal_did`.

    Returns
    -------
    TrainingImpact
        One overall row, event-time rows and one pre-trend row per KPI; ``n`` is rep-periods (overall) or
        treated reps (event time).
    """
    if kpis is None:
        default = {"win_rate": ("wins", "deals"), "bookings": ("bookings", None)}
        kpis = {k: v for k, v in default.items() if all(c is None or c in panel.columns for c in v)}
    months = _month_index(panel["period"])
    period, cohort = _timing(panel["rep_id"], months, training, program, months_per_period)
    columns = sorted({c for pair in kpis.values() for c in pair if c is not None})
    cells = (
        pd.DataFrame({"rep": panel["rep_id"].astype(str).to_numpy(), "period": period, "cohort": cohort})
        .join(panel[columns].reset_index(drop=True).astype(float))
        .groupby(["rep", "period", "cohort"], as_index=False)[columns]
        .sum()
    )
    cells = cells[cells["cohort"] != -2]
    overall, events, pretrends = [], [], []
    for kpi, (numerator, denominator) in kpis.items():
        value = cells[numerator] / cells[denominator] if denominator else cells[numerator]
        value = value.where(np.isfinite(value))
        wide = cells.assign(y=value).pivot(index="rep", columns="period", values="y")
        wide = wide.reindex(columns=range(int(period.max()) + 1))  # column t is period t, gaps included
        group = cells.groupby("rep")["cohort"].first().reindex(wide.index).to_numpy()
        o, e, p = _callaway_santanna(kpi, wide.to_numpy(), group, leads, max_event, level)
        overall.append({**o, "n": int(value.notna().sum())})
        events += e
        pretrends.append(p)
    return TrainingImpact(
        pd.DataFrame(overall, columns=OVERALL_COLUMNS),
        pd.DataFrame(events, columns=EVENT_COLUMNS),
        pd.DataFrame(pretrends, columns=PRETREND_COLUMNS),
        level,
    )


def _group_time_effects(y: np.ndarray, group: np.ndarray, leads: int, max_event: int) -> list[dict]:
    """ATT(g, t) with base period g - 1 and not-yet-treated controls, one dict per estimable (g, t).

    Each holds ``event`` (capped at ``max_event``), ``effect``, ``treated`` (count), ``is_treated``, ``gap``
    (per rep: a treated rep's change minus the controls' mean change, 0 elsewhere) and ``control`` (the
    controls' influence).
    """
    first = np.where(group >= 0, group, np.inf)
    out = []
    for g in sorted(set(group[group > 0])):
        base = g - 1
        for t in range(max(0, g - leads), y.shape[1]):
            seen = ~np.isnan(y[:, t]) & ~np.isnan(y[:, base])
            treated = seen & (first == g)
            control = seen & (first > max(t, base)) & (first != g)
            if t == base or not treated.any() or not control.any():
                continue
            change = np.where(seen, y[:, t] - y[:, base], 0.0)
            mean_c = change[control].mean()
            gap = np.where(treated, change - mean_c, 0.0)
            influence = np.where(control, -(change - mean_c) / control.sum(), 0.0)
            effect = gap[treated].mean()
            out.append(
                {"event": min(t - g, max_event), "effect": effect, "treated": int(treated.sum()), "gap": gap}
                | {"is_treated": treated, "control": influence}
            )
    return out


def _aggregate(chosen: list[dict]) -> tuple[float, np.ndarray]:
    """Treated-count weighted mean of group-time effects and its influence function per rep.

    A treated rep's influence is its own gap minus the aggregate (not minus its cohort's mean, as in the
    per-cell formula), so a cohort of one trained rep still contributes its noise: the spread between trained
    reps, cohorts pooled, is counted as sampling noise (conservative when cohorts truly differ).
    """
    weights = np.array([c["treated"] for c in chosen], dtype=float)
    weights /= weights.sum()
    effect = float(weights @ np.array([c["effect"] for c in chosen]))
    influence = np.zeros(len(chosen[0]["gap"]))
    for w, c in zip(weights, chosen, strict=True):
        influence += w * (np.where(c["is_treated"], (c["gap"] - effect) / c["treated"], 0.0) + c["control"])
    return effect, influence


def _callaway_santanna(kpi, y, group, leads, max_event, level):
    """Overall (post cells), event-time and pre-trend summaries of the group-time effects of one KPI."""
    cells = _group_time_effects(y, group, leads, max_event)
    counts = {"treated_reps": int((group >= 0).sum()), "control_reps": int((group == -1).sum())}
    post = [c for c in cells if c["event"] >= 0]
    overall = {"kpi": kpi, **_summary(np.nan, np.nan, level), **counts}
    if post:
        effect, influence = _aggregate(post)
        overall.update(_summary(effect, float(np.sqrt(influence @ influence)), level))
    events, lead_effects, lead_influence = [], [], []
    for e in sorted({c["event"] for c in cells}):
        chosen = [c for c in cells if c["event"] == e]
        effect, influence = _aggregate(chosen)
        se = float(np.sqrt(influence @ influence))
        n = sum(c["treated"] for c in chosen)
        events.append({"kpi": kpi, "event_time": e, **_summary(effect, se, level), "n": n})
        if e < -1:
            lead_effects.append(effect)
            lead_influence.append(influence)
    cov = np.array(lead_influence) @ np.array(lead_influence).T if lead_influence else np.zeros((0, 0))
    statistic, df, p_value = _wald(np.array(lead_effects), cov)
    return overall, events, {"kpi": kpi, "statistic": statistic, "df": df, "p_value": p_value}


def training_impact(
    deals: pd.DataFrame,
    panel: pd.DataFrame | None,
    training: pd.DataFrame,
    *,
    program: str | None = None,
    months_per_period: int = 3,
    leads: int = 3,
    max_event: int = 8,
    level: float = 0.95,
) -> TrainingImpact:
    """Deal-level win effects (:func:`deal_did`) and rep-period KPI effects (:func:`panel_did`) in one result.

    Parameters
    ----------
    deals, panel, training : pandas.DataFrame
        As in :func:`deal_did` and :func:`panel_did` (``panel`` may be None: the deal-level KPIs only).
    program, months_per_period, leads, max_event, level
        As in :func:`deal_did` (shared by both).

    Returns
    -------
    TrainingImpact
        The frames of both, concatenated (KPIs ``win_log_odds``, ``win_probability``, then the panel's).
    """
    options = {"program": program, "months_per_period": months_per_period, "leads": leads}
    options |= {"max_event": max_event, "level": level}
    parts = [deal_did(deals, training, **options)]
    if panel is not None and len(panel):
        parts.append(panel_did(panel, training, **options))
    return TrainingImpact(
        _stack([p.overall for p in parts]),
        _stack([p.event_time for p in parts]),
        _stack([p.pretrend for p in parts]),
        level,
    )


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The frames one under the other; empty ones skipped and all-missing columns typed as floats (so that
    the result's types do not depend on which estimator had nothing to say)."""
    kept = [f for f in frames if len(f)] or frames[:1]
    typed = [f.astype({c: "float64" for c in f.columns if f[c].isna().all()}) for f in kept]
    return pd.concat(typed, ignore_index=True)


def after_training(deals: pd.DataFrame, training: pd.DataFrame, program: str | None = None) -> pd.Series:
    """1.0 for deals created on or after their owner's (first) completion date, else 0.0.

    Parameters
    ----------
    deals : pandas.DataFrame
        ``rep_id``, ``created_at``; one row per deal.
    training : pandas.DataFrame
        ``rep_id``, ``completed_at`` (``program`` when ``program`` is given).

    Returns
    -------
    pandas.Series
        Aligned with ``deals`` (a covariate for :func:`salesperf.analyses.reps.ranking.fair_ranking`).
    """
    completed = deals["rep_id"].astype(str).map(_cohorts(training, program))
    return (pd.to_datetime(deals["created_at"]) >= completed).astype(float)

"""Training effect on deals: a logit of each closed deal's win with rep, period and treated-cell effects.

Wooldridge's (2023) extended two-way fixed effects: every deal created on or after its owner's completion date
is absorbed by its cohort's cell, so trained reps never serve as controls and cohorts may differ; a second fit
with one cell per event time gives the event-time profile and the pre-trend test. Standard errors are
clustered by rep (docs/reps-methods.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from salesperf.analyses.reps.did import (
    EVENT_COLUMNS,
    OVERALL_COLUMNS,
    PRETREND_COLUMNS,
    WIN_LOG_ODDS,
    WIN_PROBABILITY,
    TrainingImpact,
    cohorts,
    effect_summary,
    month_index,
    timing,
    wald,
)
from salesperf.analyses.reps.ranking import RepLogit
from salesperf.core.errors import UserError

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
    period, cohort = timing(deals["rep_id"], month_index(created), training, program, months_per_period)
    completed = deals["rep_id"].astype(str).map(cohorts(training, program))
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
        rows.append({"kpi": WIN_LOG_ODDS, **effect_summary(effect, se, level), **counts})
        probability = effect_summary(*_probability_effect(overall_fit), level)
        rows.append({"kpi": WIN_PROBABILITY, **probability, **counts})
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
        summary = effect_summary(*fit.estimate(w), level)
        rows.append(
            {"kpi": WIN_LOG_ODDS, "event_time": int(e), **summary, "n": int(fit.cell_deals[chosen].sum())}
        )
        if e < -1:
            lead_weights.append(w)
    if lead_weights:
        w = np.array(lead_weights)
        statistic, df, p_value = wald(w @ fit.beta, fit.covariance(w))
        pretrend = pd.DataFrame([{"kpi": WIN_LOG_ODDS, "statistic": statistic, "df": df, "p_value": p_value}])
    return pd.DataFrame(rows, columns=EVENT_COLUMNS), pretrend[PRETREND_COLUMNS]

"""Fair ranking of reps: covariate-adjusted, shrunk win skill with intervals and rank intervals.

The model (docs/reps-methods.md): one row per closed opportunity ``i`` owned by rep ``r``,

    logit P(won_i) = x_i' beta + u_r,        u_r ~ Normal(0, tau^2),

where ``x_i`` holds what the rep was given — lead source, region or territory, account segment (one-hot,
first level dropped), the log of the deal's amount over the median amount of its segment, and any numeric
covariate the caller adds (e.g. the log of the book at the start, or 1 for deals created after the rep's
training) — and ``u_r`` is the rep's skill on the win log-odds. It is fitted by Laplace-approximate maximum
likelihood with an EM loop: the fixed part by a statsmodels binomial GLM with the current skills as offset,
the skills by Newton steps on their penalised likelihood (the posterior mode under the Normal prior, which
shrinks a rep with 6 deals strongly toward 0 and one with 300 deals little), and
``tau^2 = mean(u_r^2 + v_r)`` with ``v_r`` the posterior variance. Intervals are the approximate posterior
``u_r +/- z sqrt(v_r)`` (conditional on ``beta`` and ``tau``); rank intervals come from ``draws`` joint draws
of the skills with a fixed seed. Everything is vectorised per rep with ``numpy.bincount``: the cost is a few
GLM fits on (deals x covariates), so 500 reps and 100 000 deals take about a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import norm

from salesperf.core.errors import UserError

#: Default deal-level covariates used when the column is present (categorical: one-hot, first level dropped).
DEFAULT_CATEGORICAL = ("source", "region", "segment")
_SKILL = ["skill", "skill_low", "skill_high"]
_RANK = ["rank", "rank_low", "rank_high", "team_mean", "verdict"]
#: Columns of the ranking from deals and from rep-period KPIs.
DEAL_COLUMNS = [
    "rep_id",
    "team",
    "deals",
    "wins",
    "raw_win_rate",
    "attainment",
    *_SKILL,
    "adjusted_win_rate",
    *_RANK,
]
PERIOD_COLUMNS = ["rep_id", "team", "periods", "raw_mean", "attainment", *_SKILL, *_RANK]
#: Default numeric deal covariate used when present: 1 for deals created after the owner's training
#: (:func:`salesperf.analyses.reps.training.after_training`).
DEFAULT_NUMERIC = ("trained",)
#: Verdicts of a rep against its team's mean skill.
ABOVE, BELOW, NOISE, NO_DEALS = "above", "below", "indistinguishable", "no_deals"


@dataclass
class SkillRanking:
    """A fitted fair ranking.

    Attributes
    ----------
    ranking : pandas.DataFrame
        One row per rep (reps of ``reps`` and of ``deals``), best first: ``rep_id``, ``team``, ``deals``,
        ``wins``, ``raw_win_rate``, ``attainment`` (as given, NaN if none), ``skill`` (shrunk log-odds effect,
        0 = the average rep), ``skill_low``, ``skill_high`` (interval at ``level``), ``adjusted_win_rate``
        (win probability of the company's average deal for this rep), ``rank`` (1 = best), ``rank_low``,
        ``rank_high``, ``team_mean`` (mean skill of the team's reps), ``verdict`` (``above`` / ``below`` when
        the interval excludes the team mean, ``indistinguishable`` otherwise, ``no_deals`` for reps without
        closed deals; these have NaN skill and rank).
    coefficients : pandas.DataFrame
        One row per fixed-effect term: ``term``, ``estimate`` (log-odds).
    between_rep_sd : float
        ``tau``, the estimated spread of true skill between reps (log-odds).
    level : float
        Interval level.
    iterations : int
        EM iterations used.
    """

    ranking: pd.DataFrame
    coefficients: pd.DataFrame
    between_rep_sd: float
    level: float
    iterations: int


def _design(deals: pd.DataFrame, categorical, numeric, amount_col: str) -> pd.DataFrame:
    """Fixed-effect design: intercept, one-hot categoricals, log amount ratio, numeric covariates."""
    parts = [pd.DataFrame({"intercept": np.ones(len(deals))}, index=deals.index)]
    for col in categorical:
        if col in deals.columns:
            values = deals[col].astype("string").fillna("unknown")
            dummies = pd.get_dummies(values, prefix=col, drop_first=True, dtype=float)
            parts.append(dummies)
    if amount_col and amount_col in deals.columns:
        amount = pd.to_numeric(deals[amount_col], errors="coerce").where(lambda a: a > 0)
        scope = deals["segment"] if "segment" in deals.columns else pd.Series(0, index=deals.index)
        median = amount.groupby(scope.astype("string").fillna("unknown")).transform("median")
        parts.append(pd.DataFrame({"log_amount_ratio": np.log(amount / median).fillna(0.0)}))
    for col in numeric:
        if col in deals.columns:
            parts.append(pd.DataFrame({col: pd.to_numeric(deals[col], errors="coerce").fillna(0.0)}))
    design = pd.concat(parts, axis=1)
    varying = design.columns[(design.nunique() > 1) | (design.columns == "intercept")]
    return design[varying]


@dataclass
class RepLogit:
    """Binomial logit with one effect per rep under a Normal ridge: ``logit p = alpha[rep] + design @ beta``.

    Fitted by Newton steps on the penalised log-likelihood ``loglik - ridge / 2 * sum(alpha^2)`` with the rep
    effects profiled out through the Schur complement, so a step costs (rows x columns^2) whatever the number
    of reps. ``ridge = 1 / tau^2`` makes ``alpha`` the posterior modes of Normal(0, tau^2) random effects; a
    tiny ridge makes them (finite) fixed effects. Rows are covariate patterns with ``wins`` out of ``n``.

    Attributes (after :meth:`fit`)
    ------------------------------
    alpha_ : ndarray (reps,)
    beta_ : ndarray (columns,)
    rep_information_ : ndarray (reps,)
        Penalised information of each rep effect (1 / its conditional posterior variance).
    profiled_information_ : ndarray (columns, columns)
        Information of ``beta`` with the rep effects profiled out (its inverse: model-based covariance).
    rep_scores_ : ndarray (reps, columns)
        Each rep's efficient score of ``beta`` (rep effect partialled out), for a covariance clustered by rep.
    """

    ridge: float = 0.01
    tol: float = 1e-8
    max_iter: int = 100

    def fit(self, wins, n, design, rep, n_reps, alpha=None, beta=None) -> RepLogit:
        """Fit from (optional) starting values; returns self."""
        alpha = np.zeros(n_reps) if alpha is None else alpha
        beta = np.zeros(design.shape[1]) if beta is None else beta
        for _ in range(self.max_iter):
            h_aa, h_ab, schur, residual = self._pieces(wins, n, design, rep, n_reps, alpha, beta)
            g_a = np.bincount(rep, residual, minlength=n_reps) - self.ridge * alpha
            step_b = np.linalg.lstsq(schur, design.T @ residual - h_ab.T @ (g_a / h_aa), rcond=None)[0]
            step_a = (g_a - h_ab @ step_b) / h_aa
            beta, alpha = beta + step_b, alpha + step_a
            if max(np.abs(step_b).max(initial=0), np.abs(step_a).max(initial=0)) < self.tol:
                break
        h_aa, h_ab, schur, residual = self._pieces(wins, n, design, rep, n_reps, alpha, beta)
        scores = _sum_by(rep, residual[:, None] * design, n_reps)
        scores -= (h_ab / h_aa[:, None]) * np.bincount(rep, residual, minlength=n_reps)[:, None]
        self.alpha_, self.beta_, self.rep_information_ = alpha, beta, h_aa
        self.profiled_information_, self.rep_scores_ = schur, scores
        return self

    def _pieces(self, wins, n, design, rep, n_reps, alpha, beta):
        p = expit(alpha[rep] + design @ beta)
        weight, residual = n * p * (1 - p), wins - n * p
        h_aa = np.bincount(rep, weight, minlength=n_reps) + self.ridge
        h_ab = _sum_by(rep, weight[:, None] * design, n_reps)
        schur = design.T @ (weight[:, None] * design) - h_ab.T @ (h_ab / h_aa[:, None])
        return h_aa, h_ab, schur, residual


def _sum_by(code: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Row sums of ``values`` per ``code`` (``size`` x columns)."""
    out = np.zeros((size, values.shape[1]))
    np.add.at(out, code, values)
    return out


def _fit_random_intercepts(y, x, rep, n_reps, tol=1e-6, max_iter=500):
    """EM/Laplace fit of ``logit P(y) = x beta + u[rep]``, ``u ~ N(0, tau2)``: (beta, u, var, tau2, it)."""
    tau2, model = 0.25, RepLogit(ridge=4.0).fit(y, np.ones_like(y), x, rep, n_reps)
    iteration = 0
    for iteration in range(1, max_iter + 1):  # noqa: B007 - the count is returned
        model = RepLogit(ridge=1.0 / tau2).fit(y, np.ones_like(y), x, rep, n_reps, model.alpha_, model.beta_)
        var_u = 1.0 / model.rep_information_
        tau2_old, tau2 = tau2, max(float(np.mean(model.alpha_**2 + var_u)), 1e-6)
        if abs(tau2 - tau2_old) < tol:
            break
    return model.beta_, model.alpha_, var_u, tau2, iteration


def _rank_intervals(skill, sd, level, draws, seed):
    """Point rank (1 = best) and the rank interval from joint Normal draws of the skills."""
    rng = np.random.default_rng(seed)
    sample = skill[None, :] + sd[None, :] * rng.standard_normal((draws, len(skill)))
    ranks = np.argsort(np.argsort(-sample, axis=1), axis=1) + 1
    tail = (1 - level) / 2
    low, high = np.quantile(ranks, [tail, 1 - tail], axis=0, method="nearest")
    point = np.argsort(np.argsort(-skill)) + 1
    return point, low, high


def fair_ranking(
    deals: pd.DataFrame,
    reps: pd.DataFrame | None = None,
    *,
    categorical=DEFAULT_CATEGORICAL,
    numeric=DEFAULT_NUMERIC,
    amount_col: str = "amount",
    level: float = 0.95,
    draws: int = 2000,
    seed: int = 0,
) -> SkillRanking:
    """Rank reps by covariate-adjusted, shrunk win skill, with intervals and rank intervals.

    Parameters
    ----------
    deals : pandas.DataFrame
        One row per closed opportunity: ``rep_id``, ``won`` (bool or 0/1); optional ``amount`` (the log of the
        amount over its segment's median enters the model; missing or non-positive amounts count as the
        median), the ``categorical`` columns present (default ``source``, ``region``, ``segment``; missing
        values form an ``unknown`` level) and the ``numeric`` columns present (default ``trained``).
    reps : pandas.DataFrame, optional
        One row per rep: ``rep_id``; optional ``team`` (verdicts compare a rep with its team's mean skill;
        without it, with the company's) and ``attainment`` (raw quota attainment, shown beside the skill).
        Reps here without closed deals get a row with verdict ``no_deals``.
    categorical, numeric : sequence of str
        Deal-level covariates adjusted for (what the rep was given).
    amount_col : str
        Amount column (skipped when absent).
    level : float
        Level of the skill and rank intervals.
    draws : int
        Joint draws of the skills for the rank intervals.
    seed : int
        Seed of the draws (the same inputs give the same intervals).

    Returns
    -------
    SkillRanking
        See the class; ``ranking`` has one row per rep, best first.
    """
    missing = [c for c in ("rep_id", "won") if c not in deals.columns]
    if missing:
        raise UserError(
            f"closed deals for the fair ranking: column {missing[0]!r} missing; has {list(deals)}"
        )
    deals = deals.dropna(subset=["rep_id", "won"]).reset_index(drop=True)
    codes, rep_ids = pd.factorize(deals["rep_id"].astype(str), sort=True)
    y = deals["won"].astype(float).to_numpy()
    design = _design(deals, categorical, numeric, amount_col)
    if len(deals) == 0:
        beta, skill, var, tau2, iterations = np.zeros(design.shape[1]), np.zeros(0), np.zeros(0), 0.0, 0
    else:
        beta, skill, var, tau2, iterations = _fit_random_intercepts(
            y, design.to_numpy(float), codes, len(rep_ids)
        )
    mean_fixed = float((design.to_numpy(float) @ beta).mean()) if len(deals) else 0.0
    fitted = _intervals(rep_ids, skill, var, level, draws, seed).assign(
        deals=np.bincount(codes, minlength=len(rep_ids)),
        wins=np.bincount(codes, y, minlength=len(rep_ids)).astype(int),
        adjusted_win_rate=expit(mean_fixed + skill),
    )
    fitted["raw_win_rate"] = fitted["wins"] / fitted["deals"]
    ranking = _with_reps(fitted, reps, DEAL_COLUMNS)
    coefficients = pd.DataFrame({"term": design.columns, "estimate": beta})
    return SkillRanking(ranking, coefficients, float(np.sqrt(tau2)), level, iterations)


def fair_ranking_periods(
    panel: pd.DataFrame,
    reps: pd.DataFrame | None = None,
    *,
    value_col: str = "log_attainment",
    categorical=("region", "period"),
    numeric=(),
    level: float = 0.95,
    draws: int = 2000,
    seed: int = 0,
    tol: float = 1e-10,
    max_iter: int = 2000,
) -> SkillRanking:
    """Rank reps on a rep-period KPI (exports without opportunities): a linear model, shrunk rep effects.

    ``value = x' beta + u_r + e``, ``u_r ~ Normal(0, tau^2)``, ``e ~ Normal(0, sigma^2)`` (empirical Bayes by
    EM): ``x`` holds what the rep was given in the period (default: region or territory and the calendar
    period, one-hot); ``u_r`` is the rep's skill in the KPI's unit, shrunk by ``n_r / (n_r + sigma^2/tau^2)``.

    Parameters
    ----------
    panel : pandas.DataFrame
        One row per (rep, period): ``rep_id``, ``value_col`` (e.g. ``log(bookings / quota)``; rows where it is
        missing or infinite are skipped), the ``categorical`` and ``numeric`` columns present.
    reps : pandas.DataFrame, optional
        As in :func:`fair_ranking`.
    value_col, categorical, numeric : str, sequence of str
        The KPI and the covariates.
    level, draws, seed
        As in :func:`fair_ranking`.
    tol, max_iter
        EM stops when ``tau^2`` and ``sigma^2`` move less than ``tol``.

    Returns
    -------
    SkillRanking
        ``ranking`` as in :func:`fair_ranking` with ``periods`` (rep-periods used) and ``raw_mean`` (the
        rep's mean KPI) in place of the deal columns.
    """
    if not {"rep_id", value_col} <= set(panel.columns):
        raise UserError(f"rep-period KPI for the fair ranking: columns 'rep_id' and {value_col!r} needed")
    values = pd.to_numeric(panel[value_col], errors="coerce")
    panel = panel[np.isfinite(values) & panel["rep_id"].notna()].reset_index(drop=True)
    y = pd.to_numeric(panel[value_col]).to_numpy(float)
    codes, rep_ids = pd.factorize(panel["rep_id"].astype(str), sort=True)
    design = _design(panel, categorical, numeric, amount_col="")
    x, n_reps = design.to_numpy(float), len(rep_ids)
    counts = np.bincount(codes, minlength=n_reps).astype(float)
    beta, skill, tau2 = np.zeros(x.shape[1]), np.zeros(n_reps), 1.0
    sigma2 = float(np.var(y)) if len(y) else 1.0
    solve = np.linalg.pinv(x) if len(y) else np.zeros((x.shape[1], 0))  # least squares, factorised once
    iteration = 0
    for iteration in range(1, max_iter + 1):  # noqa: B007 - the count is returned
        beta = solve @ (y - skill[codes])
        residual = y - x @ beta
        var = 1.0 / (counts / sigma2 + 1.0 / tau2)
        skill = var * np.bincount(codes, residual, minlength=n_reps) / sigma2
        old = (tau2, sigma2)
        tau2 = max(float(np.mean(skill**2 + var)), 1e-12) if n_reps else 1.0
        sigma2 = max(float(np.mean((residual - skill[codes]) ** 2 + var[codes])), 1e-12) if len(y) else 1.0
        if abs(tau2 - old[0]) < tol and abs(sigma2 - old[1]) < tol:
            break
    var = 1.0 / (counts / sigma2 + 1.0 / tau2)
    fitted = _intervals(rep_ids, skill, var, level, draws, seed).assign(
        periods=counts.astype(int), raw_mean=np.bincount(codes, y, minlength=n_reps) / np.maximum(counts, 1)
    )
    ranking = _with_reps(fitted, reps, PERIOD_COLUMNS)
    coefficients = pd.DataFrame({"term": design.columns, "estimate": beta})
    return SkillRanking(ranking, coefficients, float(np.sqrt(tau2)), level, iteration)


def _intervals(rep_ids, skill, var, level, draws, seed) -> pd.DataFrame:
    """Skill, its interval, the rank and the rank interval per rep."""
    sd = np.sqrt(var)
    z = norm.ppf(0.5 + level / 2)
    rank, rank_low, rank_high = _rank_intervals(skill, sd, level, draws, seed)
    return pd.DataFrame(
        {
            "rep_id": np.asarray(rep_ids).astype(str),
            "skill": skill,
            "skill_low": skill - z * sd,
            "skill_high": skill + z * sd,
            "rank": rank,
            "rank_low": rank_low,
            "rank_high": rank_high,
        }
    )


def _with_reps(fitted: pd.DataFrame, reps: pd.DataFrame | None, columns: list[str]) -> pd.DataFrame:
    """Join the rep attributes, compute the team means and the verdicts; best first."""
    info = pd.DataFrame({"rep_id": pd.Series(dtype=str)}) if reps is None else reps.copy()
    info["rep_id"] = info["rep_id"].astype(str)
    for col in ("team", "attainment"):
        if col not in info.columns:
            info[col] = np.nan
    info = info[["rep_id", "team", "attainment"]].drop_duplicates("rep_id")
    table = fitted.merge(info, on="rep_id", how="outer")
    for col in ("deals", "wins", "periods"):
        if col in table.columns:
            table[col] = table[col].fillna(0).astype(int)
    team_key = table["team"].astype("string").fillna("(all)")
    table["team_mean"] = table.groupby(team_key)["skill"].transform("mean") if len(table) else np.nan
    table["verdict"] = np.select(
        [
            table["skill"].isna(),
            table["skill_low"] > table["team_mean"],
            table["skill_high"] < table["team_mean"],
        ],
        [NO_DEALS, ABOVE, BELOW],
        NOISE,
    )
    return table[columns].sort_values(["rank", "rep_id"], na_position="last").reset_index(drop=True)

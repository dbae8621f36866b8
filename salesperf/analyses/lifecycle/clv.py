"""Customer-lifetime-value models: BG/NBD purchase counts and Gamma-Gamma spend, fitted by maximum likelihood.

The models work on one row per customer:

- ``frequency``: number of *repeat* purchase occasions in the observation window (first occasion not counted);
- ``recency``: time from the first to the last occasion (0 when ``frequency`` is 0);
- ``T``: time from the first occasion to the end of the observation window (the as-of date);
- ``monetary_value``: mean value of the repeat occasions (0 when ``frequency`` is 0).

``recency`` and ``T`` are in one *model time unit* (weeks in the published CDNOW set-up, ``time_unit='W'`` in
:func:`summary_from_orders`). Every prediction horizon ``t`` is in that same unit, and the scale parameter ``alpha``
of the BG/NBD model is in it too. :func:`summary_from_orders` (pandas) and :func:`summary_sql` (DuckDB) build these
columns from canonical ``orders``.

Customers who share the same (frequency, recency, T) have the same likelihood and the same predictions, so fitting and
scoring run on the distinct combinations with their counts as weights. Dates at day resolution make that a few tens of
thousands of rows even for millions of customers.

References
----------
Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting your customers" the easy way: an alternative to the
Pareto/NBD model. Marketing Science 24(2), 275-284.
Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). RFM and CLV: using iso-value curves for customer base analysis.
Journal of Marketing Research 42(4), 415-430 (the Gamma-Gamma spend model).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

from salesperf.core.errors import UserError, examples

__all__ = [
    "BetaGeo",
    "ConvergenceWarning",
    "GammaGamma",
    "NotFittedError",
    "betageo_log_likelihood",
    "calibration_holdout",
    "simulate_betageo",
    "summary_from_orders",
    "summary_sql",
]

TIME_UNIT_DAYS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}
LOG_PARAM_BOUND = (
    15.0  # parameters are searched in [exp(-15), exp(15)]; reaching the edge means a degenerate fit
)
GRADIENT_TOLERANCE = 1e-6  # on the per-customer mean log-likelihood, per log-parameter
CURVATURE_TOLERANCE = (
    1e-8  # smallest Hessian eigenvalue (mean log-likelihood, log-parameters) of an identified fit
)


class NotFittedError(ValueError, AttributeError):
    """Raised when a model is used before ``fit`` (same bases as scikit-learn's ``NotFittedError``)."""


class ConvergenceWarning(UserWarning):
    """The likelihood optimiser stopped without meeting its convergence criteria."""


# ---------------------------------------------------------------------------------------------------------------------
# Input handling
# ---------------------------------------------------------------------------------------------------------------------


def _as_float_array(values, name: str) -> np.ndarray:
    array = (
        np.asarray(values, dtype=float).reshape(-1) if np.ndim(values) else np.asarray([values], dtype=float)
    )
    bad = ~np.isfinite(array)
    if bad.any():
        raise UserError(
            f"{name}: {int(bad.sum())} value(s) are missing or not finite, examples: {examples(array[bad])}",
            hint="drop or fill those customers before fitting",
        )
    return array


def _check_rfm(frequency, recency, T) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = _as_float_array(frequency, "frequency")
    t_x = _as_float_array(recency, "recency")
    t_cal = _as_float_array(T, "T")
    if not (len(x) == len(t_x) == len(t_cal)):
        raise UserError(
            f"frequency, recency and T have different lengths: {len(x)}, {len(t_x)}, {len(t_cal)}"
        )
    checks = [
        ((x < 0) | (x != np.round(x)), "frequency must be a whole number >= 0", x),
        (t_x < 0, "recency must be >= 0", t_x),
        (t_x > t_cal * (1 + 1e-9) + 1e-12, "recency must not exceed T", t_x),
        ((x == 0) & (t_x != 0), "recency must be 0 when frequency is 0", t_x),
        (t_cal <= 0, "T must be > 0 (customers first seen on the as-of date carry no information)", t_cal),
    ]
    for bad, message, values in checks:
        if bad.any():
            raise UserError(
                f"{message}: {int(bad.sum())} customer(s), examples: {examples(values[bad])}",
                hint="build the columns with salesperf.analyses.lifecycle.clv.summary_from_orders",
            )
    return x, t_x, t_cal


def _check_weights(weights, n: int) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = _as_float_array(weights, "weights")
    if len(w) != n:
        raise UserError(f"weights has {len(w)} values for {n} customers")
    if (w < 0).any() or w.sum() <= 0:
        raise UserError(f"weights must be >= 0 with a positive total, examples: {examples(w[w < 0])}")
    return w


@dataclass(frozen=True)
class _Collapsed:
    """Distinct rows of several aligned arrays: ``columns`` (one array each), ``inverse`` and summed ``weights``."""

    columns: tuple[np.ndarray, ...]
    inverse: np.ndarray
    weights: np.ndarray


def _collapse(*arrays: np.ndarray, weights: np.ndarray | None = None) -> _Collapsed:
    """Collapse aligned arrays to their distinct rows (hash-based, O(n)); ``weights`` are summed per distinct row."""
    key, keys = pd.factorize(arrays[0])
    key, n_keys = key.astype(np.int64), len(keys)
    for array in arrays[1:]:
        codes, uniques = pd.factorize(array)
        if n_keys * len(uniques) >= 2**62:  # renumber the combined key before it could overflow
            key, keys = pd.factorize(key)
            n_keys = len(keys)
        key, n_keys = key * len(uniques) + codes, n_keys * len(uniques)
    key, keys = pd.factorize(key)
    n_keys = len(keys)
    representative = np.empty(n_keys, dtype=np.int64)
    representative[key] = np.arange(len(key))  # any row of each distinct key: they are all identical
    row_weights = np.ones(len(key)) if weights is None else weights
    summed = np.bincount(key, weights=row_weights, minlength=n_keys)
    return _Collapsed(tuple(array[representative] for array in arrays), key, summed)


def _like_input(values: np.ndarray, template) -> np.ndarray | pd.Series:
    """Return a Series on the template's index when the caller passed a Series, else the array."""
    if isinstance(template, pd.Series) and len(template) == len(values):
        return pd.Series(values, index=template.index)
    return values


# ---------------------------------------------------------------------------------------------------------------------
# Maximum likelihood on log-parameters
# ---------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _FitResult:
    log_params: np.ndarray
    mean_log_likelihood: float
    converged: bool
    message: str
    gradient_norm: float
    iterations: int


def _maximise(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]],
    starts: list[np.ndarray],
    model: str,
    names: list[str],
) -> _FitResult:
    """Minimise ``objective`` (negative mean log-likelihood and its gradient in log-parameters).

    L-BFGS-B with the analytic gradient from each start; a Nelder-Mead pass followed by another L-BFGS-B polish when
    it did not converge. The best result wins; a :class:`ConvergenceWarning` with diagnostics is emitted when even
    that did not meet the gradient criterion.
    """
    bounds = [(-LOG_PARAM_BOUND, LOG_PARAM_BOUND)] * len(names)
    lbfgs_options = {"maxiter": 2000, "ftol": 1e-15, "gtol": GRADIENT_TOLERANCE / 10, "maxls": 50}

    def safe(phi: np.ndarray) -> tuple[float, np.ndarray]:
        with np.errstate(all="ignore"):
            value, gradient = objective(phi)
        if not np.isfinite(value) or not np.all(np.isfinite(gradient)):
            return 1e100, np.zeros_like(phi)
        return value, gradient

    def lbfgs(start: np.ndarray):
        return optimize.minimize(
            safe, start, jac=True, method="L-BFGS-B", bounds=bounds, options=lbfgs_options
        )

    best, iterations = None, 0
    for start in starts:
        result = lbfgs(np.clip(start, -LOG_PARAM_BOUND + 1, LOG_PARAM_BOUND - 1))
        iterations += int(result.nit)
        if _gradient_norm(safe, result.x) > GRADIENT_TOLERANCE:
            simplex = optimize.minimize(
                lambda phi: safe(phi)[0],
                result.x,
                method="Nelder-Mead",
                bounds=bounds,
                options={"maxiter": 20000, "xatol": 1e-10, "fatol": 1e-14, "adaptive": True},
            )
            polished = lbfgs(simplex.x)
            iterations += int(simplex.nit) + int(polished.nit)
            result = polished if polished.fun <= result.fun else result
        if best is None or result.fun < best.fun:
            best = result
        if _gradient_norm(safe, best.x) <= GRADIENT_TOLERANCE and not _at_bound(best.x):
            break

    gradient_norm = _gradient_norm(safe, best.x)
    curvature = _smallest_curvature(safe, best.x)
    converged = (
        gradient_norm <= GRADIENT_TOLERANCE and not _at_bound(best.x) and curvature > CURVATURE_TOLERANCE
    )
    if not converged:
        values = ", ".join(f"{n}={v:.6g}" for n, v in zip(names, np.exp(best.x), strict=True))
        at_bound = [n for n, p in zip(names, best.x, strict=True) if abs(p) >= LOG_PARAM_BOUND - 1e-6]
        warnings.warn(
            f"{model} maximum likelihood did not converge: optimiser message {best.message!r}; "
            f"gradient norm {gradient_norm:.3g} (criterion {GRADIENT_TOLERANCE:g}, per customer and log-parameter); "
            f"{iterations} iterations; parameters {values}"
            + (f"; at the search bound: {', '.join(at_bound)}" if at_bound else "")
            + (
                f"; flat likelihood (smallest Hessian eigenvalue {curvature:.3g}): the data do not identify the model"
                if curvature <= CURVATURE_TOLERANCE
                else ""
            ),
            ConvergenceWarning,
            stacklevel=3,
        )
    return _FitResult(best.x, -float(best.fun), converged, str(best.message), gradient_norm, iterations)


def _gradient_norm(objective, phi: np.ndarray) -> float:
    return float(np.max(np.abs(objective(phi)[1])))


def _smallest_curvature(objective, phi: np.ndarray, step: float = 1e-4) -> float:
    """Smallest eigenvalue of the Hessian of ``objective`` (forward differences of its gradient) at ``phi``."""
    at_phi = objective(phi)[1]
    columns = [(objective(phi + e)[1] - at_phi) / step for e in np.eye(len(phi)) * step]
    hessian = np.array(columns)
    return float(np.linalg.eigvalsh((hessian + hessian.T) / 2)[0])


def _at_bound(phi: np.ndarray) -> bool:
    return bool(np.any(np.abs(phi) >= LOG_PARAM_BOUND - 1e-6))


class _Fitted:
    """Shared ``params_`` guard for the models."""

    _param_names: tuple[str, ...] = ()

    def _require_fitted(self) -> dict[str, float]:
        params = getattr(self, "params_", None)
        if params is None:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet: call fit(...) before using this method."
            )
        return params

    def __repr__(self) -> str:
        params = getattr(self, "params_", None)
        shown = ", ".join(f"{k}={v:.4g}" for k, v in params.items()) if params else "not fitted"
        return f"{type(self).__name__}({shown})"


# ---------------------------------------------------------------------------------------------------------------------
# BG/NBD
# ---------------------------------------------------------------------------------------------------------------------


def betageo_log_likelihood(params, frequency, recency, T) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood (Fader, Hardie & Lee 2005, Marketing Science, eq. 6).

    ``ln L = A1 + A2 + ln(exp(A3) + [x > 0] exp(A4))`` with
    ``A1 = lnG(r+x) - lnG(r) + r ln(alpha)``, ``A2 = ln B(a, b+x) - ln B(a, b)``,
    ``A3 = -(r+x) ln(alpha+T)``, ``A4 = ln(a) - ln(b+x-1) - (r+x) ln(alpha+t_x)``.
    """
    theta = np.asarray([params[k] for k in ("r", "alpha", "a", "b")], dtype=float)
    return _betageo_terms(theta, frequency, recency, T, gradient=False)[0]


@dataclass(frozen=True)
class _Factor:
    """A column with its distinct values and codes, so that functions of it are evaluated once per distinct value."""

    values: np.ndarray
    uniques: np.ndarray
    codes: np.ndarray

    @classmethod
    def of(cls, values) -> _Factor:
        if isinstance(values, _Factor):
            return values
        values = np.asarray(values, dtype=float).reshape(-1)
        codes, uniques = pd.factorize(values)
        return cls(values, np.asarray(uniques, dtype=float), codes)

    def map(self, per_unique: np.ndarray) -> np.ndarray:
        return per_unique[self.codes]


def _logaddexp(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """ln(exp(first) + exp(second)) for finite ``first`` (``second`` may be -inf); np.logaddexp is ~20x slower."""
    larger = np.maximum(first, second)
    return larger + np.log1p(np.exp(-np.abs(first - second)))


def _betageo_terms(theta: np.ndarray, frequency, recency, T, gradient: bool = True, weights=None):
    """BG/NBD log-likelihood and its derivatives in (r, alpha, a, b).

    Without ``weights``: per-row log-likelihood, shape (n,), and gradient rows, shape (4, n). With ``weights``: their
    weighted sums, a float and shape (4,) (what the optimiser needs, without building per-row gradient arrays).
    Terms that depend only on x, only on t_x or only on T are computed once per distinct value (special functions
    on a few hundred values instead of every row).
    """
    r, alpha, a, b = theta
    x_col, tx_col, t_col = _Factor.of(frequency), _Factor.of(recency), _Factor.of(T)
    x, ux = x_col.values, x_col.uniques
    rx = r + x
    log_alpha_t = t_col.map(np.log(alpha + t_col.uniques))
    log_alpha_tx = tx_col.map(np.log(alpha + tx_col.uniques))
    a1_a2 = (
        special.gammaln(r + ux)
        - special.gammaln(r)
        + r * np.log(alpha)
        + special.betaln(a, b + ux)
        - special.betaln(a, b)
    )
    b_x1 = np.where(ux > 0, b + ux - 1, 1.0)
    log_a4_const = np.where(ux > 0, np.log(a) - np.log(b_x1), -np.inf)
    a3 = -rx * log_alpha_t
    a4 = x_col.map(log_a4_const) - rx * log_alpha_tx
    mix = _logaddexp(a3, a4)
    if gradient:
        w4 = np.exp(a4 - mix)  # share of the "dropped out after the last purchase" branch; 0 when x = 0
        w3 = np.exp(a3 - mix)
        psi_ab, psi_abx = special.digamma(a + b), special.digamma(a + b + ux)
        x_terms = np.stack(  # the parts of d_r, d_a, d_b that depend on x only
            [
                special.digamma(r + ux) - special.digamma(r) + np.log(alpha),
                psi_ab - psi_abx,
                psi_ab + special.digamma(b + ux) - special.digamma(b) - psi_abx,
            ]
        )
        inv_alpha_t = t_col.map(1 / (alpha + t_col.uniques))
        inv_alpha_tx = tx_col.map(1 / (alpha + tx_col.uniques))
        inv_b_x1 = x_col.map(1 / b_x1)
    if weights is not None:
        per_x_weight = np.bincount(x_col.codes, weights=weights, minlength=len(ux))
        total_ll = float(per_x_weight @ a1_a2 + weights @ mix)
        if not gradient:
            return total_ll, None
        ww3, ww4 = weights * w3, weights * w4
        x_sums = x_terms @ per_x_weight
        return total_ll, np.array(
            [
                x_sums[0] - ww3 @ log_alpha_t - ww4 @ log_alpha_tx,
                r / alpha * weights.sum() - (ww3 * rx) @ inv_alpha_t - (ww4 * rx) @ inv_alpha_tx,
                x_sums[1] + ww4.sum() / a,
                x_sums[2] - ww4 @ inv_b_x1,
            ]
        )
    ll = x_col.map(a1_a2) + mix
    if not gradient:
        return ll, None
    d_r = x_col.map(x_terms[0]) - w3 * log_alpha_t - w4 * log_alpha_tx
    d_alpha = r / alpha - rx * (w3 * inv_alpha_t + w4 * inv_alpha_tx)
    d_a = x_col.map(x_terms[1]) + w4 / a
    d_b = x_col.map(x_terms[2]) - w4 * inv_b_x1
    return ll, np.stack([d_r, d_alpha, d_a, d_b])


class BetaGeo(_Fitted):
    """BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005), fitted by maximum likelihood.

    While alive, a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)``; after each purchase they drop out
    with probability ``p ~ Beta(a, b)``. Time is in the unit of ``recency`` and ``T`` (see the module docstring).

    Attributes
    ----------
    params_ : dict
        ``{'r', 'alpha', 'a', 'b'}`` after ``fit``.
    log_likelihood_ : float
        Maximised (weighted) log-likelihood, summed over customers.
    n_customers_ : float
        Total weight (number of customers) fitted.
    n_unique_ : int
        Distinct (frequency, recency, T) rows the likelihood was evaluated on.
    converged_ : bool
        Whether the optimiser met the gradient criterion (a ``ConvergenceWarning`` is emitted when not).
    """

    _param_names = ("r", "alpha", "a", "b")

    def __init__(self):
        self.params_: dict[str, float] | None = None

    def fit(self, frequency, recency, T, weights=None) -> BetaGeo:
        """Fit on one row per customer (or per distinct row with ``weights`` = number of customers).

        Parameters
        ----------
        frequency, recency, T : array-like, shape (n_customers,)
            Repeat occasions, time first-to-last occasion, time first occasion-to-as-of, in one time unit.
        weights : array-like, shape (n_customers,), optional
            Number of customers each row stands for (default 1 each).

        Returns
        -------
        self
        """
        x, t_x, t_cal = _check_rfm(frequency, recency, T)
        collapsed = _collapse(x, t_x, t_cal, weights=_check_weights(weights, len(x)))
        ux, _, uT = collapsed.columns
        w = collapsed.weights
        total = w.sum()
        columns = [_Factor.of(column) for column in collapsed.columns]

        def objective(phi: np.ndarray) -> tuple[float, np.ndarray]:
            theta = np.exp(phi)
            ll, grad = _betageo_terms(theta, *columns, weights=w)
            return -ll / total, -grad * theta / total

        result = _maximise(objective, self._starts(ux, uT, w), "BG/NBD", list(self._param_names))
        self.params_ = dict(zip(self._param_names, map(float, np.exp(result.log_params)), strict=True))
        self.log_likelihood_ = result.mean_log_likelihood * total
        self.n_customers_ = float(total)
        self.n_unique_ = len(ux)
        self.converged_ = result.converged
        return self

    @staticmethod
    def _starts(x: np.ndarray, t_cal: np.ndarray, w: np.ndarray) -> list[np.ndarray]:
        """Starting points: a moment-based rate guess, then a few spreads of heterogeneity and dropout."""
        mean_rate = max(float(w @ ((x + 0.5) / t_cal)) / w.sum(), 1e-6)
        starts = []
        for r, a, b in [(1.0, 1.0, 3.0), (0.3, 0.5, 2.0), (3.0, 2.0, 10.0), (0.1, 0.2, 0.5)]:
            starts.append(np.log([r, r / mean_rate, a, b]))
        return starts

    def _theta(self) -> tuple[float, float, float, float]:
        params = self._require_fitted()
        return params["r"], params["alpha"], params["a"], params["b"]

    def _score(self, function, frequency, recency, T) -> np.ndarray | pd.Series:
        """Evaluate ``function(x, t_x, T)`` once per distinct (frequency, recency, T) and spread it back."""
        self._require_fitted()
        x, t_x, t_cal = _check_rfm(frequency, recency, T)
        collapsed = _collapse(x, t_x, t_cal)
        return _like_input(function(*collapsed.columns)[collapsed.inverse], frequency)

    def _log_dropout_odds(self, x, t_x, t_cal) -> np.ndarray:
        """ln of a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x) for x > 0, -inf for x = 0 (so P(alive) = 1)."""
        r, alpha, a, b = self._theta()
        repeat = x > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            odds = np.log(a) - np.log(b + x - 1) + (r + x) * (np.log(alpha + t_cal) - np.log(alpha + t_x))
        return np.where(repeat, odds, -np.inf)

    def probability_alive(self, frequency, recency, T) -> np.ndarray | pd.Series:
        """P(customer still active at T | frequency, recency, T); 1 for customers with no repeat purchase.

        Returns
        -------
        array or Series, shape (n_customers,)
        """
        return self._score(
            lambda x, t_x, t_cal: special.expit(-self._log_dropout_odds(x, t_x, t_cal)), frequency, recency, T
        )

    def _expected_if_alive(self, t: float, x: np.ndarray, t_cal: np.ndarray) -> np.ndarray:
        """E[Y(t) | alive at T] (eq. 10 without its P(alive) factor); depends on (x, T) only."""
        r, alpha, a, b = self._theta()
        if t == 0:
            return np.zeros(len(x))
        z = t / (alpha + t_cal + t)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            survivor = np.exp((r + x) * (np.log(alpha + t_cal) - np.log(alpha + t_cal + t)))
            bracket = 1.0 - survivor * special.hyp2f1(r + x, b + x, a + b + x - 1, z)
        return (a + b + x - 1) / (a - 1) * bracket

    def _conditional_expected(self, t: float, x, t_x, t_cal) -> np.ndarray:
        pairs = _collapse(x, t_cal)
        if_alive = self._expected_if_alive(t, *pairs.columns)[pairs.inverse]
        return if_alive * special.expit(-self._log_dropout_odds(x, t_x, t_cal))

    def expected_purchases(self, t, frequency, recency, T) -> np.ndarray | pd.Series:
        """Expected number of purchases in the next ``t`` time units, given each customer's history (eq. 10).

        Parameters
        ----------
        t : float
            Horizon in the model time unit.
        frequency, recency, T : array-like, shape (n_customers,)

        Returns
        -------
        array or Series, shape (n_customers,)
        """
        return self._score(
            lambda x, t_x, t_cal: self._conditional_expected(float(t), x, t_x, t_cal), frequency, recency, T
        )

    def expected_purchases_new(self, t) -> np.ndarray | float:
        """Expected purchases in ``t`` time units by a customer newly acquired at time 0 (eq. 9), E[X(t)]."""
        r, alpha, a, b = self._theta()
        t = np.asarray(t, dtype=float)
        value = (
            (a + b - 1)
            / (a - 1)
            * (1 - (alpha / (alpha + t)) ** r * special.hyp2f1(r, b, a + b - 1, t / (alpha + t)))
        )
        return float(value) if value.ndim == 0 else value

    def log_likelihood(self, frequency, recency, T) -> np.ndarray:
        """Per-customer log-likelihood under the fitted parameters, shape (n_customers,)."""
        x, t_x, t_cal = _check_rfm(frequency, recency, T)
        return betageo_log_likelihood(self._require_fitted(), x, t_x, t_cal)


# ---------------------------------------------------------------------------------------------------------------------
# Gamma-Gamma
# ---------------------------------------------------------------------------------------------------------------------


def _gammagamma_terms(theta: np.ndarray, frequency, monetary_value, gradient: bool = True):
    """Log density of the mean spend ``m`` over ``x`` transactions (FHL 2005 JMR, eq. 3) and its gradient (3, n).

    ``ln f = lnG(px+q) - lnG(px) - lnG(q) + q ln(g) + (px-1) ln(m) + px ln(x) - (px+q) ln(g + m x)``.
    Special functions run once per distinct x.
    """
    p, q, gamma = theta
    x_col = _Factor.of(frequency)
    x, ux = x_col.values, x_col.uniques
    m = np.asarray(monetary_value, dtype=float)
    px = p * x
    log_m = np.log(m)
    log_gm = np.log(gamma + m * x)
    per_x = (
        special.gammaln(p * ux + q)
        - special.gammaln(p * ux)
        - special.gammaln(q)
        + q * np.log(gamma)
        + p * ux * np.log(ux)
    )
    ll = x_col.map(per_x) + (px - 1) * log_m - (px + q) * log_gm
    if not gradient:
        return ll, None
    psi_pxq = special.digamma(p * ux + q)
    d_p = x * (x_col.map(psi_pxq - special.digamma(p * ux) + np.log(ux)) + log_m - log_gm)
    d_q = x_col.map(psi_pxq - special.digamma(q) + np.log(gamma)) - log_gm
    d_gamma = q / gamma - (px + q) / (gamma + m * x)
    return ll, np.stack([d_p, d_q, d_gamma])


class GammaGamma(_Fitted):
    """Gamma-Gamma model of the value of a customer's transactions (Fader, Hardie & Lee 2005, JMR).

    Transaction values are Gamma(p, nu) with ``nu ~ Gamma(q, gamma)`` across customers; independent of the
    purchase process. Fitted on repeat buyers only (``frequency > 0``, ``monetary_value > 0``); other rows are
    ignored by ``fit``.

    Attributes
    ----------
    params_ : dict
        ``{'p', 'q', 'gamma'}`` after ``fit``.
    log_likelihood_ : float
        Maximised (weighted) log-likelihood over the repeat buyers.
    n_customers_ : float
        Total weight of the repeat buyers fitted.
    converged_ : bool
    """

    _param_names = ("p", "q", "gamma")

    def __init__(self):
        self.params_: dict[str, float] | None = None

    def fit(self, frequency, monetary_value, weights=None) -> GammaGamma:
        """Fit on one row per customer; rows with ``frequency == 0`` or ``monetary_value <= 0`` are skipped.

        Parameters
        ----------
        frequency : array-like, shape (n_customers,)
            Repeat occasions.
        monetary_value : array-like, shape (n_customers,)
            Mean value of the repeat occasions.
        weights : array-like, shape (n_customers,), optional

        Returns
        -------
        self
        """
        x, m = self._check(frequency, monetary_value)
        w = _check_weights(weights, len(x))
        keep = (x > 0) & (m > 0) & (w > 0)
        if keep.sum() == 0:
            raise UserError(
                "Gamma-Gamma needs repeat buyers (frequency > 0 with monetary_value > 0); there are none"
            )
        collapsed = _collapse(x[keep], m[keep], weights=w[keep])
        ux, um = collapsed.columns
        uw = collapsed.weights
        total = uw.sum()
        x_col = _Factor.of(ux)

        def objective(phi: np.ndarray) -> tuple[float, np.ndarray]:
            theta = np.exp(phi)
            ll, grad = _gammagamma_terms(theta, x_col, um)
            return -float(uw @ ll) / total, -(grad @ uw) * theta / total

        mean_spend = float(uw @ um) / total
        starts = [np.log([p, q, (q - 1) * mean_spend / p]) for p, q in [(2.0, 3.0), (6.0, 4.0), (1.0, 10.0)]]
        result = _maximise(objective, starts, "Gamma-Gamma", list(self._param_names))
        self.params_ = dict(zip(self._param_names, map(float, np.exp(result.log_params)), strict=True))
        self.log_likelihood_ = result.mean_log_likelihood * total
        self.n_customers_ = float(total)
        self.converged_ = result.converged
        return self

    @staticmethod
    def _check(frequency, monetary_value) -> tuple[np.ndarray, np.ndarray]:
        x = _as_float_array(frequency, "frequency")
        m = _as_float_array(monetary_value, "monetary_value")
        if len(x) != len(m):
            raise UserError(f"frequency and monetary_value have different lengths: {len(x)}, {len(m)}")
        if ((x < 0) | (x != np.round(x))).any():
            raise UserError(
                f"frequency must be a whole number >= 0, examples: {examples(x[(x < 0) | (x != np.round(x))])}"
            )
        return x, m

    def _expected_spend(self, x: np.ndarray, m: np.ndarray) -> np.ndarray:
        params = self._require_fitted()
        p, q, gamma = params["p"], params["q"], params["gamma"]
        m = np.where(x > 0, m, 0.0)
        return p * (gamma + m * x) / (p * x + q - 1)

    def expected_average_spend(self, frequency, monetary_value) -> np.ndarray | pd.Series:
        """E[value of a transaction | frequency, mean repeat spend]; customers with no repeat get ``p gamma/(q-1)``.

        Returns
        -------
        array or Series, shape (n_customers,)
        """
        self._require_fitted()
        x, m = self._check(frequency, monetary_value)
        return _like_input(self._expected_spend(x, m), frequency)

    def customer_lifetime_value(
        self,
        betageo: BetaGeo,
        frequency,
        recency,
        T,
        monetary_value,
        horizon: int = 12,
        discount_rate: float = 0.01,
        step: float = 1.0,
    ) -> np.ndarray | pd.Series:
        """Discounted expected value of each customer's purchases over the next ``horizon`` steps.

        ``CLV = E[spend] * sum_{i=1..horizon} (E[Y(i s)] - E[Y((i-1) s)]) / (1 + discount_rate)^i`` where ``E[Y(t)]``
        is the BG/NBD conditional expectation and ``s = step`` (the approach of the ``lifetimes`` package).

        Parameters
        ----------
        betageo : BetaGeo
            Fitted purchase model (its time unit is that of ``recency`` and ``T``).
        frequency, recency, T, monetary_value : array-like, shape (n_customers,)
        horizon : int
            Number of discounting steps.
        discount_rate : float
            Discount rate per step.
        step : float
            Length of one step in the model time unit. With a weekly model, ``step=52/12`` (4.33 weeks) gives
            monthly steps, so ``horizon=12, discount_rate=0.01`` is one year at 1 % a month.

        Returns
        -------
        array or Series, shape (n_customers,)
        """
        spend = self.expected_average_spend(frequency, monetary_value)
        discounted_purchases = betageo._score(
            lambda x, t_x, t_cal: _discounted_purchases(betageo, x, t_x, t_cal, horizon, discount_rate, step),
            frequency,
            recency,
            T,
        )
        return _like_input(np.asarray(spend) * np.asarray(discounted_purchases), frequency)


def _discounted_purchases(betageo: BetaGeo, x, t_x, t_cal, horizon: int, discount_rate: float, step: float):
    """P(alive) * sum_i (E[Y(i step) | alive] - E[Y((i-1) step) | alive]) / (1+d)^i on distinct (x, t_x, T) rows.

    The sum depends on (x, T) only, so it runs on those distinct pairs.
    """
    if horizon < 1 or step <= 0 or discount_rate <= -1:
        raise UserError(
            f"CLV needs horizon >= 1, step > 0 and discount_rate > -1; got {horizon}, {step}, {discount_rate}"
        )
    pairs = _collapse(x, t_cal)
    px, pt = pairs.columns
    total = np.zeros(len(px))
    previous = np.zeros(len(px))
    for i in range(1, int(horizon) + 1):
        current = betageo._expected_if_alive(i * step, px, pt)
        total += (current - previous) / (1 + discount_rate) ** i
        previous = current
    return total[pairs.inverse] * special.expit(-betageo._log_dropout_odds(x, t_x, t_cal))


# ---------------------------------------------------------------------------------------------------------------------
# Summaries from orders
# ---------------------------------------------------------------------------------------------------------------------


def _unit_days(time_unit) -> float:
    if isinstance(time_unit, int | float) and not isinstance(time_unit, bool) and time_unit > 0:
        return float(time_unit)
    if time_unit in TIME_UNIT_DAYS:
        return TIME_UNIT_DAYS[time_unit]
    raise UserError(f"time_unit {time_unit!r} is not one of 'D', 'W', 'M' or a positive number of days")


def _as_date(value, name: str) -> dt.date:
    try:
        return pd.Timestamp(value).date()
    except (ValueError, TypeError) as error:
        raise UserError(f"{name}: {value!r} is not a date", hint="use YYYY-MM-DD") from error


def summary_from_orders(
    orders: pd.DataFrame,
    as_of,
    time_unit="W",
    calibration_end=None,
    customer_col: str = "customer_id",
    date_col: str = "order_date",
    amount_col: str = "amount",
) -> pd.DataFrame:
    """Per-customer frequency / recency / T / monetary_value from order lines (the standard BTYD set-up).

    Lines with a negative ``amount`` (returns) are not purchases and are left out; zero-value lines (free items) are
    kept. The remaining lines of one customer on one day form one purchase occasion worth their summed amount. Orders after ``as_of`` are ignored;
    ``as_of`` is inclusive (an order dated ``as_of`` counts) and T is measured to it in whole days.

    Parameters
    ----------
    orders : DataFrame, one row per order line
        Columns ``customer_col``, ``date_col`` (date or datetime; the time of day is dropped), ``amount_col``.
    as_of : date-like
        End of observation (inclusive).
    time_unit : {'W', 'D', 'M'} or float
        Unit of recency and T: weeks, days, months (365.25/12 days) or a number of days.
    calibration_end : date-like, optional
        When given, frequency / recency / T / monetary_value describe the calibration period up to this date
        (inclusive; only customers who first bought by then), and holdout columns describe (calibration_end, as_of].

    Returns
    -------
    DataFrame, one row per customer, indexed by ``customer_col`` and sorted by it
        ``frequency, recency, T, monetary_value`` and, with ``calibration_end``, ``frequency_holdout,
        monetary_value_holdout, duration_holdout``.
    """
    missing = [c for c in (customer_col, date_col, amount_col) if c not in orders.columns]
    if missing:
        raise UserError(
            f"orders: column(s) {', '.join(map(repr, missing))} missing; columns are {list(orders.columns)}"
        )
    unit = _unit_days(time_unit)
    end = pd.Timestamp(_as_date(as_of, "as_of"))
    cut = pd.Timestamp(_as_date(calibration_end, "calibration_end")) if calibration_end is not None else end
    if cut > end:
        raise UserError(f"calibration_end {cut.date()} is after as_of {end.date()}")
    days = orders[date_col]
    if not pd.api.types.is_datetime64_any_dtype(days):
        days = pd.to_datetime(days, errors="coerce", format="ISO8601")
    if days.isna().any():
        raise UserError(
            f"orders: column {date_col!r} has values that are not dates, "
            f"examples: {examples(orders[date_col][days.isna()])}"
        )
    lines = pd.DataFrame(
        {
            "customer": orders[customer_col].to_numpy(),
            "day": days.dt.normalize().to_numpy(),
            "amount": pd.to_numeric(orders[amount_col], errors="coerce").to_numpy(),
        }
    )
    lines = lines[(lines["amount"] >= 0) & (lines["day"] <= end)]
    occasions = lines.groupby(["customer", "day"], sort=True)["amount"].sum().reset_index()
    first_day = occasions.groupby("customer")["day"].transform("min")
    occasions = occasions[first_day <= cut].assign(first=first_day[first_day <= cut])

    calibration = occasions[occasions["day"] <= cut]
    grouped = calibration.groupby("customer")
    first, last, count = grouped["day"].min(), grouped["day"].max(), grouped["day"].size()
    repeat_value = calibration[calibration["day"] > calibration["first"]].groupby("customer")["amount"].sum()
    summary = pd.DataFrame(
        {
            "frequency": (count - 1).astype(float),
            "recency": (last - first).dt.days / unit,
            "T": (cut - first).dt.days / unit,
        }
    )
    summary["monetary_value"] = (
        repeat_value.reindex(summary.index, fill_value=0.0)
        / summary["frequency"].where(summary["frequency"] > 0)
    ).fillna(0.0)
    if calibration_end is not None:
        holdout = occasions[occasions["day"] > cut].groupby("customer")["amount"].agg(["size", "mean"])
        summary["frequency_holdout"] = holdout["size"].reindex(summary.index, fill_value=0).astype(float)
        summary["monetary_value_holdout"] = holdout["mean"].reindex(summary.index, fill_value=0.0)
        summary["duration_holdout"] = (end - cut).days / unit
    summary.index.name = customer_col
    return summary


def summary_sql(con, as_of, time_unit_days: float = 7.0, calibration_end=None) -> pd.DataFrame:
    """Engine-side twin of :func:`summary_from_orders` on the DuckDB relation ``orders`` (canonical columns).

    Same definitions (negative lines left out, one occasion per customer and day, ``as_of`` inclusive),
    computed with plain SELECT / GROUP BY / window SQL so that order lines never reach pandas.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection where ``orders`` (customer_id, order_date, amount) is available.
    as_of : date-like
    time_unit_days : float
        Length of the time unit in days (7 = weeks).
    calibration_end : date-like, optional
        As in :func:`summary_from_orders`.

    Returns
    -------
    DataFrame, one row per customer, indexed by ``customer_id`` and sorted by it
        Same columns as :func:`summary_from_orders`.
    """
    unit = _unit_days(float(time_unit_days))
    end = _as_date(as_of, "as_of")
    cut = _as_date(calibration_end, "calibration_end") if calibration_end is not None else end
    if cut > end:
        raise UserError(f"calibration_end {cut} is after as_of {end}")
    sql = """
        WITH occasions AS (
            SELECT customer_id, CAST(order_date AS DATE) AS day, SUM(amount) AS value
            FROM orders
            WHERE amount >= 0 AND CAST(order_date AS DATE) <= CAST($as_of AS DATE)
            GROUP BY customer_id, CAST(order_date AS DATE)
        ),
        dated AS (
            SELECT customer_id, day, value, MIN(day) OVER (PARTITION BY customer_id) AS first_day
            FROM occasions
        )
        SELECT
            customer_id,
            CAST(SUM(CASE WHEN day <= CAST($cut AS DATE) THEN 1 ELSE 0 END) - 1 AS DOUBLE) AS frequency,
            (MAX(CASE WHEN day <= CAST($cut AS DATE) THEN day END) - MIN(day)) / $unit AS recency,
            (CAST($cut AS DATE) - MIN(day)) / $unit AS "T",
            COALESCE(SUM(CASE WHEN day > first_day AND day <= CAST($cut AS DATE) THEN value END)
                     / NULLIF(SUM(CASE WHEN day <= CAST($cut AS DATE) THEN 1 ELSE 0 END) - 1, 0), 0.0)
                AS monetary_value,
            CAST(SUM(CASE WHEN day > CAST($cut AS DATE) THEN 1 ELSE 0 END) AS DOUBLE) AS frequency_holdout,
            COALESCE(AVG(CASE WHEN day > CAST($cut AS DATE) THEN value END), 0.0) AS monetary_value_holdout
        FROM dated
        WHERE first_day <= CAST($cut AS DATE)
        GROUP BY customer_id
        ORDER BY customer_id
    """
    summary = con.execute(sql, {"as_of": end, "cut": cut, "unit": unit}).df().set_index("customer_id")
    if calibration_end is None:
        return summary.drop(columns=["frequency_holdout", "monetary_value_holdout"])
    summary["duration_holdout"] = (end - cut).days / unit
    return summary


# ---------------------------------------------------------------------------------------------------------------------
# Holdout validation
# ---------------------------------------------------------------------------------------------------------------------


def calibration_holdout(
    betageo: BetaGeo,
    summary: pd.DataFrame,
    max_frequency: int = 7,
    frequency_col: str = "frequency",
    recency_col: str = "recency",
    T_col: str = "T",
    holdout_col: str = "frequency_holdout",
    duration_col: str = "duration_holdout",
) -> pd.DataFrame:
    """Predicted vs actual holdout repeat purchases by calibration frequency (FHL 2005, figure 4 and table 2).

    Parameters
    ----------
    betageo : BetaGeo
        Model fitted on the calibration columns.
    summary : DataFrame, one row per customer
        Output of :func:`summary_from_orders` / :func:`summary_sql` with ``calibration_end``.
    max_frequency : int
        Last group; it holds every customer with at least this many calibration repeat purchases ("7+").

    Returns
    -------
    DataFrame, one row per frequency group (index ``'0'``, ``'1'``, ..., ``'7+'``) plus a ``'total'`` row
        ``customers, actual, predicted`` (sums over the group), ``actual_mean, predicted_mean`` (per customer).
    """
    missing = [
        c for c in (frequency_col, recency_col, T_col, holdout_col, duration_col) if c not in summary.columns
    ]
    if missing:
        raise UserError(
            f"summary: column(s) {', '.join(map(repr, missing))} missing",
            hint="build it with summary_from_orders(..., calibration_end=...)",
        )
    durations = summary[duration_col].unique()
    if len(durations) != 1:
        raise UserError(
            f"summary: {duration_col!r} must be one value for everyone, examples: {examples(durations)}"
        )
    predicted = np.asarray(
        betageo.expected_purchases(
            float(durations[0]), summary[frequency_col], summary[recency_col], summary[T_col]
        )
    )
    frequency = summary[frequency_col].to_numpy()
    groups = np.minimum(frequency, max_frequency).astype(int)
    labels = [str(g) if g < max_frequency else f"{max_frequency}+" for g in groups]
    frame = pd.DataFrame(
        {"group": labels, "actual": summary[holdout_col].to_numpy(float), "predicted": predicted}
    )
    order = [str(g) for g in range(max_frequency)] + [f"{max_frequency}+"]
    table = (
        frame.groupby("group")
        .agg(customers=("actual", "size"), actual=("actual", "sum"), predicted=("predicted", "sum"))
        .reindex(order)
        .fillna(0)
    )
    table.loc["total"] = table.sum()
    table["customers"] = table["customers"].astype(int)
    table["actual_mean"] = table["actual"] / table["customers"].where(table["customers"] > 0)
    table["predicted_mean"] = table["predicted"] / table["customers"].where(table["customers"] > 0)
    table.index.name = "calibration_frequency"
    return table


# ---------------------------------------------------------------------------------------------------------------------
# Simulation (tests and benchmarks)
# ---------------------------------------------------------------------------------------------------------------------


def simulate_betageo(
    n_customers: int,
    r: float,
    alpha: float,
    a: float,
    b: float,
    T,
    seed: int = 0,
    resolution: float | None = None,
) -> pd.DataFrame:
    """Draw (frequency, recency, T) from the BG/NBD process, vectorised.

    Each customer has ``lambda ~ Gamma(r, rate alpha)`` and ``p ~ Beta(a, b)``, buys at time 0 and then at Poisson
    rate ``lambda``, and drops out after each repeat purchase with probability ``p``. The number of repeat purchases
    is ``min(N(T), K)`` with ``N(T) ~ Poisson(lambda T)`` and ``K ~ Geometric(p)``; the time of the last one is the
    ``x``-th order statistic of ``N(T)`` uniform times on ``(0, T]``, i.e. ``T * Beta(x, N - x + 1)``.

    Parameters
    ----------
    n_customers : int
    r, alpha, a, b : float
        BG/NBD parameters (``alpha`` in the time unit of ``T``).
    T : float or array-like, shape (n_customers,)
        Observation time of each customer.
    seed : int
    resolution : float, optional
        Round recency down to a multiple of this (e.g. ``1/7`` for day-level dates in weeks); ``T`` is not changed.

    Returns
    -------
    DataFrame, shape (n_customers, 3)
        ``frequency, recency, T``.
    """
    rng = np.random.default_rng(seed)
    t_cal = np.broadcast_to(np.asarray(T, dtype=float), (n_customers,)).copy()
    rate = rng.gamma(r, 1.0 / alpha, n_customers)
    dropout = rng.beta(a, b, n_customers)
    arrivals = rng.poisson(rate * t_cal)
    purchases_before_dropout = rng.geometric(np.clip(dropout, 1e-12, 1.0))
    x = np.minimum(arrivals, purchases_before_dropout)
    repeat = x > 0
    recency = np.zeros(n_customers)
    recency[repeat] = t_cal[repeat] * rng.beta(x[repeat], arrivals[repeat] - x[repeat] + 1)
    if resolution is not None:
        recency = np.floor(recency / resolution + 1e-9) * resolution
    return pd.DataFrame({"frequency": x.astype(float), "recency": recency, "T": t_cal})

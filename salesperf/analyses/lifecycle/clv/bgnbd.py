"""BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005, Marketing Science 24(2), 275-284).

Input: one row per customer, ``frequency`` (repeat purchase occasions), ``recency`` (first to last occasion)
and ``T`` (first occasion to the end of observation), in one model time unit (weeks in the CDNOW set-up);
``alpha`` and every horizon are in that unit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from salesperf.analyses.lifecycle.clv.likelihood import (
    _check_rfm,
    _check_weights,
    _collapse,
    _Factor,
    _Fitted,
    _like_input,
    _logaddexp,
    _maximise,
)


def betageo_log_likelihood(params, frequency, recency, T) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood (Fader, Hardie & Lee 2005, Marketing Science, eq. 6).

    ``ln L = A1 + A2 + ln(exp(A3) + [x > 0] exp(A4))`` with
    ``A1 = lnG(r+x) - lnG(r) + r ln(alpha)``, ``A2 = ln B(a, b+x) - ln B(a, b)``,
    ``A3 = -(r+x) ln(alpha+T)``, ``A4 = ln(a) - ln(b+x-1) - (r+x) ln(alpha+t_x)``.
    """
    theta = np.asarray([params[k] for k in ("r", "alpha", "a", "b")], dtype=float)
    return _betageo_terms(theta, frequency, recency, T, gradient=False)[0]


def _betageo_terms(theta: np.ndarray, frequency, recency, T, gradient: bool = True, weights=None):
    """BG/NBD log-likelihood and its derivatives in (r, alpha, a, b).

    Without ``weights``: per-row log-likelihood, shape (n,), and gradient rows, shape (4, n). With
    ``weights``: their weighted sums, a float and shape (4,) (what the optimiser needs, without building
    per-row gradient arrays). Terms that depend only on x, only on t_x or only on T are computed once per
    distinct value (special functions on a few hundred values instead of every row).
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

    While alive, a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)``; after each purchase they drop
    out with probability ``p ~ Beta(a, b)``. Time is in the unit of ``recency`` and ``T`` (see the module
    docstring).

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

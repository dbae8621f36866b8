"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, JMR 42(4)) and the CLV it gives with a fitted BG/NBD."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from salesperf.analyses.lifecycle.clv.bgnbd import BetaGeo
from salesperf.analyses.lifecycle.clv.likelihood import (
    _as_float_array,
    _check_weights,
    _collapse,
    _Factor,
    _Fitted,
    _like_input,
    _maximise,
)
from salesperf.core.errors import UserError, examples


def _gammagamma_terms(theta: np.ndarray, frequency, monetary_value, gradient: bool = True):
    """Log density of the mean spend ``m`` over ``x`` transactions (FHL 2005 JMR, eq. 3) and its gradient (3,
    n).

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
                "frequency must be a whole number >= 0, examples: "
                f"{examples(x[(x < 0) | (x != np.round(x))])}"
            )
        return x, m

    def _expected_spend(self, x: np.ndarray, m: np.ndarray) -> np.ndarray:
        params = self._require_fitted()
        p, q, gamma = params["p"], params["q"], params["gamma"]
        m = np.where(x > 0, m, 0.0)
        return p * (gamma + m * x) / (p * x + q - 1)

    def expected_average_spend(self, frequency, monetary_value) -> np.ndarray | pd.Series:
        """E[value of a transaction | frequency, mean repeat spend]; customers with no repeat get ``p
        gamma/(q-1)``.

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

        ``CLV = E[spend] * sum_{i=1..horizon} (E[Y(i s)] - E[Y((i-1) s)]) / (1 + discount_rate)^i`` where
        ``E[Y(t)]`` is the BG/NBD conditional expectation and ``s = step`` (the approach of the ``lifetimes``
        package).

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
    """P(alive) * sum_i (E[Y(i step) | alive] - E[Y((i-1) step) | alive]) / (1+d)^i on distinct (x, t_x, T)
    rows.

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

"""Shared machinery of the CLV models: input checks, collapsing to distinct rows, and maximum likelihood.

Customers who share the same (frequency, recency, T) have the same likelihood and the same predictions, so
fitting and scoring run on the distinct combinations with their counts as weights (:func:`_collapse`).
Parameters are searched on the log scale by :func:`_maximise` (L-BFGS-B with analytic gradients, a Nelder-Mead
rescue), which reports whether the optimum is a real one: gradient criterion met, inside the search bounds,
positive curvature.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from salesperf.core.errors import UserError, examples

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


# ----------------------------------------------------------------------------------------------------------
# Input handling
# ----------------------------------------------------------------------------------------------------------


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
                hint="build the columns with salesperf.analyses.lifecycle.clv.summary_sql",
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
    """Distinct rows of aligned arrays: ``columns`` (one array each), ``inverse`` and summed ``weights``."""

    columns: tuple[np.ndarray, ...]
    inverse: np.ndarray
    weights: np.ndarray


def _collapse(*arrays: np.ndarray, weights: np.ndarray | None = None) -> _Collapsed:
    """Collapse aligned arrays to their distinct rows (hash-based, O(n)); ``weights`` summed per row."""
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

    L-BFGS-B with the analytic gradient from each start; a Nelder-Mead pass followed by another L-BFGS-B
    polish when it did not converge. The best result wins; a :class:`ConvergenceWarning` with diagnostics is
    emitted when even that did not meet the gradient criterion.
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
            f"gradient norm {gradient_norm:.3g} "
            f"(criterion {GRADIENT_TOLERANCE:g}, per customer and log-parameter); "
            f"{iterations} iterations; parameters {values}"
            + (f"; at the search bound: {', '.join(at_bound)}" if at_bound else "")
            + (
                f"; flat likelihood (smallest Hessian eigenvalue {curvature:.3g}): "
                "the data do not identify the model"
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
    """Smallest eigenvalue of the Hessian of ``objective`` (differences of its gradient) at ``phi``."""
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
                f"This {type(self).__name__} instance is not fitted yet: "
                "call fit(...) before using this method."
            )
        return params

    def __repr__(self) -> str:
        params = getattr(self, "params_", None)
        shown = ", ".join(f"{k}={v:.4g}" for k, v in params.items()) if params else "not fitted"
        return f"{type(self).__name__}({shown})"


@dataclass(frozen=True)
class _Factor:
    """A column with its distinct values and codes: functions of it run once per distinct value."""

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
    """ln(exp(first) + exp(second)) for finite ``first`` (``second`` may be -inf), faster than
    np.logaddexp."""
    larger = np.maximum(first, second)
    return larger + np.log1p(np.exp(-np.abs(first - second)))

"""Draws from the BG/NBD process (tests and benchmarks)."""

from __future__ import annotations

import numpy as np
import pandas as pd


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

    Each customer has ``lambda ~ Gamma(r, rate alpha)`` and ``p ~ Beta(a, b)``, buys at time 0 and then at
    Poisson rate ``lambda``, and drops out after each repeat purchase with probability ``p``. The number of
    repeat purchases is ``min(N(T), K)`` with ``N(T) ~ Poisson(lambda T)`` and ``K ~ Geometric(p)``; the time
    of the last one is the ``x``-th order statistic of ``N(T)`` uniform times on ``(0, T]``, i.e. ``T *
    Beta(x, N - x + 1)``.

    Parameters
    ----------
    n_customers : int
    r, alpha, a, b : float
        BG/NBD parameters (``alpha`` in the time unit of ``T``).
    T : float or array-like, shape (n_customers,)
        Observation time of each customer.
    seed : int
    resolution : float, optional
        Round recency down to a multiple of this (e.g. ``1/7`` for day-level dates in weeks); ``T`` is not
        changed.

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

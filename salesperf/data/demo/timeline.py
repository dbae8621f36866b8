"""Arguments, the day calendar and the shared categorical draw.

Plants: the monthly seasonality (normalised to mean 1) and the trend x seasonality density that acquisition
days are drawn from. Days are integers since 1970-01-01 throughout the demo package.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from salesperf.core.errors import UserError
from salesperf.data.demo.config import EPOCH, SEASONALITY_RAW


def check_arguments(customers, seed, end, years, fmt) -> tuple[dt.date, dt.date]:
    """Validate :func:`~salesperf.data.demo.generate`'s arguments.

    Returns
    -------
    tuple of date
        ``(end_date, start_date)``; ``start_date`` is the day after ``end`` minus ``years`` years.

    Raises
    ------
    UserError
        For a bad customer count, seed, year count, format or end date (``end`` must be ISO).
    """
    if isinstance(customers, bool) or not isinstance(customers, (int, np.integer)) or customers < 10:
        raise UserError(f"demo: customers must be a whole number of at least 10, got {customers!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UserError(f"demo: seed must be a non-negative whole number, got {seed!r}")
    if isinstance(years, bool) or not isinstance(years, (int, np.integer)) or not 1 <= years <= 30:
        raise UserError(f"demo: years must be a whole number from 1 to 30, got {years!r}")
    if fmt not in ("parquet", "csv"):
        raise UserError(f"demo: fmt must be 'parquet' or 'csv', got {fmt!r}")
    if isinstance(end, dt.datetime):
        end_date = end.date()
    elif isinstance(end, dt.date):
        end_date = end
    else:
        try:
            end_date = dt.date.fromisoformat(str(end))
        except ValueError:
            raise UserError(f"demo: end must be an ISO date like '2026-10-31', got {end!r}") from None
    try:
        start_date = end_date.replace(year=end_date.year - int(years)) + dt.timedelta(days=1)
    except ValueError:  # 29 February
        start_date = end_date.replace(year=end_date.year - int(years), day=28) + dt.timedelta(days=1)
    if start_date.year < 1971:
        raise UserError(
            f"demo: end {end_date} minus {years} years is before 1971", hint="choose a later end date"
        )
    return end_date, start_date


class Calendar:
    """Days are integers since 1970-01-01; the window is ``start..end`` inclusive."""

    def __init__(self, start: dt.date, end: dt.date):
        self.start_date, self.end_date = start, end
        self.start = (start - EPOCH).days
        self.end = (end - EPOCH).days
        self.days = np.arange(self.start, self.end + 1)
        self.seasonality = _seasonality()

    def month(self, days: np.ndarray) -> np.ndarray:
        """Calendar month 1..12 of each day."""
        return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1

    def month_index(self, days: np.ndarray) -> np.ndarray:
        """Months since 1970-01 of each day."""
        return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)

    def season(self, days: np.ndarray) -> np.ndarray:
        """Seasonality factor of each day's month."""
        factors = np.array([self.seasonality[m] for m in range(1, 13)])
        return factors[self.month(days) - 1]

    def draw_days(self, rng: np.random.Generator, n: int, growth: float, seasonal: bool) -> np.ndarray:
        """Draw ``n`` days in the window with density proportional to trend x seasonality."""
        years_in = (self.days - self.start) / 365.25
        weight = (1.0 + growth) ** years_in
        if seasonal:
            weight = weight * self.season(self.days)
        cumulative = np.cumsum(weight)
        picks = np.searchsorted(cumulative, rng.random(n) * cumulative[-1], side="right")
        return self.days[np.minimum(picks, len(self.days) - 1)]


def _seasonality() -> dict[int, float]:
    mean = sum(SEASONALITY_RAW.values()) / 12
    return {m: round(f / mean, 4) for m, f in SEASONALITY_RAW.items()}


def choose(rng: np.random.Generator, probabilities: np.ndarray, n: int) -> np.ndarray:
    """``n`` draws of category indices with the given probabilities (vectorised inverse CDF)."""
    cumulative = np.cumsum(probabilities / probabilities.sum())
    return np.minimum(np.searchsorted(cumulative, rng.random(n), side="right"), len(cumulative) - 1)

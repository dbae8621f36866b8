"""Candidate forecasting models, the routing of a series to a set of them, and the cost of each.

Every model comes from statsforecast (numpy in, numpy out: ``fit(y)``, ``predict(h, level)`` and, where the
library has it, ``forward(y, h, level)``, which re-applies fitted parameters to a longer history without
re-estimating them). The regular candidates were chosen by what each costs and what accuracy it buys. Cost:
CPU ms per series for one fit on 36 months and a 12-step forecast with intervals (M3 monthly series, this
2-core machine, lightly loaded). Accuracy: mean MASE on the official test part of 200 M3 monthly (h = 18)
and 200 M3 quarterly (h = 8) series, every model fitted on the whole training part.

================ ===== ======= ======= ====================================================================
model             ms    M3 M    M3 Q    role
================ ===== ======= ======= ====================================================================
SeasonalNaive      1    1.174   1.521  the baseline; a candidate of every regular series
AutoTheta          6    0.858   1.202  cheap and accurate on business series (Theta won M3 monthly)
ETS (4 specs)     11    0.872   1.251  AutoETS restricted to ANN, AAdN, ANA, AAdA (lowest AICc of the four)
automatic choice  --    0.841   1.198  Ensemble of AutoTheta and ETS by default (selection.py)
AutoETS           41    0.848   1.250  the full search of ~30 specs: over the speed budget beside the rest
AutoARIMA        390      --      --   ~10x AutoETS: left out
================ ===== ======= ======= ====================================================================

Adding two multiplicative-season specs (MNM, MAdM) to ETS made it worse on tourism monthly (MASE 1.597
against 1.574), where the series' seasons are multiplicative, so the four stay.

Routing of one series (``classify``), in this order:

* ``empty``: no positive value → a zero forecast (``Zero``).
* ``short``: fewer than 8 points → ``Naive`` or ``HistoricAverage`` by a one-step backtest (with at least 4
  points; else ``Naive``).
* ``intermittent``: average demand interval ADI ≥ 1.32 (Syntetos & Boylan 2005: periods per non-zero period,
  counted from the first non-zero period) → ``CrostonSBA`` (default), ``CrostonOptimized``, ``ADIDA``,
  ``IMAPA``, ``TSB``, ``HistoricAverage``.
* ``short`` again: fewer than two full seasons → non-seasonal models, ``SES`` (default), ``Theta``, ``Naive``,
  ``HistoricAverage``: a seasonal model cannot estimate a season it has seen once (weekly series with fewer
  than 104 weeks land here).
* ``regular``: all the rest → SeasonalNaive, AutoTheta, ETS and their Ensemble (default).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

MIN_POINTS = 8
INTERMITTENT_ADI = 1.32

# Reason keys of a route (the text layer words them; the forecast's vocab.yml holds the sentences).
REASONS = {
    "empty": "all_zero",
    "few_points": "short_few_points",
    "no_season": "short_no_season",
    "intermittent": "intermittent_adi",
    "regular": "regular",
}


@dataclass(frozen=True)
class Candidate:
    """One candidate model: a name, how to build it for a season length, and what it offers.

    Attributes
    ----------
    name : str
        The model's name in every output frame (``model`` column).
    build : callable
        ``build(season_length) -> statsforecast model`` (a fresh, unfitted instance).
    intervals : bool
        Whether the model gives its own prediction intervals (else they come from the backtest errors).
    forward : bool
        Whether the fitted model can be re-applied to a longer history without re-estimation.
    """

    name: str
    build: Callable[[int], object]
    intervals: bool = True
    forward: bool = True


def load_library():
    """statsforecast's models module, imported on first use (~1.5 s; 10 s and more on a loaded machine)."""
    from statsforecast import models

    return models


def _ets(spec: str, damped: bool) -> Callable[[int], object]:
    def build(m: int):
        return load_library().AutoETS(season_length=m, model=spec, damped=damped, alias=f"ETS_{spec}")

    return build


class FourSpecETS:
    """ETS restricted to four specs (ANN, AAdN, ANA, AAdA), the one with the lowest AICc kept.

    AutoETS searches up to 30 specs (~41 ms a series here); these four cost ~18 ms and hold the forms that
    matter for monthly business series: level, damped trend, additive season. Without a full season twice
    over, only the non-seasonal two are tried.
    """

    SPECS = (("ANN", False), ("AAN", True), ("ANA", False), ("AAA", True))

    def __init__(self, season_length: int = 1):
        self.season_length = season_length
        self.model_ = None
        self.spec_ = None

    def fit(self, y: np.ndarray):
        best, best_ic = None, np.inf
        seasonal_ok = self.season_length > 1 and len(y) >= 2 * self.season_length + 2
        for spec, damped in self.SPECS:
            if spec[2] == "A" and not seasonal_ok:
                continue
            if damped and len(y) < 6:
                continue
            try:
                model = _ets(spec, damped)(self.season_length).fit(y)
            except Exception:  # a spec the series cannot carry (too short, degenerate): try the next one
                continue
            ic = model.model_.get("aicc", np.inf)
            ic = np.inf if ic is None or not np.isfinite(ic) else ic
            if best is None or ic < best_ic:
                best, best_ic, self.spec_ = model, ic, (spec, damped)
        if best is None:
            raise ValueError("no ETS spec could be fitted")
        self.model_ = best
        return self

    def predict(self, h: int, level=None):
        return self.model_.predict(h=h, level=level)

    def forward(self, y: np.ndarray, h: int, level=None):
        return self.model_.forward(y=y, h=h, level=level)


def _build(name: str, seasonal: bool = True, **kwargs) -> Callable[[int], object]:
    def build(m: int):
        cls = getattr(load_library(), name)
        return cls(season_length=m, **kwargs) if seasonal else cls(**kwargs)

    return build


class ZeroModel:
    """The forecast of a series that never sold: zero, with a zero-width interval."""

    def fit(self, y: np.ndarray):
        return self

    def predict(self, h: int, level=None):
        out = {"mean": np.zeros(h)}
        for lv in level or ():
            out[f"lo-{lv}"] = out[f"hi-{lv}"] = np.zeros(h)
        return out

    def forward(self, y: np.ndarray, h: int, level=None):
        return self.predict(h, level)


SEASONAL_NAIVE = Candidate("SeasonalNaive", _build("SeasonalNaive"))
AUTO_THETA = Candidate("AutoTheta", _build("AutoTheta"))
ETS = Candidate("ETS", FourSpecETS)
AUTO_ETS = Candidate("AutoETS", _build("AutoETS"))
AUTO_ARIMA = Candidate("AutoARIMA", _build("AutoARIMA"))
NAIVE = Candidate("Naive", _build("Naive", False))
ZERO = Candidate("Zero", lambda m: ZeroModel())
MEAN = Candidate("HistoricAverage", _build("HistoricAverage", False), forward=False)
SES = Candidate("SES", _ets("ANN", False))
THETA = Candidate("Theta", _build("Theta"))
CROSTON_SBA = Candidate("CrostonSBA", _build("CrostonSBA", False), intervals=False, forward=False)
CROSTON_OPT = Candidate("CrostonOptimized", _build("CrostonOptimized", False), intervals=False, forward=False)
ADIDA = Candidate("ADIDA", _build("ADIDA", False), intervals=False, forward=False)
IMAPA = Candidate("IMAPA", _build("IMAPA", False), intervals=False, forward=False)
TSB = Candidate("TSB", _build("TSB", False, alpha_d=0.2, alpha_p=0.2), intervals=False, forward=False)

# The candidate set of each route; the Ensemble (mean of the two best members) joins the regular set.
CANDIDATES: dict[str, tuple[Candidate, ...]] = {
    "regular": (SEASONAL_NAIVE, AUTO_THETA, ETS),
    "intermittent": (CROSTON_SBA, CROSTON_OPT, ADIDA, IMAPA, TSB, MEAN),
    "short": (SES, THETA, NAIVE, MEAN),
    "short_few": (NAIVE, MEAN),
    "empty": (ZERO,),
}
# Other candidates an analyst may ask for by name (benchmarks run them side by side).
EXTRA = {c.name: c for c in (AUTO_ETS, AUTO_ARIMA)}
ALL = {c.name: c for cands in CANDIDATES.values() for c in cands} | EXTRA

SEASON_LENGTHS = {"M": 12, "Q": 4, "W": 52, "D": 7, "B": 5, "H": 24, "Y": 1, "A": 1}


def season_length_for(freq: str) -> int:
    """The season length of a pandas frequency: month 12, quarter 4, week 52, day 7, year 1.

    Parameters
    ----------
    freq : str
        A pandas offset alias (``"M"``, ``"ME"``, ``"MS"``, ``"Q"``, ``"QE-DEC"``, ``"W"``, ``"W-SUN"``,
        ``"D"``).
    """
    return SEASON_LENGTHS.get(freq.strip().upper()[:1], 1)


def period_offset(freq: str):
    """The pandas offset of one period, with the period-END aliases for month and quarter ("M" → "ME")."""
    import pandas as pd

    alias = {"M": "ME", "Q": "QE", "Y": "YE", "A": "YE"}.get(freq.strip().upper(), freq)
    return pd.tseries.frequencies.to_offset(alias)


def average_demand_interval(y: np.ndarray) -> float:
    """Periods per non-zero period, counted from the first non-zero one (inf when there is none)."""
    nonzero = np.flatnonzero(y > 0)
    if len(nonzero) == 0:
        return float("inf")
    return (len(y) - nonzero[0]) / len(nonzero)


def classify(y: np.ndarray, season_length: int) -> tuple[str, str]:
    """The route of one series: (series_class, reason key), by the rules in this module's docstring.

    Parameters
    ----------
    y : numpy.ndarray
        The series' history, oldest first, zero-filled.
    season_length : int
        Periods per season (1 for none).

    Returns
    -------
    tuple of (str, str)
        series_class in {"regular", "intermittent", "short", "empty"} and a key of ``REASONS``.
    """
    if len(y) == 0 or not np.any(y > 0):
        return "empty", REASONS["empty"]
    if len(y) < MIN_POINTS:
        return "short", REASONS["few_points"]
    if average_demand_interval(y) >= INTERMITTENT_ADI:
        return "intermittent", REASONS["intermittent"]
    if season_length > 1 and len(y) < 2 * season_length:
        return "short", REASONS["no_season"]
    return "regular", REASONS["regular"]


def candidates_for(series_class: str, n: int) -> tuple[Candidate, ...]:
    """The candidate models of a route (a short series under ``MIN_POINTS`` gets only naive and mean)."""
    if series_class == "short" and n < MIN_POINTS:
        return CANDIDATES["short_few"]
    return CANDIDATES[series_class]


def components(dates, y: np.ndarray, future, yhat: np.ndarray, m: int, series_class: str) -> dict:
    """Trend and season of the last season of history and of the forecast, for the narrative.

    The season is the additive seasonal component of an STL decomposition of the history (its last full
    season repeated into the forecast); the trend is the value less the season. A series without two full
    seasons (or not "regular") has season 0. So the change from the last period to the next splits as
    ``Δtrend + Δseason``.

    Returns
    -------
    dict
        Equal-length columns, one entry per period: ds, part ("history" | "forecast"), value, trend, season.
    """
    keep = min(len(y), max(m, 1))
    season_hist, season_next = np.zeros(keep), np.zeros(len(yhat))
    if series_class == "regular" and m > 1 and len(y) >= 2 * m and np.std(y) > 0:
        from statsmodels.tsa.seasonal import STL

        try:
            seasonal = np.asarray(STL(y, period=m, robust=False).fit().seasonal, dtype=float)
            season_hist = seasonal[-keep:]
            season_next = np.resize(seasonal[-m:], len(yhat))
        except (ValueError, np.linalg.LinAlgError):  # a degenerate history: no season rather than none at all
            pass
    value = np.concatenate([y[-keep:], yhat])
    season = np.concatenate([season_hist, season_next])
    return {
        "ds": np.concatenate([dates[-keep:].values, future.values]),
        "part": np.array(["history"] * keep + ["forecast"] * len(yhat), dtype=object),
        "value": value,
        "trend": value - season,
        "season": season,
    }

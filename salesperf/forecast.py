"""Forecasting for analysts, on long frames: ``from salesperf.forecast import forecast, backtest``.

``forecast(df, horizon, freq)`` takes columns unique_id, ds (period-end dates), y (sales) and returns, per
series
and future period, the automatically chosen model's forecast with 80 % and 95 % intervals; ``backtest(...)``
returns the rolling-origin errors of every candidate model behind that choice. ``select_and_forecast`` returns
everything (routes, the chosen model's backtest, interval coverage, trend/season components, timings) as a
``Selection``. How models are chosen: salesperf/analyses/forecast/selection.py; intervals: intervals.py.

Example
-------
>>> from salesperf.forecast import forecast
>>> forecast(sales, horizon=12, freq="M")  # doctest: +SKIP
"""

from salesperf.analyses.forecast.api import Selection, backtest, forecast, select_and_forecast
from salesperf.analyses.forecast.models import season_length_for

__all__ = ["Selection", "backtest", "forecast", "select_and_forecast", "season_length_for"]

"""Sales forecasting: what the next periods bring by total, region, category, team and rep, how far to trust
it, what the open pipeline adds, and how good earlier forecasts were.

Modules (engine work in ``queries`` and ``pipeline_queries``, engine-neutral Ibis run by the dataset's
:class:`~salesperf.data.engine.Engine`; the rest is pure unless it says otherwise):

``queries``            the sales series of every level from one aggregate query, and their summing structures
``models``             the candidate models (statsforecast) and how a series is routed to them
``selection``          the rolling-origin backtest and the choice per series (ensemble included)
``intervals``          backtest coverage of the ranges and conformal ranges where a model's are miscalibrated
``api``                the analysts' API on long frames (re-exported as :mod:`salesperf.forecast`)
``hierarchy``          MinT (shrinkage) or bottom-up reconciliation, coherent to the cent
``pipeline_queries``   open and closed deals, stage history, quotas (engine work of the pipeline outlook)
``pipeline``           win rates learned by stage, close timing, expected bookings and the gap to quota
``ledger``             each run's forecasts stored, later runs' scores of them (I/O in ``store``/``load``)
``outlook``            the pipeline outlook's result
``result`` / ``analysis``  the rich result and its display frames; the
                       :class:`~salesperf.analyses.base.Analysis`
``text`` / ``tables``  every word of the report (templates in ``vocab.yml``) and its table specs
"""

from __future__ import annotations

import warnings

# statsforecast and hierarchicalforecast import tqdm.auto, which warns in a kernel without ipywidgets: not the
# reader's business (it printed on the report's page)
warnings.filterwarnings("ignore", message="IProgress not found")

from salesperf.analyses.forecast.analysis import ForecastAnalysis  # noqa: E402
from salesperf.analyses.forecast.api import Selection, backtest, forecast, select_and_forecast  # noqa: E402
from salesperf.analyses.forecast.hierarchy import Reconciled, reconcile  # noqa: E402
from salesperf.analyses.forecast.outlook import PipelineOutlook  # noqa: E402
from salesperf.analyses.forecast.pipeline_queries import read_outlook  # noqa: E402
from salesperf.analyses.forecast.queries import SalesSeries, sales_series  # noqa: E402
from salesperf.analyses.forecast.result import Forecast  # noqa: E402

ANALYSIS = ForecastAnalysis()

__all__ = [
    "ANALYSIS",
    "Forecast",
    "PipelineOutlook",
    "Reconciled",
    "SalesSeries",
    "Selection",
    "backtest",
    "forecast",
    "read_outlook",
    "reconcile",
    "sales_series",
    "select_and_forecast",
]

"""Customer-lifetime-value models: BG/NBD purchase counts and Gamma-Gamma spend, fitted by maximum likelihood.

The models work on one row per customer:

- ``frequency``: number of *repeat* purchase occasions in the observation window (first occasion not counted);
- ``recency``: time from the first to the last occasion (0 when ``frequency`` is 0);
- ``T``: time from the first occasion to the end of the observation window (the as-of date);
- ``monetary_value``: mean value of the repeat occasions (0 when ``frequency`` is 0).

``recency`` and ``T`` are in one *model time unit* (weeks in the published CDNOW set-up, ``time_unit_days=7``
in :func:`summary_sql`). Every prediction horizon ``t`` is in that same unit, and the scale parameter
``alpha`` of the BG/NBD model is in it too. :func:`summary_sql` builds these columns from canonical ``orders``
with one engine-neutral query (DuckDB, a warehouse or Spark) that returns one row per customer.

Modules: ``likelihood`` (input checks, distinct-row collapsing, the optimiser), ``bgnbd``, ``gamma_gamma``
(spend and CLV), ``summary`` (the RFM query), ``holdout`` (calibration/holdout table), ``simulate`` (draws for
tests).

Customers who share the same (frequency, recency, T) have the same likelihood and the same predictions, so
fitting and scoring run on the distinct combinations with their counts as weights. Dates at day resolution
make that a few tens of thousands of rows even for millions of customers.

References
----------
Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting your customers" the easy way: an alternative
to the Pareto/NBD model. Marketing Science 24(2), 275-284. Fader, P. S., Hardie, B. G. S. and Lee, K. L.
(2005). RFM and CLV: using iso-value curves for customer base analysis. Journal of Marketing Research 42(4),
415-430 (the Gamma-Gamma spend model).
"""

from salesperf.analyses.lifecycle.clv.bgnbd import BetaGeo, betageo_log_likelihood
from salesperf.analyses.lifecycle.clv.gamma_gamma import GammaGamma
from salesperf.analyses.lifecycle.clv.holdout import calibration_holdout
from salesperf.analyses.lifecycle.clv.likelihood import ConvergenceWarning, NotFittedError
from salesperf.analyses.lifecycle.clv.simulate import simulate_betageo
from salesperf.analyses.lifecycle.clv.summary import TIME_UNIT_DAYS, summary_sql

__all__ = [
    "TIME_UNIT_DAYS",
    "BetaGeo",
    "ConvergenceWarning",
    "GammaGamma",
    "NotFittedError",
    "betageo_log_likelihood",
    "calibration_holdout",
    "simulate_betageo",
    "summary_sql",
]

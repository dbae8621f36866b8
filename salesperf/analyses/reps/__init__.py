"""Rep evaluation: scorecards for the period and the trailing year with roll-ups that add up, a fair ranking
with intervals, skills gaps turned into a coaching focus, quota fairness and suggested next quotas, the
commission payroll with a what-if under an alternative plan, and the effect of training.

Modules (engine work in ``queries``, engine-neutral Ibis run by the dataset's
:class:`~salesperf.data.engine.Engine`; the rest is pure):

``queries``            every aggregate query: scorecard inputs, closed deals, rep-month panel,
                       commission lines, training records
``scorecard``          per-rep KPIs of the period and the trailing year, team/region/company roll-ups
``gaps``               skills gaps against comparable peers and the coaching rules (``rules.yml``)
``ranking``            covariate-adjusted, shrunk win skill with intervals and rank intervals
``quotas``             attainment spread, quota against potential, suggested next quotas
``incentives``         commission plans (``plan.yml``, docs/incentives.md), payroll, what-if
``training``           staggered difference-in-differences of training on deals and rep-months
``result`` / ``analysis``  the rich result and the frames it needs; the
                       :class:`~salesperf.analyses.base.Analysis`
``text`` / ``tables``  every word of the report (templates in ``vocab.yml``) and its table specs
"""

from __future__ import annotations

from salesperf.analyses.reps.analysis import RepsAnalysis
from salesperf.analyses.reps.gaps import load_coaching_rules, skill_gaps
from salesperf.analyses.reps.incentives import add_total_row, check_payroll, load_plan, payroll, what_if
from salesperf.analyses.reps.quotas import attainment_spread, quota_vs_potential, suggest_quotas
from salesperf.analyses.reps.ranking import fair_ranking, fair_ranking_periods
from salesperf.analyses.reps.result import Reps
from salesperf.analyses.reps.scorecard import Scorecard, build_scorecard
from salesperf.analyses.reps.training import training_impact

ANALYSIS = RepsAnalysis()

__all__ = [
    "ANALYSIS",
    "Reps",
    "Scorecard",
    "add_total_row",
    "attainment_spread",
    "build_scorecard",
    "check_payroll",
    "fair_ranking",
    "fair_ranking_periods",
    "load_coaching_rules",
    "load_plan",
    "payroll",
    "quota_vs_potential",
    "skill_gaps",
    "suggest_quotas",
    "training_impact",
    "what_if",
]

"""The rep-evaluation analysis behind the :class:`~salesperf.analyses.base.Analysis` interface.

Every engine query is in :mod:`.queries` (aggregates per rep, rep-month or deal come back); the parts are
pure: the scorecard (:mod:`.scorecard`), skills gaps (:mod:`.gaps`), the fair ranking (:mod:`.ranking`), quota
fairness and next quotas (:mod:`.quotas`), the payroll and its what-if (:mod:`.incentives`) and the training
effect (:mod:`.training`). The territory potential comes from the forecast analysis's shared ``forecasts``
where it has run (``uses``), else from the trailing year's bookings.

A per-rep copy (``--each rep``) holds one rep's data: it shows that rep's scorecard, and says that the
sections comparing the rep with peers (ranking, gaps, quotas, payroll with its team bonus, training) are in
the full report.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from salesperf.analyses.base import Analysis, Context, Needs, Result
from salesperf.analyses.reps import queries, tables, text
from salesperf.analyses.reps.gaps import load_coaching_rules, skill_gaps
from salesperf.analyses.reps.incentives import add_total_row, check_payroll, load_plan, payroll, what_if
from salesperf.analyses.reps.quotas import (
    attainment,
    attainment_spread,
    implied_stretch,
    quota_vs_potential,
    suggest_quotas,
)
from salesperf.analyses.reps.ranking import fair_ranking, fair_ranking_periods
from salesperf.analyses.reps.result import (
    Reps,
    active_panel,
    forecast_potential,
    history_potential,
    payroll_quotas,
)
from salesperf.analyses.reps.scorecard import build_scorecard, month_labels
from salesperf.analyses.reps.training import after_training, panel_did, training_impact
from salesperf.core.present import Exhibit
from salesperf.core.vocab import LANGUAGES

#: Calendar months of a period of each grain (the next period's potential).
MONTHS_OF = {"month": 1, "quarter": 3}
#: Months of rep-month history before the first training completion that the training panel reads.
TRAINING_LOOKBACK_MONTHS = 36


class RepsAnalysis(Analysis):
    """Rep scorecards, fair ranking, skills gaps, quota fairness, commission payroll with a what-if, training
    impact."""

    name = "reps"
    needs = Needs(
        optional={
            "orders.rep_id": ("scorecard", "rep_lines"),
            "reps": ("scorecard", "rep_directory"),
            "targets": ("quotas", "quota_sections"),
            "opportunities": ("ranking", "deal_sections"),
            "activities": ("scorecard", "activity_kpis"),
            "training": ("training", "training_effects"),
            "feedback": ("scorecard", "satisfaction_kpis"),
            "customers": ("scorecard", "book_owners"),
        }
    )
    uses = ("forecast",)
    parameters = {"plan": "", "alternative_plan": "", "potential_weight": 0.5, "max_change": 0.15}
    words = text.WORDS

    def compute(self, ds, ctx: Context, upstream: Mapping[str, Result]) -> Reps:
        """The scorecard and every section's result for ``ds``'s period (:class:`~.result.Reps`)."""
        plan = load_plan(self.param(ctx, "plan") or None)  # a bad plan file stops here, before any query
        alternative_file = self.param(ctx, "alternative_plan")
        alternative = load_plan(alternative_file) if alternative_file else None
        rules = load_coaching_rules()
        period = ds.period
        inputs = queries.scorecard_inputs(ds.engine, period)
        card = build_scorecard(inputs)
        out = Reps(
            period.end, period.grain, ctx.currency, ds.entity or "", card, rules, plan_name=plan.name,
            labels={lang: period.label_in(lang) for lang in LANGUAGES},
        )  # fmt: skip
        if not out.has_reps:
            return out
        if out.one_rep:
            out.training_status = "peers"
            return out
        year = out.window("year")
        teams = None if "team" in card.missing else year[["rep_id", "team"]].dropna()
        regions = None if "region" in card.missing else year[["rep_id", "region"]].dropna()
        training = queries.training_records(ds.engine, period.end) if ds.has("training", "rep_id") else None
        deals = queries.closed_deals(ds.engine, period.end) if inputs.found["opportunities"] else None
        if deals is not None and training is not None and len(training):
            deals["trained"] = after_training(deals, training)
        out.gaps = skill_gaps(card.kpis, rules) if len(card.kpis) else None
        quotas = card_quotas(inputs, set(card.kpis["rep_id"]))
        self._rank(out, ds, inputs, deals, year, quotas, regions)
        if quotas is not None and period.grain in MONTHS_OF:
            self._quotas(out, ctx, inputs, year, quotas, teams, upstream)
        self._incentives(out, ds, inputs, plan, alternative, quotas, teams)
        self._training(out, ds, deals, training)
        return out

    def _rank(self, out: Reps, ds, inputs, deals, year, quotas, regions) -> None:
        reps = year[["rep_id", "team", "attainment"]]
        if "team" in out.card.missing:
            reps = reps.drop(columns="team")
        if deals is not None and len(deals):
            out.ranking, out.ranking_basis = fair_ranking(deals, reps), "deals"
            return
        w = inputs.windows
        panel = active_panel(queries.rep_month_panel(ds.engine, w.year_start, w.end), quotas, regions)
        basis = "attainment" if panel["attainment"].notna().any() else "bookings"
        if panel[basis].notna().any():
            out.ranking = fair_ranking_periods(panel, reps, value_col=basis)
            out.ranking_basis = basis

    def _quotas(self, out: Reps, ctx: Context, inputs, year, quotas, teams, upstream) -> None:
        w = inputs.windows
        months = month_labels(w.year_start, w.end)
        booked = inputs.bookings
        booked = booked[booked["rep_id"].notna() & booked["in_year"]]
        booked = booked.assign(period=booked["month"].dt.strftime("%Y-%m"))
        monthly = attainment(booked[["rep_id", "period", "bookings"]], payroll_quotas(quotas, months))
        if monthly.empty:
            return
        out.spread = attainment_spread(monthly, teams)
        history = year[["rep_id", "region", "bookings"]].fillna({"bookings": 0.0})
        forecast = upstream.get("forecast")
        potential, out.potential_source = forecast_potential(
            forecast.shared.get("forecasts") if forecast is not None else None, history
        )
        if out.potential_source == "none":
            potential = history_potential(year, MONTHS_OF[out.grain])
            out.potential_source = "history" if len(potential) else "none"
        current = out.window("period")[["rep_id", "quota", "next_quota"]]
        ahead = current.assign(quota=current["next_quota"].where(current["next_quota"] > 0, current["quota"]))
        ahead = ahead[ahead["quota"] > 0]
        if len(ahead) and len(potential):
            out.fairness, out.fairness_by_team = quota_vs_potential(ahead, potential, teams)
        stretch = implied_stretch(monthly)
        now = current[current["quota"] > 0]
        if len(now) and np.isfinite(stretch) and stretch > 0:
            out.suggestions, out.method = suggest_quotas(
                now, potential, out.spread.per_rep, stretch, float(self.param(ctx, "potential_weight")),
                float(self.param(ctx, "max_change")), teams,
            )  # fmt: skip

    def _incentives(self, out: Reps, ds, inputs, plan, alternative, quotas, teams) -> None:
        if not inputs.found["order_reps"]:
            return
        w = inputs.windows
        bookings, returns = queries.commission_lines(ds.engine, w.year_start, w.end)
        targets = payroll_quotas(quotas, month_labels(w.year_start, w.end))
        out.payroll = add_total_row(payroll(plan, bookings, targets, returns, teams))
        check_payroll(out.payroll)
        if alternative is not None:
            out.what_if = what_if(plan, alternative, bookings, targets, returns, teams)

    def _training(self, out: Reps, ds, deals, training) -> None:
        if training is None or training.empty:
            out.training_status = "no_training"
            return
        start = pd.Timestamp(training["completed_at"].min()) - pd.DateOffset(months=TRAINING_LOOKBACK_MONTHS)
        panel = queries.rep_month_panel(ds.engine, start.date(), out.as_of)
        if deals is not None and len(deals):
            out.training = training_impact(deals, panel, training)
        elif len(panel):
            out.training = panel_did(panel, training)
        out.training_status = "ok" if out.training is not None else "no_data"

    def summarise(self, detail: Reps, ds, ctx: Context) -> Result:
        """Tiles (bookings, attainment, win rate, payout), findings, the period's team roll-up and the
        scorecard's per-rep KPIs (shared as ``scorecard``)."""
        lang = ctx.lang
        exhibits, shared = [], {}
        if detail.has_reps:
            level = "team" if "team" not in detail.card.missing else "company"
            exhibits.append(
                Exhibit(text.WORDS(f"rollup_{level}", lang), tables.rollup_rows(detail, level, lang),
                        tables.rollup_spec(lang), text.scorecard_sentence(detail, lang))
            )  # fmt: skip
            shared["scorecard"] = detail.card.kpis
        return Result(
            self.name,
            headline=text.tiles(detail, lang),
            findings=text.findings(detail, lang),
            exhibits=exhibits,
            shared=shared,
        )


def card_quotas(inputs, rep_ids: set) -> pd.DataFrame | None:
    """The monthly quotas of the scored reps (``rep_id``, ``month``, ``quota``); None without targets or for a
    weekly period (the scorecard gives no attainment then)."""
    if inputs.quotas is None or inputs.missing.get("attainment") in ("no_targets", "weekly_period"):
        return None
    return inputs.quotas[inputs.quotas["rep_id"].isin(rep_ids)].reset_index(drop=True)

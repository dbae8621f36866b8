"""Tables of the rep-evaluation report: which columns each table shows, with which headers and formats, and
the display frames whose values need words (verdicts, flags, the company and total rows, coaching focus)."""

from __future__ import annotations

import pandas as pd

from salesperf.analyses.reps.incentives import TOTAL
from salesperf.analyses.reps.quotas import ALL
from salesperf.analyses.reps.result import Reps, payroll_of_period
from salesperf.analyses.reps.scorecard import FAMILIES, RATE_FAMILY
from salesperf.analyses.reps.text import WORDS, effect_texts, period_months, rep_name, rep_names
from salesperf.core.present import TableSpec, table

#: Scorecard columns that belong to a KPI family (left out of the tables when the family is missing).
_FAMILY_OF = {**{c: f for f, cols in FAMILIES.items() for c in cols}, **RATE_FAMILY,
              "cycle_median_days": "cycle", "team": "team", "region": "region"}  # fmt: skip


def _shown(frame: pd.DataFrame, r: Reps) -> pd.DataFrame:
    """``frame`` without the columns of the scorecard's missing KPI families."""
    gone = [c for c in frame.columns if _FAMILY_OF.get(c) in r.card.missing]
    return frame.drop(columns=gone)


def _words(values: pd.Series, word) -> pd.Series:
    """``values`` in words (``word(value)``), a dash where there is none."""
    return values.map(lambda v: word(v) if isinstance(v, str) else "–")


def _named(frame: pd.DataFrame, r: Reps) -> pd.DataFrame:
    """``frame`` (with ``rep_id``) with ``rep``: the rep's name from the scorecard, else its id."""
    names = rep_names(r)
    return frame.assign(rep=[names.get(rep, str(rep)) for rep in frame["rep_id"]])


def scorecard_rows(r: Reps, window: str, lang: str) -> pd.DataFrame:
    """The scorecard's per-rep KPIs of ``window`` (largest bookings first), with each rep's display name."""
    rows = r.window(window)
    return _shown(rows.assign(rep=[rep_name(row) for _, row in rows.iterrows()]), r)


def scorecard_spec(lang: str) -> TableSpec:
    """One row per rep: bookings, attainment, deals, pipeline, activities, customers and retention."""
    return table(
        ("rep", WORDS("rep", lang)),
        ("team", WORDS("team", lang)),
        ("region", WORDS("region", lang)),
        ("bookings", WORDS("bookings", lang), "money"),
        ("quota", WORDS("quota", lang), "money"),
        ("attainment", WORDS("attainment", lang), "pct"),
        ("win_rate", WORDS("win_rate", lang), "pct"),
        ("avg_deal", WORDS("avg_deal", lang), "money"),
        ("cycle_median_days", WORDS("cycle_days", lang), "float"),
        ("pipeline_created", WORDS("pipeline_created", lang), "money"),
        ("coverage", WORDS("coverage", lang), "float"),
        ("activities", WORDS("activities", lang), "int"),
        ("new_customers", WORDS("new_customers", lang), "int"),
        ("nrr", WORDS("nrr", lang), "pct"),
        ("grr", WORDS("grr", lang), "pct"),
        ("nps", WORDS("nps", lang), "float"),
        max_rows=60,
    )


def trend_rows(r: Reps) -> pd.DataFrame:
    """Bookings, quota and attainment of the trend months: the rep's on a per-rep page, else the sums over
    the reps (attainment recomputed from the sums, over the reps with a quota that month)."""
    trend = r.card.trend
    if r.one_rep or trend.empty:
        return trend
    quota = trend["quota"].where(trend["quota"] > 0)
    sums = trend.assign(quota=quota, quota_bookings=trend["bookings"].where(quota.notna()))
    sums = sums.groupby("month", as_index=False)[["bookings", "quota", "quota_bookings"]].sum(min_count=1)
    return sums.assign(attainment=sums["quota_bookings"] / sums["quota"])


def trend_spec(lang: str) -> TableSpec:
    """One row per month."""
    return table(
        ("month", WORDS("month", lang)),
        ("bookings", WORDS("bookings", lang), "money"),
        ("quota", WORDS("quota", lang), "money"),
        ("attainment", WORDS("attainment", lang), "pct"),
    )


def rollup_levels(r: Reps) -> list[str]:
    """The roll-up levels the data hold (``team``, ``region``, then ``company``)."""
    return [level for level in ("team", "region", "company") if level not in r.card.missing]


def rollup_rows(r: Reps, level: str, lang: str, window: str = "period") -> pd.DataFrame:
    """The roll-ups of ``level`` in ``window``, the company's group in words."""
    rows = r.rollup(level, window)
    rows = rows.assign(group=rows["group"].where(rows["level"] != "company", WORDS("company", lang)))
    return _shown(rows, r)


def rollup_spec(lang: str) -> TableSpec:
    """One row per team, region or the company: reps, bookings and the rates recomputed from sums."""
    return table(
        ("group", WORDS("group", lang)),
        ("reps", WORDS("reps_count", lang), "int"),
        ("bookings", WORDS("bookings", lang), "money"),
        ("quota", WORDS("quota", lang), "money"),
        ("attainment", WORDS("attainment", lang), "pct"),
        ("win_rate", WORDS("win_rate", lang), "pct"),
        ("avg_deal", WORDS("avg_deal", lang), "money"),
        ("pipeline_created", WORDS("pipeline_created", lang), "money"),
        ("activities", WORDS("activities", lang), "int"),
        ("new_customers", WORDS("new_customers", lang), "int"),
        ("nrr", WORDS("nrr", lang), "pct"),
    )


def ranking_rows(r: Reps, lang: str) -> pd.DataFrame:
    """The ranking, best first, with its verdicts in words."""
    if r.ranking is None:
        return pd.DataFrame()
    rows = _named(r.ranking.ranking, r)
    return rows.assign(verdict=_words(rows["verdict"], lambda v: WORDS(f"verdict_{v}", lang)))


def ranking_spec(lang: str) -> TableSpec:
    """One row per rep: rank with its interval, skill with its interval, raw figures and the verdict."""
    return table(
        ("rank", WORDS("rank", lang), "int"),
        ("rank_low", WORDS("rank_low", lang), "int"),
        ("rank_high", WORDS("rank_high", lang), "int"),
        ("rep", WORDS("rep", lang)),
        ("team", WORDS("team", lang)),
        ("deals", WORDS("closed_deals", lang), "int"),
        ("periods", WORDS("months_used", lang), "int"),
        ("raw_win_rate", WORDS("raw_win_rate", lang), "pct"),
        ("adjusted_win_rate", WORDS("adjusted_win_rate", lang), "pct"),
        ("raw_mean", WORDS("raw_mean", lang), "float"),
        ("attainment", WORDS("attainment", lang), "pct"),
        ("skill", WORDS("skill", lang), "float"),
        ("skill_low", WORDS("skill_low", lang), "float"),
        ("skill_high", WORDS("skill_high", lang), "float"),
        ("verdict", WORDS("verdict", lang)),
        max_rows=60,
    )


def focus_rows(r: Reps, lang: str) -> pd.DataFrame:
    """Each rep's coaching focus: the KPI in words, the rep's value, the peers' mean and the suggestion."""
    if r.gaps is None or r.gaps.focus.empty:
        return pd.DataFrame()
    f = _named(r.gaps.focus, r)
    return f.assign(
        label=[r.rules.label(k, lang) for k in f["kpi"]],
        focus=[r.rules.focus(k, lang) for k in f["kpi"]],
        peer_basis=_words(f["peer_basis"], lambda v: WORDS(f"peers_{v}", lang)),
    )


def focus_spec(lang: str) -> TableSpec:
    """One row per rep and gap, worst first."""
    return table(
        ("rep", WORDS("rep", lang)),
        ("rank", WORDS("rank", lang), "int"),
        ("label", WORDS("kpi", lang)),
        ("value", WORDS("value", lang), "float"),
        ("peer_mean", WORDS("peer_mean", lang), "float"),
        ("z", WORDS("z_score", lang), "float"),
        ("peer_basis", WORDS("peer_basis", lang)),
        ("focus", WORDS("coaching_focus", lang)),
        max_rows=60,
    )


def spread_rows(r: Reps, lang: str) -> pd.DataFrame:
    """Attainment distribution per team and for the company."""
    if r.spread is None:
        return pd.DataFrame()
    rows = r.spread.by_team
    return rows.assign(team=rows["team"].where(rows["team"] != ALL, WORDS("company", lang)))


def spread_spec(lang: str) -> TableSpec:
    """One row per team then the company."""
    return table(
        ("team", WORDS("team", lang)),
        ("reps", WORDS("reps_count", lang), "int"),
        ("at_or_above", WORDS("at_or_above", lang), "pct"),
        ("median", WORDS("median_attainment", lang), "pct"),
        ("p25", WORDS("p25", lang), "pct"),
        ("p75", WORDS("p75", lang), "pct"),
        ("lowest", WORDS("lowest", lang), "pct"),
        ("highest", WORDS("highest", lang), "pct"),
        ("attainment", WORDS("attainment", lang), "pct"),
    )


def suggestion_rows(r: Reps, lang: str) -> pd.DataFrame:
    """Next-period quota suggestions with each rep's quota-to-potential flag in words."""
    if r.suggestions is None:
        return pd.DataFrame()
    rows = _named(r.suggestions, r)
    if r.fairness is not None:
        rows = rows.merge(r.fairness[["rep_id", "relative", "flag"]], on="rep_id", how="left")
        rows["flag"] = _words(rows["flag"], lambda v: WORDS(f"flag_{v}", lang))
    return rows


def suggestion_spec(lang: str) -> TableSpec:
    """One row per rep with a current quota."""
    return table(
        ("rep", WORDS("rep", lang)),
        ("team", WORDS("team", lang)),
        ("current_quota", WORDS("current_quota", lang), "money"),
        ("potential", WORDS("potential", lang), "money"),
        ("relative", WORDS("quota_vs_potential", lang), "float"),
        ("flag", WORDS("fairness", lang)),
        ("trailing_attainment", WORDS("trailing_attainment", lang), "pct"),
        ("suggested_quota", WORDS("suggested_quota", lang), "money"),
        ("change", WORDS("change", lang), "signed_pct"),
        max_rows=60,
    )


def payroll_rows(r: Reps, lang: str) -> pd.DataFrame:
    """The report period's payroll per rep with the total row named in words."""
    if r.payroll is None:
        return pd.DataFrame()
    rows = _named(payroll_of_period(r.payroll, period_months(r)), r)
    return rows.assign(rep=rows["rep"].where(rows["rep_id"] != TOTAL, WORDS("total", lang)))


def payroll_spec(lang: str) -> TableSpec:
    """One row per rep and the total: bookings, quota, attainment, each component and the payout."""
    return table(
        ("rep", WORDS("rep", lang)),
        ("team", WORDS("team", lang)),
        ("bookings", WORDS("commissionable", lang), "money"),
        ("quota", WORDS("quota", lang), "money"),
        ("attainment", WORDS("attainment", lang), "pct"),
        ("base", WORDS("base_commission", lang), "money"),
        ("accelerator", WORDS("accelerator", lang), "money"),
        ("product_bonus", WORDS("product_bonus", lang), "money"),
        ("capped", WORDS("capped", lang), "money"),
        ("team_bonus", WORDS("team_bonus", lang), "money"),
        ("clawback", WORDS("clawback", lang), "money"),
        ("payout", WORDS("payout", lang), "money"),
        max_rows=60,
    )


def what_if_rows(r: Reps, lang: str) -> pd.DataFrame:
    """Per rep: the trailing year's payout under both plans and the difference, outcome in words."""
    if r.what_if is None:
        return pd.DataFrame()
    rows = _named(r.what_if.per_rep, r)
    return rows.assign(outcome=_words(rows["outcome"], lambda v: WORDS(f"outcome_{v}", lang)))


def what_if_spec(lang: str) -> TableSpec:
    """One row per rep, largest gain first."""
    return table(
        ("rep", WORDS("rep", lang)),
        ("team", WORDS("team", lang)),
        ("bookings", WORDS("commissionable", lang), "money"),
        ("payout_current", WORDS("payout_current", lang), "money"),
        ("payout_alternative", WORDS("payout_alternative", lang), "money"),
        ("difference", WORDS("difference", lang), "money"),
        ("difference_share", WORDS("change", lang), "signed_pct"),
        ("outcome", WORDS("outcome", lang)),
        max_rows=60,
    )


def training_rows(r: Reps, lang: str) -> pd.DataFrame:
    """The overall training effects with the KPIs in words and the pre-trend p-value beside them."""
    if r.training is None:
        return pd.DataFrame()
    rows = r.training.overall.merge(r.training.pretrend[["kpi", "p_value"]].rename(
        columns={"p_value": "pretrend_p"}), on="kpi", how="left")  # fmt: skip
    shown = [effect_texts(row, r, lang) for _, row in rows.iterrows()]
    rows = rows.assign(**{c: [x[i] for x in shown] for i, c in enumerate(("effect", "low", "high"))})
    return rows.assign(kpi=_words(rows["kpi"], lambda v: WORDS(f"training_kpi_{v}", lang)))


def training_spec(lang: str) -> TableSpec:
    """One row per KPI."""
    return table(
        ("kpi", WORDS("kpi", lang)),
        ("effect", WORDS("effect", lang), "text"),
        ("low", WORDS("low", lang), "text"),
        ("high", WORDS("high", lang), "text"),
        ("p_value", WORDS("p_value", lang), "float"),
        ("pretrend_p", WORDS("pretrend_p", lang), "float"),
        ("treated_reps", WORDS("treated_reps", lang), "int"),
        ("control_reps", WORDS("control_reps", lang), "int"),
        ("n", WORDS("observations", lang), "int"),
    )

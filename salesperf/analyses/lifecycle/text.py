"""All words of the lifecycle report: tiles, sentences and table specs in English and Chinese.

Templates live in ``vocab.yml`` (one entry per idea with its ``en`` and ``zh`` text); the functions here
compute the values that fill them from the :class:`~salesperf.analyses.lifecycle.result.Lifecycle` result,
once for both languages. Table headers and display frames are in :mod:`.tables`.
"""

from __future__ import annotations

import math

from salesperf.analyses.lifecycle.value import at_bound
from salesperf.core import fmt
from salesperf.core.present import Tile
from salesperf.core.vocab import CORE, Vocabulary

WORDS = Vocabulary(__package__, CORE)


def _n(x) -> str:
    return fmt.number(x)


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _months(n: int, lang: str) -> str:
    """``1 month`` / ``5 months`` / ``5 个月``."""
    return WORDS("n_month" if n == 1 else "n_months", lang, n=_n(n))


def _money(x, lang: str, currency: str) -> str:
    return fmt.money(x, lang, currency)


def _pct(x) -> str:
    return "–" if _missing(x) else fmt.percent(x)


# ------------------------------------------------------------------------------------------------------ tiles


def tiles(life, lang: str) -> list[Tile]:
    """Customers, active (incl. new and reactivated), at risk, churned, retention at 12 months, NRR."""
    h = life.stages.headline
    engaged = h["active"] + h["new"] + h["reactivated"]
    nrr = life.nrr_by_period.iloc[-1] if len(life.nrr_by_period) else None
    return [
        Tile(
            WORDS("customers", lang),
            _n(h["customers"]),
            WORDS("tile_new", lang, n=_n(h.get("newly_acquired", 0))),
        ),
        Tile(
            WORDS("tile_active", lang),
            _n(engaged),
            _pct(engaged / h["customers"]) if h["customers"] else "",
            tone="good",
        ),
        Tile(WORDS("tile_at_risk", lang), _n(h["at_risk"]), _pct(h["at_risk_share"]), tone="bad"),
        Tile(WORDS("tile_churned", lang), _n(h["churned"]), _pct(h["churned_share"])),
        Tile(WORDS("tile_retention_12m", lang), _pct(life.cohorts.headline.get("retention_12m"))),
        Tile(
            WORDS("tile_nrr", lang),
            _pct(None if nrr is None else nrr["nrr"]),
            "" if nrr is None else WORDS("tile_grr", lang, grr=_pct(nrr["grr"])),
        ),
    ]


# -------------------------------------------------------------------------------------------------- sentences


def cohort_sentence(life, lang: str) -> str:
    """How cohorts keep buying: retention after one period and after a year, revenue per customer."""
    h, grain = life.cohorts.headline, life.grain
    age = 12 if grain == "month" else 4
    far, cumulative = h.get(f"retention_age{age}"), h.get(f"cumulative_revenue_per_customer_age{age}")
    if _missing(far):
        age, far, cumulative = 1, h.get("retention_age1"), h.get("cumulative_revenue_per_customer_age1")
    if _missing(far):
        return ""
    return WORDS(
        "cohort_sentence",
        lang,
        acquired=_n(h["customers_acquired"]),
        cohorts=_n(h["cohorts"]),
        adjective=WORDS(f"adjective_{grain}", lang),
        unit=WORDS(f"unit_{grain}", lang),
        units=WORDS(f"unit_{grain}" if age == 1 else f"units_{grain}", lang),  # "1 month on", "12 months on"
        retention1=_pct(h["retention_age1"]),
        far=_pct(far),
        age=age,
        cumulative=_money(cumulative, lang, life.currency),
    )


def comparison_sentence(life, lang: str, age: int = 12) -> str:
    """Which value of the comparison dimension yields the most revenue per acquired customer by ``age``."""
    curves, by = life.comparison_curves, life.by_dimension.by.rpartition(".")[2] if life.by_dimension else ""
    if curves.empty or by not in curves:
        return ""
    age = min(age, int(curves.groupby(by)["age"].max().min()))
    at = curves[curves["age"] == age].dropna(subset=["cumulative_revenue_per_customer"])
    at = at[at["cumulative_revenue_per_customer"] > 0]
    if len(at) < 2:
        return ""
    best = at.loc[at["cumulative_revenue_per_customer"].idxmax()]
    worst = at.loc[at["cumulative_revenue_per_customer"].idxmin()]
    ratio = best["cumulative_revenue_per_customer"] / worst["cumulative_revenue_per_customer"]
    by_label = WORDS(by, lang) if by in WORDS else by
    return WORDS(
        "comparison_sentence",
        lang,
        by=by_label.lower() if lang == "en" else by_label,
        best=best[by],
        worst=worst[by],
        age=age,
        ratio=f"{ratio:.1f}",
        best_value=_money(best["cumulative_revenue_per_customer"], lang, life.currency),
        worst_value=_money(worst["cumulative_revenue_per_customer"], lang, life.currency),
    )


def comparison_missing(life, lang: str) -> str:
    """The one stated line of the comparison section when neither the order lines nor the customers hold the
    dimension (the same "missing_need" line as every other section)."""
    by, what = life.compare_by, WORDS("comparison_what", lang, by=life.compare_by)
    return WORDS("missing_need", lang, need=f"orders.{by} / customers.{by}", what=what)


def stage_sentence(headline: dict, lang: str) -> str:
    """Where customers stand."""
    return WORDS(
        "stage_sentence",
        lang,
        new_days=headline.get("new_days", 90),
        **{
            k: _n(headline.get(k, 0))
            for k in ("customers", "active", "new", "reactivated", "at_risk", "churned")
        },
    )


def flow_sentence(headline: dict, versus: str, lang: str) -> str:
    """How many customers moved towards churn, and back, since the previous period."""
    if "active_to_at_risk" not in headline:
        return ""
    counts = ("active_to_at_risk", "at_risk_to_churned", "reactivated_from_churned")
    nouns = {  # "1 churned customer came back", "2 churned customers came back"
        f"noun_{i}": WORDS("customer_noun_one" if headline[k] == 1 else "customer_noun_many", lang)
        for i, k in enumerate(counts, 1)
    }
    return WORDS("flow_sentence", lang, versus=versus, **nouns, **{k: _n(headline[k]) for k in counts})


def stage_sentences(headline: dict, versus: str, lang: str) -> list[str]:
    """[where customers stand, how they moved since ``versus``]."""
    return [stage_sentence(headline, lang), flow_sentence(headline, versus, lang)]


def nrr_sentence(life, lang: str) -> str:
    """The latest NRR and GRR in words, named so that nobody takes them for the cohort curves."""
    if life.nrr_by_period.empty or _missing(life.nrr_by_period["nrr"].iloc[-1]):
        return WORDS("nrr_none", lang)
    last = life.nrr_by_period.iloc[-1]
    return WORDS(
        "nrr_sentence", lang, base_end=life.base_end.isoformat(), nrr=_pct(last["nrr"]), grr=_pct(last["grr"])
    )


def survival_sentence(life, lang: str) -> str:
    """Median time to churn of the longest- and shortest-lived groups with their confidence intervals."""
    known = life.survival.medians.dropna(subset=["median_days"])
    if known.empty:
        return WORDS("survival_none", lang)
    best, worst = known.loc[known["median_days"].idxmax()], known.loc[known["median_days"].idxmin()]

    def ci(row) -> str:  # a bound the band has not reached by the end of the data (NaN, inf) says so
        low, high = (row[c] if math.isfinite(row[c]) else None for c in ("median_lower", "median_upper"))
        if low is None:
            return WORDS("not_reached", lang)
        return f"{_n(low)}–{_n(high)}" if high is not None else WORDS("ci_open", lang, lower=_n(low))

    return WORDS(
        "survival_sentence",
        lang,
        best=best["group"],
        best_days=_n(best["median_days"]),
        best_ci=ci(best),
        worst=worst["group"],
        worst_days=_n(worst["median_days"]),
        worst_ci=ci(worst),
    )


def holdout_sentence(life, lang: str) -> str:
    """How well BG/NBD fitted on older data predicted the repeat purchases that followed (or why not)."""
    if life.holdout_status == "short_history":
        return WORDS("holdout_short_history", lang, months=_months(life.history_months, lang))
    if life.holdout_status in ("not_converged", "at_bound", "implausible"):
        return WORDS(f"holdout_{life.holdout_status}", lang, calibration_end=life.calibration_end.isoformat())
    if life.holdout is None:
        return WORDS("holdout_unavailable", lang, calibration_end=life.calibration_end.isoformat())
    h = life.holdout.headline
    error = "–" if _missing(h["error_pct"]) else fmt.signed_percent(h["error_pct"] / 100)
    shortened = ""
    if 0 < life.holdout_months < life.holdout_requested:
        used, history = _months(life.holdout_months, lang), _months(life.history_months, lang)
        shortened = WORDS("holdout_shortened", lang, months=used, history=history) + " "
    return shortened + WORDS(
        "holdout_sentence",
        lang,
        calibration_end=life.calibration_end.isoformat(),
        weeks=_n(round(h["holdout_weeks"])),
        predicted=_n(h["predicted"]),
        actual=_n(h["actual"]),
        error=error,
    )


def value_sentence(life, lang: str) -> str:
    """Expected value over the horizon (total, at-risk share, top decile), or why there is no forecast."""
    status, params = life.value.status, life.value.params
    if status != "fitted":  # which fit failed and how, with the parameters it reached where they tell
        reached = params.get("gamma_gamma" if status.startswith("spend_") else "bgnbd", {})
        shown = {k: fmt.number(v, 2) for k, v in reached.items()}
        return WORDS(f"clv_{status}", lang, names=", ".join(at_bound(reached)), **shown)
    values = life.value.clv
    total = values.sum()
    stages = life.stages.customers
    at_risk = values.reindex(stages.loc[stages["stage"] == "at_risk", "customer_id"].astype(str)).sum()
    top = (
        values.sort_values(ascending=False).head(max(1, len(values) // 10)).sum() / total
        if total
        else math.nan
    )
    return WORDS(
        "value_sentence",
        lang,
        total=_money(total, lang, life.currency),
        months=_months(life.value.horizon_months, lang),
        at_risk=_money(at_risk, lang, life.currency),
        top_share=_pct(top),
    )


def actions_sentence(life, lang: str) -> str:
    """The value at stake on the win-back list and who leads it."""
    actions = life.actions
    if actions.empty:
        return WORDS("actions_none", lang)
    first = actions.iloc[0]
    name = first["name"] if isinstance(first.get("name"), str) else first["customer_id"]
    owner = first["owner_rep_id"] if isinstance(first.get("owner_rep_id"), str) else "–"
    return WORDS(
        "actions_sentence",
        lang,
        n=_n(len(actions)),
        total=_money(actions["value_at_stake"].sum(), lang, life.currency),
        name=name,
        owner=owner,
        value=_money(first["value_at_stake"], lang, life.currency),
    )


def second_purchase_sentence(life, lang: str) -> str:
    """How many one-time buyers are past the typical time to a second purchase."""
    due = life.due
    if _missing(due.typical_days):
        return WORDS("second_purchase_unknown", lang)
    return WORDS(
        "second_purchase_due",
        lang,
        n=_n(len(due.customers)),
        days=_n(round(due.typical_days)),
        quantile=_pct(due.quantile),
    )


def findings(life, lang: str) -> list[str]:
    """The sentences the executive summary shows, most important first."""
    versus = life.previous_label[lang]
    sentences = [
        flow_sentence(life.stages.headline, versus, lang),
        cohort_sentence(life, lang),
        nrr_sentence(life, lang),
        value_sentence(life, lang),
    ]
    return [s for s in sentences if s]


def methods(lang: str) -> str:
    """The methods note of the report footer."""
    return WORDS("lifecycle_methods", lang)


__all__ = [
    "WORDS",
    "actions_sentence",
    "cohort_sentence",
    "comparison_missing",
    "comparison_sentence",
    "findings",
    "flow_sentence",
    "holdout_sentence",
    "methods",
    "nrr_sentence",
    "second_purchase_sentence",
    "stage_sentence",
    "stage_sentences",
    "survival_sentence",
    "tiles",
    "value_sentence",
]



"""All words of the rep-evaluation report: tiles and sentences in English and Chinese, computed from the
:class:`~salesperf.analyses.reps.result.Reps` (templates in ``vocab.yml``; the coaching words in
``rules.yml``; table headers in :mod:`.tables`)."""

from __future__ import annotations

import math

import pandas as pd

from salesperf.analyses.reps.result import Reps, payroll_of_period
from salesperf.analyses.reps.scorecard import month_labels
from salesperf.core import fmt
from salesperf.core.periods import containing
from salesperf.core.present import Tile
from salesperf.core.vocab import CORE, Vocabulary

WORDS = Vocabulary(__package__, CORE)
#: The scorecard's KPI families in the order their missing lines are said.
FAMILIES = (
    "attainment", "coverage", "win_rate", "deal_size", "cycle", "pipeline", "activities", "new_customers",
    "retention", "satisfaction", "rep_names", "team", "region",
)  # fmt: skip


def _nan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _money(x, r: Reps, lang: str) -> str:
    return fmt.money(x, lang, r.currency)


def _join(items, lang: str) -> str:
    return WORDS("list_join", lang).join(items)


def rep_name(row) -> str:
    """A rep's name where the reps table gives one, else its id."""
    name = row.get("name")
    return str(row["rep_id"]) if _nan(name) or name in ("", None) else str(name)


def rep_names(r: Reps) -> dict:
    """rep_id → the name the report shows (:func:`rep_name`) for every scored rep."""
    rows = r.card.kpis.drop_duplicates("rep_id")
    return {row["rep_id"]: rep_name(row) for _, row in rows.iterrows()}


def period_months(r: Reps) -> list[str]:
    """``YYYY-MM`` months of the payroll shown: the report period's (for a week, the month it ends in: plans
    pay by month)."""
    grain = {"month": "M", "quarter": "Q", "week": "M"}[r.grain]
    start = pd.Timestamp(r.as_of).to_period(grain).start_time.date()
    return month_labels(start, r.as_of)


def payroll_label(r: Reps, lang: str) -> str:
    """The period the payroll shown pays: the report period, or the month a week ends in."""
    return containing("month", r.as_of).label_in(lang) if r.grain == "week" else r.labels[lang]


# ------------------------------------------------------------------------------------------------------ tiles


def tiles(r: Reps, lang: str) -> list[Tile]:
    """The period's bookings (and reps), attainment, the trailing year's win rate, and the period's payout."""
    if not r.has_reps:
        return [Tile(WORDS("tile_bookings", lang), "–", WORDS("no_reps_short", lang))]
    company = r.rollup("company")
    if company.empty:
        return [Tile(WORDS("tile_bookings", lang), "–", WORDS("no_reps_short", lang))]
    row = company.iloc[0]
    reps = r.window("period")
    who = (
        rep_name(reps.iloc[0])
        if r.one_rep and len(reps)
        else WORDS("tile_reps", lang, n=fmt.number(row["reps"]))
    )
    out = [Tile(WORDS("tile_bookings", lang), _money(row["bookings"], r, lang), who)]
    if "attainment" not in r.card.missing and not _nan(row["attainment"]):
        scored = reps["attainment"].dropna()
        at_quota = WORDS(
            "tile_at_quota", lang, n=fmt.number(int((scored >= 1).sum())), of=fmt.number(len(scored))
        )
        out.append(Tile(WORDS("tile_attainment", lang), fmt.percent(row["attainment"], 0),
                        "" if r.one_rep else at_quota,
                        tone="good" if row["attainment"] >= 1 else "bad"))  # fmt: skip
    year = r.rollup("company", "year")
    if "win_rate" not in r.card.missing and len(year) and not _nan(year.iloc[0]["win_rate"]):
        out.append(Tile(WORDS("tile_win_rate", lang), fmt.percent(year.iloc[0]["win_rate"], 0),
                        WORDS("tile_trailing_year", lang)))  # fmt: skip
    if r.payroll is not None:
        paid = payroll_of_period(r.payroll, period_months(r)).iloc[-1]
        share = paid["payout"] / paid["bookings"] if paid["bookings"] else float("nan")
        out.append(
            Tile(
                WORDS("tile_payout_of", lang, period=payroll_label(r, lang))
                if r.grain == "week"
                else WORDS("tile_payout", lang),
                _money(paid["payout"], r, lang),
                "" if _nan(share) else WORDS("tile_cost_share", lang, pct=fmt.percent(share, 1)),
            )
        )
    return out


# -------------------------------------------------------------------------------------------------- scorecard


def no_reps_sentence(r: Reps, lang: str) -> str:
    """The one line of a company whose data name no rep."""
    return "" if r.has_reps else WORDS("no_reps", lang)


def peers_sentence(r: Reps, lang: str) -> str:
    """What a per-rep copy leaves to the full report."""
    if not r.one_rep or not r.has_reps:
        return ""
    reps = r.window("period")
    who = rep_name(reps.iloc[0]) if len(reps) else r.entity.split(":", 1)[1]
    return WORDS("peers_in_full_report", lang, rep=who)


def scorecard_sentence(r: Reps, lang: str) -> str:
    """Bookings of the period and the trailing year, who booked the most, and attainment."""
    if not r.has_reps:
        return no_reps_sentence(r, lang)
    reps, company = r.window("period"), r.rollup("company")
    if reps.empty or company.empty:
        return WORDS("no_scored_reps", lang, period=r.labels[lang])
    row, year = company.iloc[0], r.rollup("company", "year").iloc[0]
    figures = {"period": r.labels[lang], "bookings": _money(row["bookings"], r, lang),
               "year": _money(year["bookings"], r, lang)}  # fmt: skip
    if r.one_rep:
        said = [WORDS("booked_one_sentence", lang, rep=rep_name(reps.iloc[0]), **figures)]
        if "attainment" not in r.card.missing and not _nan(row["attainment"]):
            said.append(
                WORDS(
                    "attainment_one_sentence",
                    lang,
                    att=fmt.percent(row["attainment"], 0),
                    year=fmt.percent(year["attainment"], 0),
                )
            )
        return " ".join(said)
    said = [WORDS("booked_sentence", lang, n=fmt.number(row["reps"]), **figures)]
    if len(reps) > 1 and reps.iloc[0]["bookings"] > 0:
        top = reps.iloc[0]
        said.append(
            WORDS(
                "top_sentence",
                lang,
                rep=rep_name(top),
                bookings=_money(top["bookings"], r, lang),
                share=fmt.percent(top["bookings"] / row["bookings"], 0) if row["bookings"] else "–",
            )
        )
    if "attainment" not in r.card.missing and not _nan(row["attainment"]):
        scored = reps["attainment"].dropna()
        said.append(
            WORDS(
                "attainment_sentence",
                lang,
                att=fmt.percent(row["attainment"], 0),
                n=fmt.number(int((scored >= 1).sum())),
                of=fmt.number(len(scored)),
            )
        )
    unassigned = r.card.unassigned.set_index("window")
    if "period" in unassigned.index and unassigned.loc["period", "bookings"] != 0:
        said.append(
            WORDS("unassigned_sentence", lang, amount=_money(unassigned.loc["period", "bookings"], r, lang))
        )
    if r.card.conventions.get("bookings_source") == "won_opportunities":
        said.append(WORDS("bookings_from_deals", lang))
    return " ".join(said)


def missing_sentences(r: Reps, lang: str) -> list[str]:
    """One line per reason a scorecard KPI is not shown, naming the KPIs it leaves out."""
    if not r.has_reps:
        return []
    by_reason: dict[str, list[str]] = {}
    for family in FAMILIES:
        reason = r.card.missing.get(family)
        if reason:
            by_reason.setdefault(reason, []).append(WORDS(f"kpi_{family}", lang))
    return [WORDS("missing_kpis", lang, why=WORDS(f"why_{reason}", lang), kpis=_join(kpis, lang))
            for reason, kpis in by_reason.items()]  # fmt: skip


def rollup_sentence(r: Reps, lang: str) -> str:
    """That the team and region figures add up to the company's."""
    levels = [level for level in ("team", "region") if level not in r.card.missing]
    if not r.has_reps or not levels:
        return ""
    return WORDS("rollup_sentence", lang, levels=_join([WORDS(f"rollup_{lv}", lang) for lv in levels], lang))


# ---------------------------------------------------------------------------------------------------- ranking


def ranking_sentences(r: Reps, lang: str) -> list[str]:
    """The model the ranking rests on, and who is clearly above or below their team."""
    if r.ranking is None:
        return [WORDS("ranking_none", lang)]
    table = r.ranking.ranking
    counts = table["verdict"].value_counts()
    model = WORDS(f"ranking_model_{r.ranking_basis}", lang)
    verdicts = "ranking_verdicts" if "team" not in r.card.missing else "ranking_verdicts_company"
    said = [model, WORDS(verdicts, lang, above=fmt.number(counts.get("above", 0)),
                         below=fmt.number(counts.get("below", 0)),
                         noise=fmt.number(counts.get("indistinguishable", 0)),
                         level=fmt.percent(r.ranking.level, 0))]  # fmt: skip
    for verdict in ("above", "below"):
        ids = table.loc[table["verdict"] == verdict, "rep_id"].head(5)
        names = [rep_names(r).get(rep, str(rep)) for rep in ids]
        if names:
            said.append(WORDS(f"ranking_{verdict}_names", lang, reps=_join(names, lang)))
    if counts.get("no_deals", 0):
        said.append(WORDS("ranking_no_deals", lang, n=fmt.number(counts["no_deals"])))
    return said


# ------------------------------------------------------------------------------------------------------- gaps


def gaps_sentences(r: Reps, lang: str) -> list[str]:
    """How many reps have a skills gap, the most frequent one, and what was not judged."""
    if r.gaps is None or r.gaps.gaps.empty:
        return [WORDS("gaps_none_judged", lang)]
    gaps, focus = r.gaps.gaps, r.gaps.focus
    reps = gaps["rep_id"].nunique()
    if focus.empty:
        said = [WORDS("gaps_no_gap", lang, n=fmt.number(reps))]
    else:
        top = focus["kpi"].value_counts()
        said = [WORDS("gaps_sentence", lang, n=fmt.number(focus["rep_id"].nunique()), of=fmt.number(reps),
                      kpi=r.rules.label(top.index[0], lang), k=fmt.number(top.iloc[0]))]  # fmt: skip
    unjudged = gaps["reason"].dropna().value_counts()
    if len(unjudged):
        parts = [WORDS(f"gap_reason_{reason}", lang, n=fmt.number(n)) for reason, n in unjudged.items()]
        said.append(WORDS("gaps_unjudged", lang, parts=_join(parts, lang)))
    return said


# ----------------------------------------------------------------------------------------------------- quotas


def quota_sentences(r: Reps, lang: str) -> list[str]:
    """Attainment spread, quota against potential, and how the next quotas were suggested."""
    if r.spread is None:  # without targets the section's Needs line says so
        return [] if r.card.missing.get("attainment") == "no_targets" else [WORDS("quotas_none", lang)]
    s = r.spread
    company = s.by_team[s.by_team["team"] == "all"].iloc[0]
    said = [WORDS("spread_sentence", lang, share=fmt.percent(s.share_at_or_above, 0), n=fmt.number(s.reps),
                  median=fmt.percent(s.median, 0), p25=fmt.percent(company["p25"], 0),
                  p75=fmt.percent(company["p75"], 0))]  # fmt: skip
    if r.fairness is not None:
        flags = r.fairness["flag"].value_counts()
        said.append(WORDS("fairness_sentence", lang, source=WORDS(f"potential_{r.potential_source}", lang),
                          above=fmt.number(flags.get("far_above", 0)),
                          below=fmt.number(flags.get("far_below", 0)),
                          n=fmt.number(len(r.fairness))))  # fmt: skip
    if r.method is not None:
        m = r.method
        said.append(WORDS("suggest_sentence", lang, stretch=fmt.number(m.stretch, 2),
                          weight=fmt.percent(m.potential_weight, 0), limit=fmt.percent(m.max_change, 0),
                          limited=fmt.number(int(r.suggestions["limited"].sum())),
                          source=WORDS(f"potential_{r.potential_source}", lang)))  # fmt: skip
    return said


# ------------------------------------------------------------------------------------------------- incentives


def payroll_sentence(r: Reps, lang: str) -> str:
    """The period's payout under the plan, its cost share, and that the rows add up to the total."""
    if r.payroll is None:
        return WORDS("payroll_none", lang)
    paid = payroll_of_period(r.payroll, period_months(r)).iloc[-1]
    year = r.payroll.iloc[-1]
    share = paid["payout"] / paid["bookings"] if paid["bookings"] else float("nan")
    return WORDS("payroll_sentence", lang, plan=r.plan_name, period=payroll_label(r, lang),
                 payout=_money(paid["payout"], r, lang), share="–" if _nan(share) else fmt.percent(share, 1),
                 year=_money(year["payout"], r, lang))  # fmt: skip


def what_if_sentences(r: Reps, lang: str) -> list[str]:
    """The alternative plan's total cost against the current plan's, and who gains or loses."""
    if r.what_if is None:
        return [WORDS("what_if_none", lang)] if r.payroll is not None else []
    s = r.what_if.summary
    said = [WORDS("what_if_sentence", lang, alternative=s.alternative_plan, current=s.current_plan,
                  total=_money(s.total_alternative, r, lang), base=_money(s.total_current, r, lang),
                  change=fmt.signed_money(s.difference, lang, r.currency),
                  pct="–" if _nan(s.difference_share) else fmt.signed_percent(s.difference_share, 1),
                  gain=fmt.number(s.reps_gaining), lose=fmt.number(s.reps_losing))]  # fmt: skip
    names = rep_names(r)
    for key, pair in (("what_if_gain", s.largest_gain), ("what_if_loss", s.largest_loss)):
        if pair is not None:
            money = fmt.signed_money(pair[1], lang, r.currency)
            said.append(WORDS(key, lang, rep=names.get(pair[0], pair[0]), amount=money))
    return said


# --------------------------------------------------------------------------------------------------- training


def effect_texts(row, r: Reps, lang: str) -> tuple[str, str, str]:
    """A training effect, its low and high bound in the KPI's unit: points of a rate, money, log-odds."""
    if row["kpi"] in ("win_probability", "win_rate"):
        return (fmt.points(row["effect"], lang), fmt.points(row["low"], lang), fmt.points(row["high"], lang))
    if row["kpi"] == "win_log_odds":
        return tuple(fmt.number(row[c], 2) for c in ("effect", "low", "high"))
    if row["kpi"] == "bookings":
        return tuple(fmt.signed_money(row[c], lang, r.currency) for c in ("effect", "low", "high"))
    return tuple(fmt.number(row[c], 2) for c in ("effect", "low", "high"))


def training_sentences(r: Reps, lang: str) -> list[str]:
    """The effect of training on each KPI with its interval, and the pre-trend check."""
    if r.training is None:
        return [WORDS(f"training_{r.training_status}", lang)]
    said = []
    pre = r.training.pretrend.set_index("kpi")
    for _, row in r.training.overall.iterrows():
        if row["kpi"] == "win_log_odds":
            continue
        label = WORDS(f"training_kpi_{row['kpi']}", lang)
        if _nan(row["effect"]):
            said.append(WORDS("training_not_estimable", lang, kpi=label))
            continue
        effect, low, high = effect_texts(row, r, lang)
        clear = row["low"] > 0 or row["high"] < 0
        key = "training_sentence" if clear else "training_unclear"
        said.append(WORDS(key, lang, kpi=label, effect=effect, low=low, high=high,
                          level=fmt.percent(r.training.level, 0), treated=fmt.number(row["treated_reps"]),
                          control=fmt.number(row["control_reps"])))  # fmt: skip
        p = pre["p_value"].get(row["kpi"], float("nan"))
        if not _nan(p):
            said.append(WORDS("pretrend_ok" if p >= 0.05 else "pretrend_fails", lang, p=fmt.number(p, 2)))
    return said


# --------------------------------------------------------------------------------------------------- summary


def findings(r: Reps, lang: str) -> list[str]:
    """The executive summary's sentences: the period's bookings, the ranking, gaps, quotas, cost, training."""
    if not r.has_reps:
        return [no_reps_sentence(r, lang)]
    found = [scorecard_sentence(r, lang)]
    if r.one_rep:
        return [*found, peers_sentence(r, lang)]
    if r.ranking is not None:
        found.append(ranking_sentences(r, lang)[1])
    if r.gaps is not None and not r.gaps.focus.empty:
        found.append(gaps_sentences(r, lang)[0])
    if r.spread is not None:
        found.append(quota_sentences(r, lang)[0])
    if r.what_if is not None:
        found.append(what_if_sentences(r, lang)[0])
    if r.training is not None:
        found.append(training_sentences(r, lang)[0])
    return [s for s in found if s]


def methods(lang: str) -> str:
    """The methods paragraph of the footer."""
    return WORDS("methods_text", lang)

"""Tables of the lifecycle report: which columns each table shows, with which headers and formats
(explicit :class:`~salesperf.core.present.TableSpec` s, never column names), and the display frames whose
values need words (a median not reached)."""

from __future__ import annotations

import math

import pandas as pd

from salesperf.analyses.lifecycle.text import WORDS
from salesperf.core import fmt
from salesperf.core.present import TableSpec, table

#: The survival table's day columns: NaN (median not reached) or inf (confidence bound not reached) become
#: words.
DAY_COLUMNS = ("median_days", "median_lower", "median_upper")


def days_or_not_reached(value, lang: str) -> str:
    """``565`` for a number of days; "not reached" / "未达到" for NaN or inf (the curve, or its confidence
    band, has not fallen to one half by the end of the data)."""
    if value is None or not math.isfinite(float(value)):
        return WORDS("not_reached", lang)
    return fmt.number(value)


def survival_medians(life, lang: str) -> pd.DataFrame:
    """``life.survival.medians`` with the day columns as text (:func:`days_or_not_reached`), for
    :func:`survival_table`: never "inf" or "nan" on a manager's page."""
    shown = life.survival.medians.copy()
    for column in DAY_COLUMNS:
        shown[column] = [days_or_not_reached(v, lang) for v in shown[column]]
    return shown


def stages_table(lang: str) -> TableSpec:
    """Per-stage summary (``LifecycleSnapshot.summary``)."""
    return table(
        (f"stage_label_{lang}", WORDS("stage", lang)),
        ("customers", WORDS("customers", lang), "int"),
        ("share", WORDS("share", lang), "pct"),
        ("revenue_12m", WORDS("revenue_12m", lang), "money"),
        (f"treatment_{lang}", WORDS("treatment", lang)),
    )


def flows_table(lang: str) -> TableSpec:
    """Stage flows since the previous period."""
    return table(
        (f"from_label_{lang}", WORDS("from_stage", lang)),
        (f"to_label_{lang}", WORDS("to_stage", lang)),
        ("customers", WORDS("customers", lang), "int"),
        ("revenue", WORDS("revenue_moved", lang), "money"),
    )


def nrr_period_table(lang: str) -> TableSpec:
    """NRR and GRR at the end of each recent period."""
    return table(("period", WORDS("period", lang)), *_nrr_columns(lang))


def nrr_cohort_table(lang: str) -> TableSpec:
    """NRR and GRR per acquisition year."""
    return table(("acquired_in", WORDS("acquired_in", lang)), *_nrr_columns(lang))


def _nrr_columns(lang: str) -> list[tuple[str, str, str]]:
    return [
        ("customers_base", WORDS("customers_base", lang), "int"),
        ("customers_kept", WORDS("customers_kept", lang), "int"),
        ("revenue_base", WORDS("revenue_base", lang), "money"),
        ("revenue_now", WORDS("revenue_now", lang), "money"),
        ("nrr", WORDS("nrr", lang), "pct"),
        ("grr", WORDS("grr", lang), "pct"),
    ]


def survival_table(lang: str) -> TableSpec:
    """Median time to churn per acquisition year (of :func:`survival_medians`: days as text)."""
    return table(
        ("group", WORDS("acquired_in", lang)),
        ("customers", WORDS("customers", lang), "int"),
        ("events", WORDS("events", lang), "int"),
        ("median_days", WORDS("median_days", lang)),
        ("median_lower", WORDS("median_lower", lang)),
        ("median_upper", WORDS("median_upper", lang)),
    )


def actions_table(lang: str) -> TableSpec:
    """The win-back list."""
    return table(
        ("rank", WORDS("rank", lang), "int"),
        ("customer_id", WORDS("customer_id", lang)),
        ("name", WORDS("name", lang)),
        (f"stage_label_{lang}", WORDS("stage", lang)),
        ("value_at_stake", WORDS("value_at_stake", lang), "money"),
        ("owner_rep_id", WORDS("owner_rep_id", lang)),
        ("last_date", WORDS("last_date", lang), "date"),
    )


def second_purchase_table(lang: str) -> TableSpec:
    """One-time buyers due for a second purchase."""
    return table(
        ("customer_id", WORDS("customer_id", lang)),
        ("first_date", WORDS("first_date", lang), "date"),
        ("days_overdue", WORDS("days_overdue", lang), "int"),
        ("revenue_net", WORDS("revenue_net", lang), "money"),
        ("owner_rep_id", WORDS("owner_rep_id", lang)),
    )

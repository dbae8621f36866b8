"""Sentence builders shared by the analyses: a value and its changes, the driver of a change, concentration.

Each sentence is computed once from the numbers and worded from a template of ``salesperf/core/vocab.yml``;
only the template differs by language. Every function returns plain text (the page escapes it), or an empty
string when the numbers give nothing to say.
"""

from __future__ import annotations

import math

import pandas as pd

from salesperf.core import fmt
from salesperf.core.vocab import term


def _plural(what: str, lang: str) -> str:
    return what if lang == "zh" else what.lower() + "s"


def change_sentence(
    label: str,
    current: float,
    comparisons: list[tuple[float, str]],
    lang: str = "en",
    money: bool = True,
    currency: str = "¥",
    sentence: str = "change_sentence",
) -> str:
    """A value and its changes: "Revenue was ¥1.23 M, down 8.2% vs September 2026 (−¥110.0 k) and up 3.0% vs
    October 2025 (+¥35.8 k)." (``sentence="forecast_sentence"``: "Sales for November 2026 are forecast at
    ¥385.3 k, down ...").

    Parameters
    ----------
    label : str
        The metric's name in the report language.
    current : float
    comparisons : list of (float, str)
        Earlier values and what they are (``September 2026``, ``October 2025``).
    money : bool
        Format as money (else as a count).
    """

    def show(value: float) -> str:
        return fmt.money(value, lang, currency) if money else fmt.number(value)

    parts = []
    for previous, versus in comparisons:
        change = fmt.relative_change(current, previous)
        if math.isnan(change):
            parts.append(term("no_comparable", lang, versus=versus))
        elif change == 0:
            parts.append(term("flat_vs", lang, versus=versus))
        else:
            delta = current - previous
            delta_text = (
                fmt.signed_money(delta, lang, currency) if money else ("+" if delta > 0 else "") + show(delta)
            )
            parts.append(
                term(
                    "change_vs",
                    lang,
                    direction=term("up" if change > 0 else "down", lang),
                    pct=fmt.percent(abs(change)),
                    versus=versus,
                    delta=delta_text,
                )
            )
    joined = term("change_parts", lang, parts=term("change_join", lang).join(parts)) if parts else ""
    return term(sentence, lang, label=label, value=show(current), parts=joined)


def driver_sentence(
    frame: pd.DataFrame,
    what: str,
    lang: str = "en",
    currency: str = "¥",
    name_col: str = "name",
    current_col: str = "revenue",
    previous_col: str = "previous",
) -> str:
    """Name the value of a dimension that contributed most to the total change, with its share of the change.

    "Among regions, East accounts for 70.2% of the fall (−¥29.0 k)." Needs at least two values with a non-zero
    total change; when one value moved more than the total, says so instead of a share above 100 %.

    Parameters
    ----------
    frame : DataFrame
        One row per value of the dimension with current and previous amounts.
    what : str
        The dimension's name in the report language (``Region``, ``区域``).
    """
    if frame.empty or len(frame) < 2:
        return ""
    delta = frame[current_col] - frame[previous_col]
    total = delta.sum()
    if total == 0 or math.isnan(total):
        return ""
    same_sign = delta[(delta * total) > 0]
    if same_sign.empty:
        return ""
    top = same_sign.abs().idxmax()
    share = delta[top] / total
    words = {
        "what": what,
        "what_plural": _plural(what, lang),
        "name": str(frame.loc[top, name_col]),
        "amount": fmt.signed_money(delta[top], lang, currency),
    }
    if share > 1:  # the others moved the other way: "more than explains" reads better than "172 % of"
        return term("driver_over", lang, total=fmt.signed_money(total, lang, currency), **words)
    return term(
        "driver_sentence",
        lang,
        share=fmt.percent(share),
        kind=term("rise" if total > 0 else "fall", lang),
        **words,
    )


def concentration_sentence(
    frame: pd.DataFrame,
    what: str,
    lang: str = "en",
    share_col: str = "share",
    name_col: str = "name",
    n: int = 3,
) -> str:
    """How concentrated revenue is: "The top 3 customers made 41.5% of revenue; the largest is Acme
    (18.0%)."."""
    if frame.empty:
        return ""
    top = frame.head(n)
    return term(
        "concentration_sentence",
        lang,
        n=len(top),
        what=what,
        what_plural=_plural(what, lang),
        share=fmt.percent(top[share_col].sum()),
        name=str(top.iloc[0][name_col]),
        first_share=fmt.percent(top.iloc[0][share_col]),
    )

"""Generated sentences: computed from the numbers, in English or Chinese, never canned.

Every function returns plain text (the page escapes it), or an empty string when the numbers give nothing to say.
"""

from __future__ import annotations

import math

import pandas as pd

from salesperf.core import fmt


def _direction(change: float, lang: str) -> str:
    if lang == "zh":
        return "增长" if change > 0 else "下降"
    return "up" if change > 0 else "down"


def change_sentence(label: str, current: float, comparisons: list[tuple[float, str]], lang: str = "en",
                    money: bool = True, currency: str = "¥") -> str:
    """A value and its changes: "Revenue was ¥1.23 M, down 8.2% vs September 2026 (−¥110.0 k) and up 3.0% vs October 2025 (+¥35.8 k)."

    Parameters
    ----------
    label : str
        The metric's name in the report language.
    current : float
    comparisons : list of (float, str)
        Earlier values and what they are (``September 2026``, ``October 2025``).
    money : bool
        Format as money (else as a count).

    Returns
    -------
    str
        One sentence; comparisons without a usable earlier value say so.
    """
    show = (lambda v: fmt.money(v, lang, currency)) if money else fmt.number
    parts = []
    for previous, versus in comparisons:
        change = fmt.relative_change(current, previous)
        if math.isnan(change):
            parts.append(f"{versus}无可比数据" if lang == "zh" else f"no comparable figure for {versus}")
            continue
        delta = current - previous
        delta_text = fmt.signed_money(delta, lang, currency) if money else ("+" if delta > 0 else "") + fmt.number(delta)
        if change == 0:
            parts.append(f"与{versus}持平" if lang == "zh" else f"flat vs {versus}")
        elif lang == "zh":
            parts.append(f"较{versus}{_direction(change, lang)} {fmt.percent(abs(change))}（{delta_text}）")
        else:
            parts.append(f"{_direction(change, lang)} {fmt.percent(abs(change))} vs {versus} ({delta_text})")
    if lang == "zh":
        return f"{label} {show(current)}" + ("，" + "，".join(parts) if parts else "") + "。"
    return f"{label} was {show(current)}" + (", " + " and ".join(parts) if parts else "") + "."


def driver_sentence(frame: pd.DataFrame, what: str, lang: str = "en", currency: str = "¥",
                    name_col: str = "name", current_col: str = "revenue", previous_col: str = "previous") -> str:
    """Name the value of a dimension that contributed most to the total change, with its share of the change.

    "East accounts for 70.2% of the fall (−¥29.0 k)." Needs at least two values with a non-zero total change.

    Parameters
    ----------
    frame : DataFrame
        One row per value of the dimension with current and previous amounts.
    what : str
        The dimension's name in the report language (``region``, ``区域``).
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
    name = str(frame.loc[top, name_col])
    amount = fmt.signed_money(delta[top], lang, currency)
    if share > 1:  # the others moved the other way: "more than explains" reads better than "172 % of"
        whole = fmt.signed_money(total, lang, currency)
        if lang == "zh":
            return f"{what}中 {name} 变化 {amount}，超过总变化 {whole}，其余{what}合计方向相反。"
        return f"{name} changed by {amount}, more than the total change of {whole}: the other {what.lower()}s together moved the other way."
    if lang == "zh":
        kind = "增长" if total > 0 else "下降"
        return f"{what}中 {name} 贡献了{kind}的 {fmt.percent(share)}（{amount}）。"
    kind = "rise" if total > 0 else "fall"
    return f"Among {what.lower()}s, {name} accounts for {fmt.percent(share)} of the {kind} ({amount})."


def concentration_sentence(frame: pd.DataFrame, what: str, lang: str = "en", share_col: str = "share",
                           name_col: str = "name", n: int = 3) -> str:
    """How concentrated revenue is: "The top 3 customers made 41.5% of revenue; the largest is Acme (18.0%)."."""
    if frame.empty:
        return ""
    top = frame.head(n)
    total = top[share_col].sum()
    first = str(top.iloc[0][name_col])
    if lang == "zh":
        return f"前 {len(top)} 名{what}贡献了 {fmt.percent(total)} 的销售额，其中最大的是 {first}（{fmt.percent(top.iloc[0][share_col])}）。"
    return (f"The top {len(top)} {what.lower()}s made {fmt.percent(total)} of revenue; the largest is {first} "
            f"({fmt.percent(top.iloc[0][share_col])}).")


def comparison_tiles(current, previous, year_ago, lang: str = "en", currency: str = "¥") -> list[dict]:
    """KPI tiles (revenue, orders, customers, average order value) with changes vs previous period and last year.

    Parameters
    ----------
    current, previous, year_ago
        Objects with ``revenue``, ``orders``, ``customers`` and ``aov`` attributes (:class:`salesperf.analyses.overview.Kpis`).
    """
    from salesperf.core.vocab import term

    tiles = []
    for key, attr, money in (("revenue", "revenue", True), ("orders", "orders", False),
                             ("buying_customers", "customers", False), ("aov", "aov", True)):
        value = getattr(current, attr)
        d_prev = fmt.relative_change(value, getattr(previous, attr))
        d_year = fmt.relative_change(value, getattr(year_ago, attr))
        tiles.append({
            "label": term(key, lang),
            "value": fmt.money(value, lang, currency) if money else fmt.number(value),
            "delta": f"{term('vs_previous', lang)} {fmt.signed_percent(d_prev)}",
            "delta2": f"{term('vs_year_ago', lang)} {fmt.signed_percent(d_year)}",
            "tone": "neutral" if math.isnan(d_prev) or d_prev == 0 else ("good" if d_prev > 0 else "bad"),
        })
    return tiles

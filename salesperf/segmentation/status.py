"""Customer status (potential / active / at risk / churned / reactivated) from each customer's own purchase rhythm."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from salesperf.report import fmt
from salesperf.report.i18n import check_lang
from salesperf.segmentation._sql import as_date
from salesperf.segmentation.base import STATUS_INPUT_COLUMNS, AggregateQuery, status_frame
from salesperf.segmentation.rules import STATUSES, SegmentRules, StatusRules, load_rules


def status_inputs_sql(con: duckdb.DuckDBPyConnection, as_of, period_start) -> pd.DataFrame:
    """Per-customer purchase-day facts needed by :func:`customer_status`, computed in DuckDB.

    Uses ``orders`` and, when present, ``customers`` (created_at <= as_of) and ``opportunities`` (customer_id,
    created_at <= as_of) to list the customers known to the CRM without a purchase. The SQL is the status part of
    :class:`~salesperf.segmentation.base.AggregateQuery`.

    Parameters
    ----------
    as_of : date-like
        End of this period (inclusive).
    period_start : date-like
        End of the previous period: this period is (period_start, as_of].

    Returns
    -------
    DataFrame
        One row per customer, sorted by customer_id: customer_id, frequency (purchase days up to as_of; 0 for
        never-bought), first_purchase, last_purchase, frequency_before / last_before (purchase days up to
        period_start), first_in_period (first purchase day in the period, NaT if none), revenue_period (net amount
        in the period; 0 for never-bought).
    """
    as_of, start = as_date(as_of), as_date(period_start, "period_start")
    query = AggregateQuery(con, as_of).add_status("status_", as_of, start)
    return _normalise(status_frame(query.run("status_frequency > 0 OR status_known = 1")))


def status_inputs_from_orders(orders: pd.DataFrame, as_of, period_start, known_customers=None, *,
                              customer_col: str = "customer_id", date_col: str = "order_date",
                              amount_col: str = "amount", status_col: str = "status") -> pd.DataFrame:
    """Pure-pandas twin of :func:`status_inputs_sql` for small frames.

    Parameters
    ----------
    orders : DataFrame
        Order lines.
    known_customers : iterable of str, optional
        Customer ids known to the CRM (customers table, opportunities); those without a purchase become potential.

    Returns
    -------
    DataFrame
        Same columns as :func:`status_inputs_sql`.
    """
    as_of, start = pd.Timestamp(as_date(as_of)), pd.Timestamp(as_date(period_start, "period_start"))
    dates = pd.to_datetime(orders[date_col])
    status = orders[status_col].fillna("completed") if status_col in orders else pd.Series("completed", orders.index)
    keep = (dates <= as_of) & (status != "cancelled")
    frame = pd.DataFrame({"customer_id": orders[customer_col].astype(str), "day": dates,
                          "amount": orders[amount_col],
                          "buy": (orders[amount_col] > 0) & ~status.isin(["returned", "cancelled"])})[keep]
    days = frame[frame["buy"]]
    before, within = days[days["day"] <= start], days[days["day"] > start]
    per = days.groupby("customer_id")["day"].agg(frequency="nunique", first_purchase="min", last_purchase="max")
    per["frequency_before"] = before.groupby("customer_id")["day"].nunique().reindex(per.index).fillna(0)
    per["last_before"] = before.groupby("customer_id")["day"].max().reindex(per.index)
    per["first_in_period"] = within.groupby("customer_id")["day"].min().reindex(per.index)
    in_period = frame[frame["day"] > start].groupby("customer_id")["amount"].sum()
    per["revenue_period"] = in_period.reindex(per.index).fillna(0.0)
    per = per.reset_index()
    if known_customers is not None:
        extra = sorted(set(map(str, known_customers)) - set(per["customer_id"]))
        potential = pd.DataFrame({"customer_id": extra, "frequency": 0, "frequency_before": 0, "revenue_period": 0.0})
        per = pd.concat([per, potential], ignore_index=True)
    return _normalise(per)


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reindex(columns=STATUS_INPUT_COLUMNS).copy()
    frame["customer_id"] = frame["customer_id"].astype(str)
    for col in ("frequency", "frequency_before"):
        frame[col] = frame[col].fillna(0).astype("int64")
    for col in ("first_purchase", "last_purchase", "last_before", "first_in_period"):
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    frame["revenue_period"] = frame["revenue_period"].fillna(0.0).astype("float64")
    if frame["customer_id"].is_monotonic_increasing:
        return frame.reset_index(drop=True)
    return frame.sort_values("customer_id", ignore_index=True)


@dataclass
class CustomerStatus:
    """Result of :func:`customer_status`.

    Attributes
    ----------
    customers : DataFrame
        Per customer: customer_id, status, days_since_last, interval_days, interval_source ('own', 'population',
        or '' for potential), at_risk_after_days, churned_after_days, p_alive (NaN unless passed), revenue_period.
    summary : DataFrame
        Per status: status, label_en, label_zh, customers, share, revenue_period.
    population_interval_days : float
        Typical interval used for one-time buyers (as of ``as_of``).
    rule : str
        The rule as an English sentence; ``rule_zh`` the same in Chinese.
    facts : dict
        Counts and shares per status for the narrative.
    sentences : list of str
        The rule and the status mix in the language asked for (:func:`status_sentences` gives the other).
    """

    customers: pd.DataFrame
    summary: pd.DataFrame
    population_interval_days: float
    rule: str
    rule_zh: str
    facts: dict = field(default_factory=dict)
    sentences: list[str] = field(default_factory=list)


_STATUS_NAMES = np.array(["active", "at_risk", "churned"], dtype=object)
_SOURCES = np.array(["own", "population", ""], dtype=object)


def _days_between(later: pd.Series, earlier) -> np.ndarray:
    """Whole days from ``earlier`` (a Series or a Timestamp) to ``later``; NaN where a date is missing."""
    late = later.to_numpy(dtype="datetime64[ns]")
    early = earlier.to_numpy(dtype="datetime64[ns]") if isinstance(earlier, pd.Series) else \
        np.datetime64(earlier, "ns")
    delta = (late - early).astype("timedelta64[D]")
    return np.where(np.isnat(delta), np.nan, delta.astype("int64").astype("float64"))


def _intervals(frequency, first, last, rules: StatusRules) -> tuple[np.ndarray, np.ndarray, float]:
    """Own mean interval (NaN for one-time buyers), the interval used, and the population interval."""
    span = _days_between(last, first)
    freq = frequency.to_numpy(dtype="float64")
    own = np.where(freq >= 2, span / np.maximum(freq - 1, 1), np.nan)
    repeat = own[~np.isnan(own)]
    if len(repeat):
        population = float(np.median(repeat) if rules.one_time_interval == "median" else np.mean(repeat))
    else:
        population = float("nan")
    fallback = population if not np.isnan(population) else max(rules.min_interval_days, 1.0)
    used = np.maximum(np.where(np.isnan(own), fallback, own), rules.min_interval_days)
    return own, used, population


def customer_status(inputs: pd.DataFrame, as_of, period_start, rules: SegmentRules | None = None,
                    p_alive: pd.Series | None = None, *, lang: str = "en", currency: str = "¥") -> CustomerStatus:
    """Status per customer from its own purchase rhythm (rule in ``segments.yml`` → status).

    Parameters
    ----------
    inputs : DataFrame
        Output of :func:`status_inputs_sql` / :func:`status_inputs_from_orders`.
    as_of, period_start : date-like
        This period is (period_start, as_of].
    p_alive : Series, optional
        P(alive) per customer_id (e.g. from a BG/NBD model); where given it replaces the interval rule for
        active / at risk / churned.
    lang : {'en', 'zh'}
        Language of ``sentences``.
    currency : str
        Currency symbol for money in English sentences.

    Returns
    -------
    CustomerStatus
    """
    check_lang(lang)
    rules = rules or load_rules()
    sr = rules.status
    as_of, start = pd.Timestamp(as_date(as_of)), pd.Timestamp(as_date(period_start, "period_start"))
    own, interval, population = _intervals(inputs["frequency"], inputs["first_purchase"], inputs["last_purchase"], sr)
    days = _days_between(inputs["last_purchase"], as_of) * -1.0
    at_risk_after, churned_after = sr.at_risk_multiple * interval, sr.churned_multiple * interval
    status = _STATUS_NAMES[np.select([days > churned_after, days > at_risk_after], [2, 1], 0)]

    p = pd.Series(np.nan, index=inputs.index)
    if p_alive is not None:
        p = inputs["customer_id"].map(p_alive.astype("float64")).astype("float64")
        has_p = p.notna().to_numpy()
        by_p = _STATUS_NAMES[np.select([p < sr.p_alive_churned_below, p < sr.p_alive_at_risk_below], [2, 1], 0)]
        status[has_p] = by_p[has_p]

    # Reactivated: bought in the period after a gap longer than churned_multiple x the interval known before it.
    _, interval_before, _ = _intervals(inputs["frequency_before"], inputs["first_purchase"], inputs["last_before"], sr)
    gap = _days_between(inputs["first_in_period"], inputs["last_before"])
    came_back = (inputs["frequency_before"].to_numpy() > 0) & (gap > sr.churned_multiple * interval_before)
    status[came_back & (status != "churned")] = "reactivated"

    never = inputs["frequency"].to_numpy() == 0
    status[never] = "potential"
    out = pd.DataFrame(copy=False, data={
        "customer_id": inputs["customer_id"].to_numpy(),
        "status": status,
        "days_since_last": np.where(never, np.nan, days),
        "interval_days": np.where(never, np.nan, interval),
        "interval_source": _SOURCES[np.where(never, 2, np.isnan(own).astype("int64"))],
        "at_risk_after_days": np.where(never, np.nan, at_risk_after),
        "churned_after_days": np.where(never, np.nan, churned_after),
        "p_alive": p.to_numpy(),
        "revenue_period": inputs["revenue_period"].to_numpy(),
    })
    summary = _summary(out, sr)
    rule, rule_zh = status_rule_sentences(sr, population, start, as_of, p_alive is not None)
    facts = {f"{r.status}_customers": int(r.customers) for r in summary.itertuples()}
    facts |= {f"{r.status}_share": float(r.share) for r in summary.itertuples()}
    facts["population_interval_days"] = population
    facts["revenue_period"] = float(out["revenue_period"].sum())
    result = CustomerStatus(out, summary, population, rule, rule_zh, facts)
    result.sentences = status_sentences(result, lang, currency)
    return result


def status_sentences(result: CustomerStatus, lang: str = "en", currency: str = "¥") -> list[str]:
    """The rule and the status mix as sentences in ``lang``, computed from ``result``'s numbers."""
    check_lang(lang)
    summary = result.summary.set_index("status")
    n = int(summary["customers"].sum())
    label = "label_zh" if lang == "zh" else "label_en"
    parts = [(summary.loc[s, label], fmt.percent(summary.loc[s, "share"])) for s in STATUSES]
    back = summary.loc["reactivated", "revenue_period"]
    total = result.facts.get("revenue_period", float(summary["revenue_period"].sum()))
    back_share = fmt.percent(back / total) if total > 0 else "–"
    if lang == "zh":
        mix = "，".join(f"{name} {share}" for name, share in parts)
        return [result.rule_zh, f"{n:,} 位客户中：{mix}。",
                f"回流客户本期贡献销售额 {fmt.money(back, lang, currency)}，占本期销售额的 {back_share}。"]
    mix = ", ".join(f"{share} {name.lower()}" for name, share in parts)
    return [result.rule, f"Of {n:,} customers: {mix}.",
            (f"Reactivated customers brought {fmt.money(back, lang, currency)} of revenue in the period "
             f"({back_share} of it).")]


def _summary(out: pd.DataFrame, sr: StatusRules) -> pd.DataFrame:
    grouped = out.groupby("status")
    summary = pd.DataFrame({"customers": grouped.size(), "revenue_period": grouped["revenue_period"].sum()})
    summary = summary.reindex(list(STATUSES)).fillna(0)
    summary["customers"] = summary["customers"].astype("int64")
    summary["share"] = summary["customers"] / max(len(out), 1)
    summary.index.name = "status"
    summary = summary.reset_index()
    summary.insert(1, "label_en", summary["status"].map(lambda k: sr.labels[k].label_en))
    summary.insert(2, "label_zh", summary["status"].map(lambda k: sr.labels[k].label_zh))
    return summary[["status", "label_en", "label_zh", "customers", "share", "revenue_period"]]


def status_rule_sentences(sr: StatusRules, population: float, start, as_of, with_p_alive: bool) -> tuple[str, str]:
    """The status rule in plain English and Chinese, with the numbers actually used."""
    stat = "median" if sr.one_time_interval == "median" else "mean"
    stat_zh = "中位数" if sr.one_time_interval == "median" else "平均值"
    pop = f"{population:.0f}" if not np.isnan(population) else "n/a"
    s, e = pd.Timestamp(start).date() + dt.timedelta(days=1), pd.Timestamp(as_of).date()
    en = (f"A customer is at risk when the days since its last purchase exceed {sr.at_risk_multiple:g} × its own mean "
          f"interval between purchase days, and churned beyond {sr.churned_multiple:g} × (intervals of at least "
          f"{sr.min_interval_days:g} days; one-time buyers are judged against the {stat} interval of repeat buyers, "
          f"{pop} days). Reactivated: bought between {s} and {e} after a gap longer than "
          f"{sr.churned_multiple:g} × its interval. Potential: known to the CRM (customers table or opportunities) "
          f"but never bought.")
    zh = (f"距上次购买天数超过该客户自身平均购买间隔的 {sr.at_risk_multiple:g} 倍为流失预警客户，超过 "
          f"{sr.churned_multiple:g} 倍为流失客户（间隔至少 {sr.min_interval_days:g} 天；只购买过一次的客户按复购客户"
          f"间隔的{stat_zh} {pop} 天判断）。回流客户：{s} 至 {e} 期间再次购买，且此前间隔超过其购买间隔的 "
          f"{sr.churned_multiple:g} 倍。潜在客户：CRM 中有记录（客户表或商机）但从未购买。")
    if with_p_alive:
        en += (f" Where a P(alive) is given it decides instead: at risk below {sr.p_alive_at_risk_below:g}, churned "
               f"below {sr.p_alive_churned_below:g}.")
        zh += f"有存活概率时以其为准：低于 {sr.p_alive_at_risk_below:g} 为流失预警，低于 {sr.p_alive_churned_below:g} 为流失。"
    return en, zh

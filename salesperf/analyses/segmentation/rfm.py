"""RFM per customer (engine and pure side), tie-aware 1..5 scores, the eleven named segments and the Chinese 8 classes.

Definitions (as of a date, optionally over a look-back window (as_of - lookback_days, as_of]):

* recency   = days from the customer's last purchase day to ``as_of``;
* frequency = distinct purchase occasions = distinct days with a purchase line (amount > 0, not returned/cancelled);
* monetary  = sum of all non-cancelled line amounts in the window, so returns (negative lines) are netted off.

Only customers with at least one purchase in the window appear.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from salesperf.core import fmt
from salesperf.core.vocab import check_lang
from salesperf.core.sql import as_date
from salesperf.analyses.segmentation.base import RFM_COLUMNS, AggregateQuery, rfm_frame
from salesperf.analyses.segmentation.rules import SegmentRules, load_rules


def rfm_sql(con: duckdb.DuckDBPyConnection, as_of, lookback_days: int | None = None) -> pd.DataFrame:
    """Per-customer RFM computed in DuckDB over the relation ``orders``.

    The lines are grouped into purchase days first, so frequency is a plain count of days (no COUNT DISTINCT);
    the SQL is the RFM part of :class:`~salesperf.analyses.segmentation.base.AggregateQuery`, the query every section uses.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection in which ``orders`` (canonical columns; ``status`` optional) is available.
    as_of : date-like
        Reference date; lines after it are ignored.
    lookback_days : int, optional
        Only lines in (as_of - lookback_days, as_of] count. None = all history.

    Returns
    -------
    DataFrame
        One row per customer with a purchase in the window, sorted by customer_id: customer_id, recency (int days),
        frequency (int), monetary (float), first_purchase, last_purchase (datetime64[ns]) — purchase days within
        the window.
    """
    as_of = as_date(as_of)
    query = AggregateQuery(con, as_of).add_rfm("", as_of, lookback_days)
    return _normalise(rfm_frame(query.run("frequency > 0"), as_of), ordered=True)


def rfm_from_orders(orders: pd.DataFrame, as_of, lookback_days: int | None = None, *,
                    customer_col: str = "customer_id", date_col: str = "order_date", amount_col: str = "amount",
                    status_col: str = "status") -> pd.DataFrame:
    """Per-customer RFM from a small order-lines frame (pandas); same definitions and output as :func:`rfm_sql`.

    Parameters
    ----------
    orders : DataFrame
        One row per order line with customer, date, amount and optionally status columns.
    as_of, lookback_days
        As in :func:`rfm_sql`.

    Returns
    -------
    DataFrame
        Same columns as :func:`rfm_sql`.
    """
    as_of = pd.Timestamp(as_date(as_of))
    dates = pd.to_datetime(orders[date_col])
    keep = dates <= as_of
    if lookback_days is not None:
        keep &= dates > as_of - pd.Timedelta(days=int(lookback_days))
    status = orders[status_col].fillna("completed") if status_col in orders else pd.Series("completed", orders.index)
    keep &= status != "cancelled"
    frame = pd.DataFrame({"customer_id": orders[customer_col], "date": dates, "amount": orders[amount_col],
                          "purchase": (orders[amount_col] > 0) & ~status.isin(["returned", "cancelled"])})[keep]
    bought = frame[frame["purchase"]]
    per = bought.groupby("customer_id")["date"].agg(first_purchase="min", last_purchase="max", frequency="nunique")
    per["monetary"] = frame.groupby("customer_id")["amount"].sum().reindex(per.index)
    per["recency"] = (as_of - per["last_purchase"]).dt.days
    return _normalise(per.reset_index())


def _normalise(frame: pd.DataFrame, ordered: bool = False) -> pd.DataFrame:
    frame = frame[RFM_COLUMNS].copy()
    if not pd.api.types.is_string_dtype(frame["customer_id"]):
        frame["customer_id"] = frame["customer_id"].astype(str)
    frame["recency"] = frame["recency"].astype("int64")
    frame["frequency"] = frame["frequency"].astype("int64")
    frame["monetary"] = frame["monetary"].astype("float64")
    for col in ("first_purchase", "last_purchase"):
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    if ordered or frame["customer_id"].is_monotonic_increasing:
        return frame.reset_index(drop=True)
    return frame.sort_values("customer_id", ignore_index=True)


def rank_scores(values: pd.Series, bins: int = 5, higher_is_better: bool = True) -> pd.Series:
    """1..bins scores from ranks; ties share a score.

    ``score = 1 + floor(bins * (customers strictly worse) / n)``, capped at ``bins``. Without ties this gives equal
    quintiles; with ties every tied customer gets the score of the first of them, so the lowest value always scores 1
    (all one-time buyers get F score 1) and the scores above jump by the size of the tied block.

    Parameters
    ----------
    values : Series
        One value per customer, no missing values.
    bins : int
        Number of score levels.
    higher_is_better : bool
        False for recency (fewer days is better).

    Returns
    -------
    Series of int, same index.
    """
    ordered = values if higher_is_better else -values
    strictly_worse = ordered.rank(method="min").to_numpy() - 1
    n = max(len(values), 1)
    score = 1 + np.floor(bins * strictly_worse / n).astype("int64")
    return pd.Series(np.minimum(score, bins), index=values.index, dtype="int64")


def rfm_scores(rfm: pd.DataFrame, bins: int = 5, *, recency_col: str = "recency",
               frequency_col: str = "frequency", monetary_col: str = "monetary") -> pd.DataFrame:
    """Add r_score, f_score, m_score (1..bins, see :func:`rank_scores`) and fm_score = (f_score + m_score) / 2.

    Parameters
    ----------
    rfm : DataFrame
        One row per customer with recency, frequency, monetary.

    Returns
    -------
    DataFrame
        Copy of ``rfm`` with the four score columns appended.
    """
    out = rfm.copy()
    out["r_score"] = rank_scores(out[recency_col], bins, higher_is_better=False)
    out["f_score"] = rank_scores(out[frequency_col], bins)
    out["m_score"] = rank_scores(out[monetary_col], bins)
    out["fm_score"] = (out["f_score"] + out["m_score"]) / 2
    return out


def score_distribution(scored: pd.DataFrame, bins: int = 5) -> pd.DataFrame:
    """Share of customers per score level and dimension.

    Returns
    -------
    DataFrame
        Index score 1..bins, columns r_score, f_score, m_score (shares summing to 1 per column).
    """
    cols = ["r_score", "f_score", "m_score"]
    levels = pd.Index(range(1, bins + 1), name="score")
    n = max(len(scored), 1)
    return pd.DataFrame({c: scored[c].value_counts().reindex(levels, fill_value=0) / n for c in cols})


def assign_segments(scored: pd.DataFrame, rules: SegmentRules) -> pd.Series:
    """Named segment key per customer from the rule table (first matching rule wins; validated to cover all pairs).

    Parameters
    ----------
    scored : DataFrame
        Output of :func:`rfm_scores` (needs r_score and fm_score).

    Returns
    -------
    Series of str (segment keys), same index.
    """
    r = scored["r_score"].to_numpy()
    fm = scored["fm_score"].to_numpy()
    table = _segment_table(rules)  # segment of every (R score, 2 x FM score) pair
    half_steps = np.rint(2 * fm).astype("int64")
    inside = (r >= 1) & (r < table.shape[0]) & (half_steps >= 0) & (half_steps < table.shape[1])
    segment = np.full(len(scored), None, dtype=object)
    segment[inside] = table[r[inside].astype("int64"), half_steps[inside]]
    return pd.Series(segment, index=scored.index, name="segment")


def _segment_table(rules: SegmentRules) -> np.ndarray:
    """Lookup table [R score, 2 x FM score] -> segment key (first matching rule; None when no rule matches)."""
    table = np.full((rules.bins + 1, 2 * rules.bins + 1), None, dtype=object)
    for r in range(1, rules.bins + 1):
        for twice_fm in range(2, 2 * rules.bins + 1):
            fm = twice_fm / 2
            table[r, twice_fm] = next((rule.key for rule in rules.rfm_segments
                                       if rule.r[0] <= r <= rule.r[1] and rule.fm[0] <= fm <= rule.fm[1]), None)
    return table


def cn8_thresholds(rfm: pd.DataFrame, split: str = "mean") -> dict[str, float]:
    """Split values for the 8-class model: the mean or median of recency, frequency and monetary."""
    stat = getattr(rfm[["recency", "frequency", "monetary"]], split)()
    return {k: float(v) for k, v in stat.items()}


def assign_cn8(rfm: pd.DataFrame, rules: SegmentRules, thresholds: dict[str, float] | None = None) -> pd.Series:
    """Chinese eight-class key per customer (R high = recency below the split; F, M high = strictly above it).

    Parameters
    ----------
    rfm : DataFrame
        One row per customer with recency, frequency, monetary.
    thresholds : dict, optional
        {'recency', 'frequency', 'monetary'} split values; default from ``rules.cn8_split`` on ``rfm`` itself.

    Returns
    -------
    Series of str (class keys), same index.
    """
    thresholds = thresholds or cn8_thresholds(rfm, rules.cn8_split)
    r = np.where(rfm["recency"] < thresholds["recency"], "high", "low")
    f = np.where(rfm["frequency"] > thresholds["frequency"], "high", "low")
    m = np.where(rfm["monetary"] > thresholds["monetary"], "high", "low")
    lookup = np.empty(8, dtype=object)
    for c in rules.cn8_classes:
        lookup[4 * (c.r == "high") + 2 * (c.f == "high") + (c.m == "high")] = c.key
    code = 4 * (r == "high") + 2 * (f == "high") + (m == "high")
    return pd.Series(lookup[code], index=rfm.index, name="segment_cn8", dtype=object)


def segment_summary(customers: pd.DataFrame, segment_col: str = "segment", labels: dict | None = None, *,
                    monetary_col: str = "monetary") -> pd.DataFrame:
    """Size, share, revenue share and median R/F/M per segment.

    Parameters
    ----------
    customers : DataFrame
        One row per customer with ``segment_col``, recency, frequency, monetary.
    labels : dict, optional
        {key: Label} in display order; segments without customers are kept with size 0.

    Returns
    -------
    DataFrame
        One row per segment: segment, label_en, label_zh, customers, share, revenue, revenue_share,
        median_recency, median_frequency, median_monetary.
    """
    grouped = customers.groupby(segment_col)
    out = pd.DataFrame({
        "customers": grouped.size(),
        "revenue": grouped[monetary_col].sum(),
        "median_recency": grouped["recency"].median(),
        "median_frequency": grouped["frequency"].median(),
        "median_monetary": grouped[monetary_col].median(),
    })
    order = list(labels) if labels else list(out.index)
    out = out.reindex(order + [k for k in out.index if k not in order])
    out["customers"] = out["customers"].fillna(0).astype("int64")
    out["revenue"] = out["revenue"].fillna(0.0)
    out["share"] = out["customers"] / max(out["customers"].sum(), 1)
    total = customers[monetary_col].sum()
    out["revenue_share"] = out["revenue"] / total if total else np.nan
    out.index.name = "segment"
    out = out.reset_index().rename(columns={"segment": segment_col})
    if labels:
        out.insert(1, "label_en", out[segment_col].map(lambda k: labels[k].label_en if k in labels else k))
        out.insert(2, "label_zh", out[segment_col].map(lambda k: labels[k].label_zh if k in labels else k))
    cols = [segment_col, "label_en", "label_zh", "customers", "share", "revenue", "revenue_share",
            "median_recency", "median_frequency", "median_monetary"]
    return out[[c for c in cols if c in out]]


@dataclass
class RfmSegmentation:
    """Result of :func:`segment_rfm`.

    Attributes
    ----------
    customers : DataFrame
        Per customer: the RFM columns, r/f/m/fm scores, segment, segment_cn8.
    summary, summary_cn8 : DataFrame
        :func:`segment_summary` for the eleven segments and the eight classes.
    score_distribution : DataFrame
        Share of customers per score level (rows 1..bins) for r/f/m.
    cn8_split : str
        'mean' or 'median'.
    cn8_thresholds : dict
        The split values actually used (recency days, frequency, monetary).
    facts : dict
        Numbers for the narrative (customers, revenue, one_time_share, one_time_f_score, top segments).
    sentences : list of str
        Sentences built from these numbers, in the language asked for (:func:`rfm_sentences` gives the other).
    """

    customers: pd.DataFrame
    summary: pd.DataFrame
    summary_cn8: pd.DataFrame
    score_distribution: pd.DataFrame
    cn8_split: str
    cn8_thresholds: dict[str, float]
    facts: dict = field(default_factory=dict)
    sentences: list[str] = field(default_factory=list)


def segment_rfm(rfm: pd.DataFrame, rules: SegmentRules | None = None, cn8_split: str | None = None, *,
                lang: str = "en", currency: str = "¥") -> RfmSegmentation:
    """Scores, named segments, the eight classes and their summaries, in one call (one notebook section).

    Parameters
    ----------
    rfm : DataFrame
        Output of :func:`rfm_sql` / :func:`rfm_from_orders` (one row per customer).
    rules : SegmentRules, optional
        Default: the packaged ``segments.yml``.
    cn8_split : {'mean', 'median'}, optional
        Overrides ``rules.cn8_split``.
    lang : {'en', 'zh'}
        Language of ``sentences``.
    currency : str
        Currency symbol for money in English sentences (Chinese uses 万元 / 亿元).

    Returns
    -------
    RfmSegmentation
    """
    check_lang(lang)
    rules = rules or load_rules()
    split = cn8_split or rules.cn8_split
    scored = rfm_scores(rfm, rules.bins)
    scored["segment"] = assign_segments(scored, rules)
    thresholds = cn8_thresholds(scored, split)
    scored["segment_cn8"] = assign_cn8(scored, rules, thresholds)
    summary = segment_summary(scored, "segment", rules.segment_labels())
    summary_cn8 = segment_summary(scored, "segment_cn8", rules.cn8_labels())
    result = RfmSegmentation(scored, summary, summary_cn8, score_distribution(scored, rules.bins), split, thresholds)
    result.facts = _rfm_facts(scored, summary, summary_cn8)
    result.sentences = rfm_sentences(result, lang, currency)
    return result


def _rfm_facts(scored: pd.DataFrame, summary: pd.DataFrame, summary_cn8: pd.DataFrame) -> dict:
    n = len(scored)
    if n == 0:
        return {"customers": 0}
    one_time = scored["frequency"].to_numpy() == 1
    top_rev = summary.sort_values("revenue_share", ascending=False).iloc[0]
    biggest = summary.sort_values("customers", ascending=False).iloc[0]
    top_cn8 = summary_cn8.sort_values("revenue_share", ascending=False).iloc[0]
    return {
        "customers": n,
        "revenue": float(scored["monetary"].sum()),
        "one_time_share": float(one_time.mean()),
        "one_time_f_score": int(scored["f_score"].to_numpy()[one_time][0]) if one_time.any() else None,
        "top_revenue_segment": top_rev["segment"], "top_revenue_segment_share": float(top_rev["share"]),
        "top_revenue_segment_revenue_share": float(top_rev["revenue_share"]),
        "largest_segment": biggest["segment"], "largest_segment_share": float(biggest["share"]),
        "top_revenue_cn8": top_cn8["segment_cn8"], "top_revenue_cn8_revenue_share": float(top_cn8["revenue_share"]),
    }


def rfm_sentences(result: RfmSegmentation, lang: str = "en", currency: str = "¥") -> list[str]:
    """The RFM findings as sentences in ``lang`` ('en' or 'zh'), computed from ``result``'s numbers."""
    check_lang(lang)
    facts, summary, summary_cn8 = result.facts, result.summary, result.summary_cn8
    n = facts.get("customers", 0)
    if n == 0:
        return ["窗口内没有客户购买。" if lang == "zh" else "No customer bought in the window."]
    top_rev = summary.set_index("segment").loc[facts["top_revenue_segment"]]
    biggest = summary.set_index("segment").loc[facts["largest_segment"]]
    top_cn8 = summary_cn8.set_index("segment_cn8").loc[facts["top_revenue_cn8"]]
    th = result.cn8_thresholds
    split_money = fmt.money(th["monetary"], lang, currency)
    one_time = facts["one_time_share"]
    if lang == "zh":
        split = "均值" if result.cn8_split == "mean" else "中位数"
        sentences = [
            (f"{top_rev['label_zh']}占 {n:,} 位客户的 {fmt.percent(top_rev['share'])}，贡献 "
             f"{fmt.percent(top_rev['revenue_share'])} 的销售额（购买日数中位数 {top_rev['median_frequency']:g}，"
             f"距上次购买中位数 {top_rev['median_recency']:g} 天）。"),
            f"人数最多的分群是{biggest['label_zh']}，占客户数的 {fmt.percent(biggest['share'])}。",
            (f"按 RFM 八类模型（以{split}划分：距上次购买 {th['recency']:.0f} 天、购买日数 {th['frequency']:.2f}、"
             f"销售额 {split_money}），{top_cn8['label_zh']}贡献 {fmt.percent(top_cn8['revenue_share'])} 的销售额。"),
        ]
        if one_time > 0:
            sentences.append(f"{fmt.percent(one_time)} 的客户只在一天有过购买，F 分同为 {facts['one_time_f_score']}"
                             f"（并列客户得分相同），因此 F 分各档人数并不均等。")
        return sentences
    sentences = [
        (f"{top_rev['label_en']} are {fmt.percent(top_rev['share'])} of the {n:,} customers and bring "
         f"{fmt.percent(top_rev['revenue_share'])} of revenue (median {top_rev['median_frequency']:g} purchase days, "
         f"last purchase a median {top_rev['median_recency']:g} days ago)."),
        f"The largest segment is {biggest['label_en']} with {fmt.percent(biggest['share'])} of customers.",
        (f"In the eight-class model (split at the {result.cn8_split}: {th['recency']:.0f} days, "
         f"{th['frequency']:.2f} purchase days, {split_money} revenue), "
         f"{top_cn8['label_zh']} ({top_cn8['label_en']}) hold {fmt.percent(top_cn8['revenue_share'])} of revenue."),
    ]
    if one_time > 0:
        sentences.append(
            f"{fmt.percent(one_time)} of customers bought on a single day; they share F score "
            f"{facts['one_time_f_score']} (tied customers share a score), so F scores are not equal fifths.")
    return sentences

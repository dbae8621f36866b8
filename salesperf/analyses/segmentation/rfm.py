"""RFM per customer (engine and pure side), tie-aware 1..5 scores, the eleven named segments and the Chinese 8
classes.

Definitions (as of a date, optionally over a look-back window (as_of - lookback_days, as_of]):

* recency   = days from the customer's last purchase day to ``as_of``;
* frequency = distinct purchase occasions = distinct days with a purchase line (amount > 0, not
  returned/cancelled);
* monetary  = sum of all non-cancelled line amounts in the window, so returns (negative lines) are netted off.

Only customers with at least one purchase in the window appear.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salesperf.analyses.segmentation.base import RFM_COLUMNS, bought, rfm_frame
from salesperf.analyses.segmentation.queries import AggregateQuery
from salesperf.analyses.segmentation.rules import SegmentRules, load_rules
from salesperf.core.errors import UserError
from salesperf.core.expr import as_date
from salesperf.data.engine import Engine


def rfm_sql(engine: Engine, as_of, lookback_days: int | None = None) -> pd.DataFrame:
    """Per-customer RFM computed in the engine over the table ``orders``.

    The lines are grouped into purchase days first, so frequency is a plain count of days (no COUNT DISTINCT);
    the query is the RFM part of :class:`~salesperf.analyses.segmentation.queries.AggregateQuery`, the query
    every section uses.

    Parameters
    ----------
    engine : Engine
        Holding ``orders`` (canonical columns; ``status`` optional).
    as_of : date-like
        Reference date; lines after it are ignored.
    lookback_days : int, optional
        Only lines in (as_of - lookback_days, as_of] count. None = all history.

    Returns
    -------
    DataFrame
        One row per customer with a purchase in the window, sorted by customer_id: customer_id, recency (int
        days), frequency (int), monetary (float), first_purchase, last_purchase (datetime64[ns]) — purchase
        days within the window.
    """
    as_of = as_date(as_of)
    query = AggregateQuery(engine, as_of).add_rfm("", as_of, lookback_days)
    return _normalise(rfm_frame(query.run(bought), as_of), ordered=True)


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
    """1..bins scores from ranks; ties share a score; a missing value stays missing.

    ``score = 1 + floor(bins * (customers strictly worse) / n)``, capped at ``bins``, where ``n`` counts the
    customers with a value. Without ties this gives equal quintiles; with ties every tied customer gets the
    score of the first of them, so the lowest value always scores 1 (all one-time buyers get F score 1) and
    the scores above jump by the size of the tied block.

    Parameters
    ----------
    values : Series
        One value per customer; NaN / None for a customer without one.
    bins : int
        Number of score levels.
    higher_is_better : bool
        False for recency (fewer days is better).

    Returns
    -------
    Series, same index
        int64 scores when every value is given; otherwise nullable ``Int64`` with ``<NA>`` where the value is
        missing (never a sentinel number: casting NaN to int gave -9.2e18 before).
    """
    if bins < 1:
        raise UserError(f"rank_scores: bins must be at least 1, got {bins}")
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    known = numbers.notna().to_numpy()
    ordered = numbers[known] if higher_is_better else -numbers[known]
    strictly_worse = ordered.rank(method="min").to_numpy() - 1
    n = max(int(known.sum()), 1)
    score = np.minimum(1 + np.floor(bins * strictly_worse / n).astype("int64"), bins)
    if known.all():
        return pd.Series(score, index=values.index, dtype="int64")
    out = pd.Series(pd.NA, index=values.index, dtype="Int64")
    out[known] = score
    return out


def rfm_scores(
    rfm: pd.DataFrame,
    bins: int = 5,
    *,
    recency_col: str = "recency",
    frequency_col: str = "frequency",
    monetary_col: str = "monetary",
) -> pd.DataFrame:
    """Add r_score, f_score, m_score (1..bins, see :func:`rank_scores`) and fm_score =
    (f_score + m_score) / 2.

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
    """Named segment key per customer from the rule table (first matching rule wins; validated to cover all
    pairs).

    Parameters
    ----------
    scored : DataFrame
        Output of :func:`rfm_scores` (needs r_score and fm_score).

    Returns
    -------
    Series of str (segment keys), same index; None where a score is missing.
    """
    r = scored["r_score"].to_numpy(dtype="float64", na_value=np.nan)
    twice_fm = np.rint(2 * scored["fm_score"].to_numpy(dtype="float64", na_value=np.nan))
    table = _segment_table(rules)  # segment of every (R score, 2 x FM score) pair
    with np.errstate(invalid="ignore"):  # a missing score is outside every rule: no segment
        inside = (r >= 1) & (r < table.shape[0]) & (twice_fm >= 0) & (twice_fm < table.shape[1])
    segment = np.full(len(scored), None, dtype=object)
    segment[inside] = table[r[inside].astype("int64"), twice_fm[inside].astype("int64")]
    return pd.Series(segment, index=scored.index, name="segment")


def _segment_table(rules: SegmentRules) -> np.ndarray:
    """Lookup table [R score, 2 x FM score] -> segment key (first matching rule; None when no rule
    matches)."""
    table = np.full((rules.bins + 1, 2 * rules.bins + 1), None, dtype=object)
    for r in range(1, rules.bins + 1):
        for twice_fm in range(2, 2 * rules.bins + 1):
            fm = twice_fm / 2
            table[r, twice_fm] = next(
                (
                    rule.key
                    for rule in rules.rfm_segments
                    if rule.r[0] <= r <= rule.r[1] and rule.fm[0] <= fm <= rule.fm[1]
                ),
                None,
            )
    return table


def cn8_thresholds(rfm: pd.DataFrame, split: str = "mean") -> dict[str, float]:
    """Split values for the 8-class model: the mean or median of recency, frequency and monetary."""
    stat = getattr(rfm[["recency", "frequency", "monetary"]], split)()
    return {k: float(v) for k, v in stat.items()}


def assign_cn8(
    rfm: pd.DataFrame, rules: SegmentRules, thresholds: dict[str, float] | None = None
) -> pd.Series:
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


def segment_summary(
    customers: pd.DataFrame,
    segment_col: str = "segment",
    labels: dict | None = None,
    *,
    monetary_col: str = "monetary",
) -> pd.DataFrame:
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
    out = pd.DataFrame(
        {
            "customers": grouped.size(),
            "revenue": grouped[monetary_col].sum(),
            "median_recency": grouped["recency"].median(),
            "median_frequency": grouped["frequency"].median(),
            "median_monetary": grouped[monetary_col].median(),
        }
    )
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
    cols = [
        segment_col,
        "label_en",
        "label_zh",
        "customers",
        "share",
        "revenue",
        "revenue_share",
        "median_recency",
        "median_frequency",
        "median_monetary",
    ]
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
        Numbers for the narrative (customers, revenue, one_time_share, one_time_f_score, top segments); the
        sentences are written by :mod:`salesperf.analyses.segmentation.text`.
    """

    customers: pd.DataFrame
    summary: pd.DataFrame
    summary_cn8: pd.DataFrame
    score_distribution: pd.DataFrame
    cn8_split: str
    cn8_thresholds: dict[str, float]
    facts: dict = field(default_factory=dict)


def segment_rfm(
    rfm: pd.DataFrame, rules: SegmentRules | None = None, cn8_split: str | None = None
) -> RfmSegmentation:
    """Scores, named segments, the eight classes and their summaries, in one call (one notebook section).

    Parameters
    ----------
    rfm : DataFrame
        Output of :func:`rfm_sql` (one row per customer: customer_id, recency, frequency, monetary).
    rules : SegmentRules, optional
        Default: the packaged ``segments.yml``.
    cn8_split : {'mean', 'median'}, optional
        Overrides ``rules.cn8_split``.

    Returns
    -------
    RfmSegmentation
    """
    rules = rules or load_rules()
    split = cn8_split or rules.cn8_split
    scored = rfm_scores(rfm, rules.bins)
    scored["segment"] = assign_segments(scored, rules)
    thresholds = cn8_thresholds(scored, split)
    scored["segment_cn8"] = assign_cn8(scored, rules, thresholds)
    summary = segment_summary(scored, "segment", rules.segment_labels())
    summary_cn8 = segment_summary(scored, "segment_cn8", rules.cn8_labels())
    result = RfmSegmentation(
        scored, summary, summary_cn8, score_distribution(scored, rules.bins), split, thresholds
    )
    result.facts = _rfm_facts(scored, summary, summary_cn8)
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
        "top_revenue_segment": top_rev["segment"],
        "top_revenue_segment_share": float(top_rev["share"]),
        "top_revenue_segment_revenue_share": float(top_rev["revenue_share"]),
        "largest_segment": biggest["segment"],
        "largest_segment_share": float(biggest["share"]),
        "top_revenue_cn8": top_cn8["segment_cn8"],
        "top_revenue_cn8_revenue_share": float(top_cn8["revenue_share"]),
    }

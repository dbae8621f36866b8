"""The whole analysis: the previous calendar period on its boundaries, orders-only data end to end, the interface."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from oracle import connect, make_orders, period_revenue

from salesperf.analyses.base import Context
from salesperf.analyses.segmentation import (
    ANALYSIS,
    customer_base_sql,
    migration,
    segmentation_analysis,
    tables,
    text,
)
from salesperf.core.periods import parse_period


def test_previous_period_is_the_previous_calendar_month_on_its_boundaries():
    # October 2026's previous period is September: (Aug 31, Sep 30], i.e. Sep 1..Sep 30. The old code took a period
    # as long as October, (Aug 30, Sep 30], and counted X's Aug 31 purchase as September revenue.
    orders = make_orders(
        [
            ("X", "2026-08-31", 100.0, "completed"),
            ("X", "2026-09-01", 10.0, "completed"),
            ("Y", "2026-09-30", 5.0, "completed"),
            ("Y", "2026-10-01", 7.0, "completed"),
            ("Z", "2026-08-30", 1.0, "completed"),
        ]
    )
    october = parse_period("2026-10")
    base = customer_base_sql(
        connect(orders=orders), october.end, october.previous.end, october.previous.previous.end
    )
    assert (base.previous_as_of, base.before_previous) == (
        pd.Timestamp("2026-09-30").date(),
        pd.Timestamp("2026-08-31").date(),
    )
    previous = base.status_inputs("previous").set_index("customer_id")["revenue_period"]
    assert previous.to_dict() == {"X": 10.0, "Y": 5.0, "Z": 0.0}  # Aug 31 and Aug 30 are August
    current = base.status_inputs("current").set_index("customer_id")["revenue_period"]
    assert current.to_dict() == {"X": 0.0, "Y": 7.0, "Z": 0.0}
    assert previous[previous > 0].to_dict() == period_revenue(orders, "2026-08-31", "2026-09-30").to_dict()
    with pytest.raises(Exception, match="out of order"):
        customer_base_sql(connect(orders=orders), "2026-10-31", "2026-09-30", "2026-09-30")


def _orders_only(n_customers=40, seed=1) -> pd.DataFrame:
    """~200 order lines with only customer_id, order_date and amount."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_customers):
        for _ in range(rng.integers(1, 10)):
            rows.append(
                (
                    f"K{c:03d}",
                    pd.Timestamp("2026-10-31") - pd.Timedelta(days=int(rng.integers(0, 700))),
                    float(rng.gamma(2, 150)),
                )
            )
    return pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_orders_only_data_end_to_end(lang):
    orders = _orders_only()
    ds = SimpleNamespace(engine=connect(orders=orders), period=parse_period("2026-10"))
    seg = ANALYSIS.compute(ds, Context(lang, "€", {}), {})
    result = ANALYSIS.summarise(seg, ds, Context(lang, "€", {}))
    assert seg.customers["customer_id"].nunique() == orders["customer_id"].nunique()  # every buyer, no CRM
    assert seg.suggestions is None and seg.suggestion_evaluation is None and seg.product_names == {}
    profiles = tables.segment_profiles(seg, lang)
    for absent in ("top_categories", "top_channels", "top_regions", "top_owner_reps", "mean_csat"):
        assert absent not in profiles  # the data have no category, channel, customers or feedback
    shown = [c.name for c in tables.profiles_table(lang).present(profiles.columns)]
    assert shown == ["group", "customers", "revenue", "avg_order_value"]
    assert len(result.headline) == 4 and result.findings
    assert text.suggestion_sentence(seg.suggestion_evaluation, lang) == ""
    assert seg.grades.clv == "not_given"


def test_the_analysis_declares_what_the_report_set_declares():
    assert ANALYSIS.name == "segmentation" and ANALYSIS.uses == ("lifecycle",)
    assert dict(ANALYSIS.parameters) == {"lookback_days": 0, "clusters_max": 8}


def test_migration_hand_computed():
    previous = pd.Series({"a": "s1", "b": "s1", "c": "s2", "d": "s2"})
    current = pd.Series({"a": "s1", "b": "s2", "c": "s2", "e": "s1"})
    result = migration(
        previous, current, pd.Series({"a": 10.0, "b": 20.0, "c": 30.0, "d": 40.0}), order=["s1", "s2"]
    )
    # a, c stay (2 of the 3 present at both dates); b s1 -> s2 (20 at stake); d leaves s2 (40); e is new in s1
    assert result.counts.loc["s1", "s2"] == 1 and result.counts.loc["s2", "(none)"] == 1
    assert result.counts.loc["(none)", "s1"] == 1 and result.revenue.loc["s2", "(none)"] == 40.0
    assert result.flows[["from_state", "to_state"]].values.tolist() == [
        ["s2", "(none)"],
        ["s1", "s2"],
        ["(none)", "s1"],
    ]
    assert result.flows["share_of_from"].tolist() == [0.5, 0.5, 1.0]
    assert result.stayed_share == pytest.approx(2 / 3) and result.newcomers == 1


def test_a_small_company_is_clustered_with_at_most_half_its_customers_per_cluster_count():
    # 12 buyers: prediction strength fits k clusters on halves of 6, so k may not exceed 6 (k = 7 crashed KMeans).
    orders = make_orders(
        [
            (f"C{i:02d}", f"2026-0{m}-1{i % 9}", 100.0 * (i + 1), "completed")
            for i in range(12)
            for m in (5, 6, 7, 8, 9)
            if (i + m) % 3
        ]
    )
    seg = segmentation_analysis(connect(orders=orders), "2026-10-31", "2026-09-30", "2026-08-31")
    assert seg.clusters is not None and seg.clusters.silhouette["k"].max() == 6
    tiny = make_orders([("A", "2026-10-01", 1.0, "completed"), ("B", "2026-10-02", 2.0, "completed")])
    assert (
        segmentation_analysis(connect(orders=tiny), "2026-10-31", "2026-09-30", "2026-08-31").clusters is None
    )

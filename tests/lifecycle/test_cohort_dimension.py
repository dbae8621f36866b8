"""Cohorts compared by a dimension use the order line's value where the lines hold one, else the customer's; a
column the source did not have (empty in the validated table) is no dimension."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from salesperf.analyses.lifecycle import text
from salesperf.analyses.lifecycle.queries import dimension_source
from salesperf.core.errors import UserError
from salesperf.data.dataset import open_dataset

ORDERS = pd.DataFrame(
    {
        "customer_id": ["A", "B"],
        "order_date": pd.to_datetime(["2026-10-02", "2026-10-03"]),
        "amount": [10.0, 20.0],
    }
)


def _dataset(folder, orders, customers=None):
    folder.mkdir()
    orders.to_parquet(folder / "orders.parquet", index=False)
    if customers is not None:
        customers.to_parquet(folder / "customers.parquet", index=False)
    return open_dataset(folder, "2026-10", "2026-11-27")


def test_the_line_channel_where_the_lines_hold_one(tmp_path):
    customers = pd.DataFrame({"customer_id": ["A", "B"], "channel": ["web", "shop"]})
    ds = _dataset(tmp_path / "c", ORDERS.assign(channel=["online", "direct"]), customers)
    assert dimension_source(ds.con, "channel") == ("orders", "channel")


def test_the_customer_channel_when_the_lines_have_none(tmp_path):
    customers = pd.DataFrame({"customer_id": ["A", "B"], "channel": ["web", "shop"]})
    ds = _dataset(tmp_path / "c", ORDERS, customers)
    assert dimension_source(ds.con, "channel") == ("customers", "channel")


def test_orders_only_has_no_channel_to_compare(tmp_path):
    ds = _dataset(tmp_path / "c", ORDERS)
    with pytest.raises(UserError, match="channel"):
        dimension_source(ds.con, "channel")


def test_no_dimension_is_stated_like_every_missing_need():
    life = SimpleNamespace(compare_by="channel")
    assert text.comparison_missing(life, "en") == (
        "No orders.channel / customers.channel in the data: the comparison by channel left out."
    )
    assert (
        text.comparison_missing(life, "zh")
        == "数据中没有 orders.channel / customers.channel：略去按channel的对比。"
    )


def test_the_comparison_sentence_names_best_and_worst():
    curves = pd.DataFrame(
        {
            "channel": ["online", "online", "direct", "direct"],
            "age": [0, 1, 0, 1],
            "cumulative_revenue_per_customer": [10.0, 30.0, 5.0, 10.0],
        }
    )
    life = SimpleNamespace(
        comparison_curves=curves, by_dimension=SimpleNamespace(by="channel"), currency="CNY"
    )
    # age 1 is the oldest both reached: online 30 per customer, 3.0x direct's 10
    assert text.comparison_sentence(life, "en") == (
        "By channel: customers first bought through online brought ¥30 each by age 1, 3.0× those of direct (¥10)."
    )

"""Region profiles come from the order line's region (a store's export: customers buying in several regions), the
customer's only where a line has none; the report says which was used. Shares computed by hand."""

from __future__ import annotations

import pandas as pd
import pytest
from oracle import connect

from salesperf.analyses import registry
from salesperf.analyses.base import Context
from salesperf.analyses.segmentation import text
from salesperf.analyses.segmentation.features import customer_features_sql, mix_source
from salesperf.analyses.segmentation.profiles import group_profiles
from salesperf.data.dataset import open_dataset

# A bought in two regions: East 100 + 20 on two days, West 60 (its customer record says North: not used);
# B's lines carry no region, so B's customer region South counts (30); C has neither (10: in no region share).
ORDERS = pd.DataFrame(
    {
        "customer_id": ["A", "A", "A", "B", "C"],
        "order_date": pd.to_datetime(["2026-10-02", "2026-10-02", "2026-10-20", "2026-10-05", "2026-10-06"]),
        "amount": [100.0, 60.0, 20.0, 30.0, 10.0],
        "region": ["East", "West", "East", None, None],
    }
)
CUSTOMERS = pd.DataFrame({"customer_id": ["A", "B"], "region": ["North", "South"]})


def _one_segment(features: pd.DataFrame) -> pd.DataFrame:
    return features.assign(segment="s")


def test_a_customer_buying_in_two_regions_counts_in_both():
    con = connect(orders=ORDERS, customers=CUSTOMERS)
    f = customer_features_sql(con, "2026-10-31").set_index("customer_id")
    # A: 180 of purchases, East 120 (2/3), West 60 (1/3); B: South 30 (all); C: no region
    assert f.loc["A", "region_share__East"] == pytest.approx(120 / 180)
    assert f.loc["A", "region_share__West"] == pytest.approx(60 / 180)
    assert f.loc["A", "region_share__South"] == 0.0
    assert f.loc["B", "region_share__South"] == 1.0
    assert f.loc["C", ["region_share__East", "region_share__West", "region_share__South"]].sum() == 0.0
    assert "region_share__North" not in f  # the customer record is not used where the lines have a region
    # the segment's revenue with a region: 120 East, 60 West, 30 South of 210 -> 57 %, 29 %, 14 %
    profile = group_profiles(_one_segment(f.reset_index()), "segment").set_index("group")
    assert profile.loc["s", "top_regions"] == "East 57%, West 29%, South 14%"


def test_regions_from_the_customer_only_when_the_lines_have_none():
    con = connect(orders=ORDERS.drop(columns="region"), customers=CUSTOMERS)
    assert mix_source(con, "region") == (False, "customers")
    f = customer_features_sql(con, "2026-10-31")
    # A's 180 under North, B's 30 under South: 180 / 210 = 86 %, 30 / 210 = 14 %
    profile = group_profiles(_one_segment(f), "segment").set_index("group")
    assert profile.loc["s", "top_regions"] == "North 86%, South 14%"


def test_a_frame_with_one_region_per_customer_is_weighted_by_revenue():
    frame = pd.DataFrame(
        {
            "segment": ["s"] * 3,
            "monetary": [90.0, 10.0, 5.0],
            "gross_revenue": [90.0, 10.0, 5.0],
            "n_orders": [1] * 3,
        }
    )
    frame["region"] = ["N", "E", "E"]  # two E customers, but N brings 90 of 105
    assert group_profiles(frame).set_index("group").loc["s", "top_regions"] == "N 86%, E 14%"


def _dataset(folder, orders, customers=None):
    folder.mkdir()
    orders.to_parquet(folder / "orders.parquet", index=False)
    if customers is not None:
        customers.to_parquet(folder / "customers.parquet", index=False)
    return open_dataset(folder, "2026-10", "2026-11-27")


@pytest.mark.parametrize(
    ("orders", "customers", "en", "zh"),
    [
        (
            ORDERS,
            CUSTOMERS,
            "those of the order lines (the customer's where a line has none)",
            "订单行无区域时",
        ),
        (ORDERS, None, "Regions are those of the order lines, as shares", "区域取自订单行，"),
        (ORDERS.drop(columns="region"), CUSTOMERS, "Regions are the customers' (the order lines", "客户资料"),
    ],
)
def test_the_report_says_which_region_was_used(tmp_path, orders, customers, en, zh):
    ds = _dataset(tmp_path / "c", orders, customers)
    detail, _ = registry.run("segmentation", ds, Context())
    profiles = detail.segment_profiles
    assert profiles["top_regions"].str.len().gt(0).any()
    east = profiles["top_regions"].str.contains("East").any()
    assert east == ("region" in orders)  # the line's region where the lines have one
    assert "North" not in "".join(profiles["top_regions"]) or "region" not in orders
    [line_en] = text.missing(ds, "segment_profiles", "en")[-1:]
    [line_zh] = text.missing(ds, "segment_profiles", "zh")[-1:]
    assert en in line_en and zh in line_zh


def test_no_region_anywhere_says_nothing_about_regions(tmp_path):
    ds = _dataset(tmp_path / "c", ORDERS.drop(columns="region"))
    assert text.region_source(ds, "en") == []
    lines = text.missing(ds, "segment_profiles", "en")
    assert "No orders.region / customers.region in the data: Top regions left out." in lines


def test_regions_written_in_two_cases_stay_two_regions():
    """'East' and 'east' are two values of the export (SQL names are case-blind: they must not merge or fail)."""
    orders = ORDERS.assign(region=["East", "West", "east", None, None])
    f = customer_features_sql(connect(orders=orders, customers=CUSTOMERS), "2026-10-31").set_index("customer_id")
    assert f.loc["A", "region_share__East"] == pytest.approx(100 / 180)
    assert f.loc["A", "region_share__east"] == pytest.approx(20 / 180)

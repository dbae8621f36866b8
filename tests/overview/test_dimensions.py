"""Overview on hand-made data: region from the order line where it has one, else the customer's; the trend starts
at the first order."""

from __future__ import annotations

import pandas as pd

from salesperf.analyses import registry
from salesperf.analyses.base import Context
from salesperf.data.dataset import open_dataset


def _company(folder, orders: pd.DataFrame, customers: pd.DataFrame | None = None):
    folder.mkdir(exist_ok=True)
    orders.to_parquet(folder / "orders.parquet", index=False)
    if customers is not None:
        customers.to_parquet(folder / "customers.parquet", index=False)
    return open_dataset(folder, "2026-10", "2026-11-27")


def test_revenue_by_region_uses_the_line_region_then_the_customer_region(tmp_path):
    # A bought in two regions (line values East 100, West 50; the customer record says North: not used);
    # B's lines carry no region, so B's customer region South counts (30); C has neither (7, left out).
    orders = pd.DataFrame(
        {
            "customer_id": ["A", "A", "B", "C"],
            "order_date": pd.to_datetime(["2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05"]),
            "amount": [100.0, 50.0, 30.0, 7.0],
            "region": ["East", "West", None, None],
        }
    )
    customers = pd.DataFrame({"customer_id": ["A", "B"], "region": ["North", "South"]})
    ds = _company(tmp_path / "c", orders, customers)
    detail, _ = registry.run("overview", ds, Context())
    assert dict(zip(detail.regions["key"], detail.regions["revenue"], strict=True)) == {
        "East": 100.0,
        "West": 50.0,
        "South": 30.0,
    }
    assert registry.get("overview").needs.absent(ds) == ["orders.product_id", "targets", "reps.team"]


def test_region_on_the_line_alone_is_enough(tmp_path):
    orders = pd.DataFrame(
        {
            "customer_id": ["A", "B"],
            "order_date": pd.to_datetime(["2026-10-02", "2026-10-03"]),
            "amount": [10.0, 20.0],
            "region": ["East", "East"],
        }
    )
    ds = _company(tmp_path / "c", orders)
    detail, _ = registry.run("overview", ds, Context())
    assert detail.regions[["key", "revenue"]].to_dict("records") == [{"key": "East", "revenue": 30.0}]
    assert "orders.region / customers.region" not in registry.get("overview").needs.absent(ds)


def test_the_trend_starts_at_the_first_order(tmp_path):
    # first order in August 2026: three months (Aug, Sep with no orders, Oct), not 24 with 21 empty ones
    orders = pd.DataFrame(
        {
            "customer_id": ["A", "B"],
            "order_date": pd.to_datetime(["2026-08-20", "2026-10-03"]),
            "amount": [10.0, 20.0],
        }
    )
    detail, _ = registry.run("overview", _company(tmp_path / "c", orders), Context())
    assert [m.strftime("%Y-%m") for m in detail.trend["month"]] == ["2026-08", "2026-09", "2026-10"]
    assert detail.trend["revenue"].tolist() == [10.0, 0.0, 20.0]

"""Copies per region (``--each region``) when the order lines carry their own region: each line in its region's copy,
the customer's region only for lines without one (hand-counted)."""

from __future__ import annotations

import pandas as pd
import pytest

from salesperf.core.errors import UserError
from salesperf.data.dataset import entities, open_dataset


@pytest.fixture
def company(tmp_path):
    # A's record says North, but A bought in East (100) and West (50); B's lines carry no region: B's South counts (30)
    orders = pd.DataFrame(
        {
            "customer_id": ["A", "A", "B"],
            "order_date": pd.to_datetime(["2026-10-02", "2026-10-03", "2026-10-04"]),
            "amount": [100.0, 50.0, 30.0],
            "region": ["East", "West", None],
        }
    )
    orders.to_parquet(tmp_path / "orders.parquet", index=False)
    pd.DataFrame({"customer_id": ["A", "B"], "region": ["North", "South"]}).to_parquet(
        tmp_path / "customers.parquet", index=False
    )
    return tmp_path


def _copy(folder, region):
    ds = open_dataset(folder, "2026-10", "2026-11-27", entity=f"region:{region}")
    revenue = ds.con.execute("SELECT coalesce(sum(amount), 0) FROM orders").fetchall()[0][0]
    customers = sorted(r[0] for r in ds.con.execute("SELECT customer_id FROM customers").fetchall())
    return revenue, customers


def test_each_line_goes_to_its_own_region_and_the_customer_to_every_region_they_bought_in(company):
    assert entities(open_dataset(company, "2026-10", "2026-11-27"), "region") == ["East", "North", "South", "West"]
    assert _copy(company, "East") == (100.0, ["A"])
    assert _copy(company, "West") == (50.0, ["A"])
    assert _copy(company, "South") == (30.0, ["B"])
    assert _copy(company, "North") == (0.0, ["A"])  # A's record names North; none of A's lines were bought there


def test_regions_on_the_lines_alone_are_enough(tmp_path):
    pd.DataFrame(
        {
            "customer_id": ["A", "B"],
            "order_date": pd.to_datetime(["2026-10-02", "2026-10-03"]),
            "amount": [10.0, 20.0],
            "region": ["East", "West"],
        }
    ).to_parquet(tmp_path / "orders.parquet", index=False)
    assert entities(open_dataset(tmp_path, "2026-10", "2026-11-27"), "region") == ["East", "West"]
    ds = open_dataset(tmp_path, "2026-10", "2026-11-27", entity="region:West")
    assert ds.con.execute("SELECT customer_id, amount FROM orders").fetchall() == [("B", 20.0)]


def test_no_region_anywhere_is_one_clear_message(tmp_path):
    pd.DataFrame(
        {"customer_id": ["A"], "order_date": pd.to_datetime(["2026-10-02"]), "amount": [10.0]}
    ).to_parquet(tmp_path / "orders.parquet", index=False)
    with pytest.raises(UserError, match="--each region needs a region on the order lines or on the customers"):
        entities(open_dataset(tmp_path, "2026-10", "2026-11-27"), "region")

"""Without a customers or opportunities table nobody can be known as potential: the status table, the status mix
and the customers tile leave potential out (the section's stated line says why) instead of showing 0."""

from __future__ import annotations

import pandas as pd

from salesperf.analyses import registry
from salesperf.analyses.base import Context
from salesperf.analyses.segmentation import text
from salesperf.data.dataset import open_dataset

ORDERS = pd.DataFrame(
    {
        "customer_id": ["A", "A", "B", "C"],
        "order_date": pd.to_datetime(["2026-08-02", "2026-10-03", "2026-10-04", "2026-10-05"]),
        "amount": [100.0, 50.0, 30.0, 7.0],
    }
)


def _run(folder, customers=None):
    folder.mkdir()
    ORDERS.to_parquet(folder / "orders.parquet", index=False)
    if customers is not None:
        customers.to_parquet(folder / "customers.parquet", index=False)
    ds = open_dataset(folder, "2026-10", "2026-11-27")
    return ds, registry.run("segmentation", ds, Context())[0]


def test_orders_only_has_no_potential_row(tmp_path):
    ds, seg = _run(tmp_path / "c")
    assert "potential" not in set(seg.status.summary["status"])
    assert seg.status.summary["customers"].sum() == 3
    assert text.tiles(seg, "en")[0].delta == ""
    mix = text.status_sentences(seg.status, "en", "CNY")[1]
    assert "potential" not in mix
    assert text.missing(ds, "customer_status", "en") == [
        "No customers / opportunities in the data: potential customers (known to the CRM, never bought) left out."
    ]


def test_a_crm_table_keeps_the_potential_row(tmp_path):
    customers = pd.DataFrame({"customer_id": ["A", "B", "C", "P"]})  # P never bought
    _, seg = _run(tmp_path / "c", customers)
    summary = seg.status.summary.set_index("status")
    assert summary.loc["potential", "customers"] == 1
    assert text.tiles(seg, "en")[0].delta == "1 potential"

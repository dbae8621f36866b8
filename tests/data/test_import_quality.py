"""The import accounting in the data quality (issue 9, item 5): for a table made by ``salesperf import``, source rows
= imported + dropped (+ merged) at import, and imported = used + excluded; carried into the snapshot.

The export is tests/fixtures/retail_drops/online_retail_drops.csv; its README lists what happens to each line.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from salesperf.core.periods import parse_period
from salesperf.data.catalog import load_catalog, resolve
from salesperf.data.dataset import build_snapshot, open_dataset
from salesperf.data.importer import run_import
from salesperf.data.quality import ImportStep, QualityReport, TableQuality

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "retail_drops"
TODAY = "2026-11-27"


@pytest.fixture
def imported(tmp_path) -> Path:
    out = tmp_path / "retail"
    run_import([FIXTURE / "online_retail_drops.csv"], out, mapping=FIXTURE / "online_retail_drops.yml")
    return out


def _chain(t: TableQuality) -> None:
    dropped, merged = sum(t.at_import("dropped").values()), sum(t.at_import("merged").values())
    assert t.source_rows == t.rows_read + dropped + merged
    assert t.rows_read == t.rows_used + sum(t.excluded.values())


def test_orders_source_rows_are_imported_plus_dropped_and_imported_are_used_plus_excluded(imported):
    q = open_dataset(imported, "2010-12", today=TODAY).quality.get("orders")
    assert (q.source_rows, q.rows_read, q.rows_used) == (12, 8, 5)
    assert q.at_import("dropped") == {"missing customer_id": 3, "report footer or subtotal row": 1}
    assert q.at_import("merged") == {} and q.at_import("conflict") == {}
    assert q.excluded == {"after the period end": 1, "cancelled (status)": 1, "duplicate row": 1}
    _chain(q)
    missing = next(s for s in q.imported if s.reason == "missing customer_id")
    assert (missing.source, missing.examples) == ("online_retail_drops.csv", "line 6, line 7, line 8")


def test_customers_merged_at_import_and_the_conflict_with_the_value_kept(imported):
    q = open_dataset(imported, "2010-12", today=TODAY).quality.get("customers")
    assert (q.source_rows, q.rows_read, q.rows_used) == (12, 3, 3)
    assert q.at_import("merged") == {"repeated customer_id row merged (one row per customer_id)": 5}
    _chain(q)
    conflict = next(s for s in q.imported if s.kind == "conflict")
    assert (
        conflict.rows == 1 and conflict.examples == "13047: United Kingdom (2) / France (1) -> United Kingdom"
    )


def test_the_frame_lists_the_import_lines_before_the_exclusions(imported):
    frame = open_dataset(imported, "2010-12", today=TODAY).quality.frame()
    orders = frame[frame["table"] == "orders"]
    assert orders["kind"].tolist() == ["dropped_at_import"] * 2 + ["excluded"] * 3
    assert set(orders["source_rows"]) == {12} and set(orders["rows_read"]) == {8}
    assert orders.loc[orders["kind"] == "dropped_at_import", "rows"].sum() == 12 - 8
    customers = frame[frame["table"] == "customers"]
    assert customers["kind"].tolist() == [
        "dropped_at_import",
        "dropped_at_import",
        "merged_at_import",
        "conflict_at_import",
    ]


def test_the_snapshot_keeps_the_import_accounting(imported, tmp_path):
    fresh = open_dataset(imported, "2010-12", today=TODAY).quality
    snapshot = build_snapshot(
        resolve(data=imported), parse_period("2010-12"), tmp_path / "s.duckdb", date(2026, 11, 27)
    )
    assert snapshot.quality == fresh
    assert snapshot.quality.frame().equals(fresh.frame())


def test_a_catalog_pointing_at_the_imported_files_carries_the_accounting(imported, tmp_path):
    catalog = tmp_path / "elsewhere" / "catalog.yml"
    catalog.parent.mkdir()
    catalog.write_text(f"tables:\n  orders: {imported / 'orders.csv'}\n", encoding="utf-8")
    q = open_dataset(load_catalog(catalog), "2010-12", today=TODAY).quality.get("orders")
    assert (q.source_rows, q.rows_read) == (12, 8) and q.at_import("dropped")


def test_tables_not_made_by_the_import_have_no_import_lines(imported, tmp_path):
    folder = tmp_path / "by_hand"
    folder.mkdir()
    shutil.copy(imported / "orders.csv", folder / "orders.csv")  # no import_accounting.csv beside it
    q = open_dataset(folder, "2010-12", today=TODAY).quality
    assert q.get("orders").imported == [] and q.get("orders").source_rows == 8 and not q.has_import
    assert set(q.frame()["kind"]) == {"excluded"}


def test_a_file_changed_after_the_import_is_stated_not_shown(imported):
    lines = pd.read_csv(imported / "orders.csv", dtype=str)
    lines.head(6).to_csv(imported / "orders.csv", index=False)  # two lines deleted by hand
    quality = open_dataset(imported, "2010-12", today=TODAY).quality
    q = quality.get("orders")
    assert q.imported == [] and q.import_stale == 8 and q.source_rows == q.rows_read == 6
    assert quality.get("customers").imported  # the customers file is as the import wrote it
    (note,) = quality.notes("en")
    assert note.startswith(
        "orders: import_accounting.csv counts 8 rows written to orders.csv, which now holds 6"
    )
    assert "orders.csv" in quality.notes("zh")[0]


def test_from_json_is_the_inverse_of_to_json():
    step = ImportStep("dropped", "missing customer_id", 3, "line 6", "a.csv")
    report = QualityReport([TableQuality("orders", "o.csv", 8, 5, {"duplicate row": 1}, imported=[step])])
    assert QualityReport.from_json(report.to_json()) == report

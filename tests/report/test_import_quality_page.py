"""Rows dropped at import reach every report's data-quality section (issue 9, item 5).

tests/fixtures/retail_drops/online_retail_drops.csv (12 lines; its README says what happens to each) is imported with
its mapping, then the whole report set is run for December 2010 in English and the overview in Chinese. Every page's
data-quality table and sentences show: source rows = imported + dropped at import, by reason with examples;
imported = used + excluded; the customer with two regions and the value kept. The manifest's quality list too.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support import ReportRun, salesperf_run, table_rows, texts_of_class

from salesperf.data.importer import run_import

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "retail_drops"
PERIOD = "2010-12"
HEADER = {
    "en": ["Table", "Source rows", "Rows imported", "Rows used", "Kind", "Reason", "Rows", "Examples"],
    "zh": ["数据表", "源数据行数", "导入行数", "使用行数", "类别", "原因", "行数", "示例"],
}
KINDS = {
    "en": {"dropped": "dropped at import", "merged": "merged at import", "excluded": "excluded"},
    "zh": {"dropped": "导入时剔除", "merged": "导入时合并", "excluded": "剔除"},
}
CONFLICT = "13047: United Kingdom (2) / France (1) -> United Kingdom"
# (table, source rows, imported, used, kind, reason, rows, examples), hand-counted from the fixture's README
EXPECTED = {
    "en": [
        [
            "customers",
            "12",
            "3",
            "3",
            "dropped at import",
            "missing customer_id",
            "3",
            "line 6, line 7, line 8",
        ],
        ["customers", "12", "3", "3", "dropped at import", "report footer or subtotal row", "1", ""],
        [
            "customers",
            "12",
            "3",
            "3",
            "merged at import",
            "repeated customer_id row merged (one row per customer_id)",
            "5",
            "17850, 13047",
        ],
        [
            "customers",
            "12",
            "3",
            "3",
            "conflicting values at import",
            "customers with conflicting region values (kept the most frequent; ties: the latest)",
            "1",
            CONFLICT,
        ],
        ["orders", "12", "8", "5", "dropped at import", "missing customer_id", "3", "line 6, line 7, line 8"],
        ["orders", "12", "8", "5", "dropped at import", "report footer or subtotal row", "1", ""],
        ["orders", "12", "8", "5", "excluded", "after the period end", "1", "'536373'"],
        ["orders", "12", "8", "5", "excluded", "cancelled (status)", "1", "'C536372'"],
        ["orders", "12", "8", "5", "excluded", "duplicate row", "1", "'536366'"],
    ],
    "zh": [
        ["customers", "12", "3", "3", "导入时剔除", "缺少 customer_id", "3", "line 6, line 7, line 8"],
        ["customers", "12", "3", "3", "导入时剔除", "报表页脚或小计行", "1", ""],
        [
            "customers",
            "12",
            "3",
            "3",
            "导入时合并",
            "重复的 customer_id 行已合并（每个 customer_id 一行）",
            "5",
            "17850, 13047",
        ],
        [
            "customers",
            "12",
            "3",
            "3",
            "导入时取值不一致",
            "customers 的 region 取值不一致（保留出现最多的值；并列时取最新的）",
            "1",
            CONFLICT,
        ],
        ["orders", "12", "8", "5", "导入时剔除", "缺少 customer_id", "3", "line 6, line 7, line 8"],
        ["orders", "12", "8", "5", "导入时剔除", "报表页脚或小计行", "1", ""],
        ["orders", "12", "8", "5", "剔除", "晚于报告期末", "1", "'536373'"],
        ["orders", "12", "8", "5", "剔除", "已取消（状态）", "1", "'C536372'"],
        ["orders", "12", "8", "5", "剔除", "重复行", "1", "'536366'"],
    ],
}
SENTENCES = {
    "en": (
        "orders: 12 source rows = 8 imported + 4 dropped at import (3 missing customer_id; 1 report footer or subtotal"
        " row); 8 imported = 5 used + 3 excluded (1 after the period end; 1 cancelled (status); 1 duplicate row).",
        "customers: 12 source rows = 3 imported + 4 dropped at import (3 missing customer_id; 1 report footer or"
        " subtotal row) + 5 merged at import (5 repeated customer_id row merged (one row per customer_id)); 3 imported"
        " = 3 used + 0 excluded. customers with conflicting region values (kept the most frequent; ties: the latest):"
        " 1; the table below shows which value was kept.",
    ),
    "zh": (
        "orders：源数据 12 行 = 导入 8 行 + 导入时剔除 4 行（3 缺少 customer_id；1 报表页脚或小计行）；导入 8 行 = 使用 5 行 +"
        " 剔除 3 行（1 晚于报告期末；1 已取消（状态）；1 重复行）。",
    ),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, ReportRun]:
    data = tmp_path_factory.mktemp("retail_drops") / "data"
    run_import([FIXTURE / "online_retail_drops.csv"], data, mapping=FIXTURE / "online_retail_drops.yml")
    out = tmp_path_factory.mktemp("retail_drops_reports")
    with ThreadPoolExecutor(max_workers=2) as pool:
        en = pool.submit(salesperf_run, data, out / "en", "--workers", 2, period=PERIOD)
        zh = pool.submit(salesperf_run, data, out / "zh", "--reports", "overview", period=PERIOD, lang="zh")
        return {"en": en.result(), "zh": zh.result()}


def _quality_rows(page: str, lang: str) -> list[list[str]]:
    """The rows of a page's data-quality table (below its header)."""
    rows = table_rows(page)
    start = rows.index(HEADER[lang]) + 1
    end = next((i for i in range(start, len(rows)) if rows[i][0] not in ("orders", "customers")), len(rows))
    return rows[start:end]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_page_shows_the_rows_dropped_at_import_and_the_chain(runs, lang):
    run = runs[lang]
    reports = run.manifest["reports"]
    assert len(reports) == (6 if lang == "en" else 1)
    for report in reports:
        page = run.html(report["instance"])
        rows = _quality_rows(page, lang)
        assert rows == EXPECTED[lang], report["instance"]
        for table in ("orders", "customers"):
            mine = [r for r in rows if r[0] == table]
            source, imported, used = (int(x) for x in mine[0][1:4])
            at_import = sum(
                int(r[6]) for r in mine if r[4] in (KINDS[lang]["dropped"], KINDS[lang]["merged"])
            )
            excluded = sum(int(r[6]) for r in mine if r[4] == KINDS[lang]["excluded"])
            assert source == imported + at_import and imported == used + excluded, (table, mine)
        narrative = " ".join(texts_of_class(page, "sp-narrative"))
        for sentence in SENTENCES[lang]:
            assert sentence in narrative, report["instance"]


def test_the_manifest_quality_list_carries_the_import(runs):
    quality = runs["en"].manifest["quality"]
    orders = [q for q in quality if q["table"] == "orders"]
    assert {q["source_rows"] for q in orders} == {12} and {q["rows_read"] for q in orders} == {8}
    dropped = {q["reason"]: q["rows"] for q in orders if q["kind"] == "dropped_at_import"}
    assert dropped == {"missing customer_id": 3, "report footer or subtotal row": 1}
    assert {q["source"] for q in orders if q["kind"] == "dropped_at_import"} == {"online_retail_drops.csv"}
    conflicts = [q for q in quality if q["kind"] == "conflict_at_import"]
    assert [(q["table"], q["rows"], q["examples"]) for q in conflicts] == [("customers", 1, CONFLICT)]

"""Only orders is required, really: the demo company with optional data taken away, one piece at a time.

Cells: orders with customer_id, order_date and amount alone (no other table); each optional table of the demo
removed in turn; each optional orders column removed in turn. In every cell every notebook of the default report
set runs (its own cells, executed in this process on one dataset: see notebook_exec.py), no Python warning is
raised, and each section whose optional data are missing says so in its one stated line — the lines are derived
from each analysis's ``needs``, the one place it declares what it reads. The orders-only cell also goes through
``salesperf run`` (papermill, nbconvert, manifest) once.

Speed: the cells use a slice of the demo company (its first 100 customers and everything that refers to them): the
matrix checks shapes, not scale, and a kernel-free cell takes a few seconds. The tables and orders columns that no
analysis declares in its ``needs`` (and so none reads) are removed together in one cell, ``no_unread``; a test
keeps that group honest (a need naming one of them fails it, and the piece then gets its own cell).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from notebook_exec import open_case, render
from support import DEMO_END, PERIOD, TODAY, salesperf_run

from salesperf.analyses import registry
from salesperf.data.schema import TABLES

CUSTOMERS = 100
REPORTS = (
    "overview",
    "lifecycle",
    "segmentation",
    "forecast",
    "reps",
    "summary",
)  # the summary last: it reads the others' results
REQUIRED = TABLES["orders"].required


def _demo_tables(company: Path) -> dict[str, object]:
    """The demo's tables as arrow tables, cut to its first CUSTOMERS customers where a table names customers."""
    tables = {p.stem: pq.read_table(p) for p in sorted(company.glob("*.parquet"))}
    orders = tables["orders"].to_pandas()
    keep = sorted(orders["customer_id"].astype(str).unique())[:CUSTOMERS]
    out = {}
    for name, table in tables.items():
        if "customer_id" in table.column_names:
            frame = table.to_pandas()
            table = table.filter(frame["customer_id"].astype(str).isin(keep).to_numpy())
        out[name] = table
    return out


OPTIONAL_TABLES = (
    "customers",
    "products",
    "reps",
    "targets",
    "opportunities",
    "opportunity_history",
    "activities",
    "training",
    "feedback",
    "tickets",
)
OPTIONAL_COLUMNS = tuple(c for c in TABLES["orders"].names if c not in REQUIRED)

#: Optional data no analysis reads today (tested below against every analysis's needs): one cell removes them all.
UNREAD_TABLES = ("tickets",)
UNREAD_COLUMNS = ("quantity", "unit_price", "currency")

CASES = {
    "orders_only": ((*OPTIONAL_TABLES,), OPTIONAL_COLUMNS),
    **{f"no_{t}": ((t,), ()) for t in OPTIONAL_TABLES if t not in UNREAD_TABLES},
    **{f"no_orders.{c}": ((), (c,)) for c in OPTIONAL_COLUMNS if c not in UNREAD_COLUMNS},
    "no_unread": (UNREAD_TABLES, UNREAD_COLUMNS),
}


@pytest.fixture(scope="session")
def matrix_tables(demo_company) -> dict:
    return _demo_tables(demo_company)


def write_case(tables: dict, folder: Path, drop_tables=(), drop_columns=()) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        if name in drop_tables:
            continue
        if name == "orders":
            table = table.drop_columns([c for c in drop_columns if c in table.column_names])
        pq.write_table(table, folder / f"{name}.parquet")
    return folder


def expected_lines(ds, lang: str = "en") -> dict[str, list[str]]:
    """Per report, the stated lines its sections owe the reader for what ``ds`` lacks."""
    lines = {}
    for name in registry.names():
        analysis = registry.get(name)
        sections = {section for section, _ in analysis.needs.optional.values()}
        lines[name] = [line for s in sorted(sections) for line in analysis.missing_lines(ds, s, lang)]
    return lines


def test_the_matrix_covers_every_optional_table_and_orders_column():
    assert set(OPTIONAL_TABLES) == set(TABLES) - {"orders"}
    assert set(OPTIONAL_COLUMNS) == {c.name for c in TABLES["orders"].columns if not c.required}
    assert len(CASES) == 2 + len(OPTIONAL_TABLES) + len(OPTIONAL_COLUMNS) - len(UNREAD_TABLES) - len(
        UNREAD_COLUMNS
    )


def test_the_unread_group_is_read_by_no_analysis():
    declared = {
        alternative
        for name in registry.names()
        for need in registry.get(name).needs.optional
        for alternative in need.split(" / ")
    }
    assert not {d.split(".")[0] for d in declared} & set(UNREAD_TABLES)
    assert not declared & {f"orders.{c}" for c in UNREAD_COLUMNS}


@pytest.mark.parametrize("case", list(CASES))
def test_every_report_renders_and_says_what_is_missing(case, matrix_tables, tmp_path):
    drop_tables, drop_columns = CASES[case]
    ds = open_case(write_case(matrix_tables, tmp_path / case, drop_tables, drop_columns), PERIOD, TODAY)
    owed = expected_lines(ds)
    for report in REPORTS:
        page = render(report, ds)
        assert page.html, f"{case}: {report} showed nothing"
        assert page.warnings == [], f"{case}: {report} raised warnings {page.warnings}"
        for line in owed.get(report, []):
            assert page.text.count(line) == 1, f"{case}: {report} does not say {line!r} once"
        assert report == "summary" or report in ds.results, f"{case}: no {report} result"
    absent = {need for name in registry.names() for need in registry.get(name).needs.absent(ds)}
    for need in absent:  # a stated line names what is missing
        assert any(need in line for lines in owed.values() for line in lines)
    if case == "orders_only":
        assert owed["overview"] and owed["segmentation"] and owed["lifecycle"]


def test_missing_lines_are_worded_in_both_languages(matrix_tables, tmp_path):
    ds = open_case(
        write_case(matrix_tables, tmp_path / "bare", OPTIONAL_TABLES, OPTIONAL_COLUMNS), PERIOD, TODAY
    )
    en, zh = expected_lines(ds, "en"), expected_lines(ds, "zh")
    assert en["overview"][0] == "No targets in the data: Attainment left out."
    assert zh["overview"][0] == "数据中没有 targets：略去目标完成率。"
    assert [len(v) for v in en.values()] == [len(v) for v in zh.values()]
    page = render("segmentation", ds, lang="zh")
    assert all(line in page.text for line in zh["segmentation"])


def test_orders_only_goes_through_salesperf_run(matrix_tables, tmp_path):
    folder = write_case(matrix_tables, tmp_path / "orders_only", OPTIONAL_TABLES, OPTIONAL_COLUMNS)
    assert pq.read_schema(folder / "orders.parquet").names == list(REQUIRED)
    run = salesperf_run(folder, tmp_path / "reports", "--workers", 2)
    assert run.manifest["status"] == "ok"
    statuses = {r["report"]: r["status"] for r in run.manifest["reports"]}
    assert statuses == dict.fromkeys(REPORTS, "ok") | {r: "ok" for r in statuses}
    assert set(statuses) >= set(REPORTS)
    ds = open_case(folder, PERIOD, TODAY)
    for report, lines in expected_lines(ds).items():
        page = run.html(report)
        for line in lines:
            assert line in page, f"{report}.html does not say {line!r}"


# ------------------------------------------------------------------------------------------- thin and short data
def _thin_cases(tables: dict) -> dict[str, tuple[pd.DataFrame, pd.DataFrame | None, str]]:
    """name -> (orders with the three required columns, customers or None, fan-out entity)."""
    orders = tables["orders"].to_pandas()[list(REQUIRED)]
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    end = pd.Timestamp(DEMO_END)
    ids = sorted(orders["customer_id"].astype(str).unique())
    cases = {
        f"{m}_months": (orders[orders["order_date"] > end - pd.DateOffset(months=m)], None, "")
        for m in (1, 3, 6, 11, 13, 40)
    }
    cases |= {f"{n}_customers": (orders[orders["customer_id"].isin(ids[:n])], None, "") for n in (1, 2, 10)}
    first = orders.sort_values(["order_date", "customer_id"]).groupby("customer_id").head(1)
    cases["no_repeat_buyer"] = (first, None, "")
    cases["one_day"] = (orders.assign(order_date=pd.Timestamp("2026-10-15")), None, "")
    regions = pd.DataFrame(
        {"customer_id": ids, "region": ["Tiny" if i < 3 else "Main" for i in range(len(ids))]}
    )
    cases["entity_of_3_customers"] = (orders, regions, "region:Tiny")
    return cases


THIN = ("1_months", "3_months", "6_months", "11_months", "13_months", "40_months", "1_customers",
        "2_customers", "10_customers", "no_repeat_buyer", "one_day", "entity_of_3_customers")  # fmt: skip


@pytest.mark.parametrize("case", THIN)
def test_thin_and_short_data_render_and_say_what_they_could_not_do(case, matrix_tables, tmp_path):
    orders, customers, entity = _thin_cases(matrix_tables)[case]
    folder = tmp_path / case
    folder.mkdir()
    orders.to_parquet(folder / "orders.parquet", index=False)
    if customers is not None:
        customers.to_parquet(folder / "customers.parquet", index=False)
    ds = open_case(folder, PERIOD, TODAY, entity)
    pages = {}
    for report in REPORTS:
        page = render(report, ds)
        assert page.warnings == [], f"{case}: {report} raised warnings {page.warnings}"
        pages[report] = page.text
    life = ds.results["lifecycle"]
    assert life is not None and "segmentation" in ds.results
    months = int(case.split("_")[0]) if case.endswith("_months") else None
    if months is not None and months < 6:  # at most half the history may be held out, at least 3 months
        assert f"Only {months} month{'s' if months > 1 else ''} of order history" in pages["lifecycle"]
    assert not re.search(r"\b1 months\b", pages["lifecycle"]), f"{case}: '1 months' on the lifecycle page"
    if months in (11, 13):  # a 12-month holdout would leave no calibration window
        assert "in the following 52 weeks" not in pages["lifecycle"]
    if case in ("1_customers", "2_customers", "10_customers", "entity_of_3_customers"):
        assert "no value forecast is given" in pages["lifecycle"]

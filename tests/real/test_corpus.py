"""The real-data corpus (issue 9, item 8): small slices of public real exports (tests/fixtures/real/*/, each with its
PROVENANCE.md) are imported with their mapping from examples/mappings/ (the first through the ``salesperf import``
command, the others with ``run_import``),
every report of the default set is run for one month inside the slice's history, and the figures are checked
against an independent pandas computation made here from the fixture files themselves (not from salesperf's
output): orders, buyers and revenue of every month of the overview's monthly export, and the cohort sizes of the
lifecycle's cohort export. The import accounting must account for every source row.

The runs start together (two at a time, two workers each) the first time a test needs them.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from support import ReportRun, run_salesperf, salesperf_run

from salesperf.data.importer import read_import_accounting, run_import

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "real"
MAPPINGS = ROOT / "examples" / "mappings"
LINE_COLUMNS = ["order_id", "customer_id", "order_date", "amount"]


def _sales_data_sample() -> tuple[pd.DataFrame, int]:
    """Order lines that count (not cancelled) and the number of source lines."""
    raw = pd.read_csv(
        FIXTURES / "sales_data_sample" / "sales_data_sample.csv", encoding="cp437", dtype=str, keep_default_na=False
    )
    kept = raw[raw["STATUS"] != "Cancelled"]
    lines = pd.DataFrame(
        {
            "order_id": kept["ORDERNUMBER"],
            "customer_id": kept["CUSTOMERNAME"],
            "order_date": pd.to_datetime(kept["ORDERDATE"], format="%m/%d/%Y %H:%M"),
            "amount": kept["SALES"].astype(float),
        }
    )
    return lines, len(raw)


def _adventureworks() -> tuple[pd.DataFrame, int]:
    raw = pd.read_csv(FIXTURES / "adventureworks" / "Sales.csv", sep="|", dtype=str)
    lines = pd.DataFrame(
        {
            "order_id": raw["SalesOrderNumber"],
            "customer_id": raw["ResellerKey"],
            "order_date": pd.to_datetime(raw["OrderDate"], format="%Y/%m/%d"),
            "amount": raw["Sales"].astype(float),
        }
    )
    return lines, len(raw)


def _olist() -> tuple[pd.DataFrame, int]:
    folder = FIXTURES / "olist"
    orders = pd.read_csv(folder / "olist_orders_dataset.csv", dtype=str)
    customers = pd.read_csv(folder / "olist_customers_dataset.csv", dtype=str)
    items = pd.read_csv(folder / "olist_order_items_dataset.csv", dtype=str)
    joined = orders.merge(customers, on="customer_id", how="left").merge(items, on="order_id", how="left")
    kept = joined[~joined["order_status"].isin(["canceled", "unavailable"]) & joined["price"].notna()]
    lines = pd.DataFrame(
        {
            "order_id": kept["order_id"],
            "customer_id": kept["customer_unique_id"],
            "order_date": pd.to_datetime(kept["order_purchase_timestamp"]),
            "amount": kept["price"].astype(float),
        }
    )
    return lines, len(joined)  # one source row per item, or one per order without items


def _northwind() -> tuple[pd.DataFrame, int]:
    folder = FIXTURES / "northwind"
    orders = pd.read_csv(folder / "orders.csv", dtype=str, keep_default_na=False)
    details = pd.read_csv(folder / "order_details.csv")
    details["OrderID"] = details["OrderID"].astype(str)
    joined = orders.merge(details, on="OrderID", how="left")
    net = joined["UnitPrice"] * joined["Quantity"] * (1 - joined["Discount"])
    lines = pd.DataFrame(
        {
            "order_id": joined["OrderID"],
            "customer_id": joined["CustomerID"],
            "order_date": pd.to_datetime(joined["OrderDate"]),
            "amount": net.round(6),
        }
    )
    return lines, len(joined)


@dataclass(frozen=True)
class Dataset:
    name: str
    mapping: str
    sources: tuple[str, ...]  # relative to tests/fixtures/real
    period: str
    lines: Callable[[], tuple[pd.DataFrame, int]]


DATASETS = {
    d.name: d
    for d in (
        Dataset(
            "sales_data_sample",
            "sales_data_sample.yml",
            ("sales_data_sample/sales_data_sample.csv",),
            "2004-11",
            _sales_data_sample,
        ),
        Dataset(
            "adventureworks",
            "adventureworks_dw2020_reseller_sales.yml",
            ("adventureworks",),
            "2019-06",
            _adventureworks,
        ),
        Dataset("olist", "olist_brazilian_ecommerce.yml", ("olist",), "2018-06", _olist),
        Dataset("northwind", "northwind.yml", ("northwind",), "1997-12", _northwind),
    )
}


@dataclass
class CorpusRun:
    data: Path
    run: ReportRun


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, CorpusRun]:
    imported = {}
    for i, d in enumerate(DATASETS.values()):
        out = tmp_path_factory.mktemp(f"real_{d.name}")
        sources = [FIXTURES / s for s in d.sources]
        if i == 0:  # the command once; in-process for the others (a command costs seconds of start-up)
            result = run_salesperf("import", "--mapping", MAPPINGS / d.mapping, *sources, "--out", out)
            assert result.returncode == 0, result.describe()
        else:
            run_import(sources, out, mapping=MAPPINGS / d.mapping)
        imported[d.name] = out
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            name: pool.submit(
                salesperf_run,
                folder,
                tmp_path_factory.mktemp(f"reports_{name}") / "reports",
                "--workers",
                2,
                period=DATASETS[name].period,
                check=False,
            )
            for name, folder in imported.items()
        }
        return {name: CorpusRun(imported[name], f.result()) for name, f in futures.items()}


@pytest.fixture(params=list(DATASETS))
def case(request, corpus) -> tuple[Dataset, CorpusRun]:
    return DATASETS[request.param], corpus[request.param]


def _used(lines: pd.DataFrame, period: str) -> pd.DataFrame:
    end = pd.Period(period, "M").end_time
    return lines[(lines["order_date"] <= end) & (lines["amount"] != 0)]


def test_every_source_row_is_imported_or_accounted(case):
    dataset, done = case
    lines, source_rows = dataset.lines()
    acc = read_import_accounting(done.data)
    for _table, rows in acc.groupby("table"):
        n = rows.groupby("kind")["rows"].sum()
        assert n.get("read", 0) + n.get("derived", 0) == n["written"] + n.get("dropped", 0) + n.get(
            "merged", 0
        ), rows
    orders = acc[acc["table"] == "orders"]
    assert orders.loc[orders["kind"] == "read", "rows"].sum() == source_rows
    written = pd.read_csv(done.data / "orders.csv", dtype=str)
    assert orders.loc[orders["kind"] == "written", "rows"].item() == len(written)


def test_every_report_renders(case):
    _, done = case
    run = done.run
    assert run.cli.returncode == 0, run.cli.describe()
    reports = run.manifest["reports"]
    assert {r["report"] for r in reports} >= {
        "overview", "lifecycle", "segmentation", "forecast", "reps", "summary"
    }
    for report in reports:
        assert report["status"] == "ok", report
        assert (run.folder / report["html"]).exists()


def test_monthly_orders_buyers_and_revenue_equal_pandas(case):
    dataset, done = case
    lines, _ = dataset.lines()
    used = _used(lines, dataset.period)
    used = used.assign(month=used["order_date"].dt.strftime("%Y-%m"))
    positive = used[used["amount"] > 0]
    expected = pd.DataFrame(
        {
            "revenue": used.groupby("month")["amount"].sum(),
            "orders": positive.groupby("month")["order_id"].nunique(),
            "customers": positive.groupby("month")["customer_id"].nunique(),
        }
    ).fillna(0)
    monthly = done.run.export("overview", "monthly")
    monthly["m"] = monthly["month"].astype(str).str[:7]
    monthly = monthly.set_index("m")
    assert dataset.period in monthly.index and monthly.index.max() == dataset.period
    inside = monthly.index[monthly.index >= expected.index.min()]
    assert len(inside) >= 6, monthly
    for month in inside:
        want = expected.loc[month] if month in expected.index else pd.Series(0, index=expected.columns)
        got = monthly.loc[month]
        assert (int(got["orders"]), int(got["customers"])) == (int(want["orders"]), int(want["customers"])), month
        assert got["revenue"] == pytest.approx(want["revenue"], abs=0.01), month
    months_before = monthly.index[monthly.index < expected.index.min()]
    assert (monthly.loc[months_before, "revenue"] == 0).all()


def test_cohort_sizes_equal_pandas(case):
    dataset, done = case
    lines, _ = dataset.lines()
    used = _used(lines, dataset.period)
    first = used.groupby("customer_id")["order_date"].min().dt.strftime("%Y-%m")
    expected = first.value_counts().sort_index()
    cohorts = done.run.export("lifecycle", "cohort_activity").groupby("cohort")["cohort_size"].first()
    cohorts.index = cohorts.index.astype(str)
    assert len(cohorts) >= 3
    assert cohorts.to_dict() == {c: int(expected[c]) for c in cohorts.index}
    assert set(cohorts.index) == set(expected.index[expected.index >= cohorts.index.min()])


def test_the_forecast_history_is_the_monthly_revenue_pandas_computes(case):
    # the forecast's total series: every month from the first sale to the report month, net revenue per month
    dataset, done = case
    lines, _ = dataset.lines()
    used = _used(lines, dataset.period)
    expected = used.groupby(used["order_date"].dt.strftime("%Y-%m"))["amount"].sum()
    total = done.run.export("forecast", "total")
    history = total[total["part"] == "history"].assign(m=lambda f: f["ds"].astype(str).str[:7]).set_index("m")
    assert history.index.min() == expected.index.min() and history.index.max() == dataset.period
    for month, value in history["value"].items():
        # the engine rounds each (month, region, category, team, rep) cell to the cent and the total is their
        # sum (so that every level adds up to it): Northwind's discounted lines carry fractions of a cent, and a
        # month of a few dozen cells may differ from the unrounded sum by a few cents
        assert value == pytest.approx(expected.get(month, 0.0), abs=0.05), month
    future = total[total["part"] == "forecast"]
    assert len(future) == 6 and (future["value"] >= 0).all() and (future["lo_80"] <= future["hi_80"]).all()


@pytest.fixture(scope="module")
def forecast_in_chinese(corpus, tmp_path_factory) -> dict[str, ReportRun]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            name: pool.submit(
                salesperf_run,
                done.data,
                tmp_path_factory.mktemp(f"zh_{name}") / "reports",
                "--reports",
                "forecast",
                period=DATASETS[name].period,
                lang="zh",
                check=False,
            )
            for name, done in corpus.items()
        }
        return {name: f.result() for name, f in futures.items()}


@pytest.mark.parametrize("name", list(DATASETS))
def test_the_forecast_renders_in_chinese_on_real_data(forecast_in_chinese, name):
    run = forecast_in_chinese[name]
    assert run.cli.returncode == 0, run.cli.describe()
    page = (run.folder / "forecast.html").read_text(encoding="utf-8")
    assert "销售预测" in page and "预测为" in page
    assert not any(word in page for word in (">nan<", ">inf<", "Traceback"))

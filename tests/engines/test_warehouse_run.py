"""A company whose data live in a warehouse: the demo company's raw tables (as exported, duplicates, cancelled
lines and future dates included) loaded into a real PostgreSQL server, and a catalog naming it as the engine.

Validation, the period cut and every aggregate then run inside PostgreSQL: the row accounting equals the
embedded run's table by table, every report of the set renders with exports equal to the embedded run's, and
what travels back stays proportional to customers and months, not to order lines.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from support import PERIOD, TODAY, run_salesperf

from salesperf.analyses import registry
from salesperf.analyses.base import Context
from salesperf.data.dataset import open_dataset
from salesperf.data.engine import connect

TABLES = ("customers", "orders", "products", "reps", "targets", "opportunities", "activities")


def _planted(company: Path, folder: Path) -> Path:
    """A copy of the demo company whose orders carry one row of each kind validation excludes or flags."""
    for table in TABLES:
        shutil.copy(company / f"{table}.parquet", folder / f"{table}.parquet")
    orders = pq.read_table(company / "orders.parquet").to_pandas()
    line = orders.iloc[[0]]
    planted = [
        orders.iloc[[5, 6]],  # duplicates of lines 5 and 6
        line.assign(order_id="P-CANCEL", status="cancelled"),
        line.assign(order_id="P-ZERO", amount=0.0),
        line.assign(order_id="P-FUTURE", order_date=date(2027, 1, 5)),
        line.assign(order_id="P-LATER", order_date=date(2026, 11, 3)),
        line.assign(order_id="P-STRANGER", customer_id="NOBODY"),
        line.assign(order_id="P-NOCUSTOMER", customer_id=None),
        line.assign(order_id="P-RETURN", status="returned"),
    ]
    pd.concat([orders, *planted], ignore_index=True).to_parquet(folder / "orders.parquet", index=False)
    return folder


def _load(url: str, company: Path, schema: str) -> None:
    """The company's Parquet tables into ``schema`` of the warehouse, types as they are."""
    backend = connect(url).backend
    backend.raw_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
    for table in TABLES:
        backend.create_table(table, pq.read_table(company / f"{table}.parquet"), database=schema)


def _catalog(folder: Path, port_url: str, schema: str) -> Path:
    user, _, rest = port_url.removeprefix("postgresql://").partition("@")
    lines = [f"engine: postgresql://${{SALESPERF_TEST_PGUSER}}@{rest}", "tables:"]
    lines += [f"  {t}: {{table: {schema}.{t}}}" for t in TABLES]
    path = folder / "catalog.yml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def company(demo_company, tmp_path_factory) -> Path:
    return _planted(demo_company, tmp_path_factory.mktemp("planted"))


@pytest.fixture(scope="module")
def warehouse(postgres_url, company, tmp_path_factory, monkeypatch_module):
    monkeypatch_module.setenv("SALESPERF_TEST_PGUSER", postgres_url.removeprefix("postgresql://").split("@")[0])
    _load(postgres_url, company, "shop")
    return _catalog(tmp_path_factory.mktemp("warehouse"), postgres_url, "shop")


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_the_row_accounting_is_the_embedded_one(warehouse, company):
    inside = open_dataset(warehouse, PERIOD, TODAY)
    embedded = open_dataset(company, PERIOD, TODAY)
    assert inside.engine.name == "postgres"
    for table in TABLES:
        ours, theirs = inside.quality.get(table), embedded.quality.get(table)
        assert (ours.rows_read, ours.rows_used, ours.excluded, ours.flagged, ours.examples) == (
            theirs.rows_read,
            theirs.rows_used,
            theirs.excluded,
            theirs.flagged,
            theirs.examples,
        ), table
    orders = embedded.quality.get("orders")
    assert orders.excluded == {
        "duplicate row": 2,
        "cancelled (status)": 1,
        "zero amount": 1,
        "dated in the future": 1,
        "after the period end": 1,
        "missing customer_id": 1,
    }
    assert orders.flagged["customer not in the customers table"] == 1


def _exports(run_folder: Path) -> dict[str, pd.DataFrame]:
    """Every CSV export of a run's period folder, by file name."""
    return {p.name: pd.read_csv(p) for p in sorted(run_folder.rglob("*.csv"))}


RUN = ("--period", PERIOD, "--today", TODAY, "--lang", "en", "--workers", "2")


@pytest.fixture(scope="module")
def embedded_exports(company, tmp_path_factory) -> dict[str, pd.DataFrame]:
    """The exports of the whole report set run on the company's files (the embedded DuckDB)."""
    out = tmp_path_factory.mktemp("embedded")
    run = run_salesperf("run", "--data", company, "--out", out, *RUN)
    assert run.returncode == 0, run.describe()
    return _exports(out / PERIOD)


def _same_exports(catalog: Path, out: Path, expected: dict[str, pd.DataFrame]) -> None:
    run = run_salesperf("run", "--catalog", catalog, "--out", out, *RUN, timeout=1200)
    assert run.returncode == 0, run.describe()
    ours = _exports(out / PERIOD)
    assert ours.keys() == expected.keys() and len(ours) > 5
    for name, frame in expected.items():
        theirs = frame.drop(columns=["source"], errors="ignore")
        pd.testing.assert_frame_equal(ours[name].drop(columns=["source"], errors="ignore"), theirs, obj=name)


def test_the_report_set_runs_inside_the_warehouse_with_the_embedded_numbers(
    warehouse, embedded_exports, tmp_path
):
    _same_exports(warehouse, tmp_path / "inside", embedded_exports)


def test_the_report_set_runs_on_spark_with_the_embedded_numbers(
    spark_session, company, embedded_exports, tmp_path
):
    """Spark (``local[2]``, a JVM per process of the run) reading the company's Parquet files."""
    catalog = tmp_path / "catalog.yml"
    tables = "".join(f"  {t}: {company / t}.parquet\n" for t in TABLES)
    catalog.write_text(f"engine: local[2]\ntables:\n{tables}", encoding="utf-8")
    _same_exports(catalog, tmp_path / "spark", embedded_exports)


def _fetched(catalog: Path) -> int:
    """Rows that travelled back from the warehouse while validating and computing every analysis."""
    ds = open_dataset(catalog, PERIOD, TODAY)
    for name in ("overview", "lifecycle", "segmentation"):
        registry.run(name, ds, Context())
    return ds.engine.rows_fetched


def _shifted(orders: pd.DataFrame, days: int, suffix: str) -> pd.DataFrame:
    """Every line again under a new order id, ``days`` later where that stays in its month (else the same
    day): new purchase days and order lines, the same customers and months."""
    dates = pd.to_datetime(orders["order_date"])
    later = dates + pd.Timedelta(days=days)
    moved = later.where(later.dt.month == dates.dt.month, dates).dt.date
    return orders.assign(order_id=orders["order_id"].fillna("") + suffix, order_date=moved)


def test_only_aggregates_travel_back(postgres_url, company, warehouse, tmp_path):
    """Three times the order lines and nearly three times the purchase days (the same customers and months):
    the rows fetched do not grow with them; they stay a small multiple of the customers."""
    orders = pq.read_table(company / "orders.parquet").to_pandas()
    tripled = tmp_path / "tripled"
    tripled.mkdir()
    for table in TABLES:
        shutil.copy(company / f"{table}.parquet", tripled / f"{table}.parquet")
    more = pd.concat([orders, _shifted(orders, 1, "-b"), _shifted(orders, 2, "-c")], ignore_index=True)
    more.to_parquet(tripled / "orders.parquet", index=False)
    _load(postgres_url, tripled, "shop3")
    fetched = _fetched(warehouse)
    fetched_tripled = _fetched(_catalog(tmp_path, postgres_url, "shop3"))
    customers = orders["customer_id"].nunique()
    assert fetched_tripled <= fetched * 1.1 and fetched <= 20 * customers, (fetched, fetched_tripled, customers)

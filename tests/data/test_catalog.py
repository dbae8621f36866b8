"""Catalog sources: files, globs, folders, Excel, DuckDB files and SQL databases (SQLite through SQLAlchemy)."""

import sqlite3

import duckdb
import pandas as pd
import pytest

from salesperf.core.errors import UserError
from salesperf.data.catalog import load_catalog, mask_url, resolve
from salesperf.data.dataset import open_dataset

ORDERS = pd.DataFrame(
    {
        "order_id": ["1", "2", "3"],
        "customer_id": ["C1", "C2", "C1"],
        "order_date": ["2026-09-01", "2026-09-15", "2026-10-02"],
        "amount": [100.0, 50.0, 25.0],
    }
)


def _revenue(ds) -> float:
    return ds.sql("SELECT sum(amount) AS s FROM orders")["s"].iloc[0]


def test_folder_of_files_named_after_tables(tmp_path):
    ORDERS.to_csv(tmp_path / "orders.csv", index=False)
    pd.DataFrame({"customer_id": ["C1", "C2"], "region": ["East", "West"]}).to_parquet(
        tmp_path / "customers.parquet"
    )
    ds = open_dataset(tmp_path, "2026-10", today="2026-11-27")
    assert sorted(ds.tables) == ["customers", "orders"]
    assert _revenue(ds) == 175.0


def test_glob_of_csv_files_and_column_mapping(tmp_path):
    (tmp_path / "exports").mkdir()
    renamed = ORDERS.rename(columns={"customer_id": "Kunde", "amount": "Betrag"})
    renamed.iloc[:2].to_csv(tmp_path / "exports" / "orders-1.csv", index=False)
    renamed.iloc[2:].to_csv(tmp_path / "exports" / "orders-2.csv", index=False)
    (tmp_path / "catalog.yml").write_text(
        "tables:\n  orders:\n    path: exports/orders-*.csv\n    columns: {customer_id: Kunde, amount: Betrag}\n"
    )
    ds = open_dataset(tmp_path / "catalog.yml", "2026-10", today="2026-11-27")
    assert ds.quality.get("orders").rows_read == 3
    assert _revenue(ds) == 175.0


def test_excel_sheet(tmp_path):
    with pd.ExcelWriter(tmp_path / "book.xlsx") as xl:
        pd.DataFrame({"x": [1]}).to_excel(xl, sheet_name="Notes", index=False)
        ORDERS.to_excel(xl, sheet_name="Orders", index=False)
    (tmp_path / "catalog.yml").write_text("tables:\n  orders: {path: book.xlsx, sheet: Orders}\n")
    assert _revenue(open_dataset(tmp_path / "catalog.yml", "2026-10", today="2026-11-27")) == 175.0


def test_duckdb_file_and_sqlite_database(tmp_path):
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        con.execute("CREATE TABLE sales AS SELECT * FROM ORDERS")
    with sqlite3.connect(tmp_path / "crm.sqlite") as db:
        pd.DataFrame({"customer_id": ["C1", "C2"], "name": ["Acme", "Beta"]}).to_sql(
            "accounts", db, index=False
        )
    (tmp_path / "catalog.yml").write_text(
        "tables:\n"
        "  orders: {duckdb: wh.duckdb, table: sales}\n"
        f"  customers: {{url: 'sqlite:///{tmp_path}/crm.sqlite', query: 'select * from accounts'}}\n"
    )
    ds = open_dataset(tmp_path / "catalog.yml", "2026-10", today="2026-11-27")
    assert _revenue(ds) == 175.0
    assert ds.sql("SELECT count(*) AS n FROM customers")["n"].iloc[0] == 2


def test_duckdb_file_with_a_query(tmp_path):
    # DuckDB 2 connections no longer have .arrow(): a query source failed with AttributeError
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        con.execute("CREATE TABLE sales AS SELECT * FROM ORDERS")
        con.execute("INSERT INTO sales SELECT * FROM ORDERS")  # the same lines twice: the query keeps one copy
    (tmp_path / "catalog.yml").write_text(
        "tables:\n  orders: {duckdb: wh.duckdb, query: 'SELECT DISTINCT * FROM sales'}\n"
    )
    assert _revenue(open_dataset(tmp_path / "catalog.yml", "2026-10", today="2026-11-27")) == 175.0


def test_credentials_come_from_the_environment_and_are_masked(tmp_path, monkeypatch):
    ORDERS.to_csv(tmp_path / "orders.csv", index=False)
    (tmp_path / "catalog.yml").write_text(
        "tables:\n  orders: orders.csv\n"
        "  customers: {url: 'postgresql://ann:${SP_TEST_SECRET}@127.0.0.1:1/crm', table: accounts}\n"
    )
    with pytest.raises(UserError, match="SP_TEST_SECRET is not set"):
        load_catalog(tmp_path / "catalog.yml")
    monkeypatch.setenv("SP_TEST_SECRET", "hunter2")
    catalog = load_catalog(tmp_path / "catalog.yml")
    assert "hunter2" not in catalog.sources["customers"].location
    assert mask_url("postgresql://ann:hunter2@db/x") == "postgresql://ann:***@db/x"
    assert mask_url("sqlite:///crm.db?password=hunter2&mode=ro") == "sqlite:///crm.db?password=***&mode=ro"
    assert mask_url("mssql+pyodbc://dsn?PWD=hunter2") == "mssql+pyodbc://dsn?PWD=***"


@pytest.mark.parametrize(
    "yaml_text, message",
    [
        ("tables:\n  order: orders.csv\n", "unknown table"),
        ("tables:\n  customers: orders.csv\n", "no orders table"),
        ("tables:\n  orders: missing-*.csv\n", "no file matches"),
        ("tables: [1, 2\n", "not valid YAML"),
    ],
)
def test_bad_catalogs_are_one_line_user_errors(tmp_path, yaml_text, message):
    ORDERS.to_csv(tmp_path / "orders.csv", index=False)
    (tmp_path / "catalog.yml").write_text(yaml_text)
    with pytest.raises(UserError, match=message) as err:
        resolve(catalog=tmp_path / "catalog.yml")
    assert "\n" not in str(err.value)

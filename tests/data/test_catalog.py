"""Catalog sources: files, globs, folders, Excel, DuckDB files and SQL databases (SQLite through SQLAlchemy)."""

import sqlite3
import time

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
        con.execute(
            "INSERT INTO sales SELECT * FROM ORDERS"
        )  # the same lines twice: the query keeps one copy
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


# ------------------------------------------------------------------------------------------------------ schema
# Before: every one of these keys was silently ignored (the orders were read with ',' instead of ';', the
# columns were not renamed and the table failed later for a "missing" column, or the key did nothing).
@pytest.mark.parametrize(
    "yaml_text, message",
    [
        (
            "tables:\n  orders: {path: orders.csv, delimeter: ';'}\n",
            "unknown key 'delimeter' (did you mean 'delimiter'?)",
        ),
        (
            "tables:\n  orders: {path: orders.csv, colums: {amount: Betrag}}\n",
            "unknown key 'colums' (did you mean 'columns'?)",
        ),
        ("tables:\n  orders: {pth: orders.csv}\n", "unknown key 'pth' (did you mean 'path'?)"),
        (
            "tables:\n  orders: {path: orders.csv, shet: Orders}\n",
            "unknown key 'shet' (did you mean 'sheet'?)",
        ),
        (
            "tabels:\n  orders: orders.csv\ntables:\n  orders: orders.csv\n",
            "unknown key 'tabels' (did you mean 'tables'?)",
        ),
        (
            "tables:\n  orders: orders.csv\ncurrancy: GBP\n",
            "unknown key 'currancy' (did you mean 'currency'?)",
        ),
        ("tables:\n  orders: orders.csv\nstage: [Won]\n", "unknown key 'stage' (did you mean 'stages'?)"),
        ("tables:\n  orders: orders.csv\nengin: local[2]\n", "unknown key 'engin' (did you mean 'engine'?)"),
        ("tables:\n  order: orders.csv\n", "unknown table 'order' (did you mean 'orders'?)"),
        (
            "tables:\n  orders: {path: orders.csv, columns: {amout: Betrag}}\n",
            "unknown column 'amout' (did you mean 'amount'?)",
        ),
        (
            "tables:\n  orders: {url: 'sqlite:///x.db', table: o, sheet: 1}\n",
            "'sheet:' does not apply to a url: source",
        ),
        ("tables:\n  orders: {path: orders.csv, delimiter: ';;'}\n", "'delimiter:' is one character"),
        (
            "tables:\n  orders: {path: orders.csv, format: xls}\n",
            "unknown format 'xls' (did you mean 'xlsx'?)",
        ),
        ("tables:\n  orders: {path: [a.csv, b.csv]}\n", "'path:' must be text"),
        ("tables:\n  orders: orders.csv\n  orders: other.csv\n", "key 'orders' is defined twice"),
        ("tables:\n  orders: orders.csv\nstages: Won\n", "'stages:' is a list"),
    ],
)
def test_catalog_keys_outside_the_schema_name_the_nearest_valid_key(tmp_path, yaml_text, message):
    ORDERS.to_csv(tmp_path / "orders.csv", index=False)
    (tmp_path / "catalog.yml").write_text(yaml_text)
    with pytest.raises(UserError) as err:
        resolve(catalog=tmp_path / "catalog.yml")
    assert message in err.value.message and "\n" not in str(err.value)


def test_a_catalog_with_an_engine_is_checked_too(tmp_path):
    (tmp_path / "catalog.yml").write_text("engine: local[2]\ntables:\n  orders: {table: o, colums: {}}\n")
    with pytest.raises(UserError, match="unknown key 'colums' \\(did you mean 'columns'\\?\\)"):
        resolve(catalog=tmp_path / "catalog.yml")


def _alias_bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + f"\ntables:\n  orders: *a{levels - 1}\n"


def test_a_yaml_alias_bomb_is_refused_in_well_under_a_second(tmp_path):
    """Before: the 9**9 strings were expanded when the message quoted the spec (233 s in the probe)."""
    (tmp_path / "catalog.yml").write_text(_alias_bomb())
    started = time.perf_counter()
    with pytest.raises(UserError, match="aliases .* expand to more than 200,000 values"):
        resolve(catalog=tmp_path / "catalog.yml")
    assert time.perf_counter() - started < 0.5


def test_a_catalog_larger_than_1_mb_is_refused(tmp_path):
    (tmp_path / "catalog.yml").write_text("tables:\n  orders: orders.csv\n" + "# padding\n" * 120_000)
    with pytest.raises(UserError, match="at most 1,000,000 bytes"):
        resolve(catalog=tmp_path / "catalog.yml")


def test_anchors_and_aliases_of_ordinary_size_still_work(tmp_path):
    ORDERS.to_csv(tmp_path / "orders.csv", index=False)
    (tmp_path / "catalog.yml").write_text(
        "tables:\n  orders: {path: orders.csv, columns: &cols {customer_id: customer_id}}\n"
        "  customers: {path: orders.csv, columns: *cols}\n"
    )
    catalog = resolve(catalog=tmp_path / "catalog.yml")
    assert catalog.sources["customers"].columns == {"customer_id": "customer_id"}


# ------------------------------------------------------------------------------------------------------ secrets
#: A fake password with every character that breaks a URL, and its parts (each must stay secret too).
SECRET = "Zq7Lk9@Xv9Pa3:Wm4Sc8/Ty6Rt1%Kp2Hd5"
SECRET_PARTS = ("Zq7Lk9", "Xv9Pa3", "Wm4Sc8", "Ty6Rt1", "Kp2Hd5")


def test_mask_url_hides_a_password_with_at_colon_slash_percent():
    url = f"postgresql://ann:{SECRET}@127.0.0.1:5432/crm"
    assert mask_url(url) == "postgresql://ann:***@127.0.0.1:5432/crm"
    assert mask_url(f"could not connect to '{url}' (timeout)") == (
        "could not connect to 'postgresql://ann:***@127.0.0.1:5432/crm' (timeout)"
    )


def test_a_raw_password_reaches_the_driver_encoded_and_its_parts_are_masked_everywhere():
    from urllib.parse import unquote

    from salesperf.data.catalog import connect_url

    url = connect_url(f"postgresql://ann:{SECRET}@127.0.0.1:5432/crm")
    user_info, host = url.split("://")[1].rsplit("@", 1)
    assert host == "127.0.0.1:5432/crm" and unquote(user_info.split(":", 1)[1]) == SECRET
    # what a driver says about a URL it misread: the password's parts as a host or a port
    message = "failed to resolve host 'Xv9Pa3:Wm4Sc8/Ty6Rt1%Kp2Hd5@127.0.0.1'; port 'Wm4Sc8'; user Zq7Lk9"
    masked = mask_url(message)
    assert not [part for part in (SECRET, *SECRET_PARTS) if part in masked], masked
    assert "127.0.0.1" in masked


def _outputs(result, folder) -> str:
    texts = [result.stdout, result.stderr]
    texts += [p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file()]
    return "\n".join(texts)


@pytest.mark.parametrize("where", ["table", "engine"])
def test_a_password_with_at_colon_slash_percent_never_reaches_any_output(where, tmp_path, salesperf_cli):
    """Before: 'failed to resolve host' / 'Port could not be cast to integer value as 'Wm4Sc8'' and, for the
    engine, the whole password after 'postgresql://user:***@'."""
    url = "postgresql://user:${SP_TEST_SECRET}@127.0.0.1:1/db"
    catalog = tmp_path / "catalog.yml"
    if where == "table":
        catalog.write_text(f"tables:\n  orders:\n    url: {url}\n    table: orders\n")
    else:
        catalog.write_text(f"engine: {url}\ntables:\n  orders: {{table: orders}}\n")
    env = {"SP_TEST_SECRET": SECRET}
    for command in (["validate"], ["run", "--out", tmp_path / "reports"]):
        result = salesperf_cli(
            *command, "--catalog", catalog, "--period", "2026-10", "--today", "2026-11-27", env=env
        )
        assert result.returncode == 2, result.describe()
        assert "Connection refused" in result.stderr and "127.0.0.1" in result.stderr, result.describe()
        everything = _outputs(result, tmp_path)
        leaked = [part for part in (SECRET, *SECRET_PARTS) if part in everything]
        assert not leaked, (leaked, result.describe())


def test_a_sql_source_without_its_driver_names_the_extra(tmp_path, salesperf_cli):
    shim = tmp_path / "no_driver" / "psycopg"  # an environment where psycopg is not installed
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'psycopg'\", name='psycopg')\n"
    )
    catalog = tmp_path / "catalog.yml"
    catalog.write_text("tables:\n  orders: {url: 'postgresql://ann@127.0.0.1:1/db', table: orders}\n")
    result = salesperf_cli(
        "validate",
        "--catalog",
        catalog,
        "--period",
        "2026-10",
        "--today",
        "2026-11-27",
        env={"PYTHONPATH": str(shim.parent)},
    )
    assert result.returncode == 2, result.describe()
    assert "driver for postgresql:// is not installed" in result.stderr, result.describe()
    assert "pip install 'salesperf[postgres]'" in result.stderr, result.describe()

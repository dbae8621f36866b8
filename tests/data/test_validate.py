"""Validation: fatal problems are one-line errors; every other excluded row is counted by reason (hand-counted)."""

import pandas as pd
import pytest

from salesperf.core.errors import UserError
from salesperf.data.dataset import open_dataset

# order lines, hand-labelled with what validation must do with each (period 2026-10, run date 2026-11-27)
LINES = [
    ("1", "C1", "2026-09-03", "100", "used"),
    ("1", "C1", "2026-09-03", "50", "used (second line of order 1)"),
    ("2", "C2", "2026-10-05", "-20", "used, flagged as a return"),
    ("2", "C2", "2026-10-05", "-20", "duplicate row"),
    ("3", "", "2026-10-06", "10", "missing customer_id"),
    ("4", "C3", "2026-10-07", "0", "zero amount"),
    ("5", "C4", "2026-11-02", "10", "after the period end"),
    ("6", "C9", "2027-01-02", "10", "dated in the future"),
    ("7", "C1", "2026-10-08", "30", "used"),
    ("8", "C7", "2026-10-09", "40", "used, flagged: unknown customer"),
]


def _write(folder, lines=LINES, customers=True):
    pd.DataFrame(
        [line[:4] for line in lines], columns=["order_id", "customer_id", "order_date", "amount"]
    ).to_csv(folder / "orders.csv", index=False)
    if customers:
        pd.DataFrame({"customer_id": ["C1", "C2", "C3", "C4"], "name": ["A", "B", "C", "D"]}).to_csv(
            folder / "customers.csv", index=False
        )


def test_every_excluded_row_is_counted_by_reason(tmp_path):
    _write(tmp_path)
    q = open_dataset(tmp_path, "2026-10", today="2026-11-27").quality.get("orders")
    assert q.rows_read == 10
    assert q.excluded == {
        "duplicate row": 1,
        "missing customer_id": 1,
        "zero amount": 1,
        "after the period end": 1,
        "dated in the future": 1,
    }
    assert q.rows_used == 5 and q.rows_read == q.rows_used + sum(q.excluded.values())
    assert q.flagged == {"negative amount (kept as a return)": 1, "customer not in the customers table": 1}


def test_clean_table_holds_exactly_the_used_rows(tmp_path):
    _write(tmp_path)
    ds = open_dataset(tmp_path, "2026-10", today="2026-11-27")
    assert ds.sql("SELECT sum(amount) AS s FROM orders")["s"].iloc[0] == 100 + 50 - 20 + 30 + 40


def test_missing_required_column_is_fatal_and_names_file_and_column(tmp_path):
    pd.DataFrame({"customer_id": ["C1"], "amount": [1.0]}).to_csv(tmp_path / "orders.csv", index=False)
    with pytest.raises(UserError) as err:
        open_dataset(tmp_path, "2026-10")
    assert "orders.csv" in err.value.message and "'order_date'" in err.value.message


def test_mostly_unparseable_amounts_are_fatal_with_examples(tmp_path):
    lines = [(str(i), "C1", "2026-10-01", "1.234,50 €" if i % 2 else "12", "") for i in range(20)]
    _write(tmp_path, lines, customers=False)
    with pytest.raises(UserError) as err:
        open_dataset(tmp_path, "2026-10")
    assert (
        "'amount'" in err.value.message
        and "10 of 20" in err.value.message
        and "'1.234,50 €'" in err.value.message
    )


def test_a_rare_bad_date_is_excluded_not_fatal(tmp_path):
    lines = [(str(i), "C1", "2026-10-01", "5", "") for i in range(199)] + [("x", "C1", "2026-13-45", "5", "")]
    _write(tmp_path, lines, customers=False)
    q = open_dataset(tmp_path, "2026-10", today="2026-11-27").quality.get("orders")
    assert q.excluded == {"missing or unparseable order_date": 1} and q.rows_used == 199


def test_no_orders_is_fatal(tmp_path):
    (tmp_path / "orders.csv").write_text("order_id,customer_id,order_date,amount\n")
    with pytest.raises(UserError, match="no rows"):
        open_dataset(tmp_path, "2026-10")


def test_amount_from_quantity_and_unit_price(tmp_path):
    pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "order_date": ["2026-10-01"] * 2,
            "quantity": [3, 2],
            "unit_price": [2.5, 10],
        }
    ).to_csv(tmp_path / "orders.csv", index=False)
    ds = open_dataset(tmp_path, "2026-10", today="2026-11-27")
    assert ds.sql("SELECT sum(amount) AS s FROM orders")["s"].iloc[0] == 27.5


def test_point_in_time_deal_closed_later_is_open(tmp_path):
    _write(tmp_path, customers=False)
    pd.DataFrame(
        {
            "opportunity_id": ["O1", "O2", "O3"],
            "rep_id": ["R1"] * 3,
            "created_at": ["2026-08-01", "2026-09-01", "2026-11-05"],
            "closed_at": ["2026-09-20", "2026-11-10", None],
            "stage": ["Closed Won", "Closed Lost", "Proposal"],
            "status": ["won", "lost", "open"],
        }
    ).to_csv(tmp_path / "opportunities.csv", index=False)
    ds = open_dataset(tmp_path, "2026-10", today="2026-11-27")
    got = ds.sql("SELECT opportunity_id, status, closed_at FROM opportunities ORDER BY 1")
    assert got["status"].tolist() == ["won", "open"]  # O2 closed after October: open then; O3 not yet created
    assert pd.isna(got["closed_at"].iloc[1])


def test_entity_restriction_keeps_one_region(tmp_path):
    _write(tmp_path, customers=False)
    pd.DataFrame(
        {"customer_id": ["C1", "C2", "C3", "C4"], "region": ["East", "West", "East", "West"]}
    ).to_csv(tmp_path / "customers.csv", index=False)
    ds = open_dataset(tmp_path, "2026-10", today="2026-11-27", entity="region:East")
    assert ds.sql("SELECT sum(amount) AS s FROM orders")["s"].iloc[0] == 100 + 50 + 30
    with pytest.raises(UserError, match="not understood"):
        open_dataset(tmp_path, "2026-10", entity="country:France")


def test_cancelled_lines_are_excluded_and_returns_by_status_are_negative(tmp_path):
    pd.DataFrame(
        {
            "customer_id": ["C1", "C1", "C2", "C2"],
            "order_date": ["2026-10-01"] * 4,
            "amount": [100, 40, 30, -10],
            "status": ["completed", "Cancelled", "returned", "returned"],
        }
    ).to_csv(tmp_path / "orders.csv", index=False)
    ds = open_dataset(tmp_path, "2026-10", today="2026-11-27")
    assert ds.quality.get("orders").excluded == {"cancelled (status)": 1}
    assert ds.sql("SELECT sum(amount) AS s FROM orders")["s"].iloc[0] == 100 - 30 - 10


def test_imported_fxiaoke_export_flows_through_validation(tmp_path):
    # the GBK-encoded Fxiaoke fixtures (tests/fixtures/crm) → canonical tables → validation, end to end
    from pathlib import Path

    from salesperf.data.importer import run_import

    fixtures = Path(__file__).parents[1] / "fixtures" / "crm" / "fxiaoke"
    run_import(sorted(fixtures.glob("*.csv")), tmp_path, preset="fxiaoke")
    ds = open_dataset(tmp_path, "2026-10", today="2026-11-27")
    orders = ds.quality.get("orders")
    assert orders.rows_read == 4 and orders.excluded.get("cancelled (status)") == 1
    assert ds.has("opportunities") and ds.has("customers")


def test_the_first_of_duplicate_keys_is_kept_every_time(tmp_path):
    _write(tmp_path, customers=False)
    rows = [("C1", "Alpha"), ("C2", "Beta"), ("C3", "Gamma"), ("C3", "Gamma Two"), ("C4", "Delta")] * 1
    pd.DataFrame(rows * 1, columns=["customer_id", "name"]).to_csv(tmp_path / "customers.csv", index=False)
    kept = {
        open_dataset(tmp_path, "2026-10", today="2026-11-27")
        .sql("SELECT name FROM customers WHERE customer_id = 'C3'")["name"]
        .iloc[0]
        for _ in range(8)
    }
    assert kept == {"Gamma"}


# ----------------------------------------------------------------------------------------------------- currency
def _orders_in(folder, currencies):
    rows = [(f"O{i}", f"C{i % 3}", "2026-10-0" + str(1 + i % 9), 10.0 * (i + 1), c) for i, c in enumerate(currencies)]
    pd.DataFrame(rows, columns=["order_id", "customer_id", "order_date", "amount", "currency"]).to_csv(
        folder / "orders.csv", index=False
    )


def test_the_currency_comes_from_the_data(tmp_path):
    _orders_in(tmp_path, ["GBP", "gbp", "£", ""])
    ds = open_dataset(tmp_path, "2026-10", today="2026-11-27")
    assert ds.currency == "GBP" and ds.quality.get("orders").currencies == {"GBP": 3}
    assert ds.quality.notes() == []


def test_without_a_currency_column_the_default_is_the_yuan(tmp_path):
    _write(tmp_path)
    assert open_dataset(tmp_path, "2026-10", today="2026-11-27").currency == "CNY"


def test_several_currencies_none_stated_is_fatal(tmp_path):
    _orders_in(tmp_path, ["GBP", "GBP", "USD", "EUR"])
    with pytest.raises(UserError) as err:
        open_dataset(tmp_path, "2026-10", today="2026-11-27")
    message = err.value.message
    assert "3 currencies (GBP 2 rows, EUR 1 rows, USD 1 rows)" in message and "no exchange rates" in message
    assert "--currency GBP" in err.value.hint


def test_a_stated_currency_excludes_the_others_and_says_so(tmp_path):
    from dataclasses import replace

    from salesperf.data.catalog import resolve

    _orders_in(tmp_path, ["GBP", "GBP", "USD", "EUR"])
    ds = open_dataset(replace(resolve(data=tmp_path), currency="GBP"), "2026-10", today="2026-11-27")
    q = ds.quality.get("orders")
    assert q.excluded == {"in another currency (no exchange rates)": 2} and q.rows_used == 2
    assert q.examples["in another currency (no exchange rates)"] == "'O2', 'O3'"
    assert ds.sql("SELECT sum(amount) AS s FROM orders")["s"].iloc[0] == 10 + 20  # never a mixed sum
    assert ds.quality.notes("en") == [
        "orders: the amounts are in 3 currencies and there are no exchange rates: figures are in GBP; "
        "the 2 rows in EUR, USD are excluded."
    ]
    assert ds.quality.notes("zh")[0].startswith("orders：金额涉及 3 种币种且无汇率：数字以 GBP 计")


def test_a_stated_currency_that_no_row_has_is_fatal(tmp_path):
    from dataclasses import replace

    from salesperf.data.catalog import resolve

    _orders_in(tmp_path, ["GBP", "GBP"])
    with pytest.raises(UserError, match="report currency is USD, but the orders amounts are in GBP 2 rows"):
        open_dataset(replace(resolve(data=tmp_path), currency="USD"), "2026-10", today="2026-11-27")


def test_the_catalog_states_the_currency(tmp_path):
    from salesperf.data.catalog import load_catalog

    _orders_in(tmp_path, ["", ""])
    (tmp_path / "catalog.yml").write_text("currency: usd\ntables:\n  orders: orders.csv\n", encoding="utf-8")
    catalog = load_catalog(tmp_path / "catalog.yml")
    assert catalog.currency == "USD"
    assert open_dataset(tmp_path, "2026-10", today="2026-11-27").currency == "USD"


def test_data_currency_resolves_before_validation(tmp_path):
    from salesperf.data.catalog import resolve
    from salesperf.data.dataset import data_currency

    _orders_in(tmp_path, ["USD", "EUR"])
    assert data_currency(resolve(data=tmp_path), "eur") == "EUR"
    with pytest.raises(UserError, match="2 currencies"):
        data_currency(resolve(data=tmp_path))


# -------------------------------------------------------------------------------------- examples and languages
def test_examples_are_the_same_whatever_the_row_order(tmp_path):
    rows = [(f"O{i:03d}", "", "2026-10-01", "10") for i in range(40)]
    seen = set()
    for seed in range(4):
        folder = tmp_path / str(seed)
        folder.mkdir()
        frame = pd.DataFrame(rows, columns=["order_id", "customer_id", "order_date", "amount"])
        frame.sample(frac=1, random_state=seed).to_csv(folder / "orders.csv", index=False)
        q = open_dataset(folder, "2026-10", today="2026-11-27").quality.get("orders")
        seen.add(q.examples["missing customer_id"])
    assert seen == {"'O000', 'O001', 'O002'"}


def test_every_reason_is_translated():
    from datetime import date

    import duckdb
    import ibis

    from salesperf.data import checks
    from salesperf.data.engine import embedded
    from salesperf.data.schema import TABLES
    from salesperf.report.page import reason_text

    engine, labels = embedded(duckdb.connect()), set()
    for table in TABLES.values():
        raw = ibis.table({c: "string" for c in table.names}, name=f"raw_{table.name}")
        rows = checks.with_repeats(checks.typed(engine, raw, table, table.names), table)
        if table.name == "orders":
            rows = rows.mutate(_unknown_customer=ibis.literal(True))
        others = ("USD",) if "currency" in table.names else ()
        excluded, flags = checks.reasons(rows, table, date(2026, 11, 27), date(2026, 10, 31), ("A",), others)
        labels |= {label for label, _ in excluded + flags}
    assert "in another currency (no exchange rates)" in labels and "missing or unparseable amount" in labels
    untranslated = sorted(label for label in labels if reason_text(label, "zh") == label)
    assert not untranslated
    assert reason_text("missing customer_id", "zh") == "缺少 customer_id"
    assert reason_text("duplicate row", "zh") == "重复行"
    assert reason_text("duplicate rep_id", "zh") == "rep_id 重复"
    assert reason_text("something new", "zh") == "something new"  # unknown: shown as is, never an error


def test_duckdb_holds_at_most_the_memory_limit_and_spills_beyond_it(monkeypatch, tmp_path):
    import duckdb

    from salesperf.data.engine import embedded

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setenv("SALESPERF_MEMORY_LIMIT", "64MB")
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    con = duckdb.connect()
    embedded(con)
    limit, spill = con.execute(
        "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
    ).fetchone()
    assert limit == "61.0 MiB" and spill == str(tmp_path / "salesperf-duckdb")  # 64 MB = 61.0 MiB
    # a table four times the limit is built by spilling to that folder, not refused
    con.execute("CREATE TABLE big AS SELECT range AS i, md5(range::VARCHAR) AS h FROM range(4000000)")
    assert con.execute("SELECT count(DISTINCT h) FROM big").fetchone()[0] == 4_000_000
    embedded(con)  # a second engine on the same connection keeps the folder (DuckDB cannot move it after use)


def test_a_memory_limit_that_is_not_an_amount_is_one_line(monkeypatch):
    import duckdb

    from salesperf.data.engine import embedded

    monkeypatch.setenv("SALESPERF_MEMORY_LIMIT", "2GB'; DROP TABLE orders; --")
    with pytest.raises(UserError, match=r"^SALESPERF_MEMORY_LIMIT: .* is not an amount of memory"):
        embedded(duckdb.connect())

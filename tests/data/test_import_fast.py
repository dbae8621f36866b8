"""The import's CSV fast path (Arrow reader, rules once per distinct value, DuckDB writer) against hand-computed
fixtures and against the general path (Python's csv module, ``SALESPERF_IMPORT_FAST=0``).

Each fixture below is small enough to read by eye; the expected values are worked out from the rules in
docs/import.md. Every file is imported twice, once per path, and the written tables and accounting must be
byte-identical. No test here is timed.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from salesperf.data.importer import read as read_module
from salesperf.data.importer import read_cells, run_import
from salesperf.data.importer.cells import Body, Column, factorize, memo_map
from salesperf.data.importer.write import write_csv

ORDERS_MAPPING = """\
tables:
  - table: orders
    columns:
      order_id: InvoiceNo
      customer_id: CustomerID
      order_date: InvoiceDate
      quantity: Quantity
      unit_price: UnitPrice
      product_name: Description
      region: Country
    derive:
      amount: quantity * unit_price
    cancelled_if:
      id_prefix: C
"""

# Two title lines, a header, a blank line in the body, a line of empty cells, mixed number formats, ids
# that went through a float column, dates with a time of day, a cancellation, a line without customer and a
# footer. Line numbers (the file's rows) are in the comments.
MIXED = (
    "Online shop: invoice lines\n"  # 1 title
    "Exported 2012-12-01\n"  # 2 title
    "InvoiceNo,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"  # 3 header
    "536365,WHITE HEART,6,12/1/2010 8:26,2.55,17850.0,United Kingdom\n"  # 4
    '536366,"LANTERN, METAL",2,12/13/2010 13:05,"1,234.50",17850.0,France\n'  # 5
    "\n"  # 6 blank
    "C536367,WHITE HEART,-1,12/14/2010 9:00,$2.55,13047,United Kingdom\n"  # 7 cancellation
    "536368,CAKE STAND,3,12/15/2010 10:30,(1.50),,Germany\n"  # 8 no customer
    ",,,,,,\n"  # 9 blank (empty cells)
    '536369,"SAY ""HELLO""",1,12/16/2010 23:59,12.5万,17850.0,EIRE\n'  # 10
    "Grand Total,,,,,,\n"  # 11 footer
)


def _write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def _import_both(tmp_path: Path, source: Path, monkeypatch, **kwargs) -> tuple[dict, dict, object, list]:
    """Import ``source`` on both paths; the written files of each, the fast path's summary and the results of
    every Arrow read (``None`` where the fast path declined)."""
    outputs, summaries, arrow_results = [], [], []
    original = read_module.arrow_body

    def spy(*args, **kw):
        body = original(*args, **kw)
        arrow_results.append(body)
        return body

    for fast in ("1", "0"):
        monkeypatch.setenv("SALESPERF_IMPORT_FAST", fast)
        monkeypatch.setattr(read_module, "arrow_body", spy)
        out = tmp_path / f"out{fast}"
        summaries.append(run_import([source], out, **kwargs))
        outputs.append({p.name: p.read_bytes() for p in sorted(out.glob("*.csv"))})
    return outputs[0], outputs[1], summaries[0], arrow_results


def _read(out: dict, name: str) -> pd.DataFrame:
    from io import BytesIO

    return pd.read_csv(BytesIO(out[name]), dtype=str, keep_default_na=False)


def test_mixed_export_read_by_arrow_equals_the_rules_and_the_general_path(tmp_path, monkeypatch):
    source = _write(tmp_path, "shop.csv", MIXED)
    mapping = _write(tmp_path, "shop.yml", ORDERS_MAPPING)
    fast, slow, summary, arrow = _import_both(tmp_path, source, monkeypatch, mapping=mapping)
    assert isinstance(arrow[0], Body)  # the fast path read it
    assert fast == slow
    orders = _read(fast, "orders.csv")
    assert list(orders.order_id) == ["536365", "536366", "C536367", "536369"]
    assert list(orders.customer_id) == ["17850", "17850", "13047", "17850"]  # "17850.0" -> 17850
    assert list(orders.order_date) == [
        "2010-12-01 08:26:00",
        "2010-12-13 13:05:00",  # 13 > 12: month first for the whole column
        "2010-12-14 09:00:00",
        "2010-12-16 23:59:00",
    ]
    assert [float(v) for v in orders.unit_price] == [2.55, 1234.5, 2.55, 125000.0]  # "1,234.50", "$2.55", 万
    assert [float(v) for v in orders.amount] == [15.3, 2469.0, -2.55, 125000.0]
    assert list(orders.status) == ["completed", "completed", "cancelled", "completed"]
    assert list(orders.region) == ["United Kingdom", "France", "United Kingdom", "EIRE"]
    table = summary.tables["orders"]
    assert table.rows_read == 10  # every row but the header
    assert table.dropped == {
        "title row above the header": 2,
        "blank row": 2,
        "report footer or subtotal row": 1,
        "missing customer_id": 1,
    }
    assert table.rows_read == table.rows_written + table.rows_dropped
    accounting = _read(fast, "import_accounting.csv")
    missing = accounting[accounting.reason == "missing customer_id"]
    assert list(missing.examples) == ["line 8"]
    # no product id column: the description is the product (a quoted comma and doubled quotes read as one cell)
    assert list(orders.product_id) == ["WHITE HEART", "LANTERN, METAL", "WHITE HEART", 'SAY "HELLO"']


def test_locale_numbers_semicolons_and_a_bom(tmp_path, monkeypatch):
    text = (
        "Bestellnr;Kundennr;Datum;Menge;Einzelpreis\n"
        "A1;K1;05.03.2024;2;1.234,56\n"
        "A2;K2;06.03.2024;1;0,5\n"
        "A3;K1;07.03.2024;3;12\n"
    )
    source = _write(tmp_path, "shop.csv", "\ufeff" + text)
    mapping = _write(
        tmp_path,
        "shop.yml",
        "table: orders\nlocale: de_DE\ncolumns: {order_id: Bestellnr, customer_id: Kundennr, order_date: Datum,"
        " quantity: Menge, unit_price: Einzelpreis}\nderive: {amount: quantity * unit_price}\n",
    )
    fast, slow, summary, arrow = _import_both(tmp_path, source, monkeypatch, mapping=mapping)
    assert fast == slow
    orders = _read(fast, "orders.csv")
    assert [float(v) for v in orders.unit_price] == [1234.56, 0.5, 12.0]
    assert [float(v) for v in orders.amount] == [2469.12, 0.5, 36.0]
    assert list(orders.order_date) == ["2024-03-05", "2024-03-06", "2024-03-07"]  # dd.mm.yyyy, no time
    assert summary.sources[0].encoding == "utf-8-sig"


def test_gbk_file_is_read_by_arrow_after_one_transcoding(tmp_path, monkeypatch):
    text = (
        "销售订单编号,客户编号,下单日期,金额(万元)\n"
        "SO-1,C001,2024年3月5日,1.5\n"
        "SO-2,C002,2024/3/6,2\n"
        "合计,,,3.5\n"
    )
    source = _write(tmp_path, "订单.csv", text, encoding="gbk")
    mapping = _write(
        tmp_path,
        "cn.yml",
        "table: orders\ncolumns: {order_id: 销售订单编号, customer_id: 客户编号, order_date: 下单日期,"
        " amount: 金额}\n",
    )
    fast, slow, summary, arrow = _import_both(tmp_path, source, monkeypatch, mapping=mapping)
    assert isinstance(arrow[0], Body)
    assert fast == slow
    assert summary.sources[0].encoding == "gb18030"
    orders = _read(fast, "orders.csv")
    assert list(orders.order_id) == ["SO-1", "SO-2"]
    assert [float(v) for v in orders.amount] == [15000.0, 20000.0]  # 万元 in the header
    assert list(orders.order_date) == ["2024-03-05", "2024-03-06"]
    assert summary.tables["orders"].dropped == {"report footer or subtotal row": 1}


def test_cp1252_file(tmp_path, monkeypatch):
    text = "Order,Customer,Date,Amount\n1,Müller,2024-01-02,€10\n2,Señor,2024-01-03,€1.234,00\n"
    text = text.replace("€1.234,00", '"€1.234,00"')
    source = _write(tmp_path, "o.csv", text, encoding="cp1252")
    mapping = _write(
        tmp_path,
        "o.yml",
        "table: orders\nlocale: de_DE\ncolumns: {order_id: Order, customer_id: Customer, order_date: Date,"
        " amount: Amount}\n",
    )
    fast, slow, summary, _ = _import_both(tmp_path, source, monkeypatch, mapping=mapping, locale="de_DE")
    assert fast == slow
    assert summary.sources[0].encoding == "cp1252"
    orders = _read(fast, "orders.csv")
    assert list(orders.customer_id) == ["Müller", "Señor"]
    assert [float(v) for v in orders.amount] == [10.0, 1234.0]


def test_rows_of_another_width_are_put_back_in_their_place(tmp_path, monkeypatch):
    # line 3 is short (padded), line 4 long (cut; its extra cell is not read), line 6 a one-cell footer
    text = "Order,Customer,Date,Amount\n1,A,2024-01-02,10\n2,B,2024-01-03\n3,C,2024-01-04,30,extra\n\n Total: 40\n"
    source = _write(tmp_path, "o.csv", text)
    mapping = _write(
        tmp_path,
        "o.yml",
        "table: orders\ncolumns: {order_id: Order, customer_id: Customer, order_date: Date, amount: Amount}\n",
    )
    fast, slow, summary, arrow = _import_both(tmp_path, source, monkeypatch, mapping=mapping)
    assert isinstance(arrow[0], Body)
    assert fast == slow
    assert list(_read(fast, "orders.csv").order_id) == ["1", "3"]
    assert summary.tables["orders"].dropped == {
        "missing amount": 1,
        "blank row": 1,
        "report footer or subtotal row": 1,
    }
    accounting = _read(fast, "import_accounting.csv")
    assert list(accounting[accounting.reason == "missing amount"].examples) == ["line 3"]


def test_line_breaks_in_quoted_cells(tmp_path, monkeypatch):
    text = 'Order,Customer,Date,Amount,Note\n1,A,2024-01-02,10,"two\nlines"\n2,,2024-01-03,5,x\n3,C,2024-01-04,7,y\n'
    source = _write(tmp_path, "o.csv", text)
    mapping = _write(
        tmp_path,
        "o.yml",
        "table: orders\ncolumns: {order_id: Order, customer_id: Customer, order_date: Date, amount: Amount,"
        " category: Note}\n",
    )
    fast, slow, _, arrow = _import_both(tmp_path, source, monkeypatch, mapping=mapping)
    assert isinstance(arrow[0], Body)
    assert fast == slow
    assert list(_read(fast, "orders.csv").category) == ["two\nlines", "y"]
    accounting = _read(fast, "import_accounting.csv")
    assert list(accounting[accounting.reason == "missing customer_id"].examples) == ["line 3"]  # a row, not a line
    # with a short row as well, the row numbers of the short rows cannot be trusted: the general path reads it
    source = _write(tmp_path, "o.csv", text + "4,D\n")
    fast, slow, _, arrow = _import_both(tmp_path, source, monkeypatch, mapping=mapping)
    assert arrow[0] is None
    assert fast == slow


def test_header_below_thirty_rows_and_xlsx_use_the_general_reader(tmp_path, monkeypatch):
    text = "".join(f"note {i}\n" for i in range(34)) + "Order,Customer,Date,Amount\n1,A,2024-01-02,10\n"
    source = _write(tmp_path, "o.csv", text)
    mapping = _write(
        tmp_path,
        "o.yml",
        "table: orders\nheader_row: 35\ncolumns: {order_id: Order, customer_id: Customer, order_date: Date,"
        " amount: Amount}\n",
    )
    fast, slow, summary, arrow = _import_both(tmp_path, source, monkeypatch, mapping=mapping)
    assert arrow == []  # never asked
    assert fast == slow
    assert summary.tables["orders"].dropped == {"title row above the header": 34}
    xlsx = tmp_path / "o.xlsx"
    pd.DataFrame({"Order": [1], "Customer": ["A"], "Date": ["2024-01-02"], "Amount": [10]}).to_excel(
        xlsx, index=False
    )
    mapping = _write(
        tmp_path,
        "x.yml",
        "table: orders\ncolumns: {order_id: Order, customer_id: Customer, order_date: Date, amount: Amount}\n",
    )
    fast, slow, _, arrow = _import_both(tmp_path, xlsx, monkeypatch, mapping=mapping)
    assert arrow == []
    assert fast == slow


def test_bad_cells_are_named_with_their_count_in_rows(tmp_path, monkeypatch):
    text = "Order,Customer,Date,Amount\n1,A,2024-01-02,abc\n2,B,2024-01-03,abc\n3,C,2024-01-04,5\n4,D,2024-01-05,x\n"
    source = _write(tmp_path, "o.csv", text)
    mapping = _write(
        tmp_path,
        "o.yml",
        "table: orders\ncolumns: {order_id: Order, customer_id: Customer, order_date: Date, amount: Amount}\n",
    )
    from salesperf.core.errors import UserError

    for fast in ("1", "0"):
        monkeypatch.setenv("SALESPERF_IMPORT_FAST", fast)
        with pytest.raises(UserError, match=r"3 value\(s\) cannot be read as numbers; examples: 'abc', 'x'"):
            run_import([source], tmp_path / "out", mapping=mapping)


def test_arrow_cells_equal_the_csv_module_cells(tmp_path):
    text = 'a,b,c\n1,"x,y",3\n"q"x,  sp ,""\n,,\n\n"a ""b""",\r\n7,8,9\r\nab"c,d"e,f\n"é",ü,中\n'
    path = _write(tmp_path, "t.csv", text)
    rows, _ = read_cells(path)
    export = read_module.read_export(path)
    body, n_rows = export.body(0, 3)
    assert n_rows == len(rows)
    expected = [list(r[:3]) + [None] * (3 - len(r)) for r in rows[1:]]
    got = body.to_rows()
    blank = [not any(c and c.strip() for c in r) for r in expected]
    # blank rows: [] from csv, three empty strings from Arrow; both blank, and dropped as such
    assert [g for g, b in zip(got, blank, strict=True) if not b] == [
        e for e, b in zip(expected, blank, strict=True) if not b
    ]
    assert list(body.blank_and_first(lambda t: False)[0]) == blank


def test_an_unclosed_quote_is_left_to_the_csv_module(tmp_path, monkeypatch):
    text = 'Order,Customer,Date,Amount\n1,A,2024-01-02,10\n2,"B,2024-01-03,5\n3,C,2024-01-04,7\n'
    source = _write(tmp_path, "o.csv", text)
    mapping = _write(
        tmp_path,
        "o.yml",
        "table: orders\ncolumns: {order_id: Order, customer_id: Customer, order_date: Date, amount: Amount}\n",
    )
    fast, slow, _, arrow = _import_both(tmp_path, source, monkeypatch, mapping=mapping)
    assert arrow[0] is None
    assert fast == slow


def test_factorize_and_memo_map_see_each_distinct_value_once():
    values = ["a", None, "b", "a", float("nan"), None]
    codes, uniques = factorize(values)
    assert list(uniques[codes][[0, 2, 3]]) == ["a", "b", "a"]
    assert uniques[codes[1]] is None
    assert isinstance(uniques[codes[4]], float)  # NaN stays NaN, apart from None
    calls = []
    out = memo_map(lambda v: calls.append(v) or repr(v), values)
    assert len(calls) == 4  # "a", "b", None and NaN
    assert list(out) == ["'a'", "None", "'b'", "'a'", "nan", "None"]
    column = Column.of(["x", "y", "x", "z"]).take(np.array([0, 2, 3]))
    assert list(column.uniques) == ["x", "z"]  # values no longer used are let go
    assert list(column.values()) == ["x", "x", "z"]


@pytest.mark.parametrize(
    "values",
    [
        [0.1, 1e-07, 1e16, 123456.789, -0.0, 19.0, 1e22, 2.5e-5, 0.30000000000000004, None, 17.5],
        ["x,y", 'q"z', "line\nb", "cr\rx", None, " lead", "plain", "中文"],
        [None, None],
        [1, 2, None],
        [1, 2.5, None, 3],
        ["", "x"],
    ],
)
def test_table_writer_writes_what_pandas_writes(tmp_path, values):
    frame = pd.DataFrame({"a": pd.Series(values, dtype=object), "n": range(len(values))})
    write_csv(frame, tmp_path / "mine.csv")
    frame.to_csv(tmp_path / "pandas.csv", index=False, encoding="utf-8", lineterminator="\n")
    assert (tmp_path / "mine.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()


def test_table_writer_in_chunks_of_rows(tmp_path, monkeypatch):
    from salesperf.data.importer import write

    monkeypatch.setattr(write, "_CHUNK", 2)
    frame = pd.DataFrame({"s": ["a", "b,c", None, "d", "e"], "f": [1.5, None, 2.0, 3.25, 4.0]})
    write_csv(frame, tmp_path / "mine.csv")
    frame.to_csv(tmp_path / "pandas.csv", index=False, encoding="utf-8", lineterminator="\n")
    assert (tmp_path / "mine.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()


def test_table_writer_float_and_int_columns(tmp_path):
    frame = pd.DataFrame({"f": [0.1, 1e-07, 1e16, math.nan, 19.0], "i": [1, 2, 3, 4, 5], "s": ["a", "b", "c", "d", "e"]})
    write_csv(frame, tmp_path / "mine.csv")
    frame.to_csv(tmp_path / "pandas.csv", index=False, encoding="utf-8", lineterminator="\n")
    assert (tmp_path / "mine.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()


def test_table_writer_leaves_other_columns_to_pandas(tmp_path):
    frame = pd.DataFrame({"a": pd.Series([True, None], dtype=object), "b": ["", "x"], "c": [1.5, math.nan]})
    write_csv(frame, tmp_path / "mine.csv")
    frame.to_csv(tmp_path / "pandas.csv", index=False, encoding="utf-8", lineterminator="\n")
    assert (tmp_path / "mine.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()
    empty = pd.DataFrame({"a": pd.Series([], dtype=object)})
    write_csv(empty, tmp_path / "empty.csv")
    assert (tmp_path / "empty.csv").read_text() == "a\n"

"""Files that are wrong in a way the user can fix get a sentence that says so (issue 11, "Messages that
mislead"): before, an empty file and an .xlsx with a merged title row said "'customer_id' ... is missing ...
columns found: none", GBK bytes said "CSV Error on Line: 2", a 64 MB field said "CSV Error on Line: 1" after
50 s, and a file whose name is not UTF-8 could not be read at all."""

from __future__ import annotations

import os
import time

import openpyxl
import pytest

from salesperf.core.errors import UserError
from salesperf.data import text_checks
from salesperf.data.dataset import open_dataset
from salesperf.data.importer import run_import

HEADER = b"order_id,customer_id,order_date,amount\n"
LINES = b"O1,C1,2026-10-01,10\nO2,C2,2026-10-02,5\n"


def _open(folder):
    return open_dataset(folder, "2026-10", today="2026-11-27")


def _error(folder) -> str:
    with pytest.raises(UserError) as info:
        _open(folder)
    assert "\n" not in str(info.value) and info.value.hint
    return info.value.message


@pytest.mark.parametrize(
    "content, said", [(b"", "the file is empty (0 bytes)"), (b"\n\n  \n", "only blank lines")]
)
def test_an_empty_file_says_it_is_empty(tmp_path, content, said):
    (tmp_path / "orders.csv").write_bytes(content)
    message = _error(tmp_path)
    assert message == f"{tmp_path / 'orders.csv'}: {said}" or said in message
    assert "missing" not in message


@pytest.mark.parametrize(
    "body, line, encoding",
    [
        ("O1,阿里,2026-10-01,10\n".encode("gbk"), 2, "GB18030"),
        ("O1,Café Noir,2026-10-01,10\n".encode("cp1252"), 2, "Windows-1252"),
        (LINES + "O3,张三,2026-10-03,7\n".encode("gbk"), 4, "GB18030"),  # mixed: UTF-8 first, GBK below
    ],
)
def test_bytes_that_are_not_utf8_are_named_with_their_line_and_encoding(tmp_path, body, line, encoding):
    (tmp_path / "orders.csv").write_bytes(HEADER + body)
    with pytest.raises(UserError) as info:
        _open(tmp_path)
    assert f"the file is not UTF-8 text: line {line} holds the bytes" in info.value.message
    assert f"(it looks like {encoding})" in info.value.message
    assert (
        f"iconv -f {encoding} -t UTF-8" in info.value.hint
        and f"encoding: {encoding.lower()}" in info.value.hint
    )


def test_a_declared_encoding_is_read(tmp_path):
    (tmp_path / "orders.csv").write_bytes(
        HEADER + "O1,阿里,2026-10-01,10\nO2,张三,2026-10-02,5\n".encode("gbk")
    )
    (tmp_path / "catalog.yml").write_text("tables:\n  orders: {path: orders.csv, encoding: gb18030}\n")
    ds = open_dataset(tmp_path / "catalog.yml", "2026-10", today="2026-11-27")
    assert sorted(ds.sql("SELECT customer_id FROM orders")["customer_id"]) == ["张三", "阿里"]


def test_a_huge_field_fails_in_a_second_naming_its_line(tmp_path):
    (tmp_path / "orders.csv").write_bytes(HEADER + b'O1,"' + b"x" * 3_000_000 + b'",2026-10-01,10\n' + LINES)
    started = time.perf_counter()
    message = _error(tmp_path)
    assert "line 2 is longer than 2,097,152 bytes" in message
    assert time.perf_counter() - started < 1.5


def test_the_import_names_the_line_of_a_huge_field(tmp_path):
    (tmp_path / "orders.csv").write_bytes(HEADER + b'O1,C1,2026-10-01,"' + b"9" * 200_000 + b'"\n' + LINES)
    (tmp_path / "m.yml").write_text(
        "table: orders\ncolumns: {order_id: order_id, customer_id: customer_id, order_date: order_date, "
        "amount: amount}\n"
    )
    with pytest.raises(UserError, match="line 2 holds a field longer than 131,072 characters"):
        run_import([tmp_path / "orders.csv"], tmp_path / "out", mapping=tmp_path / "m.yml")


def test_a_file_name_that_is_not_utf8_is_read(tmp_path):
    folder = tmp_path / "orders"
    folder.mkdir()
    name = os.fsdecode(b"caf\xe9-orders.csv")  # Windows-1252 bytes on a UTF-8 system
    (folder / name).write_bytes(HEADER + LINES)
    ds = _open(tmp_path)
    assert ds.sql("SELECT count(*) AS n FROM orders")["n"].iloc[0] == 2


def test_an_xlsx_with_a_merged_title_row_says_where_the_header_is(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "Orders report, October"
    sheet.merge_cells("A1:D1")
    sheet.append(["order_id", "customer_id", "order_date", "amount"])
    sheet.append(["O1", "C1", "2026-10-01", 10])
    book.save(tmp_path / "orders.xlsx")
    message = _error(tmp_path)
    assert "the header is not on the first row: row 1 holds 'Orders report, October'" in message
    assert "the column names are on row 2: 'order_id', 'customer_id', 'order_date', 'amount'" in message


def test_a_csv_with_a_title_line_is_read_below_it(tmp_path):
    (tmp_path / "orders.csv").write_bytes(b"Order lines as of 2026-11-01\n" + HEADER + LINES)
    assert _open(tmp_path).sql("SELECT count(*) AS n FROM orders")["n"].iloc[0] == 2  # DuckDB skips the title


def test_a_file_without_any_column_of_its_table_shows_its_first_row(tmp_path):
    (tmp_path / "orders.csv").write_bytes(b"a,b\n1,2\n")
    assert _error(tmp_path).endswith(
        "none of the columns of table 'orders' is in the file; its first row holds 'a', 'b'"
    )


def test_a_long_file_with_cr_line_ends_is_not_one_long_line(tmp_path):
    lines = "".join(f"O{i},C{i % 50},2026-10-{i % 28 + 1:02d},{i % 90 + 1}\r" for i in range(120_000))
    (tmp_path / "orders.csv").write_bytes(HEADER.replace(b"\n", b"\r") + lines.encode())
    assert len(lines) > 2_097_152
    text_checks.check_text(tmp_path / "orders.csv", "orders.csv")  # no "line 1 is longer than" error

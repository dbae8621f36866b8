"""CSV exports hold no live spreadsheet formula for any reader, and no NUL byte (salesperf.report.exports)."""

from __future__ import annotations

import pandas as pd
from readback import csv_cells, export_problems

from salesperf.report.exports import write_csv

HOSTILE = [
    "Acme\r=1+1",
    "Acme\n+2+3",
    "Acme\r\n@SUM(A1)",
    "Acme\t=1",
    '\t=HYPERLINK("x")',
    "=1+1",
    "-2+3",
    "Acme,=1+1",
    "Acme;=1+1",
    'Acme "=1+1"',
    "Ac\x00me",
    "\r\r=1",
    "王五\r-1",
]


def test_no_reader_finds_a_live_formula_or_a_nul(tmp_path):
    frame = pd.DataFrame({"name": HOSTILE, "amount": [-2.5] * len(HOSTILE), "by\r=region": HOSTILE})
    path = write_csv(frame, tmp_path / "hostile.csv")
    assert export_problems(path) == []
    rows = csv_cells(path)
    assert len(rows) == len(HOSTILE) + 1  # no name split a row
    assert [r[1] for r in rows[1:]] == ["-2.5"] * len(HOSTILE)  # numbers stay numbers
    # the text is kept, with a quote before each formula character and the NUL left out
    assert rows[1][0] == "Acme\r'=1+1" and rows[11][0] == "Acme" and rows[13][0] == "王五\r'-1"
    assert rows[0][2] == "by\r'=region"


def test_two_headers_made_alike_keep_both_columns(tmp_path):
    frame = pd.DataFrame([["a", "b"]], columns=["name\x00", "name"])
    assert csv_cells(write_csv(frame, tmp_path / "x.csv")) == [["name", "name"], ["a", "b"]]

"""CSV exports: what a spreadsheet user gets, cell by cell (salesperf.report.exports)."""

import csv

import numpy as np
import pandas as pd

from salesperf.report.exports import safe_for_spreadsheet, write_csv


def _cells(path):
    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode())  # Excel needs the BOM to read UTF-8 names right
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_every_cell_is_written_as_a_spreadsheet_user_should_see_it(tmp_path):
    frame = pd.DataFrame(
        {
            "name": ["=1+1", "Acme\r=2+2", "王五", None],
            "amount": [1 / 3, 2.0, np.nan, 1e-9],
            "orders": pd.array([3, None, 1, 2], dtype="Int64"),
            "day": pd.to_datetime(["2026-10-31", "2026-01-02", None, "2025-12-31"]),
            "at": pd.to_datetime(["2026-10-31 08:26:00", "2026-10-31 14:02:09", None, "2026-10-01 00:00:00"]),
            "repeat": [True, False, True, False],
            "tier": pd.Categorical(["A", "B", "-C", "A"]),
        },
        index=[10, 11, 12, 13],
    )
    rows = _cells(write_csv(frame, tmp_path / "x.csv"))
    assert rows[0] == ["name", "amount", "orders", "day", "at", "repeat", "tier"]
    assert rows[1] == ["'=1+1", "0.333333", "3", "2026-10-31", "2026-10-31 08:26:00", "true", "A"]
    # the lone carriage return stays inside its quoted cell, and a reader cutting there finds no live formula
    assert rows[2] == ["Acme\r'=2+2", "2", "", "2026-01-02", "2026-10-31 14:02:09", "false", "B"]
    assert rows[3] == ["王五", "", "1", "", "", "true", "'-C"]
    assert rows[4] == ["", "0", "2", "2025-12-31", "2026-10-01 00:00:00", "false", "A"]
    assert len(rows) == 5


def test_same_frame_same_bytes(tmp_path):
    frame = pd.DataFrame({"customer_id": ["C1", "C2"], "value": [0.1 + 0.2, 123456.7891234]})
    first = write_csv(frame, tmp_path / "a.csv").read_bytes()
    assert first == write_csv(frame.copy(), tmp_path / "b.csv").read_bytes()
    assert _cells(tmp_path / "a.csv")[1:] == [["C1", "0.3"], ["C2", "123456.789123"]]


def test_spreadsheet_formulas_are_neutralised_and_numbers_kept():
    frame = pd.DataFrame(
        {"name": ['=HYPERLINK("x")', "+1+1", "@SUM(A1)", "-2", "Acme"], "amount": [1.0, -2.0, 3.0, 4.0, 5.0]}
    )
    safe = safe_for_spreadsheet(frame)
    assert safe["name"].tolist() == ['\'=HYPERLINK("x")', "'+1+1", "'@SUM(A1)", "'-2", "Acme"]
    assert safe["amount"].tolist() == [1.0, -2.0, 3.0, 4.0, 5.0]

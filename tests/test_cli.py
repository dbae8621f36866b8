"""The ``salesperf`` command: its sub-commands, one-line errors with exit code 2, and the validation accounting.

Every call runs the real command in a subprocess (``python -m salesperf.cli``); none starts a kernel.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import PERIOD, TODAY


def _one_line_error(result, *must_contain: str) -> str:
    """Exit 2, exactly one error line (an optional hint line after it), no traceback; return the error line."""
    assert result.returncode == 2, result.describe()
    assert "Traceback" not in result.stderr + result.stdout, result.describe()
    assert len(result.error_lines) == 1, result.describe()
    others = [line for line in result.stderr.splitlines() if line.strip() and line not in result.error_lines]
    assert all(line.startswith("salesperf: hint:") for line in others), result.describe()
    assert len(others) <= 1, result.describe()
    for text in must_contain:
        assert text in result.error_lines[0], (text, result.error_lines[0])
    return result.error_lines[0]


def _folder(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def test_help_lists_the_commands(salesperf_cli):
    result = salesperf_cli("--help")
    assert result.returncode == 0
    listed = re.search(r"\{([a-z,]+)\}", result.stdout)
    for command in ("demo", "import", "validate", "run"):
        assert re.search(rf"^\s+{command}\s+\S", result.stdout, flags=re.MULTILINE), command
    assert listed is None or set(listed[1].split(",")) >= {"demo", "import", "validate", "run"}


def test_orders_without_order_date(tmp_path, salesperf_cli):
    data = _folder(tmp_path, orders="order_id,customer_id,date,amount\nO1,C1,2026-10-01,10\n")
    result = salesperf_cli("validate", "--data", data, "--period", PERIOD, "--today", TODAY)
    _one_line_error(result, str(data / "orders.csv"), "'order_date'")


def test_unparseable_amounts_name_examples(tmp_path, salesperf_cli):
    data = _folder(
        tmp_path,
        orders="order_id,customer_id,order_date,amount\n"
        'O1,C1,2026-10-01,"12,50"\nO2,C1,2026-10-02,n/a\nO3,C2,2026-10-03,EUR 5\n',
    )
    result = salesperf_cli("validate", "--data", data, "--period", PERIOD, "--today", TODAY)
    line = _one_line_error(result, str(data / "orders.csv"), "'amount'", "3 of 3")
    assert all(example in line for example in ("'12,50'", "'n/a'", "'EUR 5'")), line


def test_unknown_period(demo_company, tmp_path, salesperf_cli):
    for command in (["validate"], ["run", "--out", tmp_path / "reports"]):
        result = salesperf_cli(*command, "--period", "October", "--data", demo_company, "--today", TODAY)
        _one_line_error(result, "'October'")
    assert not (tmp_path / "reports").exists()


def test_missing_data_folder(tmp_path, salesperf_cli):
    missing = tmp_path / "no-such-folder"
    for command in (["validate"], ["run", "--out", tmp_path / "reports"]):
        result = salesperf_cli(*command, "--data", missing, "--period", PERIOD, "--today", TODAY)
        _one_line_error(result, str(missing), "does not exist")


# ------------------------------------------------------------------------------------------ validate accounting
# Period 2026-10, run on 2026-11-27. Every row below is counted by hand; first matching reason wins.
CUSTOMERS = """customer_id,name,region
C1,Alpha,North
C2,Beta,East
C2,Beta,East
C3,Gamma,South
C3,Gamma Two,South
,Nameless,West
C4,Delta,West
"""
#   C1 C2 C3(either one) C4 used                                            -> read 7, used 4
#   the second C2 line: an exact copy                                        -> duplicate row
#   one of the two C3 lines: same key, other name                            -> duplicate customer_id
#   the nameless line has no id                                              -> missing customer_id
ORDERS = """order_id,customer_id,order_date,amount,status
O1,C1,2026-10-03,100.00,completed
O2,C2,2026-10-05,250.50,completed
O2,C2,2026-10-05,250.50,completed
O3,,2026-10-06,80.00,completed
O4,C3,2026-10-07,0,completed
O5,C1,2027-01-05,60.00,completed
O6,C9,2026-10-08,40.00,completed
O7,C4,2026-10-09,-30.00,returned
O8,C3,2026-11-10,70.00,completed
O9,C2,2026-09-15,120.00,completed
O10,C1,,50.00,completed
O11,C4,2026-10-20,,completed
"""
#   O1, O2 (first line), O6, O7, O9 used                                      -> read 12, used 5
#   O2 second line: exact copy                                                -> duplicate row
#   O3: no customer                                                           -> missing customer_id
#   O4: amount 0                                                              -> zero amount
#   O5: dated 2027-01-05, after the run date                                  -> dated in the future
#   O8: 2026-11-10, before the run date but after October                     -> after the period end
#   O10: no date                                                              -> missing or unparseable order_date
#   O11: no amount                                                            -> missing or unparseable amount
#   kept but flagged: O6 (customer C9 is not in customers), O7 (a return, negative)
EXPECTED = [
    # table, read, used, kind, reason, rows
    ("customers", 7, 4, "excluded", "duplicate row", 1),
    ("customers", 7, 4, "excluded", "duplicate customer_id", 1),
    ("customers", 7, 4, "excluded", "missing customer_id", 1),
    ("orders", 12, 5, "excluded", "duplicate row", 1),
    ("orders", 12, 5, "excluded", "missing customer_id", 1),
    ("orders", 12, 5, "excluded", "zero amount", 1),
    ("orders", 12, 5, "excluded", "dated in the future", 1),
    ("orders", 12, 5, "excluded", "after the period end", 1),
    ("orders", 12, 5, "excluded", "missing or unparseable order_date", 1),
    ("orders", 12, 5, "excluded", "missing or unparseable amount", 1),
    ("orders", 12, 5, "flagged", "customer not in the customers table", 1),
    ("orders", 12, 5, "flagged", "negative amount (kept as a return)", 1),
]


def test_validate_accounts_for_every_row(tmp_path, salesperf_cli):
    data = _folder(tmp_path, customers=CUSTOMERS, orders=ORDERS)
    result = salesperf_cli("validate", "--data", data, "--period", PERIOD, "--today", TODAY)
    assert result.returncode == 0, result.describe()
    lines = result.stdout.splitlines()
    found = []
    for line in lines:
        match = re.match(
            r"^\s*(customers|orders)\s+(\d+)\s+(\d+)\s+(excluded|flagged|ok)\s+(.*?)\s+(\d+)(\s|$)", line
        )
        if match:
            table, read, used, kind, reason, rows = match.groups()[:6]
            found.append((table, int(read), int(used), kind, reason, int(rows)))
    assert sorted(found) == sorted(EXPECTED), result.stdout
    for table in ("customers", "orders"):  # rows read = rows used + rows excluded, table by table
        rows = [r for r in EXPECTED if r[0] == table]
        assert rows[0][1] == rows[0][2] + sum(r[5] for r in rows if r[3] == "excluded")
    assert lines[-1] == "valid: 2 table(s), 10 row(s) excluded (see reasons above)"


@pytest.mark.parametrize("argv", [["run", "--workers", "two"], ["demo", "--customers"], ["frobnicate"]])
def test_usage_errors_exit_2_without_traceback(argv, salesperf_cli):
    result = salesperf_cli(*argv)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "usage: salesperf" in result.stderr

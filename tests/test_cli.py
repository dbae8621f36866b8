"""The ``salesperf`` command: its sub-commands, one-line errors with exit code 2, and the validation accounting.

Every call runs the real command in a subprocess (``python -m salesperf.cli``); none starts a kernel.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from support import PERIOD, TODAY, CliResult


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


# ------------------------------------------------------------------------------- every option with a bad value
# Each case: (command line, text the error line names). Ordinary mistakes exit 2 with one line and a hint, before
# any work starts (no report is rendered, nothing is written); before the fixes, the lines marked "was" ended in
# "internal error ... this is a bug" (exit 1) or were accepted.
BAD_OPTIONS = [
    (["demo", "--customers", "3"], "customers"),
    (["demo", "--customers", "many"], "--customers"),
    (["demo", "--seed", "-1"], "seed"),
    (["demo", "--out", "{file}/x"], "is a file"),  # was: internal error NotADirectoryError
    (["demo", "--end", "2026-13-01"], "--end"),
    (["demo", "--end", "0001-01-01"], "--end"),  # was: internal error "year -3 is out of range"
    (["demo", "--format", "xls"], "--format"),
    (["import", "{tmp}/missing.csv", "--out", "{tmp}/imported"], "missing.csv"),
    (["import", "{orders}", "--preset", "nosuch", "--out", "{tmp}/imported"], "nosuch"),
    (["import", "{orders}", "--mapping", "{tmp}/missing.yml", "--out", "{tmp}/imported"], "missing.yml"),
    (["import", "{orders}", "--out", "{file}/x"], "is a file"),
    (["import", "{orders}", "--locale", "xx_YY", "--out", "{tmp}/imported"], "--locale"),  # was: accepted
    (["validate", "--catalog", "{tmp}/missing.yml"], "missing.yml"),
    (["validate", "--data", "{tmp}/missing"], "missing"),
    (["validate", "--data", "{data}", "--period", "9999-12"], "9999-12"),  # was: internal error
    (["validate", "--data", "{data}", "--today", "2026-13-01"], "--today"),  # was: internal error
    (["validate", "--data", "{data}", "--currency", "dollars please"], "--currency"),  # was: accepted
    (["run", "--data", "{data}", "--period", "2030-01"], "2030-01"),  # was: a report of zeros, exit 0
    (["run", "--data", "{data}", "--reports", "nosuch"], "nosuch"),
    (["run", "--data", "{data}", "--reports", ","], "--reports"),  # was: 0 reports, exit 0
    (["run", "--data", "{data}", "--lang", "fr"], "fr"),
    (["run", "--data", "{data}", "--currency", "XXXXXXXXXXXX"], "--currency"),  # was: accepted
    (["run", "--data", "{data}", "--workers", "0"], "--workers"),  # was: the reports were run
    (["run", "--data", "{data}", "--workers", "two"], "--workers"),
    (
        ["run", "--data", "{data}", "--scheduler", "nonsense"],
        "--scheduler",
    ),  # was: validation, then a failure
    (["run", "--data", "{data}", "--each", "planet"], "--each"),
    (["run", "--data", "{data}", "--param", "top_n"], "--param"),
    (["run", "--data", "{data}", "--param", "overview.top_n=many"], "top_n"),
    (["run", "--data", "{data}", "--report-set", "{tmp}/missing.yml"], "missing.yml"),
    (["run", "--data", "{data}", "--timeout", "0"], "--timeout"),  # was: validation, then internal error
    (["run", "--data", "{data}", "--today", "2026-02-30"], "--today"),  # was: internal error
    (["run", "--data", "{data}", "--out", "{file}/reports"], "is a file"),
    (["run", "--catalog", "{tmp}/missing.yml", "--data", "{data}"], "--catalog"),
    (["frobnicate"], "frobnicate"),
]


@pytest.fixture(scope="module")
def option_paths(tmp_path_factory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("options")
    data = tmp / "data"
    data.mkdir()
    (data / "orders.csv").write_text("order_id,customer_id,order_date,amount\nO1,C1,2026-10-01,10\n")
    (tmp / "a_file").write_text("not a folder\n")
    return {
        "tmp": str(tmp),
        "data": str(data),
        "orders": str(data / "orders.csv"),
        "file": str(tmp / "a_file"),
    }


def _main(*argv, capsys) -> CliResult:
    """The ``salesperf`` command's ``main(argv)`` run in this process (what the console script calls): as
    subprocesses these 34 cases take a minute and a half on a loaded machine, for start-up alone."""
    from salesperf.cli import main

    started = time.perf_counter()
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    captured = capsys.readouterr()
    return CliResult(argv, code, captured.out, captured.err, round(time.perf_counter() - started, 2))


@pytest.mark.parametrize("argv, named", BAD_OPTIONS, ids=[" ".join(a[:3]) for a, _ in BAD_OPTIONS])
def test_every_option_with_a_bad_value_exits_2_without_internal_error(
    argv, named, option_paths, capsys, monkeypatch
):
    argv = [a.format(**option_paths) for a in argv]
    if argv[0] in ("validate", "run"):
        argv += ["--period", PERIOD] if "--period" not in argv else []
        argv += ["--today", TODAY] if "--today" not in argv else []
    if argv[0] == "run" and "--out" not in argv:
        argv += ["--out", f"{option_paths['tmp']}/reports"]
    monkeypatch.delenv("SALESPERF_DEBUG", raising=False)
    result = _main(*argv, capsys=capsys)
    assert result.returncode == 2, result.describe()
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr, result.describe()
    if "usage: salesperf" in result.stderr:  # argparse: the usage line, then an error naming the option
        assert named in result.stderr, result.describe()
    else:
        _one_line_error(result, named)
    assert not Path(option_paths["tmp"], "reports").exists()


def test_the_bad_option_cases_cover_every_option():
    from salesperf.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    used = {(argv[0], arg) for argv, _ in BAD_OPTIONS for arg in argv if arg.startswith("--")}
    missing = [
        (name, option)
        for name, sub in commands.items()
        for action in sub._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help" and (name, option) not in used
    ]
    assert not missing, f"options without a bad-value case: {missing}"

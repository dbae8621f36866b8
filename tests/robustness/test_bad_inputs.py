"""A corpus of bad inputs (issue 11): each case is a small folder of files and a ``salesperf`` command line,
with its expected outcome:

* ``error``: exit 2, exactly one error line (and at most one hint line) naming the file or option and the
  given texts (column, examples), no traceback and no "internal error";
* ``rows``: exit 0 and the row accounting of ``salesperf validate`` (per table: rows read, rows used, and the
  rows excluded or flagged by reason), with rows read = rows used + rows excluded;
* ``imported``: exit 0 and ``import_accounting.csv`` (per table: rows read + derived = written + dropped + merged,
  and the rows dropped by reason).

The command is the real entry point, ``salesperf.cli.main(argv)``, called in this process: the 54 cases run in
about 20 s instead of two minutes of interpreter start-ups. No case renders a report.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pytest

HEADER = "order_id,customer_id,order_date,amount\n"
TEN = "".join(f"O{i},C{i},2026-10-{i:02d},{10 * i}\n" for i in range(1, 10))  # nine good lines
#: 150 good lines: one bad value among them is under validation's 1 % and is excluded, not fatal
MANY = "".join(f"M{i},C{i % 40},2026-10-{i % 28 + 1:02d},{i + 1}\n" for i in range(150))
MAPPING = "table: orders\ncolumns: {order_id: order_id, customer_id: customer_id, order_date: order_date, amount: amount}\n"
PERIOD, TODAY = "2026-10", "2026-11-27"
VALIDATE = ("validate", "--data", "{dir}", "--period", PERIOD, "--today", TODAY)
CURRENCIES = (
    "order_id,customer_id,order_date,amount,currency\nO1,C1,2026-10-01,10,CNY\nO2,C2,2026-10-03,12,USD\n"
)
IMPORT = ("import", "{dir}/export.csv", "--mapping", "{dir}/m.yml", "--out", "{dir}/out")


def _alias_bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + f"\ntables:\n  orders: *a{levels - 1}\n"


def _xlsx_with_title(path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "Sales order lines"
    sheet.merge_cells("A1:D1")
    sheet.append(["order_id", "customer_id", "order_date", "amount"])
    sheet.append(["O1", "C1", "2026-10-01", 10])
    book.save(path)


@dataclass
class Case:
    """One bad input: files (name -> text or bytes; a callable writes the file itself), the command, and what
    must happen."""

    id: str
    files: dict = field(default_factory=dict)
    argv: tuple = VALIDATE
    error: tuple = ()  # texts of the one error line
    rows: dict = field(default_factory=dict)  # table -> (read, used, {(kind, reason): rows})
    imported: dict = field(default_factory=dict)  # table -> (read, written, {reason: rows dropped})
    stdout: str = ""  # a text the output must hold (a warning)
    xfail: str = ""  # reason, for the value rules validation does not have yet


def orders(text: str, **more) -> dict:
    return {"orders.csv": text, **more}


# fmt: off
CASES = [
    # ---------------------------------------------------------------------------------------- periods and dates
    *[Case(f"period {p}", orders(HEADER + TEN), (*VALIDATE[:3], "--period", p, "--today", TODAY),
           error=(p, "out of range")) for p in ("0000-01", "9999-12", "9999-Q4", "1234-10", "0001-01")],
    Case("today 2026-13-01", orders(HEADER + TEN), (*VALIDATE[:5], "--today", "2026-13-01"),
         error=("--today", "2026-13-01")),
    Case("future period", orders(HEADER + TEN), (*VALIDATE[:3], "--period", "2030-01", "--today", TODAY),
         error=("2030-01", "has not started")),
    # -------------------------------------------------------------------------------------------- files
    Case("empty file", orders(""), error=("orders.csv", "the file is empty (0 bytes)")),
    Case("blank lines only", orders("\n \n\n"), error=("orders.csv", "only blank lines")),
    Case("header only", orders(HEADER), error=("orders.csv", "no rows")),
    Case("wrong delimiter",
         orders(HEADER + TEN, **{"catalog.yml": "tables:\n  orders: {path: orders.csv, delimiter: ';'}\n"}),
         error=("orders.csv", "delimiter ';'", "separated by ','")),
    Case("GBK bytes", orders(HEADER.encode() + "O1,阿里,2026-10-01,10\n".encode("gbk")),
         error=("not UTF-8", "line 2", "GB18030")),
    Case("Windows-1252 bytes", orders(HEADER.encode() + "O1,Café,2026-10-01,10\n".encode("cp1252")),
         error=("not UTF-8", "Windows-1252")),
    Case("mixed encodings", orders(HEADER.encode() + TEN.encode() + "O10,张三,2026-10-03,7\n".encode("gbk")),
         error=("not UTF-8", "line 11", "GB18030")),
    Case("UTF-16", orders((HEADER + TEN).encode("utf-16")), error=("not UTF-8", "UTF-16")),
    Case("declared encoding",
         orders(HEADER.encode() + "O1,阿里,2026-10-01,10\n".encode("gbk"),
                **{"catalog.yml": "tables:\n  orders: {path: orders.csv, encoding: gb18030}\n"}),
         rows={"orders": (1, 1, {})}),
    Case("3 MB field", orders(HEADER + 'O1,"' + "x" * 3_000_000 + '",2026-10-01,10\n'),
         error=("line 2 is longer than 2,097,152 bytes",)),
    Case("file name not UTF-8", {"orders/caf\udce9.csv": HEADER + TEN}, rows={"orders": (9, 9, {})}),
    Case("xlsx merged title", {"orders.xlsx": _xlsx_with_title},
         error=("orders.xlsx", "not on the first row", "row 2")),
    Case("no known column", orders("a,b\n1,2\n"), error=("orders.csv", "none of the columns", "'a', 'b'")),
    Case("no customer_id column", orders("order_id,client,order_date,amount\nO1,C1,2026-10-01,5\n"),
         error=("orders.csv", "'customer_id'")),
    # -------------------------------------------------------------------------------------------- values
    Case("dates in three formats",
         orders(HEADER + "O1,C1,2026-10-01,10\nO2,C2,10/02/2026,5\nO3,C3,03.10.2026,7\nO4,C4,2026-10-04,8\n"),
         error=("orders.csv", "'order_date'", "2 of 4", "'03.10.2026'", "'10/02/2026'")),
    Case("one date in another format", orders(HEADER + MANY + "O10,C10,10/02/2026,5\n"),
         rows={"orders": (151, 150, {("excluded", "missing or unparseable order_date"): 1})}),
    Case(  # the value lies below the lines DuckDB samples for types: read as text, not a crash
        "a date in another format on line 30,002",
        orders(HEADER + "".join(f"L{i},C{i % 500},2026-10-{i % 28 + 1:02d},{i % 97 + 1}\n" for i in range(30000))
               + "O10,C10,10/02/2026,5\n"),
        rows={"orders": (30001, 30000, {("excluded", "missing or unparseable order_date"): 1})}),
    Case("amounts with text",
         orders(HEADER + "O1,C1,2026-10-01,10\nO2,C2,2026-10-02,12 EUR\nO3,C3,2026-10-03,n/a\nO4,C4,2026-10-04,8\n"),
         error=("orders.csv", "'amount'", "2 of 4", "'12 EUR'", "'n/a'")),
    Case("one amount with text", orders(HEADER + MANY + "O10,C10,2026-10-10,about 5\n"),
         rows={"orders": (151, 150, {("excluded", "missing or unparseable amount"): 1})}),
    Case("duplicates with different amounts",  # two lines of one order: both are purchases
         orders(HEADER + "O1,C1,2026-10-01,10\nO1,C1,2026-10-01,12\nO2,C2,2026-10-02,5\n"),
         rows={"orders": (3, 3, {})}),
    Case("exact duplicate", orders(HEADER + "O1,C1,2026-10-01,10\nO1,C1,2026-10-01,10\nO2,C2,2026-10-02,5\n"),
         rows={"orders": (3, 2, {("excluded", "duplicate row"): 1})}),
    Case("one customer", orders(HEADER + "O1,C1,2026-10-01,10\nO2,C1,2026-10-09,12\n"), rows={"orders": (2, 2, {})}),
    Case("one day", orders(HEADER + "O1,C1,2026-10-01,10\nO2,C2,2026-10-01,12\n"), rows={"orders": (2, 2, {})}),
    Case("period without data", orders(HEADER + "O1,C1,2026-08-01,10\nO2,C2,2026-08-03,12\n"),
         rows={"orders": (2, 2, {})},
         stdout="warning: no orders used in 2026-10 (2026-10-01 to 2026-10-31); the latest order is dated 2026-08-03"),
    Case("mixed currencies without rates", orders(CURRENCIES), error=("orders.csv", "2 currencies", "no exchange rates")),
    Case("mixed currencies, one stated", orders(CURRENCIES), (*VALIDATE, "--currency", "CNY"),
         rows={"orders": (2, 1, {("excluded", "in another currency (no exchange rates)"): 1})}),
    Case("stages outside the process",
         orders(HEADER + TEN, **{
             "opportunities.csv": "opportunity_id,customer_id,rep_id,stage,amount,created_at\n"
                                  "P1,C1,R1,Qualification,100,2026-09-01\nP2,C1,R1,Dreaming,50,2026-09-02\n",
             "catalog.yml": "stages: [Qualification, Proposal, Closed Won, Closed Lost]\n"
                            "tables:\n  orders: orders.csv\n  opportunities: opportunities.csv\n"}),
         rows={"orders": (9, 9, {}), "opportunities": (2, 2, {("flagged", "unknown stage"): 1})}),
    Case("zero amount", orders(HEADER + TEN + "O10,C10,2026-10-10,0\n"),
         rows={"orders": (10, 9, {("excluded", "zero amount"): 1})}),
    Case("dated in the future", orders(HEADER + TEN + "O10,C10,2027-01-05,5\n"),
         rows={"orders": (10, 9, {("excluded", "dated in the future"): 1})}),
    Case("negative amount", orders(HEADER + TEN + "O10,C1,2026-10-10,-30\n"),
         rows={"orders": (10, 10, {("flagged", "negative amount (kept as a return)"): 1})}),
    Case("blank customer id", orders(HEADER + TEN + "O10,,2026-10-10,5\n"),
         rows={"orders": (10, 9, {("excluded", "missing customer_id"): 1})}),
    *[  # value rules: null-like ids and inf/NaN amounts excluded, implausible amounts and dates flagged
        Case(name, orders(HEADER + TEN + extra), rows={"orders": (9 + n, used, {(kind, "*"): n})})
        for name, extra, n, used, kind, why in [
            ("null-like customer ids", "O10,NaN,2026-10-10,5\nO11,null,2026-10-11,5\nO12,N/A,2026-10-12,5\n",
             3, 9, "excluded", "null-like customer ids are kept as customers"),
            ("inf and NaN amounts", "O10,C10,2026-10-10,inf\nO11,C11,2026-10-11,NaN\n", 2, 9, "excluded",
             "inf/NaN amounts are used"),
            ("amount of 1e15", "O10,C10,2026-10-10,1e15\n", 1, 10, "flagged", "1e15 is used without a flag"),
            ("order dated 1900", "O10,C10,1900-01-05,5\n", 1, 10, "flagged", "the year 1900 passes without a flag"),
        ]
    ],
    # -------------------------------------------------------------------------------------------- catalogs
    *[Case(f"catalog {name}", orders(HEADER + TEN, **{"catalog.yml": text}), error=("catalog.yml", *said))
      for name, text, said in [
          ("delimeter", "tables:\n  orders: {path: orders.csv, delimeter: ';'}\n",
           ("'delimeter'", "did you mean 'delimiter'")),
          ("colums", "tables:\n  orders:\n    path: orders.csv\n    colums: {amount: Betrag}\n",
           ("'colums'", "did you mean 'columns'")),
          ("top-level key", "tables:\n  orders: orders.csv\ncurency: GBP\n", ("'curency'", "did you mean 'currency'")),
          ("table name", "tables:\n  orders: orders.csv\n  customer: orders.csv\n",
           ("'customer'", "did you mean 'customers'")),
          ("column name", "tables:\n  orders: {path: orders.csv, columns: {ammount: amount}}\n",
           ("'ammount'", "did you mean 'amount'")),
          ("alias bomb", _alias_bomb(), ("aliases",)),
      ]],
    # -------------------------------------------------------------------------------------------- import
    Case("import empty file", {"export.csv": "", "m.yml": MAPPING}, IMPORT, error=("export.csv", "empty")),
    Case("import huge field", {"export.csv": HEADER + 'O1,C1,2026-10-01,"' + "9" * 200_000 + '"\n', "m.yml": MAPPING},
         IMPORT, error=("export.csv", "line 2 holds a field longer than 131,072 characters")),
    Case("import GBK export",
         {"export.csv": (HEADER + "O1,阿里,2026-10-01,10\nO2,张三,2026-10-02,5\n").encode("gbk"), "m.yml": MAPPING},
         IMPORT, imported={"orders": (2, 2, {})}),
    Case("import missing values", {"export.csv": HEADER + TEN + "O10,,2026-10-10,5\n,,,\n", "m.yml": MAPPING},
         IMPORT, imported={"orders": (11, 9, {"missing customer_id": 1, "blank row": 1})}),
    Case("import mapping colums", {"export.csv": HEADER + TEN, "m.yml": "table: orders\ncolums: {}\n"}, IMPORT,
         error=("m.yml", "did you mean 'columns'")),
    Case("import mapping alias bomb", {"export.csv": HEADER + TEN, "m.yml": _alias_bomb()}, IMPORT,
         error=("m.yml", "aliases")),
]
# fmt: on


def _write(folder: Path, files: dict) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if callable(content):
            content(path)
        else:
            path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))


def _main(argv: list[str], capsys) -> tuple[int, str, str]:
    from salesperf.cli import main

    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


_ROW = re.compile(r"^\s*([a-z_]+)\s+(\d+)\s+(\d+)\s+(excluded|flagged|ok)\s+(.*?)\s+(\d+)(\s|$)")


def _validated(stdout: str) -> dict:
    """table -> (read, used, {(kind, reason): rows}) from ``salesperf validate``'s table."""
    found: dict = {}
    for line in stdout.splitlines():
        if match := _ROW.match(line):
            table, read, used, kind, reason, rows = match.groups()[:6]
            counts = found.setdefault(table, (int(read), int(used), {}))[2]
            if kind != "ok":
                counts[(kind, reason)] = int(rows)
    return found


def _import_accounting(folder: Path) -> dict:
    """table -> (read + derived, written, {reason: rows dropped}, merged) from ``import_accounting.csv``."""
    sums: dict = defaultdict(lambda: {"read": 0, "derived": 0, "written": 0, "merged": 0, "dropped": {}})
    with open(folder / "import_accounting.csv", encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            entry = sums[row["table"]]
            if row["kind"] == "dropped":
                entry["dropped"][row["reason"]] = entry["dropped"].get(row["reason"], 0) + int(row["rows"])
            elif row["kind"] in entry:
                entry[row["kind"]] += int(row["rows"])
    return sums


def _check_error(case: Case, code: int, out: str, err: str) -> None:
    told = f"exit {code}\nstdout: {out}\nstderr: {err}"
    assert code == 2, told
    assert "Traceback" not in err and "internal error" not in err, told
    errors = [line for line in err.splitlines() if line.startswith("salesperf: error:")]
    others = [line for line in err.splitlines() if line.strip() and line not in errors]
    assert len(errors) == 1 and len(others) <= 1 and all(o.startswith("salesperf: hint:") for o in others), (
        told
    )
    for text in case.error:
        assert text in errors[0], (text, errors[0])


def _check_rows(case: Case, out: str) -> None:
    found = _validated(out)
    for table, (read, used, counts) in case.rows.items():
        got_read, got_used, got_counts = found[table]
        assert (got_read, got_used) == (read, used), (table, found[table])
        excluded = sum(n for (kind, _), n in got_counts.items() if kind == "excluded")
        assert got_read == got_used + excluded, (table, found[table])  # rows read = used + excluded
        if ("excluded", "*") in counts:  # any reason: the rows must not be used
            assert excluded == counts[("excluded", "*")], found[table]
        elif ("flagged", "*") in counts:  # any reason: the rows are used and flagged
            flagged = sum(n for (kind, _), n in got_counts.items() if kind == "flagged")
            assert flagged == counts[("flagged", "*")], found[table]
        else:
            assert got_counts == counts, (table, got_counts)


def _check_import(case: Case, folder: Path) -> None:
    sums = _import_accounting(folder / "out")
    for table, (read, written, dropped) in case.imported.items():
        entry = sums[table]
        sources = entry["read"] + entry["derived"]
        assert sources == entry["written"] + sum(entry["dropped"].values()) + entry["merged"], entry
        assert (sources, entry["written"], entry["dropped"]) == (read, written, dropped), entry


def _params():
    for case in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
        yield pytest.param(case, id=case.id, marks=marks)


def test_the_corpus_holds_at_least_40_cases():
    assert len(CASES) >= 40 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", list(_params()))
def test_bad_input(case: Case, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SALESPERF_DEBUG", raising=False)
    _write(tmp_path, case.files)
    argv = [a.format(dir=tmp_path) for a in case.argv]
    code, out, err = _main(argv, capsys)
    if case.error:
        _check_error(case, code, out, err)
        return
    assert code == 0 and "error" not in err, f"exit {code}\nstdout: {out}\nstderr: {err}"
    if case.rows:
        _check_rows(case, out)
    if case.imported:
        _check_import(case, tmp_path)
    assert case.stdout in out, out

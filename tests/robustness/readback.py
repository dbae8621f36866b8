"""Reading exports back as a careful and as a careless reader would, and finding live formulas in them."""

from __future__ import annotations

import csv
import re
from pathlib import Path

#: What starts a formula (or a split cell) in a spreadsheet.
LIVE_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")


def csv_cells(path: Path) -> list[list[str]]:
    """The rows of an export as Python's csv module reads them."""
    with Path(path).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def naive_cells(path: Path, delimiter: str = ",") -> list[str]:
    """Every cell a careless spreadsheet import would make: the file cut at every carriage return, line feed and
    ``delimiter`` regardless of quoting, surrounding double quotes stripped."""
    text = Path(path).read_bytes().decode("utf-8-sig")
    return [cell.strip('"') for cell in re.split(f"[\r\n{re.escape(delimiter)}]", text)]


def live_cells(cells) -> list[str]:
    """The cells that a spreadsheet would run as a formula (a plain number such as ``-2.5`` is a number)."""
    return [c for c in cells if c.startswith(LIVE_START) and not _NUMBER.fullmatch(c)]


def export_problems(path: Path) -> list[str]:
    """Everything wrong with one CSV export: live formulas for either reader, NUL bytes."""
    problems = []
    if b"\x00" in Path(path).read_bytes():
        problems.append(f"{path.name}: NUL byte")
    for row in csv_cells(path):
        problems += [f"{path.name}: csv module cell {c!r}" for c in live_cells(row)]
    for delimiter in (",", ";", "\t"):
        problems += [
            f"{path.name}: naive split on {delimiter!r}: {c!r}"
            for c in live_cells(naive_cells(path, delimiter))
        ]
    return problems

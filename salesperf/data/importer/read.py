"""Reading export files into raw cells: CSV/TSV/TXT (encoding and delimiter sniffed) or XLSX; the header row;
blank rows, report footers and subtotal rows below it.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from salesperf.core.errors import UserError
from salesperf.data import parsing
from salesperf.data.importer.columns import header_keys
from salesperf.data.importer.mapping import Mapping

HEADER_SEARCH_ROWS = 30


def read_cells(
    path: Path,
    mapping_encoding: str = "auto",
    delimiter: str = "auto",
    sheet: Any = 0,
    locale: str | None = None,
) -> tuple[list[list[object]], str | None]:
    """All rows of a CSV/TSV/TXT or XLSX file as lists of raw cells, and the encoding (``None`` for xlsx)."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        try:
            frame = pd.read_excel(path, sheet_name=sheet, header=None, dtype=object)
        except ImportError as exc:
            raise UserError(
                f"{path}: cannot read {suffix} files here ({exc})", hint="save it as .xlsx or .csv"
            ) from None
        except Exception as exc:  # any reader failure is a file problem the user can fix
            raise UserError(f"{path}: cannot read the workbook ({str(exc).splitlines()[0][:200]})") from None
        frame = frame.astype(object).where(frame.notna(), None)
        return [list(row) for row in frame.itertuples(index=False, name=None)], None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: cannot read the file ({exc.strerror})") from None
    encoding = parsing.detect_encoding(data, locale) if mapping_encoding == "auto" else mapping_encoding
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise UserError(
            f"{path}: cannot decode the file as {encoding} ({exc})",
            hint="set 'encoding:' in a mapping file (utf-8, gb18030, cp1252 ...)",
        ) from None
    text = text.lstrip("\ufeff")
    delim = (
        ("\t" if suffix == ".tsv" else parsing.sniff_delimiter(text)) if delimiter == "auto" else delimiter
    )
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    except csv.Error as exc:
        raise UserError(f"{path}: not a readable CSV ({exc})") from None
    return rows, encoding


def is_blank(row: list) -> bool:
    return not any(c is not None and str(c).strip() for c in row)


def locate_header(rows: list[list], alias_keys: set[str], header_row: int | None = None) -> int:
    """Index of the header row: the row (among the first 30) matching the most known headers (at least 2);
    else the first row with at least three non-blank cells; else the first non-blank row."""
    if header_row:
        return int(header_row) - 1
    best, best_hits = None, 1
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        hits = len(header_keys(row) & alias_keys)
        if hits > best_hits:
            best, best_hits = i, hits
    if best is not None:
        return best
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if sum(parsing.clean_text(c) is not None for c in row) >= 3:
            return i
    return next((i for i, row in enumerate(rows) if not is_blank(row)), 0)


def body_rows(
    rows: list[list], mapping: Mapping, dropped: Counter, first_line: int = 2
) -> tuple[list[list], list[int]]:
    """Data rows below the header with blank rows, report footers and subtotal rows removed (and counted), and
    the line number of each kept row (``first_line`` is the number of ``rows[0]``)."""
    kept, lines = [], []
    for i, row in enumerate(rows):
        if is_blank(row):
            if mapping.stop_at_blank_row:
                dropped["blank row"] += 1
                rest = rows[i + 1 :]
                n_rest = sum(not is_blank(r) for r in rest)
                if n_rest:
                    dropped["report footer (below the first blank row)"] += n_rest
                dropped["blank row"] += len(rest) - n_rest
                break
            dropped["blank row"] += 1
            continue
        first = next((text for c in row if c is not None and (text := str(c).strip())), "")
        if any(p.search(first) for p in mapping.footer_patterns):
            dropped["report footer or subtotal row"] += 1
            continue
        kept.append(row)
        lines.append(first_line + i)
    return kept, lines

"""Reading export files into cells: CSV/TSV/TXT (encoding and delimiter sniffed) or XLSX; the header row;
blank rows, report footers and subtotal rows below it.

Two readers give the same cells. The fast path reads a CSV with Arrow (one pass in C++, every cell a string,
exactly as :mod:`csv` splits it) and keeps each column by distinct value (:class:`~.cells.Body`). The general
path (:func:`read_cells`: Python's :mod:`csv`, or pandas for XLSX) serves XLSX files, joined files, files
whose header lies beyond the first 30 rows, and CSVs the fast path declines (a title row with a line break in
a quoted cell; an unclosed quote; rows of another width than the header together with line breaks in quoted
cells; a file Arrow cannot parse). ``SALESPERF_IMPORT_FAST=0`` turns the fast path off.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesperf.core.errors import UserError
from salesperf.data import parsing
from salesperf.data.importer.cells import Body
from salesperf.data.importer.columns import header_keys
from salesperf.data.importer.fastcsv import arrow_body, csv_reader, head_rows
from salesperf.data.importer.mapping import Mapping

HEADER_SEARCH_ROWS = 30
_EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")


def fast_path_enabled() -> bool:
    """Whether CSVs are read with Arrow (``SALESPERF_IMPORT_FAST=0`` in the environment turns it off)."""
    return os.environ.get("SALESPERF_IMPORT_FAST", "1") != "0"


def _read_excel(path: Path, sheet: Any) -> list[list[object]]:
    suffix = path.suffix.lower()
    try:
        frame = pd.read_excel(path, sheet_name=sheet, header=None, dtype=object)
    except ImportError as exc:
        raise UserError(
            f"{path}: cannot read {suffix} files here ({exc})", hint="save it as .xlsx or .csv"
        ) from None
    except Exception as exc:  # any reader failure is a file problem the user can fix
        raise UserError(f"{path}: cannot read the workbook ({str(exc).splitlines()[0][:200]})") from None
    frame = frame.astype(object).where(frame.notna(), None)
    return [list(row) for row in frame.itertuples(index=False, name=None)]


def _decode(
    path: Path, mapping_encoding: str, delimiter: str, locale: str | None
) -> tuple[bytes, str, str, str]:
    """The file's bytes, its text (without BOM), the encoding and the delimiter."""
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
    if delimiter == "auto":
        try:
            delimiter = "\t" if path.suffix.lower() == ".tsv" else parsing.sniff_delimiter(text)
        except csv.Error as exc:
            raise _csv_error(path, text, exc) from None
    return data, text, encoding, delimiter


def _csv_error(path: Path, text: str, exc: csv.Error) -> UserError:
    """A file the :mod:`csv` module refused; a field over its size limit is named by its line."""
    limit = csv.field_size_limit()
    if "field larger than field limit" not in str(exc):
        return UserError(f"{path}: not a readable CSV ({exc})")
    start, line = 0, 1
    while (end := text.find("\n", start)) >= 0 and end - start <= limit:
        start, line = end + 1, line + 1
    return UserError(
        f"{path}: line {line} holds a field longer than {limit:,} characters, the most one field may hold",
        hint="an unclosed quote (\") or a huge text field; fix the export or leave that column out of it",
    )


def _csv_rows(path: Path, text: str, delimiter: str, limit: int | None = None) -> list[list[str]]:
    """The rows of ``text`` split by :mod:`csv` (the first ``limit`` rows only, when given)."""
    try:
        return head_rows(text, delimiter, limit)[0] if limit else list(csv_reader(text, delimiter))
    except csv.Error as exc:
        raise _csv_error(path, text, exc) from None


def read_cells(
    path: Path,
    mapping_encoding: str = "auto",
    delimiter: str = "auto",
    sheet: Any = 0,
    locale: str | None = None,
) -> tuple[list[list[object]], str | None]:
    """All rows of a CSV/TSV/TXT or XLSX file as lists of raw cells, and the encoding (``None`` for xlsx)."""
    if path.suffix.lower() in _EXCEL_SUFFIXES:
        return _read_excel(path, sheet), None
    _, text, encoding, delim = _decode(path, mapping_encoding, delimiter, locale)
    return _csv_rows(path, text, delim), encoding


@dataclass
class Export:
    """One export file, read: its first rows (for the header search) and, on demand, the rows below the
    header as a :class:`~.cells.Body`.

    Attributes
    ----------
    path : Path
    head : list of list
        The first ``HEADER_SEARCH_ROWS + 1`` rows (every row on the general path).
    encoding : str or None
        ``None`` for XLSX.
    rows : list of list or None
        Every row (general path); ``None`` while the CSV is left to the fast path.
    """

    path: Path
    head: list[list]
    encoding: str | None
    rows: list[list] | None = None
    _data: bytes | None = None
    _text: str | None = None
    _delimiter: str = ","

    def all_rows(self) -> list[list]:
        """Every row (reads the whole CSV with :mod:`csv` if the fast path was going to)."""
        if self.rows is None:
            self.rows = _csv_rows(self.path, self._text, self._delimiter)
            self.head = self.rows
        return self.rows

    def body(self, header_index: int, width: int) -> tuple[Body, int]:
        """The rows below the header, cut or padded to ``width`` cells, and the number of rows in the file.

        Parameters
        ----------
        header_index : int
            Index of the header row.
        width : int
            Number of header cells.

        Returns
        -------
        body : Body
            n rows (n = rows in the file below the header), line numbers from ``header_index + 2``.
        n_rows : int
            Rows in the file, the header and the rows above it included.
        """
        if self.rows is None:
            body = arrow_body(self._data, self._text, self.encoding, self._delimiter, header_index, width)
            if body is not None:
                self._data = self._text = None  # the cells are in ``body`` now
                return body, header_index + 1 + len(body)
        rows = self.all_rows()
        return Body.from_rows(rows[header_index + 1 :], width, header_index + 2), len(rows)


def read_export(
    path: Path,
    mapping_encoding: str = "auto",
    delimiter: str = "auto",
    sheet: Any = 0,
    locale: str | None = None,
) -> Export:
    """Open one export: XLSX and (with the fast path off) CSV rows are read at once; otherwise only the first
    rows, and the body later by :meth:`Export.body`.

    Raises
    ------
    UserError
        When the file cannot be read or decoded.
    """
    if path.suffix.lower() in _EXCEL_SUFFIXES:
        rows = _read_excel(path, sheet)
        return Export(path, rows, None, rows)
    data, text, encoding, delim = _decode(path, mapping_encoding, delimiter, locale)
    export = Export(path, [], encoding, None, data, text, delim)
    if not fast_path_enabled():
        export.all_rows()
        return export
    export.head = _csv_rows(path, text, delim, HEADER_SEARCH_ROWS + 1)
    return export


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


def export_header(export: Export, mapping: Mapping) -> int:
    """:func:`locate_header` on an :class:`Export`, reading every row only when the header is not among the
    first rows."""
    head = export.head
    index = locate_header(head, mapping.alias_keys, mapping.header_row)
    if export.rows is None and (index >= HEADER_SEARCH_ROWS or all(is_blank(r) for r in head)):
        index = locate_header(export.all_rows(), mapping.alias_keys, mapping.header_row)
    return index


def drop_blank_and_footer_rows(body: Body, mapping: Mapping, dropped: Counter) -> Body:
    """The data rows with blank rows, report footers and subtotal rows removed and counted in ``dropped``.

    A footer or subtotal row is one whose first non-blank cell matches a ``footer_patterns`` entry; with
    ``stop_at_blank_row`` everything from the first blank row on is dropped (the non-blank rows below it
    counted as a report footer).

    Parameters
    ----------
    body : Body
        n rows below the header.
    mapping : Mapping
    dropped : Counter
        Reason -> rows, added to.

    Returns
    -------
    Body
        The m <= n rows kept, with their line numbers.
    """
    patterns = mapping.footer_patterns
    blank, footer = body.blank_and_first(lambda text: any(p.search(text) for p in patterns))
    drop = blank | footer
    if mapping.stop_at_blank_row and blank.any():
        cut = int(np.argmax(blank))
        below = np.arange(len(body)) > cut
        dropped["blank row"] += 1 + int((blank & below).sum())
        if n_rest := int((~blank & below).sum()):
            dropped["report footer (below the first blank row)"] += n_rest
        footer[cut:] = False
        drop = drop | below
    else:
        dropped["blank row"] += int(blank.sum())
    dropped["report footer or subtotal row"] += int(footer.sum())
    for reason in ("blank row", "report footer or subtotal row"):
        if not dropped[reason]:
            del dropped[reason]
    return body.take(~drop) if drop.any() else body

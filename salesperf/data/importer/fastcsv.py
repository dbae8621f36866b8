"""The CSV fast path: the rows below the header read by Arrow (``pyarrow.csv``, multi-threaded C++) as
strings, each column dictionary-encoded into a :class:`~.cells.Column` (distinct cells + codes), without a
Python object per cell.

The cells equal those of Python's :mod:`csv` reader with the same delimiter (``"`` quotes, ``""`` inside
quotes, line breaks inside quoted cells, empty lines as blank rows). Rows of another width than the header
(Arrow refuses them) are read again with :mod:`csv` and put back in their place. The function declines
(returns ``None``; the caller reads the file with :mod:`csv`) when it cannot be sure of that: a quoted line
break above or in the header, rows of another width in a file with quoted line breaks, or a parse error.
"""

from __future__ import annotations

import codecs
import csv
import io

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from salesperf.data.importer.cells import Body, Column


def csv_reader(text: str, delimiter: str):
    """Python's :mod:`csv` reader over ``text`` (line ends kept, as in a file opened with ``newline=""``)."""
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def head_rows(text: str, delimiter: str, limit: int) -> tuple[list[list[str]], int]:
    """The first ``limit`` rows of ``text`` and the number of physical lines they span, read from a prefix of
    the text when it holds more than ``limit`` rows (a long file is not copied for its head)."""
    size = 1 << 16
    while True:
        part = text[:size]
        whole = len(part) == len(text)
        reader = csv_reader(part, delimiter)
        rows, lines = [], 0
        try:
            for row in reader:
                if len(rows) == limit:
                    return rows, lines  # a further row began: the ``limit`` rows are complete
                rows.append(row)
                lines = reader.line_num
        except csv.Error:
            if whole:
                raise
        if whole:
            return rows, lines
        size *= 8


def _header_lines(text: str, delimiter: str, header_index: int) -> int | None:
    """Physical lines up to and including the header row; ``None`` if a quoted cell above spans lines."""
    rows, lines = head_rows(text, delimiter, header_index + 1)
    return lines if len(rows) == header_index + 1 and lines == header_index + 1 else None


def _read(buffer: bytes, delimiter: str, skip: int, width: int, threads: bool) -> tuple[pa.Table, list]:
    invalid: list[tuple[int | None, str]] = []

    def other_width(row) -> str:
        invalid.append((row.number, row.text))
        return "skip"

    names = [f"c{i}" for i in range(width)]
    table = pacsv.read_csv(
        pa.BufferReader(buffer),
        read_options=pacsv.ReadOptions(skip_rows=skip, column_names=names, use_threads=threads),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter,
            quote_char='"',
            double_quote=True,
            escape_char=False,
            newlines_in_values=True,
            ignore_empty_lines=False,
            invalid_row_handler=other_width,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            null_values=[],
        ),
    )
    return table, invalid


def _column(chunked: pa.ChunkedArray) -> Column:
    encoded = chunked.combine_chunks().dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.intp, copy=False)
    uniques = encoded.dictionary.to_numpy(zero_copy_only=False).astype(object, copy=False)
    return Column(codes, uniques)


def _spans_lines(table: pa.Table) -> bool:
    return any(
        pc.any(pc.match_substring_regex(column, "[\r\n]")).as_py() for column in table.columns if len(column)
    )


def arrow_body(
    data: bytes, text: str, encoding: str, delimiter: str, header_index: int, width: int
) -> Body | None:
    """The rows below the header (cut or padded to ``width`` cells), or ``None`` to leave the file to the
    general reader.

    Parameters
    ----------
    data : bytes
        The file as read.
    text : str
        The file decoded (BOM removed).
    encoding : str
        The encoding ``text`` was decoded with; other than UTF-8, the text is encoded to UTF-8 once for Arrow.
    delimiter : str
    header_index : int
        Index of the header row (rows above it are skipped).
    width : int
        Number of header cells.

    Returns
    -------
    Body or None
        n rows (every row of the file below the header), lines numbered from ``header_index + 2``.
    """
    if width < 1 or len(delimiter) != 1:
        return None
    skip = _header_lines(text, delimiter, header_index)
    if skip is None:
        return None
    buffer = data if encoding == "utf-8" and not data.startswith(codecs.BOM_UTF8) else text.encode("utf-8")
    try:
        table, invalid = _read(buffer, delimiter, skip, width, threads=True)
        if invalid:
            if _spans_lines(table):
                return None
            table, invalid = _read(buffer, delimiter, skip, width, threads=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowCapacityError):
        return None
    columns = [_column(c) for c in table.columns]
    first_line = header_index + 2
    body = Body(columns, np.arange(first_line, first_line + table.num_rows, dtype=np.int64))
    if not invalid:
        return body
    return _with_other_rows(body, invalid, skip, width, delimiter)


def _with_other_rows(body: Body, invalid: list, skip: int, width: int, delimiter: str) -> Body | None:
    """``body`` with the rows Arrow refused (another width than the header) read by :mod:`csv` and put
    back at their line (no cell spans lines here, so the physical line number is the row number)."""
    if any(number is None or "\n" in line or "\r" in line for number, line in invalid):
        return None  # a row refused across lines (an unclosed quote): leave it to the csv module
    rows = [next(csv.reader([line], delimiter=delimiter), []) for _, line in invalid]
    positions = np.array([number - 1 - skip for number, _ in invalid], dtype=np.int64)
    other = Body.from_rows(rows, width, 0)
    n = len(body) + len(other)
    order = np.empty(n, dtype=np.int64)
    is_other = np.zeros(n, dtype=bool)
    is_other[positions] = True
    order[~is_other] = np.arange(len(body))
    order[positions] = len(body) + np.arange(len(other))
    columns = []
    for mine, theirs in zip(body.columns, other.columns, strict=True):
        codes = np.concatenate([mine.codes, theirs.codes + len(mine.uniques)])[order]
        columns.append(Column(codes, np.concatenate([mine.uniques, theirs.uniques])))
    overflow = np.full(n, None, dtype=object)
    if other.overflow is not None:
        overflow[positions] = other.overflow
    first_line = skip + 1
    return Body(columns, np.arange(first_line, first_line + n, dtype=np.int64), overflow)

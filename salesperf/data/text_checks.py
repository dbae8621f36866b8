"""Checks of a text file before DuckDB reads it, so that a user's mistake gets a sentence instead of
"CSV Error on Line: 2": an empty file, bytes that are not UTF-8 (with the line, the likely encoding and how to
convert or declare it), a line too long to be a record (a 64 MB field fails in a second, not after 50 s of
parsing), and a header that is not on the first row.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

from salesperf.core.errors import UserError

#: The longest line read, in bytes (DuckDB's own limit for a CSV line).
MAX_LINE = 2_097_152
#: The part of a file checked before DuckDB reads it (all of it after DuckDB refused it).
SCAN_BYTES = 64 * 1024 * 1024
_CHUNK = 1024 * 1024


def _guess_encoding(sample: bytes) -> str:
    """``UTF-16`` (a byte-order mark), ``GB18030`` (Chinese text re-saved in Excel) or ``Windows-1252``."""
    if sample[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "UTF-16"
    for encoding in ("gb18030",):
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        wide = [c for c in text if ord(c) > 127]
        if wide and sum("\u4e00" <= c <= "\u9fff" for c in wide) >= len(wide) / 2:
            return "GB18030"
    return "Windows-1252"


def _not_utf8(shown: object, line: int, bad: bytes, sample: bytes) -> UserError:
    encoding = _guess_encoding(sample)
    return UserError(
        f"{shown}: the file is not UTF-8 text: line {line} holds the bytes {bad!r} (it looks like "
        f"{encoding})",
        hint=(
            f"save it as 'CSV UTF-8' (or: iconv -f {encoding} -t UTF-8 old.csv > new.csv), declare it in the "
            f"catalog (encoding: {encoding.lower()}), or convert it with 'salesperf import'"
        ),
    )


def _too_long(shown: object, line: int, length: int) -> UserError:
    return UserError(
        f"{shown}: line {line} is longer than {MAX_LINE:,} bytes, the most one line may hold",
        hint='an unclosed quote (") or a huge text field; fix the export or drop that column',
    )


def check_text(path: str | Path, shown: object, limit: int | None = SCAN_BYTES) -> None:
    """Refuse an empty file, bytes that are not UTF-8 and overlong lines in the first ``limit`` bytes.

    Parameters
    ----------
    path : str or Path
        The file to read.
    shown : object
        How messages name the file (the path the user gave).
    limit : int or None
        Bytes to check (``None``: the whole file).

    Raises
    ------
    UserError
        With the line number and what to do.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, since_newline, read, head, newline = 1, 0, 0, b"", b"\n"
    with open(path, "rb") as handle:
        while limit is None or read < limit:
            chunk = handle.read(_CHUNK)
            if not chunk:
                break
            if not read:
                head = chunk
                newline = b"\n" if b"\n" in chunk or b"\r" not in chunk else b"\r"  # old Mac files: CR only
                if chunk[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
                    raise _not_utf8(shown, 1, chunk[:2], chunk)
            first = chunk.find(newline)
            if since_newline + (first if first >= 0 else len(chunk)) > MAX_LINE:
                raise _too_long(shown, line, since_newline + (first if first >= 0 else len(chunk)))
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                bad_line = line + chunk.count(newline, 0, exc.start)
                raise _not_utf8(shown, bad_line, chunk[exc.start : exc.start + 4], chunk) from None
            line += chunk.count(newline)
            since_newline = (
                len(chunk) - chunk.rfind(newline) - 1 if first >= 0 else since_newline + len(chunk)
            )
            read += len(chunk)
    if not head.strip().lstrip(codecs.BOM_UTF8).strip():
        raise UserError(
            f"{shown}: the file is empty" + (" (0 bytes)" if not head else " (only blank lines)"),
            hint="export the table again; a file needs a header row and at least one row",
        )


def header_below(rows: list[list[str]], names: list[str]) -> tuple[int, list[str]] | None:
    """The row number (1-based) and cells of the first row below the first one that holds at least two of
    ``names`` (case and spaces ignored): the header of a file with title or merged rows above it."""
    wanted = {n.lower() for n in names}
    for number, cells in enumerate(rows[1:], start=2):
        if len({str(c).strip().lower() for c in cells} & wanted) >= 2:
            return number, [str(c) for c in cells if str(c).strip()]
    return None


def _head_text(path: str | Path, count: int) -> str:
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        return "".join(handle.readline() for _ in range(count))


def sniffed_delimiter(path: str | Path, fmt: str = "csv") -> str:
    """The delimiter of a text file's first lines: ``,`` ``;`` tab or ``|`` (``,`` when unsure)."""
    if fmt == "tsv":
        return "\t"
    try:
        return csv.Sniffer().sniff(_head_text(path, 30)[:4096], ",;\t|").delimiter
    except csv.Error:
        return ","


def first_rows(
    path: str | Path, fmt: str, sheet: object = 0, delimiter: str | None = None
) -> list[list[str]]:
    """The first 30 rows of a CSV/TSV (UTF-8; split by ``delimiter``, else the sniffed one) or an Excel
    sheet, as text cells."""
    if fmt == "xlsx":
        import pandas as pd

        frame = pd.read_excel(path, sheet_name=sheet, header=None, dtype=str, nrows=30)
        return [[("" if pd.isna(v) else v) for v in row] for row in frame.itertuples(index=False)]
    text = _head_text(path, 30)
    return list(csv.reader(io.StringIO(text), delimiter=delimiter or sniffed_delimiter(path, fmt)))

"""``join:`` at read time: the rows of a source file joined with the rows of a second file beside it whose
key matches (order headers with their lines, say). The ``join:`` YAML is validated in :mod:`~.mapping_tables`.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from salesperf.core.errors import UserError
from salesperf.data import parsing
from salesperf.data.importer.cells import Body
from salesperf.data.importer.mapping import Mapping
from salesperf.data.importer.mapping_tables import Join
from salesperf.data.importer.read import is_blank, read_cells
from salesperf.data.importer.summary import SourceSummary


def join_rows(
    path: Path,
    join: Join,
    headers: list[str],
    body: Body,
    mapping: Mapping,
    source: SourceSummary,
    locale: str | None,
) -> tuple[list[str], Body]:
    """Rows of ``body`` joined with the rows of ``join.file`` (beside the source) whose key matches.

    One row per match (so order lines fan out), the source row alone when nothing matches (``how: left``) or
    dropped and counted under ``no match in <file>`` (``how: inner``). Columns of the joined file whose header
    the source already has are left out. Keys compare as cleaned text, ``12.0`` as ``12``.

    Parameters
    ----------
    path : Path
        The source file; ``join.file`` is looked for beside it.
    join : Join
        The ``join:`` entry.
    headers : list of str
        The source's headers.
    body : Body
        The source's n rows, one column per header.
    mapping : Mapping
        For the encoding and delimiter when the entry does not set them.
    source : SourceSummary
        Accounting of the source; rows without a match (``how: inner``) are counted here.
    locale : str or None
        Number and date locale for reading the joined file.

    Returns
    -------
    headers : list of str
        The source's headers followed by the joined file's new ones.
    body : Body
        The joined rows (one column per header returned), each with the line of its source row.

    Raises
    ------
    UserError
        When the joined file is missing or empty, or either side lacks the key column.
    """
    other = path.parent / join.file
    if not other.exists():
        raise UserError(f"{path.name}: join: no file '{join.file}' beside it ({other})")
    encoding = mapping.encoding if join.encoding == "auto" else join.encoding
    delimiter = mapping.delimiter if join.delimiter == "auto" else join.delimiter
    rows, _ = read_cells(other, encoding, delimiter, 0, locale)
    rows = [r for r in rows if not is_blank(r)]
    if not rows:
        raise UserError(f"{join.file}: the file is empty")
    their = [("" if h is None else str(h)) for h in rows[0]]
    left_key, right_key = (parsing.normalize_header(k) for k in join.on)
    mine = [parsing.normalize_header(h) for h in headers]
    theirs = [parsing.normalize_header(h) for h in their]
    for key, names, where in ((left_key, mine, path.name), (right_key, theirs, join.file)):
        if key not in names:
            raise UserError(
                f"{where}: join on '{key}': no such column",
                hint=f"headers: {', '.join(h for h in (headers if where == path.name else their) if h)}",
            )
    li, ri = mine.index(left_key), theirs.index(right_key)
    extra = [i for i, h in enumerate(theirs) if h and h not in mine]
    index: dict[str, list[list]] = {}
    for row in rows[1:]:
        row = list(row) + [None] * (len(their) - len(row))
        index.setdefault(_join_key(row[ri]), []).append([row[i] for i in extra])
    blank = [None] * len(extra)
    out_rows, out_lines, missing = [], [], []
    for row, line in zip(body.to_rows(), body.lines.tolist(), strict=True):
        matches = index.get(_join_key(row[li]))
        if matches:
            out_rows += [row + m for m in matches]
            out_lines += [line] * len(matches)
        elif join.how == "left":
            out_rows.append(row + blank)
            out_lines.append(line)
        else:
            missing.append(line)
    if missing:
        reason = f"no match in {join.file}"
        source.dropped[reason] += len(missing)
        source.examples.setdefault(reason, []).extend(f"line {n}" for n in missing[:3])
    headers = headers + [their[i] for i in extra]
    return headers, Body.from_rows(out_rows, len(headers), np.array(out_lines, dtype=np.int64))


def _join_key(value: object) -> str | None:
    text = parsing.clean_text(value)
    if text is not None and (m := re.match(r"^(-?\d+)\.0+$", text)):
        return m.group(1)
    return text

"""Source cells held by distinct value: a column is its distinct cells (``uniques``) and, per row, the index
of its cell among them (``codes``). Exports repeat values a lot (a few thousand customers, dates, prices over
a million lines), so every rule runs once per distinct value and the result is mapped back to the rows with
one array take (:meth:`Column.map`, :func:`memo_map`).

Both readers produce a :class:`Body`: the CSV fast path from Arrow's dictionary encoding, the general path
(any CSV, XLSX, joined rows) from lists of cells.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


def factorize(values: Sequence | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes and distinct values of ``values`` (``values == uniques[codes]``).

    Parameters
    ----------
    values : sequence or ndarray, length n
        Cells (any hashable objects; ``None``/NaN are values too: a blank gets its own code).

    Returns
    -------
    codes : ndarray of intp, shape (n,)
    uniques : ndarray of object, shape (k,)
        The distinct values in order of first appearance, then ``None`` and NaN when present. As in a dict,
        values that compare equal are one entry (``1``, ``1.0`` and ``True``).
    """
    array = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    if array.dtype != object:
        array = array.astype(object)
    if len(array) == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=object)
    codes, uniques = pd.factorize(array, use_na_sentinel=True)
    codes = codes.astype(np.intp, copy=False)
    uniques = np.asarray(uniques, dtype=object)
    missing = np.flatnonzero(codes < 0)
    if len(missing):
        is_none = np.equal(array[missing], None)
        kinds = [(None, is_none), (array[missing[np.argmin(is_none)]], ~is_none)]  # None; NaN (or NaT)
        for value, rows in kinds:
            if rows.any():
                uniques = np.append(uniques, np.empty(1, dtype=object))
                uniques[-1] = value
                codes[missing[rows]] = len(uniques) - 1
    return codes, uniques


def map_uniques(function: Callable, uniques: np.ndarray) -> np.ndarray:
    """``function`` of each distinct value, as an object array of the same length."""
    out = np.empty(len(uniques), dtype=object)
    for i, value in enumerate(uniques):
        out[i] = function(value)
    return out


def memo_map(function: Callable, values: Sequence | np.ndarray) -> np.ndarray:
    """``[function(v) for v in values]`` as an object array, computed once per distinct value.

    Parameters
    ----------
    function : callable
        Applied to each distinct value.
    values : sequence or ndarray, length n

    Returns
    -------
    ndarray of object, shape (n,)
    """
    codes, uniques = factorize(values)
    return map_uniques(function, uniques)[codes]


@dataclass
class Column:
    """One column of source cells by distinct value.

    Attributes
    ----------
    codes : ndarray of intp, shape (n,)
        Index into ``uniques`` per row.
    uniques : ndarray of object, shape (k,)
        Distinct cells (``str``; ``None`` for a cell the row does not have; numbers/dates from .xlsx).
    """

    codes: np.ndarray
    uniques: np.ndarray

    @classmethod
    def of(cls, values: Sequence | np.ndarray) -> Column:
        return cls(*factorize(values))

    def __len__(self) -> int:
        return len(self.codes)

    def values(self) -> np.ndarray:
        """The cells, shape (n,), object."""
        return self.uniques[self.codes]

    def take(self, rows: np.ndarray) -> Column:
        """The column at ``rows`` (indices or a boolean mask), keeping only the distinct values still used."""
        codes = self.codes[rows]
        used = np.zeros(len(self.uniques), dtype=bool)
        used[codes] = True
        if used.all():
            return Column(codes, self.uniques)
        renumber = np.cumsum(used) - 1
        return Column(renumber[codes], self.uniques[used])

    def map(self, function: Callable) -> np.ndarray:
        """``function`` of every cell, shape (n,), object: computed once per distinct value."""
        return map_uniques(function, self.uniques)[self.codes]

    def where(self, mask_of_uniques: np.ndarray) -> np.ndarray:
        """Per row, the boolean ``mask_of_uniques`` (shape (k,)) of its cell; shape (n,)."""
        return np.asarray(mask_of_uniques, dtype=bool)[self.codes]


def _cell_text(value: object) -> str:
    return "" if value is None else str(value).strip()


@dataclass
class Body:
    """The rows below the header of one export, by column.

    Attributes
    ----------
    columns : list of Column
        One per header cell, each of length n.
    lines : ndarray of int64, shape (n,)
        The source line number of each row (the header's line + 1 for the first row below it).
    overflow : ndarray of object, shape (n,), or None
        The first non-blank text a row has beyond the header's width (``None`` where it has none); rows
        longer than the header are cut to its width, but that text still makes the row non-blank and can
        be its first cell (a footer).
    """

    columns: list[Column]
    lines: np.ndarray
    overflow: np.ndarray | None = None

    @classmethod
    def from_rows(cls, rows: list[list], width: int, lines: int | np.ndarray) -> Body:
        """Rows of cells (any lengths) cut or padded with ``None`` to ``width``; ``lines`` is the line of
        each row, or the line of the first row (the others follow)."""
        cut = [list(r[:width]) + [None] * (width - len(r)) for r in rows]
        columns = [Column.of([r[i] for r in cut]) for i in range(width)]
        overflow = None
        if any(len(r) > width for r in rows):
            overflow = np.array(
                [next((t for c in r[width:] if (t := _cell_text(c))), None) for r in rows], dtype=object
            )
        if isinstance(lines, (int, np.integer)):
            lines = np.arange(lines, lines + len(rows), dtype=np.int64)
        return cls(columns, np.asarray(lines, dtype=np.int64), overflow)

    def __len__(self) -> int:
        return len(self.lines)

    def take(self, rows: np.ndarray) -> Body:
        """The rows at ``rows`` (indices or a boolean mask)."""
        overflow = None if self.overflow is None else self.overflow[rows]
        return Body([c.take(rows) for c in self.columns], self.lines[rows], overflow)

    def to_rows(self) -> list[list]:
        """The rows as lists of cells (each as long as the header)."""
        if not self.columns:
            return [[] for _ in range(len(self))]
        return [list(r) for r in zip(*(c.values() for c in self.columns), strict=True)]

    def blank_and_first(self, test: Callable[[str], bool]) -> tuple[np.ndarray, np.ndarray]:
        """Per row: whether every cell is blank (empty or spaces), and ``test`` of the text of its first
        non-blank cell (``False`` for a blank row); ``test`` runs once per distinct text. Shapes (n,), bool.
        """
        blank = np.ones(len(self), dtype=bool)
        tested = np.zeros(len(self), dtype=bool)
        for column in self.columns:
            text = map_uniques(_cell_text, column.uniques)
            here = blank & (text != "")[column.codes]
            if here.any():
                codes = column.codes[here]
                used = np.bincount(codes, minlength=len(text)) > 0
                verdict = np.zeros(len(text), dtype=bool)
                verdict[used] = [bool(test(t)) for t in text[used]]
                tested[here] = verdict[codes]
                blank &= ~here
        if self.overflow is not None:
            here = blank & (self.overflow != None)  # noqa: E711 (element-wise)
            if here.any():
                tested[here] = [test(t) for t in self.overflow[here]]
                blank &= ~here
        return blank, tested


def text_order(values: pd.Series) -> np.ndarray:
    """Positions that put ``values`` (text, blanks last) in order, ties in their order: what
    ``sort_values(kind="stable", na_position="last")`` gives, by sorting the distinct values only.

    Parameters
    ----------
    values : Series, length n
        Text or blanks.

    Returns
    -------
    ndarray of intp, shape (n,)
    """
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), sort=True)
    return np.argsort(np.where(codes < 0, len(uniques), codes), kind="stable")

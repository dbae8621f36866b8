"""One source column to canonical values by the field's type: numbers, dates (with the time of day where
kept), probabilities, flags, ids and text. The parsing itself is :mod:`salesperf.data.parsing`; this module
runs it once per distinct cell of a :class:`~.cells.Column`, settles what the column decides as a whole
(day/month order, time of day, the probability scale) and names bad cells, counted by row, in one
:class:`~salesperf.core.errors.UserError` per column.
"""

from __future__ import annotations

import re

import numpy as np

from salesperf.core.errors import UserError, examples
from salesperf.data import parsing
from salesperf.data.importer.cells import Column, map_uniques
from salesperf.data.importer.columns import Resolved
from salesperf.data.importer.mapping import Mapping
from salesperf.data.importer.mapping_kinds import Kind, field_type

ID_FIELDS = {
    "order_id",
    "customer_id",
    "rep_id",
    "owner_rep_id",
    "opportunity_id",
    "product_id",
    "activity_id",
    "manager_id",
    "response_id",
    "ticket_id",
    "agent_id",
}
_EXCEL_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+\d+$", re.IGNORECASE)
_SALESFORCE_ID18 = re.compile(r"^(?=.*\d)[0-9A-Za-z]{18}$")
_FLOAT_ID = re.compile(r"^(-?\d+)\.0+$")  # "17850.0": an integer id that went through a float column
#: Date columns whose time of day is kept (``YYYY-MM-DD HH:MM:SS``) when the source has one.
TIME_OF_DAY_FIELDS = {("orders", "order_date")}


def _bad_column(
    file: str, header: str, fname: str, what: str, bad: list, hint: str | None = None
) -> UserError:
    return UserError(
        f"{file}: column '{header}' ({fname}): {len(bad)} value(s) cannot be read as {what}; "
        f"examples: {examples(bad)}",
        hint=hint,
    )


def bad_cells(cells: Column, bad_uniques: np.ndarray) -> list:
    """The cells (in row order) whose distinct value is marked in ``bad_uniques``."""
    return list(cells.values()[cells.where(bad_uniques)])


def _parse_numbers(
    cells: Column, decimal: str | None, multiplier: float, file: str, res: Resolved, fname: str
) -> np.ndarray:
    def number(value: object) -> object:
        try:
            parsed = parsing.parse_number(value, decimal)
        except ValueError:
            return ValueError
        return None if parsed is None else round(parsed * multiplier, 6)

    out = map_uniques(number, cells.uniques)
    bad = np.array([o is ValueError for o in out], dtype=bool)
    if bad.any():
        hint = (
            "declare the number locale (--locale de_DE or 'locale:' in the mapping)"
            if decimal is None
            else None
        )
        raise _bad_column(file, res.header, fname, "numbers", bad_cells(cells, bad), hint)
    return out


def _parse_ids(cells: Column, mapping: Mapping, file: str, res: Resolved, fname: str) -> np.ndarray:
    def clean_id(value: object) -> str | None:
        text = parsing.clean_text(value)
        if text is None:
            return None
        if _EXCEL_SCIENTIFIC.match(text):
            return ValueError
        if float_id := _FLOAT_ID.match(text):
            text = float_id.group(1)
        for prefix in mapping.strip_id_prefixes:
            text = text.removeprefix(prefix)
        if mapping.id_style == "salesforce" and _SALESFORCE_ID18.match(text):
            text = text[:15]
        return text

    out = map_uniques(clean_id, cells.uniques)
    bad = np.array([o is ValueError for o in out], dtype=bool)
    if bad.any():
        raise _bad_column(
            file,
            res.header,
            fname,
            "ids (Excel turned them into scientific notation)",
            bad_cells(cells, bad),
            hint="re-export the file; do not open and re-save the CSV in Excel",
        )
    return out


def parse_field(
    cells: Column,
    fname: str,
    kind: Kind,
    mapping: Mapping,
    res: Resolved,
    file: str,
    locale: str | None,
    notes: list[str],
) -> np.ndarray:
    """Canonical values of one column's cells by the field's type; UserError naming bad cells.

    Every rule runs once per distinct cell; column-level decisions (day/month order, time of day, the
    probability scale) look at the distinct cells, which are the column's cells without repeats.

    Parameters
    ----------
    cells : Column
        n cells of the source column.
    fname, kind, mapping, res, file, locale, notes
        The field, its kind and mapping, the resolved header, the file name (for messages), the locale and
        the import notes (appended to).

    Returns
    -------
    ndarray of object, shape (n,)
        Canonical values (``None`` for blanks).
    """
    return _parse_uniques(cells, fname, kind, mapping, res, file, locale, notes)[cells.codes]


def _parse_uniques(
    cells: Column,
    fname: str,
    kind: Kind,
    mapping: Mapping,
    res: Resolved,
    file: str,
    locale: str | None,
    notes: list[str],
) -> np.ndarray:
    """:func:`parse_field` of the distinct cells: shape (k,) for ``cells.uniques`` of shape (k,)."""
    ftype = field_type(kind.table, fname)
    uniques = cells.uniques
    if fname == "probability":
        return _parse_probabilities(cells, fname, res, file, locale)
    if ftype == "DOUBLE":
        return _parse_numbers(cells, parsing.decimal_separator(locale), res.multiplier, file, res, fname)
    if ftype == "DATE":
        return _parse_dates(cells, fname, kind, mapping, res, file, locale, notes)
    if ftype == "BOOLEAN":
        out = map_uniques(lambda v: _or_error(parsing.parse_bool, v), uniques)
        bad = np.array([o is ValueError for o in out], dtype=bool)
        if bad.any():
            raise _bad_column(file, res.header, fname, "true/false flags", bad_cells(cells, bad))
        return out
    if fname in ID_FIELDS:
        return _parse_ids(cells, mapping, file, res, fname)
    if kind.table == "targets" and fname == "period":
        return map_uniques(_period_text, uniques)
    if mapping.not_blank:
        keep = mapping.not_blank
        return map_uniques(
            lambda v: (
                v.strip() if isinstance(v, str) and v.strip().casefold() in keep else parsing.clean_text(v)
            ),
            uniques,
        )
    return map_uniques(parsing.clean_text, uniques)


def _period_text(value: object) -> str | None:
    """A target's period: ``2017-12`` stays; a date (``2017/12/01``, an .xlsx date) becomes its month."""
    text = parsing.clean_text(value)
    if text is None or re.fullmatch(r"\d{4}-(\d{2}|Q[1-4]|W\d{2})", text):
        return text
    try:
        day = parsing.parse_date(value)
    except ValueError:
        return text
    return day.strftime("%Y-%m") if day else text


def _parse_probabilities(
    cells: Column, fname: str, res: Resolved, file: str, locale: str | None
) -> np.ndarray:
    decimal = parsing.decimal_separator(locale)
    try:
        return np.array(
            parsing.parse_probability_column(list(cells.uniques), decimal) + [None], dtype=object
        )[:-1]
    except ValueError:
        bad = np.array(
            [_or_error(parsing.parse_probability_column, [v], decimal) is ValueError for v in cells.uniques],
            dtype=bool,
        )
        raise _bad_column(
            file, res.header, fname, "probabilities (75, 75% or 0.75)", bad_cells(cells, bad)
        ) from None


def _parse_dates(
    cells: Column,
    fname: str,
    kind: Kind,
    mapping: Mapping,
    res: Resolved,
    file: str,
    locale: str | None,
    notes: list[str],
) -> np.ndarray:
    uniques = list(cells.uniques)
    formats = kind.dates.get(fname, [])
    try:
        dates, note = parsing.parse_date_column(uniques, formats=formats, locale=locale, tz=mapping.timezone)
    except ValueError as exc:
        bad = (
            np.zeros(len(uniques), dtype=bool)
            if "mixes" in str(exc)
            else np.array([_or_error(parsing.parse_date, v, formats=formats) is ValueError for v in uniques])
        )
        if not bad.any():
            raise UserError(
                f"{file}: column '{res.header}' ({fname}): {exc}",
                hint="set the format under 'dates:' in a mapping file, e.g. '%d/%m/%Y'",
            ) from None
        raise _bad_column(
            file,
            res.header,
            fname,
            "dates",
            bad_cells(cells, bad),
            hint="set the format under 'dates:' in a mapping file, e.g. '%d.%m.%Y'",
        ) from None
    if note:
        notes.append(f"{file}: column '{res.header}': {note}")
    out = [d.isoformat() if d else None for d in dates]
    if (kind.table, fname) in TIME_OF_DAY_FIELDS:
        times = [parsing.time_of_day(v, mapping.timezone) for v in uniques]
        if any(t not in (None, "00:00:00") for t in times):  # midnight everywhere means "no time": date only
            out = [f"{d} {t}" if d and t else d for d, t in zip(out, times, strict=True)]
    result = np.empty(len(out), dtype=object)
    result[:] = out
    return result


def _or_error(function, value, *args, **kwargs):
    try:
        return function(value, *args, **kwargs)
    except ValueError:
        return ValueError

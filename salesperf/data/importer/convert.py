"""Cell values to canonical values: numbers, dates, probabilities, flags and ids (the parsing itself is
:mod:`salesperf.data.parsing`; this module applies it per column and reports bad cells), value maps, and the
derived opportunity status / close dates and order-line statuses."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from salesperf.core.errors import UserError, examples
from salesperf.data import parsing
from salesperf.data.importer.cells import Column, map_uniques
from salesperf.data.importer.columns import Resolved
from salesperf.data.importer.mapping import Mapping
from salesperf.data.importer.mapping_kinds import (
    OPPORTUNITY_STATUSES,
    Kind,
    field_type,
    value_key,
    value_key_or_none,
)
from salesperf.data.importer.summary import SourceSummary

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
ORDER_STATUSES = {"completed", "returned", "cancelled"}
_EXCEL_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+\d+$", re.IGNORECASE)
_SALESFORCE_ID18 = re.compile(r"^(?=.*\d)[0-9A-Za-z]{18}$")
_FLOAT_ID = re.compile(r"^(-?\d+)\.0+$")  # "17850.0": an integer id that went through a float column
#: Date columns whose time of day is kept (``YYYY-MM-DD HH:MM:SS``) when the source has one.
TIME_OF_DAY_FIELDS = {("orders", "order_date")}


def to_float(values: pd.Series) -> pd.Series:
    """``pd.to_numeric(values, errors="coerce")``, quicker for object columns of floats and blanks (the
    parsed number columns), which convert with a plain cast."""
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in (
        "floating",
        "mixed-integer-float",
        "empty",
    ):
        return values.astype(float)
    return pd.to_numeric(values, errors="coerce")


def _bad_column(
    file: str, header: str, fname: str, what: str, bad: list, hint: str | None = None
) -> UserError:
    return UserError(
        f"{file}: column '{header}' ({fname}): {len(bad)} value(s) cannot be read as {what}; "
        f"examples: {examples(bad)}",
        hint=hint,
    )


def _bad_cells(cells: Column, bad_uniques: np.ndarray) -> list:
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
        raise _bad_column(file, res.header, fname, "numbers", _bad_cells(cells, bad), hint)
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
            _bad_cells(cells, bad),
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
            raise _bad_column(file, res.header, fname, "true/false flags", _bad_cells(cells, bad))
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
            file, res.header, fname, "probabilities (75, 75% or 0.75)", _bad_cells(cells, bad)
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
            _bad_cells(cells, bad),
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


def apply_values(frame: pd.DataFrame, kind: Kind, file: str, resolved: dict[str, Resolved]) -> None:
    """``values:`` maps on the parsed columns of ``frame`` (n rows), in place, once per distinct value."""
    for fname, vmap in kind.values.items():
        if fname not in frame or fname == "order_status":
            continue
        cells = Column.of(frame[fname].to_numpy(dtype=object))
        table_map = vmap["map"]
        keys = map_uniques(value_key_or_none, cells.uniques)
        mapped = map_uniques(lambda k, m=table_map: m.get(k, _MISSING) if k is not None else None, keys)
        missing = np.array([v is _MISSING for v in mapped], dtype=bool)
        if missing.any():
            rule = vmap["unknown"]
            if rule == "error":
                header = resolved[fname].header if fname in resolved else fname
                unknown = pd.Series(cells.uniques[missing])
                raise UserError(
                    f"{file}: column '{header}' ({fname}): {unknown.nunique()} value(s) the mapping does not "
                    f"know; examples: {examples(_bad_cells(cells, missing))}",
                    hint=f"add them under 'values: {fname}: map:' in a mapping file",
                )
            mapped[missing] = cells.uniques[missing] if rule == "keep" else rule
        frame[fname] = mapped[cells.codes]


_MISSING = object()


def opportunity_status(frame: pd.DataFrame, kind: Kind, source: SourceSummary, notes: list[str]) -> None:
    """Status from the CRM's own flags (or status column / stage categories), never from the stage text."""
    if "status" in frame:
        if "status" not in kind.values:
            frame["status"] = frame["status"].map(lambda v: v.casefold() if isinstance(v, str) else v)
        bad = frame["status"].dropna()
        bad = bad[~bad.isin(OPPORTUNITY_STATUSES)]
        if len(bad):
            raise UserError(
                f"{source.file}: status values must map to open/won/lost; got {examples(bad.unique())}",
                hint="fix 'values: status: map:' in the mapping file",
            )
        return
    flags = [f for f in ("won_flag", "lost_flag", "closed_flag") if f in frame]
    if "won_flag" in frame and ("closed_flag" in frame or "lost_flag" in frame):
        won = frame["won_flag"]
        closed = (
            frame["closed_flag"]
            if "closed_flag" in frame
            else pd.Series(None, index=frame.index, dtype=object)
        )
        lost = (
            frame["lost_flag"] if "lost_flag" in frame else pd.Series(None, index=frame.index, dtype=object)
        )

        def status(w, c, lo) -> str | None:
            if w is True:
                return "won"
            if lo is True or (c is True and w is False):
                return "lost"
            if c is False or (lo is False and w is False):
                return "open"
            return None

        frame["status"] = [status(w, c, lo) for w, c, lo in zip(won, closed, lost, strict=True)]
    elif kind.stage_categories and "stage" in frame:
        keys = frame["stage"].map(lambda v: value_key(v) if v is not None else None)
        frame["status"] = keys.map(lambda k: kind.stage_categories.get(k) if k else None)
        unknown = frame.loc[frame["status"].isna() & frame["stage"].notna(), "stage"]
        if len(unknown):
            notes.append(
                f"{source.file}: {len(unknown)} deal(s) left without status: stage(s) "
                f"{examples(unknown.unique())} have no category; list them under 'stage_categories:' in a "
                f"mapping file that extends '{source.preset}'"
            )
    else:
        what = f"only {', '.join(flags)}" if flags else "no won/closed flag or status column"
        notes.append(f"{source.file}: {what}: status left empty (it is never guessed from stage names)")
    frame.drop(columns=[f for f in flags if f in frame], inplace=True)


def route_close_date(frame: pd.DataFrame, kind: Kind) -> None:
    """The CRM's close date is expected while open and actual once closed."""
    status = frame["status"] if "status" in frame else pd.Series(None, index=frame.index, dtype=object)
    closed = status.isin(["won", "lost"])
    if "close_date" in frame and "expected_close_date" not in frame:
        frame["expected_close_date"] = frame["close_date"].where(~closed, None)
    mapped_directly = "closed_at" in frame
    if not mapped_directly:
        frame["closed_at"] = None
    for source_field in kind.closed_at_from:
        if source_field in frame:
            frame["closed_at"] = frame["closed_at"].where(
                frame["closed_at"].notna() | ~closed, frame[source_field]
            )
    if not mapped_directly:
        frame["closed_at"] = frame["closed_at"].where(closed, None)


def order_status(frame: pd.DataFrame, kind: Kind, source: SourceSummary, notes: list[str]) -> None:
    """Returns are negative lines with status 'returned'; cancellations are kept with status 'cancelled'."""
    if "status" in frame:
        if "status" not in kind.values and "order_status" in kind.values:
            vmap = kind.values["order_status"]["map"]
            keys = frame["status"].map(lambda v: value_key(v) if v is not None else None)
            unknown = frame.loc[keys.notna() & ~keys.isin(list(vmap)), "status"]
            if len(unknown):
                raise UserError(
                    f"{source.file}: order status value(s) the mapping does not know; examples: "
                    f"{examples(unknown.unique())}",
                    hint="map them to completed / returned / cancelled under 'values: status: map:'",
                )
            frame["status"] = keys.map(lambda k: vmap.get(k) if k else None)
        bad = frame["status"].dropna()
        bad = bad[~bad.isin(ORDER_STATUSES)]
        if len(bad):
            raise UserError(
                f"{source.file}: order status values must map to completed/returned/cancelled; got "
                f"{examples(bad.unique())}"
            )
    else:
        frame["status"] = None
    amount = to_float(frame["amount"])
    returned = frame["status"].eq("returned")
    negate = returned & (amount > 0)
    if kind.cancelled_amount == "negate":
        negate |= frame["status"].eq("cancelled") & (amount > 0)
    frame.loc[negate, "amount"] = -amount[negate]
    if "quantity" in frame:
        quantity = to_float(frame["quantity"])
        frame.loc[returned & (quantity > 0), "quantity"] = -quantity[returned & (quantity > 0)]
    frame.loc[frame["status"].isna() & (amount < 0), "status"] = "returned"
    frame.loc[frame["status"].isna() & amount.notna(), "status"] = "completed"
    n_cancelled = int(frame["status"].eq("cancelled").sum())
    if n_cancelled and kind.cancelled_amount == "keep":
        notes.append(
            f"{source.file}: {n_cancelled} cancelled line(s) kept with status 'cancelled' and their exported "
            f"amount; leave them out of revenue (or set 'cancelled_amount: negate' in a mapping)"
        )

"""Cell values to canonical values: numbers, dates, probabilities, flags and ids (the parsing itself is
:mod:`salesperf.data.parsing`; this module applies it per column and reports bad cells), value maps, and the
derived opportunity status / close dates and order-line statuses."""

from __future__ import annotations

import re

import pandas as pd

from salesperf.core.errors import UserError, examples
from salesperf.data import parsing
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


def _bad_column(
    file: str, header: str, fname: str, what: str, bad: list, hint: str | None = None
) -> UserError:
    return UserError(
        f"{file}: column '{header}' ({fname}): {len(bad)} value(s) cannot be read as {what}; "
        f"examples: {examples(bad)}",
        hint=hint,
    )


def _parse_numbers(
    values: list, decimal: str | None, multiplier: float, file: str, res: Resolved, fname: str
) -> list:
    out, bad, cache = [], [], {}
    for value in values:
        key = value if isinstance(value, (str, int, float)) else repr(value)
        if key not in cache:
            try:
                number = parsing.parse_number(value, decimal)
                cache[key] = None if number is None else round(number * multiplier, 6)
            except ValueError:
                cache[key] = ValueError
        if cache[key] is ValueError:
            bad.append(value)
            out.append(None)
        else:
            out.append(cache[key])
    if bad:
        hint = (
            "declare the number locale (--locale de_DE or 'locale:' in the mapping)"
            if decimal is None
            else None
        )
        raise _bad_column(file, res.header, fname, "numbers", bad, hint)
    return out


def _parse_ids(values: list, mapping: Mapping, file: str, res: Resolved, fname: str) -> list:
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

    out = memo_map(clean_id, values)
    bad = [v for v, o in zip(values, out, strict=True) if o is ValueError]
    if bad:
        raise _bad_column(
            file,
            res.header,
            fname,
            "ids (Excel turned them into scientific notation)",
            bad,
            hint="re-export the file; do not open and re-save the CSV in Excel",
        )
    return out


def parse_field(
    values: list,
    fname: str,
    kind: Kind,
    mapping: Mapping,
    res: Resolved,
    file: str,
    locale: str | None,
    notes: list[str],
) -> list:
    """Canonical values of one column's cells by the field's type; UserError naming bad cells."""
    ftype = field_type(kind.table, fname)
    if fname == "probability":
        return _parse_probabilities(values, fname, res, file, locale)
    if ftype == "DOUBLE":
        return _parse_numbers(values, parsing.decimal_separator(locale), res.multiplier, file, res, fname)
    if ftype == "DATE":
        return _parse_dates(values, fname, kind, mapping, res, file, locale, notes)
    if ftype == "BOOLEAN":
        out = memo_map(lambda v: _or_error(parsing.parse_bool, v), values)
        bad = [v for v, o in zip(values, out, strict=True) if o is ValueError]
        if bad:
            raise _bad_column(file, res.header, fname, "true/false flags", bad)
        return out
    if fname in ID_FIELDS:
        return _parse_ids(values, mapping, file, res, fname)
    if kind.table == "targets" and fname == "period":
        return memo_map(_period_text, values)
    if mapping.not_blank:
        keep = mapping.not_blank
        return memo_map(
            lambda v: v.strip()
            if isinstance(v, str) and v.strip().casefold() in keep
            else parsing.clean_text(v),
            values,
        )
    return memo_map(parsing.clean_text, values)


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


def _parse_probabilities(values: list, fname: str, res: Resolved, file: str, locale: str | None) -> list:
    try:
        return parsing.parse_probability_column(values, parsing.decimal_separator(locale))
    except ValueError:
        bad = []
        for v in values:
            try:
                parsing.parse_probability_column([v], parsing.decimal_separator(locale))
            except ValueError:
                bad.append(v)
        raise _bad_column(file, res.header, fname, "probabilities (75, 75% or 0.75)", bad) from None


def _parse_dates(
    values: list,
    fname: str,
    kind: Kind,
    mapping: Mapping,
    res: Resolved,
    file: str,
    locale: str | None,
    notes: list[str],
) -> list:
    try:
        dates, note = parsing.parse_date_column(
            values, formats=kind.dates.get(fname, []), locale=locale, tz=mapping.timezone
        )
    except ValueError as exc:
        bad = [] if "mixes" in str(exc) else _bad_dates(values, kind.dates.get(fname, []))
        if not bad:
            raise UserError(
                f"{file}: column '{res.header}' ({fname}): {exc}",
                hint="set the format under 'dates:' in a mapping file, e.g. '%d/%m/%Y'",
            ) from None
        raise _bad_column(
            file,
            res.header,
            fname,
            "dates",
            bad,
            hint="set the format under 'dates:' in a mapping file, e.g. '%d.%m.%Y'",
        ) from None
    if note:
        notes.append(f"{file}: column '{res.header}': {note}")
    out = [d.isoformat() if d else None for d in dates]
    if (kind.table, fname) in TIME_OF_DAY_FIELDS:
        times = memo_map(lambda v: parsing.time_of_day(v, mapping.timezone), values)
        if any(t not in (None, "00:00:00") for t in times):  # midnight everywhere means "no time": date only
            out = [f"{d} {t}" if d and t else d for d, t in zip(out, times, strict=True)]
    return out


def memo_map(function, values: list) -> list:
    """``[function(v) for v in values]``, computed once per distinct value (exports repeat values a lot)."""
    cache: dict = {}
    out = []
    for value in values:
        try:
            out.append(cache[value])
        except KeyError:
            out.append(cache.setdefault(value, function(value)))
        except TypeError:  # unhashable
            out.append(function(value))
    return out


def _or_error(function, value):
    try:
        return function(value)
    except ValueError:
        return ValueError


def _bad_dates(values: list, formats: list[str]) -> list:
    bad = []
    for value in values:
        try:
            parsing.parse_date(value, formats=formats)
        except ValueError:
            bad.append(value)
    return bad


def apply_values(frame: pd.DataFrame, kind: Kind, file: str, resolved: dict[str, Resolved]) -> None:
    for fname, vmap in kind.values.items():
        if fname not in frame or fname == "order_status":
            continue
        keys = pd.Series(memo_map(value_key_or_none, list(frame[fname])), index=frame.index, dtype=object)
        table_map = vmap["map"]
        mapped = keys.map(lambda k, m=table_map: m.get(k, _MISSING) if k is not None else None)
        unknown = frame[fname][mapped.map(lambda v: v is _MISSING)]
        if len(unknown):
            rule = vmap["unknown"]
            if rule == "error":
                header = resolved[fname].header if fname in resolved else fname
                raise UserError(
                    f"{file}: column '{header}' ({fname}): {unknown.nunique()} value(s) the mapping does not "
                    f"know; examples: {examples(unknown.unique())}",
                    hint=f"add them under 'values: {fname}: map:' in a mapping file",
                )
            fill = frame[fname] if rule == "keep" else pd.Series(rule, index=frame.index)
            mapped = mapped.where(~mapped.map(lambda v: v is _MISSING), fill)
        frame[fname] = mapped


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
    amount = pd.to_numeric(frame["amount"], errors="coerce")
    returned = frame["status"].eq("returned")
    negate = returned & (amount > 0)
    if kind.cancelled_amount == "negate":
        negate |= frame["status"].eq("cancelled") & (amount > 0)
    frame.loc[negate, "amount"] = -amount[negate]
    if "quantity" in frame:
        quantity = pd.to_numeric(frame["quantity"], errors="coerce")
        frame.loc[returned & (quantity > 0), "quantity"] = -quantity[returned & (quantity > 0)]
    frame.loc[frame["status"].isna() & (amount < 0), "status"] = "returned"
    frame.loc[frame["status"].isna() & amount.notna(), "status"] = "completed"
    n_cancelled = int(frame["status"].eq("cancelled").sum())
    if n_cancelled and kind.cancelled_amount == "keep":
        notes.append(
            f"{source.file}: {n_cancelled} cancelled line(s) kept with status 'cancelled' and their exported "
            f"amount; leave them out of revenue (or set 'cancelled_amount: negate' in a mapping)"
        )

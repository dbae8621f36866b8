"""Dates and times in export cells: ISO, Chinese, day/month orders settled per column, named months, Excel
serials, epoch milliseconds and time zones."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from salesperf.data.parsing.text import clean_text

_MONTH_FIRST_LOCALES = {"en_us", "en_ph", "en_ca", "en"}
EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 = 1900-01-01 once Excel's 1900 leap-year bug is accounted for
_EXCEL_SERIAL_RANGE = (20000, 80000)  # 1954-10-03 .. 2119-01-10: plausible business dates only


# --- dates --------------------------------------------------------------------------------------------------

_CHINESE_DATE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?(.*)$")
_YMD = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:$|[ T](.*)$)")
_DMY_OR_MDY = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{2}|\d{4})(?:$|[ T,]+(.*)$)")
_TZ_SUFFIX = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
_NAMED_MONTH_FORMATS = (
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%b %d %Y",
    "%d %b, %Y",
)


def _zone(tz: str | None) -> ZoneInfo | None:
    return ZoneInfo(tz) if tz else None


def _from_datetime(moment: datetime, tz: str | None) -> date:
    if moment.tzinfo is not None and tz:
        moment = moment.astimezone(_zone(tz))
    return moment.date()


def _from_serial_or_epoch(number: float, tz: str | None) -> date:
    if _EXCEL_SERIAL_RANGE[0] <= number <= _EXCEL_SERIAL_RANGE[1]:
        return EXCEL_EPOCH + timedelta(days=int(number))
    if 1e11 <= number < 1e14:  # epoch milliseconds (HubSpot/Fxiaoke API): 1973 .. 5138
        return _from_datetime(datetime.fromtimestamp(number / 1000, tz=UTC), tz or "UTC")
    if 1e8 <= number < 1e10:  # epoch seconds
        return _from_datetime(datetime.fromtimestamp(number, tz=UTC), tz or "UTC")
    raise ValueError(f"not a date: {number!r}")


def _time_part_date(day: date, rest: str | None, tz: str | None) -> date:
    """Apply a time zone to a date whose time carries ``Z`` or an offset (``2024-03-05T23:30:00.000Z``)."""
    if not rest or not tz or not _TZ_SUFFIX.search(rest.strip()):
        return day
    text = f"{day.isoformat()}T{rest.strip()}"
    return _from_datetime(datetime.fromisoformat(text), tz)  # Python >= 3.11 reads "Z"


def _two_digit_year(year: int) -> int:
    return year + (2000 if year < 70 else 1900) if year < 100 else year


def _distinct(values: Iterable[object]) -> Iterable[object]:
    try:
        return dict.fromkeys(values)
    except TypeError:
        return values


def day_month_order(values: Iterable[object]) -> bool | None:
    """``True`` (day first) / ``False`` (month first) when a ``d/m/y``-shaped value settles it, else ``None``.

    Raises ``ValueError`` when the column holds both ``13/01/2024`` and ``01/13/2024``.
    """
    day_first = month_first = False
    for value in _distinct(values):
        text = clean_text(value) if isinstance(value, str) else None
        match = _DMY_OR_MDY.match(text) if text else None
        if not match or match.group(2) == ".":
            continue
        first, second = int(match.group(1)), int(match.group(3))
        day_first |= first > 12
        month_first |= second > 12
    if day_first and month_first:
        raise ValueError("the column mixes day/month/year and month/day/year dates")
    return True if day_first else False if month_first else None


def locale_day_first(locale: str | None) -> bool | None:
    """Whether ``d/m/y`` is the locale's order: ``en_US`` → False, ``en_GB``/``de_DE``/``fr_FR`` → True."""
    if not locale:
        return None
    key = locale.replace("-", "_").split(".")[0].lower()
    return key not in _MONTH_FIRST_LOCALES and not key.startswith(("zh", "ja", "ko"))


def parse_date(
    value: object, *, day_first: bool = False, formats: Sequence[str] = (), tz: str | None = None
) -> date | None:
    """Read one date cell; ``None`` when blank, ``ValueError`` when unreadable.

    Forms: ISO dates and datetimes (``2024-03-05``, ``2024-03-05 13:20:35``, ``2024-03-05T13:20:35.000Z``),
    ``2024/3/5``, ``05.03.2024`` (always day first), ``3/5/2024`` and ``3/5/24`` (order from ``day_first``),
    ``2024年3月5日``, ``20240305``, ``5 Mar 2024``, Excel serial numbers (``45356``), epoch milliseconds
    (``1709596800000``) and ``datetime``/``date`` objects from .xlsx. ``formats`` (strptime patterns) are
    tried first and, when given, are the only text forms accepted. ``tz`` converts times that carry ``Z`` or
    an offset into that zone before the date is taken; without it the date is the one written.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return _from_datetime(value, tz)
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            return None
        return _from_serial_or_epoch(float(value), tz)
    text = clean_text(value)
    if text is None:
        return None
    if formats:
        for pattern in formats:
            try:
                return _from_datetime(datetime.strptime(text, pattern), tz)
            except ValueError:
                continue
        raise ValueError(f"not a date in format {' or '.join(formats)}: {text!r}")
    return _parse_date_text(text, day_first, tz)


_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?(?:[.,]\d+)?\s*([AaPp][Mm])?")


def time_of_day(value: object, tz: str | None = None) -> str | None:
    """The time of day a date cell carries, as ``HH:MM:SS`` (``None`` when it carries none).

    ``2024-03-05 13:20:35`` → ``13:20:35``; ``3/5/2024 1:20 PM`` → ``13:20:00``; a ``datetime`` from .xlsx
    gives its time. With ``tz``, a time that carries ``Z`` or an offset is first moved into that zone (as
    :func:`parse_date` does for the date).
    """
    if isinstance(value, datetime):
        moment = value.astimezone(_zone(tz)) if value.tzinfo is not None and tz else value
        return moment.strftime("%H:%M:%S")
    text = clean_text(value) if isinstance(value, str) else None
    if text is None:
        return None
    match = _YMD.match(text) or _DMY_OR_MDY.match(text)
    rest = match.group(match.re.groups) if match else None
    if not rest:
        return None
    if tz and _TZ_SUFFIX.search(rest.strip()) and match.re is _YMD:
        try:
            day = f"{int(match.group(1)):04d}-{int(match.group(2)):02d}-{int(match.group(3)):02d}"
            moment = datetime.fromisoformat(f"{day}T{rest.strip()}")
        except ValueError:
            return None
        return moment.astimezone(_zone(tz)).strftime("%H:%M:%S")
    clock = _CLOCK.match(rest.strip())
    if not clock:
        return None
    hour, minute, second = int(clock.group(1)), int(clock.group(2)), int(clock.group(3) or 0)
    if clock.group(4):
        hour = hour % 12 + (12 if clock.group(4).lower() == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return f"{hour:02d}:{minute:02d}:{second:02d}"


def _parse_date_text(text: str, day_first: bool, tz: str | None) -> date:
    if re.fullmatch(r"\d{8}", text) and text[:2] in ("19", "20"):
        return datetime.strptime(text, "%Y%m%d").date()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return _from_serial_or_epoch(float(text), tz)
    if match := _CHINESE_DATE.match(text):
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if match := _YMD.match(text):
        day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        return _time_part_date(day, match.group(4), tz)
    if match := _DMY_OR_MDY.match(text):
        first, second, year = int(match.group(1)), int(match.group(3)), _two_digit_year(int(match.group(4)))
        if match.group(2) == "." or day_first:
            return date(year, second, first)
        return date(year, first, second)
    for pattern in _NAMED_MONTH_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"not a date: {text!r}")


def parse_date_column(
    values: Sequence[object], *, formats: Sequence[str] = (), locale: str | None = None, tz: str | None = None
) -> tuple[list[date | None], str | None]:
    """Parse a column of dates, settling day/month order once for the column.

    Order: values with a part > 12 decide; otherwise the locale's convention; otherwise month first (the
    default of US-locale Salesforce and Zoho exports), and the second item of the result is a note saying so.

    Returns
    -------
    (list of date or None, str or None)
    The dates, and a note when the day/month order was assumed rather than read from the data.

    """
    note = None
    day_first = day_month_order(values) if not formats else None
    if day_first is None and not formats:
        day_first = locale_day_first(locale)
        if day_first is None:
            ambiguous = any(
                isinstance(v, str) and (m := _DMY_OR_MDY.match(v.strip())) and m.group(2) != "."
                for v in _distinct(values)
            )
            day_first = False
            if ambiguous:
                note = "read d/d/yyyy dates as month/day/year; pass a locale (e.g. en_GB) for day/month/year"
    cache: dict[object, date | None] = {}
    out = []
    for value in values:
        key = value if isinstance(value, (str, int, float)) else id(value)
        if key not in cache:
            cache[key] = parse_date(value, day_first=bool(day_first), formats=formats, tz=tz)
        out.append(cache[key])
    return out, note

"""Reading CRM export cells: encodings, delimiters, headers, numbers, dates, probabilities and flags.

Every parser takes one raw cell (a string from a CSV, or an int/float/datetime from an .xlsx) and returns a
Python value or ``None`` for a blank cell; it raises ``ValueError`` for a value it cannot read, so the caller
can collect examples and raise one :class:`~salesperf.core.errors.UserError` per column. Column-level helpers
(``parse_date_column``, ``parse_probability_column``) settle what one value alone cannot: day/month order and
the probability scale.

The module is longer than 400 lines because it is the single home of cell parsing for the importer: the
number, date and flag parsers share the blank-token, script and locale tables at its top, and cutting it would
split those.
"""

from __future__ import annotations

import codecs
import csv
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

BLANK_TOKENS = frozenset(
    {"", "-", "--", "—", "–", "n/a", "na", "null", "none", "nan", "nat", "#n/a", "(blank)", "无", "無"}
)
TRUE_TOKENS = frozenset(
    {"true", "t", "yes", "y", "1", "1.0", "x", "checked", "是", "真", "wahr", "ja", "oui", "sí", "si"}
)
FALSE_TOKENS = frozenset(
    {"false", "f", "no", "n", "0", "0.0", "unchecked", "否", "假", "falsch", "nein", "non"}
)

# Traditional → Simplified for the characters that occur in CRM labels and status values (Fxiaoke tenants mix
# both).
_TRADITIONAL = (
    "戶稱機額預計銷階態輸贏單無進負責屬門歸間時創變結週產訂數價萬億稅實際來業務類級區國縣線動"
    "記錄員團隊總聯係備註狀號編碼測貨幣種聯繫電話網址詳細組織條額讓損筆帳賬與為資標達項發開關閉"
)
_SIMPLIFIED = (
    "户称机额预计销阶态输赢单无进负责属门归间时创变结周产订数价万亿税实际来业务类级区国县线动"
    "记录员团队总联系备注状号编码测货币种联系电话网址详细组织条额让损笔帐账与为资标达项发开关闭"
)
_TO_SIMPLIFIED = str.maketrans(_TRADITIONAL, _SIMPLIFIED)

_CHINESE_UNITS = {"万": 1e4, "亿": 1e8}
_SUFFIX_UNITS = {"k": 1e3, "m": 1e6, "mn": 1e6, "mio": 1e6, "b": 1e9, "bn": 1e9}
_POINT_DECIMAL_LANGUAGES = {"en", "zh", "ja", "ko", "th", "he", "hi", "ms", "ga", "fil", "tl"}
_MONTH_FIRST_LOCALES = {"en_us", "en_ph", "en_ca", "en"}

EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 = 1900-01-01 once Excel's 1900 leap-year bug is accounted for
_EXCEL_SERIAL_RANGE = (20000, 80000)  # 1954-10-03 .. 2119-01-10: plausible business dates only


# --- text ---------------------------------------------------------------------------------------------------


def to_simplified(text: str) -> str:
    """Map the Traditional-Chinese characters of CRM labels to Simplified (``商機金額`` → ``商机金额``)."""
    return text.translate(_TO_SIMPLIFIED)


def clean_text(value: object) -> str | None:
    """A cell as a trimmed string (NFKC: full-width digits and brackets become ASCII), ``None`` when blank."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    text = unicodedata.normalize("NFKC", str(value)).replace("\ufeff", "").strip()
    return None if text.casefold() in BLANK_TOKENS else text


def normalize_header(header: object) -> str:
    """Header key used for alias matching: NFKC, Simplified, case-folded, without spaces, underscores or
    quotes.

    ``"Deal owner"`` and ``"Deal Owner"``, ``"Owner ID"`` and ``"OwnerId"``, ``"商機金額（萬元）"`` and
    ``"商机金额(万元)"``
    all share one key.
    """
    text = unicodedata.normalize("NFKC", str(header or "")).replace("\ufeff", "")
    text = to_simplified(text).casefold().strip().strip("\"'")
    return re.sub(r"[\s_\u00a0\u3000]+", "", text)


_UNIT_IN_HEADER = re.compile(
    r"\s*[(（\[]\s*(?:单位[:：]?\s*)?(万|萬|亿|億)?\s*(元|人民币|rmb|cny)?\s*[)）\]]\s*$", re.IGNORECASE
)


def split_header_unit(header: str) -> tuple[str, float]:
    """Split a unit suffix off a header: ``"商机金额(万元)"`` → ``("商机金额", 10000.0)``, ``"金额(元)"`` →
    ``("金额",
    1.0)``.
    """
    match = _UNIT_IN_HEADER.search(header)
    if not match or not (match.group(1) or match.group(2)):
        return header, 1.0
    unit = to_simplified(match.group(1) or "")
    return header[: match.start()], _CHINESE_UNITS.get(unit, 1.0)


# --- encodings and delimiters -------------------------------------------------------------------------------


def _is_chinese_locale(locale: str | None) -> bool:
    return bool(locale) and locale.lower().replace("-", "_").startswith("zh")


def detect_encoding(data: bytes, locale: str | None = None) -> str:
    """Name the encoding of an export: BOM first, then strict UTF-8, UTF-16 (NUL bytes), GB18030, cp1252.

    GB18030 (a superset of GBK/GB2312) comes before cp1252 because re-saved Chinese CSVs are the common case;
    a declared non-Chinese locale (``de_DE``) puts cp1252 first, since Latin-1 accents also decode as (wrong)
    Chinese characters.
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    head = data[:4000]
    if head and head.count(0) > len(head) // 4:
        return "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be"
    order = ["gb18030", "cp1252"] if (locale is None or _is_chinese_locale(locale)) else ["cp1252", "gb18030"]
    for encoding in order:
        try:
            data.decode(encoding)
            return encoding
        except UnicodeDecodeError:
            continue
    return "latin-1"  # decodes every byte; the alias matching will then say which headers it could not read


def sniff_delimiter(text: str) -> str:
    """Pick ``,``, ``;`` or tab from the first lines (the one splitting most lines into equal counts)."""
    lines = [line for line in text.splitlines()[:30] if line.strip()]
    if not lines:
        return ","
    best, best_score = ",", (0, 0)
    for delimiter in (",", ";", "\t", "|"):
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        widest = max(counts)
        score = (sum(c == widest for c in counts) if widest > 1 else 0, widest)
        if score > best_score:
            best, best_score = delimiter, score
    return best


# --- numbers ------------------------------------------------------------------------------------------------


def decimal_separator(locale: str | None) -> str | None:
    """``'.'`` or ``','`` for a locale such as ``de_DE``, ``en_US``, ``zh_CN``; ``None`` when no locale is
    given.
    """
    if not locale:
        return None
    parts = locale.replace("-", "_").split(".")[0].split("_")
    language, region = parts[0].lower(), (parts[1].upper() if len(parts) > 1 else "")
    if language in _POINT_DECIMAL_LANGUAGES or region in {"CH", "LI"}:
        return "."
    return ","


_CURRENCY_CHARS = "$€£¥￥₩₹₽₺฿₫₴₪¢"
_CURRENCY_CODE = re.compile(r"^[A-Z]{3}\s*|\s*[A-Z]{3}$")
_CURRENCY_WORDS = re.compile(r"(人民币|元|圆|rmb|us\$|hk\$|nt\$|a\$|c\$|r\$|kr|zł|fr\.?|chf)", re.IGNORECASE)
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?\Z")
_NUMBER_SHAPE = re.compile(r"^\d[\d.,']*$|^[.,]\d+$")


def parse_number(value: object, decimal: str | None = None) -> float | None:
    """Read an amount: ``"¥1,234.50"`` → 1234.5, ``"1.234,50 €"`` (decimal ``','``) → 1234.5, ``"(300)"`` →
    -300.

    Handles currency symbols and ISO codes before or after, thousands separators (``,`` ``.`` space ``'``),
    negatives as ``-x``, ``x-`` or ``(x)``, Chinese units in the cell (``"12.5万"`` → 125000, ``"1.2亿"``),
    ``k``/``M``/``bn`` suffixes and full-width digits. ``decimal`` is the locale's decimal separator; without
    it the last of ``.``/``,`` is the decimal mark when both occur, and a lone separator is a thousands
    separator only when it groups exactly three digits (``"1,234"`` → 1234, ``"12,5"`` → 12.5).
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return None if isinstance(value, float) and math.isnan(value) else float(value)
    if decimal != "," and isinstance(value, str) and _PLAIN_NUMBER.match(value):
        return float(value)
    text = clean_text(value)
    if text is None:
        return None
    original = text
    text = text.replace("\u2212", "-").replace("\u00a0", " ").replace("\u202f", " ")
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    text = _CURRENCY_CODE.sub("", text.strip())
    text = _CURRENCY_WORDS.sub("", text)
    text = text.strip().strip(_CURRENCY_CHARS).strip()
    if text.startswith(("-", "+")):
        negative, text = negative ^ (text[0] == "-"), text[1:].strip()
    elif text.endswith("-"):
        negative, text = not negative, text[:-1].strip()
    text = text.strip(_CURRENCY_CHARS).strip()
    multiplier = 1.0
    unit = re.search(r"\s*(万|萬|亿|億|k|mn|mio|m|bn|b)$", text, re.IGNORECASE)
    if unit:
        key = to_simplified(unit.group(1)).lower()
        multiplier = _CHINESE_UNITS.get(key) or _SUFFIX_UNITS[key]
        text = text[: unit.start()].strip()
    text = text.replace(" ", "").replace("'", "")
    if not _NUMBER_SHAPE.match(text):
        raise ValueError(f"not a number: {original!r}")
    number = _digits_to_float(text, decimal, original)
    return -number * multiplier if negative else number * multiplier


def _digits_to_float(text: str, decimal: str | None, original: str) -> float:
    has_point, has_comma = "." in text, "," in text
    if decimal is None:
        if has_point and has_comma:
            decimal = "." if text.rfind(".") > text.rfind(",") else ","
        elif has_comma:
            decimal = "," if not re.fullmatch(r"\d{1,3}(,\d{3})+", text) else "."
        else:
            decimal = "." if not re.fullmatch(r"\d{1,3}(\.\d{3}){2,}", text) else ","
    thousands = "," if decimal == "." else "."
    if text.count(decimal) > 1 or thousands in text.partition(decimal)[2]:
        raise ValueError(f"not a number: {original!r}")
    if thousands in text.split(decimal)[0] and not re.fullmatch(
        rf"\d{{1,3}}(\{thousands}\d{{3}})+", text.split(decimal)[0]
    ):
        raise ValueError(f"not a number: {original!r}")
    return float(text.replace(thousands, "").replace(decimal, "."))


# --- probabilities ------------------------------------------------------------------------------------------


def parse_probability_column(values: Sequence[object], decimal: str | None = None) -> list[float | None]:
    """Probabilities as 0..1: ``75``, ``"75%"``, ``"75.00%"`` and ``0.75`` all give 0.75.

    A value with ``%`` is a percentage. Bare numbers are percentages when any bare number in the column
    exceeds 1 (a Salesforce ``Probability (%)`` column holds ``0 .. 100``), and fractions otherwise (HubSpot
    ``Deal probability`` holds ``0.2``, ``1``). Values outside 0..100 % raise ``ValueError``.
    """

    def read(value: object) -> tuple[float | None, bool]:
        text = clean_text(value) if not isinstance(value, (int, float)) else value
        if text is None:
            return None, False
        if isinstance(text, str) and text.endswith("%"):
            return parse_number(text[:-1], decimal), True
        return parse_number(text, decimal), False

    cache: dict[object, tuple[float | None, bool]] = {}
    parsed = [cache[v] if v in cache else cache.setdefault(v, read(v)) for v in values]
    bare_is_percent = any(v is not None and not pct and v > 1 for v, pct in parsed)
    out: list[float | None] = []
    for value, pct in parsed:
        if value is None:
            out.append(None)
            continue
        fraction = value / 100 if (pct or bare_is_percent) else value
        if not 0 <= fraction <= 1:
            raise ValueError(f"probability out of range: {value!r}")
        out.append(round(fraction, 10))
    return out


# --- flags --------------------------------------------------------------------------------------------------


def parse_bool(value: object) -> bool | None:
    """``true/false``, ``1/0``, ``yes/no``, ``是/否`` (case-insensitive) → bool; blank → ``None``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value)):
        if value in (0, 1):
            return bool(value)
        raise ValueError(f"not a true/false flag: {value!r}")
    text = clean_text(value)
    if text is None:
        return None
    key = text.casefold()
    if key in TRUE_TOKENS:
        return True
    if key in FALSE_TOKENS:
        return False
    raise ValueError(f"not a true/false flag: {value!r}")


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

"""Numbers in export cells: decimal marks by locale, currency marks and codes, 万/亿 and k/M units,
accounting negatives, probabilities (a column settles the scale) and true/false flags."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from salesperf.data.parsing.text import CHINESE_UNITS, FALSE_TOKENS, TRUE_TOKENS, clean_text, to_simplified

_SUFFIX_UNITS = {"k": 1e3, "m": 1e6, "mn": 1e6, "mio": 1e6, "b": 1e9, "bn": 1e9}
_POINT_DECIMAL_LANGUAGES = {"en", "zh", "ja", "ko", "th", "he", "hi", "ms", "ga", "fil", "tl"}


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
        multiplier = CHINESE_UNITS.get(key) or _SUFFIX_UNITS[key]
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

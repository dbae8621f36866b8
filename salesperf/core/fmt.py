"""Number formatting for managers: thousands separators, currency, percentages, signed changes, 万/亿 in
Chinese.

Narrative and KPI tiles use compact money (``¥1.23 M`` / ``123.5 万元``; ``£1.23 M`` / ``123.5 万英镑``);
tables keep full figures (``¥1,234,567``). The currency is an ISO code or a symbol; Chinese pages keep it
(万美元, 亿英镑). Negative numbers use the typographic minus sign (U+2212).
"""

from __future__ import annotations

import hashlib
import math
import re

MINUS = "\u2212"


def _is_missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def number(x: float, decimals: int = 0) -> str:
    """``1234567.8`` → ``1,234,568``; missing → ``–``."""
    if _is_missing(x):
        return "–"
    text = f"{abs(x):,.{decimals}f}"
    return (MINUS if x < 0 and float(text.replace(",", "")) != 0 else "") + text


#: ISO code → (symbol for English pages, unit for Chinese pages). Other ISO codes are written as the code.
CURRENCIES = {
    "CNY": ("¥", "元"),
    "USD": ("$", "美元"),
    "GBP": ("£", "英镑"),
    "EUR": ("€", "欧元"),
    "JPY": ("JP¥", "日元"),
    "HKD": ("HK$", "港元"),
    "TWD": ("NT$", "新台币"),
    "SGD": ("S$", "新加坡元"),
    "AUD": ("A$", "澳元"),
    "CAD": ("C$", "加元"),
    "KRW": ("₩", "韩元"),
    "CHF": ("CHF ", "瑞士法郎"),
    "INR": ("₹", "卢比"),
    "RUB": ("₽", "卢布"),
}
#: What users and exports write for a currency besides its ISO code (``¥`` is the yuan, the default).
_ALIASES = {
    "¥": "CNY",
    "￥": "CNY",
    "RMB": "CNY",
    "元": "CNY",
    "人民币": "CNY",
    "$": "USD",
    "US$": "USD",
    "£": "GBP",
    "€": "EUR",
    "JP¥": "JPY",
    "円": "JPY",
    "HK$": "HKD",
    "NT$": "TWD",
    "S$": "SGD",
    "A$": "AUD",
    "C$": "CAD",
    "₩": "KRW",
    "₹": "INR",
    "₽": "RUB",
}
DEFAULT_CURRENCY = "CNY"


def currency_code(currency: str | None) -> str:
    """The ISO code of a currency given as a code or a symbol: ``'$'`` → ``'USD'``, ``'gbp'`` → ``'GBP'``,
    ``'¥'`` → ``'CNY'``; empty → ``''``; a symbol we do not know is returned as written."""
    text = str(currency or "").strip()
    if not text:
        return ""
    if text in _ALIASES:
        return _ALIASES[text]
    if text.upper() in _ALIASES:
        return _ALIASES[text.upper()]
    return text.upper() if re.fullmatch(r"[A-Za-z]{3}", text) else text


def _units(currency: str) -> tuple[str, str]:
    """(English prefix, Chinese unit) of a currency code or symbol."""
    code = currency_code(currency) or DEFAULT_CURRENCY
    if code in CURRENCIES:
        return CURRENCIES[code]
    return (f"{code} " if code.isalpha() else code), code


def money(x: float, lang: str = "en", currency: str = "¥", compact: bool = True) -> str:
    """Format an amount in its currency (an ISO code or a symbol: ``'GBP'``, ``'£'``, ``'¥'``...).

    Examples
    --------
    >>> money(1234567, 'en')
    '¥1.23 M'
    >>> money(1234567, 'zh')
    '123.5 万元'
    >>> money(356_000_000, 'zh')
    '3.56 亿元'
    >>> money(-41300, 'en', compact=False)
    '−¥41,300'
    >>> money(123_000, 'zh', 'USD'), money(123_000_000, 'zh', '£')
    ('12.3 万美元', '1.23 亿英镑')
    >>> money(1234567, 'en', 'BRL'), money(1234567, 'zh', 'BRL')
    ('BRL 1.23 M', '123.5 万 BRL')
    """
    if _is_missing(x):
        return "–"
    sign = MINUS if x < 0 else ""
    a = abs(x)
    prefix, unit = _units(currency)
    if lang == "zh":
        gap = " " if unit.isascii() else ""  # 万美元, but 万 BRL
        if compact and a >= 1e8:
            return f"{sign}{a / 1e8:,.2f} 亿{gap}{unit}"
        if compact and a >= 1e4:
            return f"{sign}{a / 1e4:,.1f} 万{gap}{unit}"
        return f"{sign}{a:,.0f} {unit}"
    if compact and a >= 1e9:
        return f"{sign}{prefix}{a / 1e9:,.2f} B"
    if compact and a >= 1e6:
        return f"{sign}{prefix}{a / 1e6:,.2f} M"
    if compact and a >= 1e4:
        return f"{sign}{prefix}{a / 1e3:,.1f} k"
    return f"{sign}{prefix}{a:,.0f}"


def percent(share: float, decimals: int = 1) -> str:
    """``0.0823`` → ``8.2%``."""
    if _is_missing(share):
        return "–"
    return number(100 * share, decimals) + "%"


def signed_percent(share: float, decimals: int = 1) -> str:
    """``0.0823`` → ``+8.2%``, ``-0.041`` → ``−4.1%``."""
    if _is_missing(share):
        return "–"
    return ("+" if share > 0 else "") + percent(share, decimals)


def signed_money(x: float, lang: str = "en", currency: str = "¥") -> str:
    """``41300`` → ``+¥41.3 k``; ``-41300`` → ``−¥41.3 k`` (``−4.1 万元`` in Chinese)."""
    if _is_missing(x):
        return "–"
    return ("+" if x > 0 else "") + money(x, lang, currency)


def points(delta: float, lang: str = "en", decimals: int = 1) -> str:
    """A change of a rate in percentage points: ``+1.3 pp`` / ``+1.3 个百分点``."""
    if _is_missing(delta):
        return "–"
    text = ("+" if delta > 0 else "") + number(100 * delta, decimals)
    return f"{text} 个百分点" if lang == "zh" else f"{text} pp"


def relative_change(current: float, previous: float) -> float:
    """``current / previous − 1``; NaN when the previous value is zero or missing."""
    if _is_missing(previous) or _is_missing(current) or previous == 0:
        return float("nan")
    return current / previous - 1


#: Longest readable part of a slug, in UTF-8 bytes (a file name may have 255; id, kind and table come too).
SLUG_BYTES = 60
_HASHED = re.compile(r".*-[0-9a-f]{8}")


def slug(text: str) -> str:
    """A safe file-name part for an entity value, different for every different value.

    The readable part is the text in lower case with every run of characters other than letters, digits
    and ``_`` turned into ``-``, at most :data:`SLUG_BYTES` bytes long. When that is not the text itself
    (capitals, spaces, punctuation, a long name) eight hex digits of the text's SHA-256 follow, so that
    ``East``, ``east`` and ``EAST!`` get three names that differ even on a file system that ignores case, and
    a 300-character name gives a short one.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
        Letters, digits, ``_`` and ``-`` only; never empty, never ``.`` or ``..``.

    Examples
    --------
    >>> slug("east"), slug("华东")
    ('east', '华东')
    >>> slug("East / Coast")
    'east-coast-f7a7d994'
    """
    text = str(text)
    readable = re.sub(r"[^\w]+", "-", text, flags=re.UNICODE).strip("-").lower()
    while len(readable.encode()) > SLUG_BYTES:
        readable = readable[:-1]
    readable = readable.rstrip("-") or "x"
    if readable == text and not _HASHED.fullmatch(text):
        return readable
    return f"{readable}-{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"

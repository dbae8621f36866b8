"""Export cells as text: blank and true/false tokens, Traditional → Simplified Chinese, header keys and
units in headers, encodings and delimiters."""

from __future__ import annotations

import codecs
import csv
import math
import re
import unicodedata
from datetime import datetime

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


#: Chinese amount units, in a cell (12.5万) or a header (金额(万元)).
CHINESE_UNITS = {"万": 1e4, "亿": 1e8}

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
    return header[: match.start()], CHINESE_UNITS.get(unit, 1.0)


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


def _first_lines(text: str, n: int) -> list[str]:
    """``text.splitlines()[:n]`` without splitting all of a long text."""
    size = 1 << 16
    while True:
        lines = text[:size].splitlines()
        if len(lines) > n or size >= len(text):
            return lines[:n]
        size *= 8


def sniff_delimiter(text: str) -> str:
    """Pick ``,``, ``;`` or tab from the first lines (the one splitting most lines into equal counts)."""
    lines = [line for line in _first_lines(text, 30) if line.strip()]
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

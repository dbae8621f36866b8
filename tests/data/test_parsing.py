"""Number, date, probability, flag, header and encoding parsing of CRM export cells (hand-checked expected values)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from salesperf.data import parsing


@pytest.mark.parametrize(
    ("text", "decimal", "expected"),
    [
        ("¥1,234.50", None, 1234.5),
        ("￥1,234.50", None, 1234.5),  # full-width yen sign (Chinese exports)
        ("$1,234", None, 1234.0),
        ("1.234,50 €", ",", 1234.5),  # de_DE
        ("1.234,50 €", None, 1234.5),  # both separators: the last one is the decimal mark
        ("1,234", ",", 1.234),  # de_DE: a comma is the decimal mark
        ("1,234", None, 1234.0),  # groups of three after a lone comma: thousands
        ("12,5", None, 12.5),  # not a thousands group: decimal comma
        ("1 234,50", ",", 1234.5),  # fr_FR: space thousands
        ("1'234.50", ".", 1234.5),  # de_CH: apostrophe thousands
        ("1.234.567", None, 1234567.0),
        ("USD 1,234.00", None, 1234.0),
        ("1,234.00 CNY", None, 1234.0),
        ("(1,234.00)", None, -1234.0),  # accounting negative
        ("-$1,234", None, -1234.0),
        ("$-1,234", None, -1234.0),
        ("−300", None, -300.0),  # U+2212 minus sign
        ("12.5万", None, 125000.0),
        ("12.5萬", None, 125000.0),  # Traditional
        ("1.2亿", None, 120000000.0),
        ("3万元", None, 30000.0),
        ("１２３４", None, 1234.0),  # full-width digits
        ("45k", None, 45000.0),
        ("1.2M", None, 1200000.0),
        ("0", None, 0.0),
        (1234.5, None, 1234.5),  # an .xlsx number cell
        ("", None, None),
        ("-", None, None),
        ("n/a", None, None),
    ],
)
def test_parse_number(text, decimal, expected):
    result = parsing.parse_number(text, decimal)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("text", "decimal"), [("abc", None), ("12..5", None), ("1,2,3", "."), ("12,5", "."), ("$1,234.00", ","),
                                                ("1.2.3,4,5", None), ("5 apples", None)])
def test_parse_number_rejects(text, decimal):
    with pytest.raises(ValueError):
        parsing.parse_number(text, decimal)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("de_DE", ","), ("fr_FR", ","), ("en_US", "."), ("en_GB", "."), ("zh_CN", "."), ("de_CH", "."), (None, None)],
)
def test_decimal_separator(locale, expected):
    assert parsing.decimal_separator(locale) == expected


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        (["75"], [0.75]),  # Salesforce API: integer percentage
        (["75%"], [0.75]),  # Salesforce report
        (["75.00%"], [0.75]),
        ([0.75], [0.75]),  # HubSpot: fraction
        (["0.75"], [0.75]),
        (["0.2", "1", "0"], [0.2, 1.0, 0.0]),  # a fraction column: 1 means certain, not 1 %
        (["10", "1", "0"], [0.1, 0.01, 0.0]),  # a percentage column (a value above 1): 1 means 1 %
        (["100", "", "50%"], [1.0, None, 0.5]),
    ],
)
def test_parse_probability_column(column, expected):
    assert parsing.parse_probability_column(column) == pytest.approx(expected)


@pytest.mark.parametrize("column", [["150"], ["-5%"], ["high"]])
def test_parse_probability_rejects(column):
    with pytest.raises(ValueError):
        parsing.parse_probability_column(column)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024/3/5", date(2024, 3, 5)),
        ("2024/03/05 10:00", date(2024, 3, 5)),
        ("2024-03-05", date(2024, 3, 5)),
        ("2024-03-05 13:20:35", date(2024, 3, 5)),  # Zoho datetime
        ("2024-03-05T13:20:35.000Z", date(2024, 3, 5)),  # Salesforce Data Export, UTC
        ("2024-03-05T23:30:00+08:00", date(2024, 3, 5)),
        ("05.03.2024", date(2024, 3, 5)),  # German: dotted is always day first
        ("5.3.24", date(2024, 3, 5)),
        ("2024年3月5日", date(2024, 3, 5)),
        ("2024年03月05日 14:30", date(2024, 3, 5)),
        ("20240305", date(2024, 3, 5)),
        ("45356", date(2024, 3, 5)),  # Excel serial: 1899-12-30 + 45356 days
        (45356, date(2024, 3, 5)),
        (45356.75, date(2024, 3, 5)),  # serial with a time of day
        ("1709596800000", date(2024, 3, 5)),  # epoch ms = 2024-03-05T00:00:00Z (HubSpot/Fxiaoke API)
        ("5 Mar 2024", date(2024, 3, 5)),
        ("Mar 5, 2024", date(2024, 3, 5)),
        (datetime(2024, 3, 5, 17, 0), date(2024, 3, 5)),  # .xlsx date cell
        (date(2024, 3, 5), date(2024, 3, 5)),
        ("", None),
    ],
)
def test_parse_date(text, expected):
    assert parsing.parse_date(text) == expected


def test_parse_date_converts_utc_times_to_the_given_zone():
    # 23:30 UTC on 5 March is 07:30 on 6 March in Shanghai (UTC+8)
    assert parsing.parse_date("2024-03-05T23:30:00.000Z", tz="Asia/Shanghai") == date(2024, 3, 6)
    assert parsing.parse_date("2024-03-05T23:30:00.000Z") == date(2024, 3, 5)


def test_parse_date_day_first_and_explicit_formats():
    assert parsing.parse_date("3/5/2024") == date(2024, 3, 5)  # month first by default (en_US)
    assert parsing.parse_date("3/5/2024", day_first=True) == date(2024, 5, 3)
    assert parsing.parse_date("05-03-2024", formats=["%d-%m-%Y"]) == date(2024, 3, 5)
    with pytest.raises(ValueError):
        parsing.parse_date("2024-03-05", formats=["%d-%m-%Y"])


@pytest.mark.parametrize("text", ["yesterday", "2024-13-01", "32.01.2024", "12345"])
def test_parse_date_rejects(text):
    with pytest.raises(ValueError):
        parsing.parse_date(text)


def test_date_column_infers_day_month_order_from_values_above_12():
    dates, note = parsing.parse_date_column(["03/05/2024", "25/12/2024"])
    assert dates == [date(2024, 5, 3), date(2024, 12, 25)] and note is None
    dates, note = parsing.parse_date_column(["03/05/2024", "12/25/2024"])
    assert dates == [date(2024, 3, 5), date(2024, 12, 25)] and note is None


def test_date_column_uses_the_locale_then_notes_its_assumption():
    assert parsing.parse_date_column(["03/05/2024"], locale="en_GB")[0] == [date(2024, 5, 3)]
    assert parsing.parse_date_column(["03/05/2024"], locale="en_US")[0] == [date(2024, 3, 5)]
    dates, note = parsing.parse_date_column(["03/05/2024"])
    assert dates == [date(2024, 3, 5)] and "month/day" in note


def test_date_column_mixing_both_orders_is_an_error():
    with pytest.raises(ValueError, match="mixes"):
        parsing.parse_date_column(["13/01/2024", "01/13/2024"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("FALSE", False), ("1", True), ("0", False), ("Yes", True), ("是", True), ("否", False),
     (1, True), ("", None)],
)
def test_parse_bool(text, expected):
    assert parsing.parse_bool(text) is expected


def test_parse_bool_rejects():
    with pytest.raises(ValueError):
        parsing.parse_bool("maybe")


def test_header_normalisation_matches_case_space_width_and_script_variants():
    key = parsing.normalize_header
    assert key("Deal owner") == key("Deal Owner") == key(" DEAL_OWNER ")
    assert key("Owner ID") == key("OwnerId")
    assert key("Is closed lost") == key("Is Closed Lost")
    assert key("商機金額（萬元）") == key("商机金额(万元)")
    assert key("客戶名稱") == key("客户名称")
    assert key("\ufeffRecord ID") == key("Record ID")
    assert key("Amount") != key("Weighted amount")


@pytest.mark.parametrize(
    ("header", "expected"),
    [("商机金额(万元)", ("商机金额", 1e4)), ("商機金額（萬元）", ("商機金額", 1e4)), ("金额(亿元)", ("金额", 1e8)),
     ("金额(元)", ("金额", 1.0)), ("二丁掛數量(萬)", ("二丁掛數量", 1e4)), ("Probability (%)", ("Probability (%)", 1.0)),
     ("Amount", ("Amount", 1.0))],
)
def test_split_header_unit(header, expected):
    assert parsing.split_header_unit(header) == expected


@pytest.mark.parametrize(
    ("data", "locale", "expected"),
    [
        ("Record ID,Deal Name\n".encode("utf-8-sig"), None, "utf-8-sig"),  # HubSpot BOM
        ("Deal Name,Müller\n".encode(), None, "utf-8"),
        ("商机名称,客户名称\n华东项目,上海申达\n".encode("gbk"), None, "gb18030"),
        ("商机名称,客户名称\n".encode("gb18030"), "zh_CN", "gb18030"),
        ("Kunde;Küche;1.299,00 €\n".encode("cp1252"), "de_DE", "cp1252"),
        ("Name,Value\n".encode("utf-16"), None, "utf-16"),
    ],
)
def test_detect_encoding(data, locale, expected):
    assert parsing.detect_encoding(data, locale) == expected
    assert data.decode(expected).lstrip("\ufeff").startswith(("Record", "Deal", "商机", "Kunde", "Name"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("a,b,c\n1,2,3\n", ","), ("a;b;c\n1;2,5;3\n", ";"), ("a\tb\tc\n1\t2\t3\n", "\t"), ('"a,1";b;c\n1;2;3\n', ";")],
)
def test_sniff_delimiter(text, expected):
    assert parsing.sniff_delimiter(text) == expected

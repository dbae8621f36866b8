"""Money in the data's currency: symbols and ISO codes, 万/亿 keep the real currency in Chinese."""

import pytest

from salesperf.core import fmt


@pytest.mark.parametrize(
    "currency, en, zh",
    [
        ("¥", "¥1.23 M", "123.5 万元"),
        ("CNY", "¥1.23 M", "123.5 万元"),
        ("$", "$1.23 M", "123.5 万美元"),
        ("usd", "$1.23 M", "123.5 万美元"),
        ("GBP", "£1.23 M", "123.5 万英镑"),
        ("€", "€1.23 M", "123.5 万欧元"),
        ("BRL", "BRL 1.23 M", "123.5 万 BRL"),
    ],
)
def test_compact_money_keeps_the_currency(currency, en, zh):
    assert fmt.money(1_234_567, "en", currency) == en
    assert fmt.money(1_234_567, "zh", currency) == zh


def test_issue_examples():
    assert fmt.money(123_000, "zh", "USD") == "12.3 万美元"
    assert fmt.money(120_000_000, "zh", "GBP") == "1.20 亿英镑"
    assert fmt.money(356_000_000, "zh") == "3.56 亿元"  # ¥ / CNY stays 元
    assert fmt.money(356, "zh", "GBP") == "356 英镑"
    assert fmt.money(356, "zh", "BRL") == "356 BRL"
    assert fmt.money(-41_300, "en", "GBP", compact=False) == "−£41,300"
    assert fmt.money(-41_300, "en", "BRL") == "−BRL 41.3 k"
    assert fmt.signed_money(41_300, "zh", "$") == "+4.1 万美元"


@pytest.mark.parametrize(
    "given, code",
    [("$", "USD"), ("¥", "CNY"), ("rmb", "CNY"), ("gbp", "GBP"), (" EUR ", "EUR"), ("", ""), ("R$", "R$")],
)
def test_currency_codes(given, code):
    assert fmt.currency_code(given) == code


def test_an_unknown_symbol_is_written_as_given():
    assert fmt.money(5_000, "en", "R$") == "R$5,000"

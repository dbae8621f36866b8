"""Number formatting and generated sentences: hand-checked strings."""

import pandas as pd

from salesperf.core import fmt, narrative


def test_money_formats():
    assert fmt.money(1_234_567, "en") == "¥1.23 M"
    assert fmt.money(1_234_567, "zh") == "123.5 万元"  # 万 = 10^4 (GLOSSARY-zh)
    assert fmt.money(356_000_000, "zh") == "3.56 亿元"  # 亿 = 10^8
    assert fmt.money(-41_300, "en", compact=False) == "−¥41,300"
    assert fmt.money(999, "en") == "¥999"
    assert fmt.money(float("nan")) == "–"


def test_changes_and_points():
    assert fmt.signed_percent(0.0823) == "+8.2%"
    assert fmt.signed_percent(-0.041) == "−4.1%"
    assert fmt.points(-0.041, "zh") == "−4.1 个百分点"
    assert fmt.points(0.013) == "+1.3 pp"
    assert fmt.number(-0.4) == "0"  # no "−0"


def test_change_sentence_is_computed_from_the_numbers():
    s = narrative.change_sentence(
        "Revenue", 460_000, [(500_000, "September 2026"), (400_000, "October 2025")]
    )
    assert (
        s
        == "Revenue was ¥460.0 k, down 8.0% vs September 2026 (−¥40.0 k) and up 15.0% vs October 2025 (+¥60.0 k)."
    )
    zh = narrative.change_sentence("销售额", 460_000, [(500_000, "2026年9月")], "zh")
    assert zh == "销售额 46.0 万元，较2026年9月下降 8.0%（−4.0 万元）。"
    assert "no comparable figure" in narrative.change_sentence("Revenue", 10, [(0, "last year")])


def test_driver_sentence_names_the_largest_contributor():
    frame = pd.DataFrame(
        {"name": ["East", "West", "North"], "revenue": [70.0, 100.0, 50.0], "previous": [100.0, 95.0, 55.0]}
    )
    # total change = -30 + 5 - 5 = -30; East contributes -30 / -30 = 100 %
    assert (
        narrative.driver_sentence(frame, "Region")
        == "Among regions, East accounts for 100.0% of the fall (−¥30)."
    )


def test_driver_sentence_when_one_value_more_than_explains_the_change():
    frame = pd.DataFrame({"name": ["North", "South"], "revenue": [220.0, 50.0], "previous": [100.0, 100.0]})
    # total +70; North +120 = 171 % of it, South −50
    assert narrative.driver_sentence(frame, "Region") == (
        "North changed by +¥120, more than the total change of +¥70: the other regions together moved the other way."
    )


def test_sentences_in_chinese_come_from_the_same_numbers():
    frame = pd.DataFrame(
        {"name": ["East", "West", "North"], "revenue": [70.0, 100.0, 50.0], "previous": [100.0, 95.0, 55.0]}
    )
    assert narrative.driver_sentence(frame, "区域", "zh") == "区域中 East 贡献了下降的 100.0%（−30 元）。"
    shares = pd.DataFrame({"name": ["A", "B", "C", "D"], "share": [0.3, 0.2, 0.1, 0.05]})
    assert (
        narrative.concentration_sentence(shares, "客户", "zh")
        == "前 3 名客户贡献了 60.0% 的销售额，其中最大的是 A（30.0%）。"
    )
    assert (
        narrative.concentration_sentence(shares, "Customer")
        == "The top 3 customers made 60.0% of revenue; the largest is A (30.0%)."
    )

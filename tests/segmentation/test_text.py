"""The text layer's ABC-tier and migration sentences, hand-computed in English and Chinese on small built results."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from salesperf.analyses.segmentation import abc_tiers, migration, text
from salesperf.analyses.segmentation.rules import Label
from salesperf.core.errors import UserError

PERCENTAGES = re.compile(r"\d+(?:\.\d+)?%")


def _same_percentages(en: list[str], zh: list[str]) -> None:
    """Computed from the same numbers: the same percentages in both languages, sentence by sentence."""
    assert len(en) == len(zh)
    for en_text, zh_text in zip(en, zh, strict=True):
        assert set(PERCENTAGES.findall(en_text)) == set(PERCENTAGES.findall(zh_text)), (en_text, zh_text)


# -- ABC tiers ----------------------------------------------------------------------------------------------


def _abc_frame() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": list("uvwxyz"), "monetary": [50.0, 30, 10, 5, 3, 2]})


def test_abc_sentence_hand_computed_in_both_languages():
    abc = abc_tiers(_abc_frame())
    # revenue above each customer: 0, 50, 80, 90, 95, 98 of 100 -> A while < 80 %, B while < 95 %.
    # Tier A = u, v: 2 of 6 customers (33.3 %), 80 of 100 revenue (80.0 %); A starts at 30, B at 5.
    assert text.abc_sentence(abc, "en", "¥") == (
        "33.3% of customers (2) make 80.0% of revenue "
        "(tier A: first 80% of revenue, from ¥30 per customer up); "
        "tier B (up to 95%) starts at ¥5."
    )
    assert text.abc_sentence(abc, "zh", "¥") == (
        "33.3% 的客户（2 位）贡献了 80.0% 的销售额"
        "（A 类客户：累计贡献前 80% 的销售额，单客销售额 30 元起）；"
        "B 类客户（累计至 95%）单客销售额 5 元起。"
    )
    _same_percentages([text.abc_sentence(abc, "en", "¥")], [text.abc_sentence(abc, "zh", "¥")])


def test_abc_sentence_other_shares_and_currency():
    # a_share 0.5: only u (nothing above) is A -> 1 of 6 (16.7 %), 50 of 100 (50.0 %), A from 50.
    # b_share 0.9: v (50 above) and w (80 above) are B, x (90 above) is not -> B from 10.
    abc = abc_tiers(_abc_frame(), a_share=0.5, b_share=0.9)
    assert text.abc_sentence(abc, "en", "€") == (
        "16.7% of customers (1) make 50.0% of revenue "
        "(tier A: first 50% of revenue, from €50 per customer up); "
        "tier B (up to 90%) starts at €10."
    )
    assert text.abc_sentence(abc, "zh", "€") == (
        "16.7% 的客户（1 位）贡献了 50.0% 的销售额"
        "（A 类客户：累计贡献前 50% 的销售额，单客销售额 50 欧元起）；"  # zh keeps the real currency
        "B 类客户（累计至 90%）单客销售额 10 欧元起。"
    )


def test_abc_sentence_large_amounts_read_in_wan_in_chinese_and_compactly_in_english():
    # Amounts of 10,000 and more read in 万 / 亿 in Chinese (glossary), compactly in English.
    big = abc_tiers(_abc_frame().assign(monetary=lambda f: f["monetary"] * 10_000))
    assert text.abc_sentence(big, "zh", "¥") == (
        "33.3% 的客户（2 位）贡献了 80.0% 的销售额"
        "（A 类客户：累计贡献前 80% 的销售额，单客销售额 30.0 万元起）；"
        "B 类客户（累计至 95%）单客销售额 5.0 万元起。"
    )
    assert text.abc_sentence(big, "en", "€") == (
        "33.3% of customers (2) make 80.0% of revenue "
        "(tier A: first 80% of revenue, from €300.0 k per customer up); "
        "tier B (up to 95%) starts at €50.0 k."
    )


def test_abc_sentence_unknown_language():
    with pytest.raises(UserError, match="language 'fr'"):
        text.abc_sentence(abc_tiers(_abc_frame()), "fr", "¥")


# -- migration ----------------------------------------------------------------------------------------------


def _migration():
    previous = pd.Series({"a": "s1", "b": "s1", "c": "s2", "d": "s2"})
    current = pd.Series({"a": "s1", "b": "s2", "c": "s2", "e": "s1"})
    revenue = pd.Series({"a": 10.0, "b": 20.0, "c": 30.0, "d": 40.0})
    return migration(previous, current, revenue, order=["s1", "s2"])


def test_migration_sentences_hand_computed_in_both_languages():
    # a, c stay (2 of the 3 present at both dates: 67 %); d leaves s2 (1 of 2: 50 %, 40 at stake);
    # b s1 -> s2 (1 of 2: 50 %, 20 at stake); e is new in s1 (the 1 newcomer: 100 %).
    # Flows: most customers first, then most revenue at stake. Unknown states keep their key as name.
    m = _migration()
    en = text.migration_sentences(m, {}, "en", "¥")
    zh = text.migration_sentences(m, {}, "zh", "¥")
    assert en == [
        "67% of customers present at both dates kept their state.",
        "1 customer left s2 without a new state (50% of s2), with ¥40 of previous-window revenue.",
        "1 customer moved from s1 to s2 (50% of s1), with ¥20 of previous-window revenue.",
        "1 customer entered as s1 (100% of the 1 newcomers).",
    ]
    assert zh == [
        "两个时点都在的客户中，67% 保持原状态。",
        "1 位s2退出（占s2的 50%），涉及上一窗口销售额 40 元。",
        "1 位客户从s1转为s2（占s1的 50%），涉及上一窗口销售额 20 元。",
        "1 位新出现的客户归入s1（占新出现客户 1 位的 100%）。",
    ]
    _same_percentages(en, zh)
    # top=1: the share that stayed and the biggest flow only.
    assert text.migration_sentences(m, {}, "en", "¥", top=1) == en[:2]


def test_migration_sentences_use_the_rule_labels_of_the_language():
    labels = {"s1": Label("s1", "Loyal", "忠诚客户"), "s2": Label("s2", "At risk", "流失预警客户")}
    m = _migration()
    assert text.migration_sentences(m, labels, "en", "€")[1:] == [
        "1 customer left At risk without a new state (50% of At risk), with €40 of previous-window revenue.",
        "1 customer moved from Loyal to At risk (50% of Loyal), with €20 of previous-window revenue.",
        "1 customer entered as Loyal (100% of the 1 newcomers).",
    ]
    assert text.migration_sentences(m, labels, "zh", "€")[1:] == [
        "1 位流失预警客户退出（占流失预警客户的 50%），涉及上一窗口销售额 40 欧元。",
        "1 位客户从忠诚客户转为流失预警客户（占忠诚客户的 50%），涉及上一窗口销售额 20 欧元。",
        "1 位新出现的客户归入忠诚客户（占新出现客户 1 位的 100%）。",
    ]


def test_largest_move_is_between_two_states_in_both_languages():
    # d leaving (to no state) is the first flow, but the largest move between segments is b: s1 -> s2.
    m = _migration()
    assert text.largest_move(m, {}, "2026-09", "en", "¥") == (
        "Since 2026-09, the largest move between RFM segments: 1 customer from s1 to s2 (50% of s1), "
        "with ¥20 of revenue in the year before at stake."
    )
    assert text.largest_move(m, {}, "2026-09", "zh", "¥") == (
        "与2026-09相比，RFM 分群间最大的迁移：1 位客户从s1转为s2（占s1的 50%），涉及此前一年销售额 20 元。"
    )
    nobody_moved = migration(pd.Series({"a": "s1"}), pd.Series({"a": "s1", "b": "s2"}))
    assert text.largest_move(nobody_moved, {}, "2026-09", "en", "¥") == ""

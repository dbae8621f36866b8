"""Every word is translated: a zh text that is the English copied (or an en text that is Chinese) fails, key by
key, in the core and in every analysis's vocabulary. tests/test_architecture.py checks that both languages exist."""

import re

import pytest

from salesperf.analyses import registry
from salesperf.core.vocab import CORE, LANGUAGES

#: Keys whose text may be the same in both languages (a product name, a unit, a code). Keep it short.
SAME_IN_BOTH = {"salesperf", "RFM", "ABC", "CLV", "BG/NBD", "ID", "CSV", "KPI"}

_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
_PLACEHOLDER = re.compile(r"\{\w+\}")


def _vocabularies():
    return [CORE] + [registry.get(name).words for name in registry.names()]


def _entries():
    return [
        pytest.param(vocab.package, key, entry, id=f"{vocab.package.rsplit('.', 1)[-1]}:{key}")
        for vocab in _vocabularies()
        for key, entry in vocab.entries.items()
    ]


def untranslated(entry: dict) -> list[str]:
    """The languages in which ``entry`` (``{lang: text}``) is not translated."""
    problems = []
    en, zh = (_PLACEHOLDER.sub("", entry[lang]).strip().strip(" .:,;()…") for lang in ("en", "zh"))
    copied = zh == en and en not in SAME_IN_BOTH and re.search(r"[A-Za-z]{2}", en)
    english = not _CJK.search(zh) and zh not in SAME_IN_BOTH and re.search(r"[A-Za-z]{3}", zh)
    if copied or english:  # the English copied, or English words with no Chinese at all
        problems.append("zh")
    if _CJK.search(en):
        problems.append("en")
    return problems


@pytest.mark.parametrize("package, key, entry", _entries())
def test_every_key_is_translated(package, key, entry):
    assert set(entry) == set(LANGUAGES)
    assert not untranslated(entry), f"{package}/vocab.yml: {key!r} is not translated into {untranslated(entry)}"


@pytest.mark.parametrize(
    "entry, problems",
    [
        ({"en": "Revenue", "zh": "Revenue"}, ["zh"]),
        ({"en": "No {table} table: skipped.", "zh": "No {table} table: skipped."}, ["zh"]),
        ({"en": "zero amount", "zh": "zero amount (零)"}, []),  # some Chinese: a translation, maybe mixed
        ({"en": "销售额", "zh": "销售额"}, ["en"]),
        ({"en": "RFM", "zh": "RFM"}, []),
        ({"en": "{n}", "zh": "{n}"}, []),
    ],
)
def test_the_check_itself(entry, problems):
    assert untranslated(entry) == problems

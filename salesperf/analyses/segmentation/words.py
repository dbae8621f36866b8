"""The segmentation report's vocabulary (``vocab.yml`` over the core words) and the helper every sentence
module of the package fills its templates with."""

from __future__ import annotations

from salesperf.core.vocab import CORE, Vocabulary, check_lang

WORDS = Vocabulary(__package__, CORE)


def word(key: str, lang: str, **values) -> str:
    """The template ``key`` filled in; ``{customer_noun}`` agrees with ``n`` ("1 customer", "2 customers")."""
    noun = "customer_noun_one" if values.get("n") == "1" else "customer_noun_many"
    return WORDS(key, check_lang(lang), **{"customer_noun": WORDS(noun, lang), **values})

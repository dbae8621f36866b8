"""Report vocabulary in English and Simplified Chinese, one namespace per package.

Words shared by every report (``revenue``, ``as_of``, data quality...) live in ``salesperf/core/vocab.yml``;
each analysis keeps its own words in ``vocab.yml`` beside its code and reads them through a
:class:`Vocabulary` of its package, which falls back to the core words. A key defined twice in one file,
defined in both an analysis and the core, or missing a language is an error (and a test).
"""

from __future__ import annotations

import re
from functools import cached_property
from importlib import resources

import yaml

from salesperf.core.errors import UserError

LANGUAGES = ("en", "zh")


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a mapping key given twice (plain YAML keeps the last one silently)."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise ValueError(f"key {key!r} is defined twice (line {key_node.start_mark.line + 1})")
        seen.add(key)
    return loader.construct_mapping(node, deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def load_unique_yaml(text: str, source: str) -> object:
    """Parse YAML text, refusing duplicated keys; ValueError names ``source``."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from None


def check_lang(lang: str) -> str:
    """Return ``lang`` when supported, else raise a UserError listing the languages."""
    if lang not in LANGUAGES:
        raise UserError(f"language {lang!r} is not supported", hint=f"use one of {', '.join(LANGUAGES)}")
    return lang


#: A space between two Chinese characters or full-width punctuation marks.
_CJK = r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]"
_CJK_FOLD = re.compile(rf"(?<={_CJK})\s+(?={_CJK})")


class Vocabulary:
    """The words of one package (``vocab.yml`` in it), falling back to the core words.

    Parameters
    ----------
    package : str
        The package holding ``vocab.yml`` (``__package__`` of the caller).
    fallback : Vocabulary, optional
        Consulted for keys this package does not define (the core vocabulary for analyses).
    """

    def __init__(self, package: str, fallback: Vocabulary | None = None):
        self.package = package
        self.fallback = fallback

    @cached_property
    def entries(self) -> dict[str, dict[str, str]]:
        """Key → {language: text} as written in the package's ``vocab.yml``."""
        source = resources.files(self.package).joinpath("vocab.yml")
        data = load_unique_yaml(source.read_text(encoding="utf-8"), f"{self.package}/vocab.yml") or {}
        for key, entry in data.items():
            missing = [lang for lang in LANGUAGES if not isinstance(entry, dict) or not entry.get(lang)]
            if missing:
                raise ValueError(f"{self.package}/vocab.yml: {key!r} has no {missing[0]!r} text")
            # a long Chinese text folded over lines in YAML (>-) gets a space at each fold: Chinese has none
            entry["zh"] = _CJK_FOLD.sub("", entry["zh"])
        return data

    def __contains__(self, key: str) -> bool:
        return key in self.entries or (self.fallback is not None and key in self.fallback)

    def __call__(self, key: str, lang: str, **values) -> str:
        """The text of ``key`` in ``lang``, formatted with ``values``; KeyError for an unknown key (a bug)."""
        entry = self.entries.get(key)
        if entry is None:
            if self.fallback is None:
                raise KeyError(f"{self.package}/vocab.yml has no key {key!r}")
            return self.fallback(key, lang, **values)
        text = entry[check_lang(lang)]
        return text.format(**values) if values else text


CORE = Vocabulary("salesperf.core")


def term(key: str, lang: str, **values) -> str:
    """A word of the core vocabulary (shared by every report) in ``lang``."""
    return CORE(key, lang, **values)

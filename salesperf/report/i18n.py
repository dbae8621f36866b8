"""Report vocabulary in English and Simplified Chinese, read from ``salesperf/conf/i18n.yml``."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from salesperf.errors import UserError

LANGUAGES = ("en", "zh")


@cache
def _terms() -> dict[str, dict[str, str]]:
    return yaml.safe_load(resources.files("salesperf.conf").joinpath("i18n.yml").read_text(encoding="utf-8"))


def check_lang(lang: str) -> str:
    """Return ``lang`` when supported, else raise a UserError listing the languages."""
    if lang not in LANGUAGES:
        raise UserError(f"language {lang!r} is not supported", hint=f"use one of {', '.join(LANGUAGES)}")
    return lang


def term(key: str, lang: str, **values) -> str:
    """The word or phrase ``key`` in ``lang`` (falls back to English, then to the key), formatted with ``values``."""
    entry = _terms().get(key, {})
    text = entry.get(lang) or entry.get("en") or key
    return text.format(**values) if values else text

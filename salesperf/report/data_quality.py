"""The words of every report's data-quality section: the accounting's reasons in the page's language and one
sentence per table that writes the chain out, from the export to the rows used.

``orders: 12 source rows = 8 imported + 4 dropped at import (3 missing customer_id; 1 report footer or
subtotal row); 8 imported = 5 used + 3 excluded (...).`` for a table made by ``salesperf import``;
``orders: 8 rows read = 5 used + 3 excluded (...).`` for the others. The figures come from
:class:`salesperf.data.quality.TableQuality`.
"""

from __future__ import annotations

import re
from functools import cache

from salesperf.core.vocab import term
from salesperf.data.quality import TableQuality

#: The vocabulary keys of the data-quality reasons (core/vocab.yml): the English text is the label that
#: validation and ``salesperf import`` keep in their accounting (manifest, ``salesperf validate``,
#: ``import_accounting.csv``); pages show it in their language. First match wins: the broad filter
#: patterns (``{header} is {values}``) come last.
REASON_KEYS = (
    "reason_unparseable",
    "reason_missing",
    "reason_other_currency",
    "reason_cancelled",
    "reason_zero_amount",
    "reason_negative_amount",
    "reason_unknown_customer",
    "reason_unknown_status",
    "reason_unknown_stage",
    "reason_future",
    "reason_early",
    "reason_large_amount",
    "reason_duplicate_row",
    "reason_duplicate_key",
    "reason_after_period",
    "reason_blank_row",
    "reason_title_row",
    "reason_footer",
    "reason_footer_below_blank",
    "reason_stage_unchanged",
    "reason_rep_by_name",
    "reason_derived_known",
    "reason_derived_repeated",
    "reason_derived",
    "reason_no_match",
    "reason_merged",
    "reason_lines_added_up",
    "reason_conflict",
    "reason_filter_is",
    "reason_filter_not",
)
#: Placeholders that may hold spaces (headers, file names, lists of values); the others are one word.
_SPACED = ("header", "values", "file")


@cache
def _pattern(template: str) -> re.Pattern:
    parts = re.split(r"\{(\w+)\}", template)
    seen: set[str] = set()
    regex = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            regex.append(re.escape(part))
        elif part in seen:  # the same word twice ("one row per {column}")
            regex.append(f"(?P={part})")
        else:
            seen.add(part)
            regex.append(f"(?P<{part}>.+?)" if part in _SPACED else f"(?P<{part}>\\S+)")
    return re.compile("".join(regex))


def reason_text(label: str, lang: str) -> str:
    """A reason of the accounting (its English label) in ``lang``; a label we do not know is shown as is."""
    if lang == "en":
        return label
    for key in REASON_KEYS:
        match = _pattern(term(key, "en")).fullmatch(label)
        if match:
            return term(key, lang, **match.groupdict())
    return label


def _reasons(counts: dict[str, int], lang: str) -> str:
    """`` (3 missing customer_id; 1 report footer or subtotal row)``, or nothing when there are none."""
    if not counts:
        return ""
    parts = [f"{n:,} {reason_text(reason, lang)}" for reason, n in counts.items()]
    return term("quality_reasons", lang, reasons=term("quality_reason_join", lang).join(parts))


def table_sentences(t: TableQuality, lang: str) -> list[str]:
    """The chain of one table in words: source rows = imported + dropped (+ merged) at import, by reason;
    imported (rows read) = used + excluded, by reason; then the attribute conflicts of the import, if any."""
    excluded = {
        "used": f"{t.rows_used:,}",
        "excluded": f"{sum(t.excluded.values()):,}",
        "reasons": _reasons(t.excluded, lang),
    }
    if not t.imported:
        return [term("quality_read", lang, table=t.table, read=f"{t.rows_read:,}", **excluded)]
    at_import = ""
    for kind in ("dropped", "merged"):
        counts = t.at_import(kind)
        if counts:
            n = f"{sum(counts.values()):,}"
            at_import += term(f"quality_{kind}_at_import", lang, n=n, reasons=_reasons(counts, lang))
    sentences = [
        term(
            "quality_chain",
            lang,
            table=t.table,
            source=f"{t.source_rows:,}",
            imported=f"{t.rows_read:,}",
            at_import=at_import,
            **excluded,
        )
    ]
    conflicts = t.at_import("conflict")
    if conflicts:
        listed = [
            term("quality_conflict", lang, reason=reason_text(reason, lang), n=f"{n:,}")
            for reason, n in conflicts.items()
        ]
        joined = term("quality_reason_join", lang).join(listed)
        sentences.append(term("quality_conflicts", lang, conflicts=joined))
    return sentences

"""Matching a file's headers to a kind's fields (case, space, script and unit insensitive)."""

from __future__ import annotations

from dataclasses import dataclass

from salesperf.data import parsing
from salesperf.data.importer.mapping import Mapping
from salesperf.data.importer.mapping_kinds import Kind


def header_keys(headers: list) -> set[str]:
    keys = set()
    for header in headers:
        if parsing.clean_text(header) is None:
            continue
        key = parsing.normalize_header(header)
        keys.add(key)
        keys.add(parsing.normalize_header(parsing.split_header_unit(str(header))[0]))
    return keys


@dataclass
class Resolved:
    index: int
    header: str
    multiplier: float


def resolve_columns(headers: list, kind: Kind, mapping: Mapping) -> dict[str, Resolved]:
    """For each field of the kind, the first alias present in the headers (case/space/script-insensitive)."""
    exact, unit_less = {}, {}
    for i, header in enumerate(headers):
        if parsing.clean_text(header) is None:
            continue
        text = str(header)
        exact.setdefault(parsing.normalize_header(text), i)
        base, multiplier = parsing.split_header_unit(text)
        unit_less.setdefault(parsing.normalize_header(base), (i, multiplier))
    resolved = {}
    for fname, aliases in kind.columns.items():
        for alias in aliases:
            key = parsing.normalize_header(alias)
            index = exact.get(key, unit_less.get(key, (None,))[0])
            if index is None:
                continue
            header = str(headers[index])
            if fname == "amount" and parsing.normalize_header(parsing.split_header_unit(header)[0]) in (
                mapping.weighted_amount_headers
            ):
                continue
            resolved[fname] = Resolved(index, header.strip(), parsing.split_header_unit(header)[1])
            break
    return resolved

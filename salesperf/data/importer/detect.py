"""Which export a file is: the preset (CRM) whose signatures fit its headers, and the kind in a mapping."""

from __future__ import annotations

from pathlib import Path

from salesperf.core.errors import UserError
from salesperf.data import parsing
from salesperf.data.importer.columns import header_keys
from salesperf.data.importer.mapping import Mapping, available_presets, load_mapping
from salesperf.data.importer.mapping_kinds import Kind
from salesperf.data.importer.read import locate_header, read_cells


def _kind_scores(mapping: Mapping, keys: set[str]) -> list[tuple[int, str]]:
    scores = []
    for kind in mapping.kinds.values():
        best = max((d.score(keys) for d in kind.detect), default=-1)
        if best >= 0:
            scores.append((best, kind.name))
    return sorted(scores, reverse=True)


def detect_preset(headers: list) -> str | None:
    """Name the preset whose export signatures best match these headers; ``None`` when none (or a tie) does.

    Parameters
    ----------
    headers : list of str
        The header row of one export file.
    """
    keys = header_keys(headers)
    scored = []
    for name in available_presets():
        kinds = _kind_scores(load_mapping(name), keys)
        if kinds:
            scored.append((kinds[0][0], name))
    scored.sort(reverse=True)
    if not scored or (len(scored) > 1 and scored[0][0] == scored[1][0]):
        return None
    return scored[0][1]


def detect_kind(mapping: Mapping, headers: list, file: str) -> Kind:
    if len(mapping.kinds) == 1 and not next(iter(mapping.kinds.values())).detect:
        return next(iter(mapping.kinds.values()))
    scores = _kind_scores(mapping, header_keys(headers))
    if not scores:
        shown = ", ".join(repr(str(h)) for h in headers[:8] if parsing.clean_text(h))
        raise UserError(
            f"{file}: the headers do not look like any {mapping.name} export ({', '.join(mapping.kinds)}); "
            f"headers: {shown}",
            hint="check the preset, or describe the file in a mapping file (--mapping)",
        )
    if len(scores) > 1 and scores[0][0] == scores[1][0]:
        raise UserError(
            f"{file}: the headers fit both '{scores[0][1]}' and '{scores[1][1]}' of {mapping.name}",
            hint="describe the file in a mapping file (--mapping) that extends the preset",
        )
    return mapping.kinds[scores[0][1]]


def auto_mapping(path: Path, locale: str | None) -> Mapping:
    mappings = [load_mapping(name) for name in available_presets()]
    rows, _ = read_cells(path, locale=locale)
    alias_keys = set().union(*(m.alias_keys for m in mappings))
    headers = rows[locate_header(rows, alias_keys)] if rows else []
    name = detect_preset(headers)
    if name is None:
        raise UserError(
            f"{path.name}: cannot tell which CRM exported this file",
            hint=f"pass --preset ({', '.join(available_presets())}) or --mapping FILE",
        )
    return load_mapping(name)

"""Mapping files and presets: loading, ``extends:`` and ``_common.yml`` merging, and the mapping-wide keys
(locale, encoding, header row, time zone, footers...). One kind's validation is :mod:`~.mapping_kinds`'s;
``tables:`` and ``join:`` are :mod:`~.mapping_tables`'s.

A *mapping* (YAML; the presets in ``salesperf/data/presets/`` are mappings too) lists one or more *kinds* of
export. A kind names the canonical table it feeds, how to recognise it from its headers (``detect``) and, for
every canonical or helper field, the source headers it may come from (``columns``, first match wins). See
docs/import.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from salesperf.core.errors import UserError, unknown_key
from salesperf.data import parsing
from salesperf.data.importer.mapping_kinds import KIND_KEYS, Kind, as_list, build_kind, merge
from salesperf.data.importer.mapping_tables import tables_entries
from salesperf.data.yamlfile import read_yaml

PRESET_DIR = Path(__file__).resolve().parent.parent / "presets"  # salesperf/data/presets (package data)
COMMON_FILE = PRESET_DIR / "_common.yml"

TOP_KEYS = {
    "preset",
    "description",
    "extends",
    "kinds",
    "table",
    "detect",
    "columns",
    "locale",
    "encoding",
    "delimiter",
    "sheet",
    "header_row",
    "timezone",
    "date_format",
    "stop_at_blank_row",
    "id_style",
    "strip_id_prefixes",
    "footer_patterns",
    "weighted_amount_headers",
    "fallbacks",
    "values",
    "dates",
    "constants",
    "derive",
    "closed_at_from",
    "keep_rows",
    "stage_categories",
    "cancelled_amount",
    "tables",
    "not_blank",
    "drop_rows",
    "cancelled_if",
    "join",
    "add_up_identical_lines",
}


@dataclass
class Mapping:
    """A loaded preset or user mapping file, merged over ``_common.yml``."""

    name: str
    origin: str
    kinds: dict[str, Kind]
    locale: str | None = None
    encoding: str = "auto"
    delimiter: str = "auto"
    sheet: Any = 0
    header_row: int | None = None
    timezone: str | None = None
    stop_at_blank_row: bool = False
    id_style: str | None = None
    strip_id_prefixes: tuple[str, ...] = ()
    footer_patterns: tuple[re.Pattern, ...] = ()
    weighted_amount_headers: frozenset[str] = frozenset()
    all_kinds: bool = False  # ``tables:``: every entry reads every file it applies to (no detection)
    not_blank: frozenset[str] = frozenset()

    @property
    def alias_keys(self) -> set[str]:
        keys = set()
        for kind in self.kinds.values():
            for aliases in kind.columns.values():
                keys.update(parsing.normalize_header(a) for a in aliases)
        return keys


def _read_yaml(path: Path) -> dict:
    doc = read_yaml(path, "mapping file")
    if not isinstance(doc, dict):
        raise UserError(f"{path}: a mapping file must be a YAML mapping (key: value lines)")
    return doc


def available_presets() -> list[str]:
    """Names of the bundled presets.

    Returns
    -------
    list of str
        ``fxiaoke``, ``hubspot``, ``salesforce``, ``zoho`` (files of ``PRESET_DIR`` not starting with ``_``).
    """
    return sorted(p.stem for p in PRESET_DIR.glob("*.yml") if not p.stem.startswith("_"))


def _raw_document(source: str | Path, seen: tuple = ()) -> tuple[dict, str]:
    """The YAML of a preset name or mapping path, with ``extends:`` resolved (user keys override the base)."""
    if isinstance(source, str) and source in available_presets():
        path = PRESET_DIR / f"{source}.yml"
    else:
        path = Path(source)
        if not path.exists():
            raise UserError(
                f"unknown preset or mapping file '{source}'",
                hint=f"presets: {', '.join(available_presets())}; or give a path to a .yml mapping file",
            )
    doc = _read_yaml(path)
    unknown = sorted(set(doc) - TOP_KEYS)
    if unknown:
        raise unknown_key(unknown[0], TOP_KEYS, str(path))
    if "extends" in doc:
        own_name = doc.get("preset") or path.stem
        base_name = str(doc["extends"])
        if base_name in seen:
            raise UserError(f"{path}: 'extends: {base_name}' loops back on itself")
        base, _ = _raw_document(base_name, seen + (base_name,))
        doc = merge(base, {k: v for k, v in doc.items() if k != "extends"})
        doc["preset"] = own_name
    return doc, str(path)


def load_mapping(source: str | Path) -> Mapping:
    """Load and validate a preset (by name) or a mapping file (by path), merged over ``_common.yml``.

    A mapping without ``kinds:`` is one kind: its top-level ``table``/``columns``/``values``... describe it.
    Loaded mappings are cached by ``source``.

    Parameters
    ----------
    source : str or Path
        A preset name (see :func:`available_presets`) or the path of a mapping YAML file.

    Returns
    -------
    Mapping

    Raises
    ------
    UserError
        Naming the file and key for anything malformed.
    """
    return _load_mapping_cached(str(source))


@lru_cache(maxsize=32)
def _load_mapping_cached(source: str) -> Mapping:
    doc, origin = _raw_document(source)
    common = _read_yaml(COMMON_FILE)
    doc = merge(common, doc)
    kinds_doc = doc.get("kinds")
    all_kinds = "tables" in doc
    if all_kinds:
        kinds_doc = tables_entries(doc, origin)
    elif kinds_doc is None:
        if "table" not in doc:
            raise UserError(
                f"{origin}: a mapping needs 'table:' and 'columns:' "
                "(or 'kinds:' with one entry per export kind)"
            )
        kinds_doc = {
            "default": {k: doc[k] for k in KIND_KEYS if k in doc and k not in ("values", "fallbacks")}
        }
        kinds_doc["default"]["values"] = doc.get("values", {})
    if not isinstance(kinds_doc, dict) or not kinds_doc:
        raise UserError(f"{origin}: 'kinds:' must map kind names to their descriptions")
    weighted = frozenset(
        parsing.normalize_header(h) for h in as_list(doc.get("weighted_amount_headers"), origin)
    )
    kinds = {name: build_kind(name, spec, doc, origin, weighted) for name, spec in kinds_doc.items()}
    try:
        patterns = as_list(doc.get("footer_patterns"), f"{origin}: footer_patterns")
        footers = tuple(re.compile(p, re.IGNORECASE) for p in patterns)
        if footers:
            footers = (re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE),)
    except re.error as exc:
        raise UserError(f"{origin}: footer_patterns: not a valid regular expression ({exc})") from None
    _check_zone(doc.get("timezone"), origin)
    if doc.get("header_row") is not None and not (
        isinstance(doc["header_row"], int) and doc["header_row"] >= 1
    ):
        raise UserError(f"{origin}: header_row must be a line number (1 = first line)")
    return Mapping(
        name=str(doc.get("preset") or Path(origin).stem),
        origin=origin,
        kinds=kinds,
        locale=doc.get("locale"),
        encoding=str(doc.get("encoding") or "auto"),
        delimiter=str(doc.get("delimiter") or "auto"),
        sheet=doc.get("sheet", 0),
        header_row=doc.get("header_row"),
        timezone=doc.get("timezone"),
        stop_at_blank_row=bool(doc.get("stop_at_blank_row", False)),
        id_style=doc.get("id_style"),
        strip_id_prefixes=tuple(as_list(doc.get("strip_id_prefixes"), f"{origin}: strip_id_prefixes")),
        footer_patterns=footers,
        weighted_amount_headers=weighted,
        all_kinds=all_kinds,
        not_blank=frozenset(v.casefold() for v in as_list(doc.get("not_blank"), f"{origin}: not_blank")),
    )


def _check_zone(zone: Any, origin: str) -> None:
    if zone is None:
        return
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(
            f"{origin}: timezone '{zone}' is not a time zone name",
            hint="use an IANA name such as Asia/Shanghai or Europe/Berlin",
        ) from None

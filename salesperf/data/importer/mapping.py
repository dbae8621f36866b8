"""Mapping files and presets: loading, ``extends:`` and ``_common.yml`` merging, validation.

A *mapping* (YAML; the presets in ``salesperf/data/presets/`` are mappings too) lists one or more *kinds* of
export. A kind names the canonical table it feeds, how to recognise it from its headers (``detect``) and, for
every canonical or helper field, the source headers it may come from (``columns``, first match wins). See
docs/import.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from salesperf.core.errors import UserError
from salesperf.data import parsing
from salesperf.data.schema import TABLES

PRESET_DIR = Path(__file__).resolve().parent.parent / "presets"  # salesperf/data/presets (package data)
COMMON_FILE = PRESET_DIR / "_common.yml"

# Helper fields a mapping may name besides the canonical columns; they are consumed and not written.
HELPER_FIELDS = {
    "rep_name": "VARCHAR",
    "customer_name": "VARCHAR",
    "owner_rep_name": "VARCHAR",
    "opportunity_name": "VARCHAR",
    "product_name": "VARCHAR",
    "close_date": "DATE",
    "stage_changed_at": "DATE",
    "won_flag": "BOOLEAN",
    "lost_flag": "BOOLEAN",
    "closed_flag": "BOOLEAN",
    "field_event": "VARCHAR",
    "row_date": "DATE",
    "discount": "DOUBLE",
}
OPPORTUNITY_STATUSES = {"open", "won", "lost"}

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
KIND_KEYS = {
    "table",
    "detect",
    "columns",
    "values",
    "dates",
    "constants",
    "derive",
    "closed_at_from",
    "keep_rows",
    "stage_categories",
    "fallbacks",
    "date_format",
    "cancelled_amount",
    "drop_rows",
    "cancelled_if",
    "add_up_identical_lines",
    "file",
    "join",
    "name",
}
JOIN_KEYS = {"file", "on", "how", "delimiter", "encoding"}


@dataclass
class Detect:
    """One header signature: all of ``all``, ``min`` of ``any``, none of ``none`` (normalised headers)."""

    all: tuple[str, ...] = ()
    any: tuple[str, ...] = ()
    none: tuple[str, ...] = ()
    min: int = 1

    def score(self, keys: set[str]) -> int:
        """Number of signature headers present, or -1 when the signature does not match."""
        if not all(k in keys for k in self.all) or any(k in keys for k in self.none):
            return -1
        hits = sum(k in keys for k in self.any)
        if self.any and hits < self.min:
            return -1
        return len(self.all) + hits


@dataclass
class Join:
    """A second file joined onto every row of the source by a key (``join:`` of a mapping or table entry)."""

    file: str
    on: tuple[str, str]  # (header in the source, header in the joined file)
    how: str = "left"
    delimiter: str = "auto"
    encoding: str = "auto"


@dataclass
class Kind:
    """One kind of export within a mapping (e.g. Salesforce deals) and how it becomes a canonical table."""

    name: str
    table: str
    detect: list[Detect]
    columns: dict[str, list[str]]
    values: dict[str, dict]
    dates: dict[str, list[str]]
    constants: dict[str, Any]
    derive: dict[str, tuple[tuple[str, bool], ...]]  # product of fields; True: the term is (1 - field)
    closed_at_from: list[str]
    keep_rows: dict[str, tuple[set[str], str]]
    stage_categories: dict[str, str]
    fallbacks: dict[str, str]
    cancelled_amount: str
    drop_rows: dict[str, tuple[set[str], str]] = field(default_factory=dict)
    cancelled_if: dict[str, Any] = field(default_factory=dict)
    file: str | None = None
    join: list[Join] = field(default_factory=list)
    add_up_identical_lines: bool = False


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


def _as_list(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, int, float)):
        return [str(value)]
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v) for v in value]
    raise UserError(f"{where}: expected a header name or a list of header names, got {value!r}")


def _read_yaml(path: Path) -> dict:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read the mapping file ({exc.strerror})") from None
    if not isinstance(doc, dict):
        raise UserError(f"{path}: a mapping file must be a YAML mapping (key: value lines)")
    return doc


def available_presets() -> list[str]:
    """Names of the bundled presets (``salesforce``, ``hubspot``, ``zoho``, ``fxiaoke``)."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yml") if not p.stem.startswith("_"))


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


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
        raise UserError(
            f"{path}: unknown key '{unknown[0]}'", hint=f"known keys: {', '.join(sorted(TOP_KEYS))}"
        )
    if "extends" in doc:
        own_name = doc.get("preset") or path.stem
        base_name = str(doc["extends"])
        if base_name in seen:
            raise UserError(f"{path}: 'extends: {base_name}' loops back on itself")
        base, _ = _raw_document(base_name, seen + (base_name,))
        doc = _merge(base, {k: v for k, v in doc.items() if k != "extends"})
        doc["preset"] = own_name
    return doc, str(path)


def load_mapping(source: str | Path) -> Mapping:
    """Load and validate a preset (by name) or a mapping file (by path), merged over ``_common.yml``.

    A mapping without ``kinds:`` is one kind: its top-level ``table``/``columns``/``values``... describe it.
    Raises :class:`UserError` naming the file and key for anything malformed.
    """
    return _load_mapping_cached(str(source))


@lru_cache(maxsize=32)
def _load_mapping_cached(source: str) -> Mapping:
    doc, origin = _raw_document(source)
    common = _read_yaml(COMMON_FILE)
    doc = _merge(common, doc)
    kinds_doc = doc.get("kinds")
    all_kinds = "tables" in doc
    if all_kinds:
        kinds_doc = _tables_entries(doc, origin)
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
        parsing.normalize_header(h) for h in _as_list(doc.get("weighted_amount_headers"), origin)
    )
    kinds = {name: _kind(name, spec, doc, origin, weighted) for name, spec in kinds_doc.items()}
    try:
        patterns = _as_list(doc.get("footer_patterns"), f"{origin}: footer_patterns")
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
        strip_id_prefixes=tuple(_as_list(doc.get("strip_id_prefixes"), f"{origin}: strip_id_prefixes")),
        footer_patterns=footers,
        weighted_amount_headers=weighted,
        all_kinds=all_kinds,
        not_blank=frozenset(v.casefold() for v in _as_list(doc.get("not_blank"), f"{origin}: not_blank")),
    )


def _tables_entries(doc: dict, origin: str) -> dict[str, dict]:
    """``tables:`` (a list of table entries, each like a one-table mapping) as kinds named by ``name:`` or
    table; the mapping's top-level ``join:``, ``keep_rows:``/``drop_rows:`` and ``cancelled_if:`` apply to
    each entry that does not set its own."""
    entries = doc.get("tables")
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise UserError(f"{origin}: 'tables:' must be a list of entries, each with 'table:' and 'columns:'")
    if "kinds" in doc or "table" in doc:
        raise UserError(f"{origin}: give either 'tables:' or 'table:'/'kinds:', not both")
    kinds: dict[str, dict] = {}
    for entry in entries:
        shared = ("join", "keep_rows", "drop_rows", "cancelled_if", "add_up_identical_lines")
        spec = {k: doc[k] for k in shared if k in doc} | entry
        name = str(entry.get("name") or entry.get("table"))
        if name in kinds:
            raise UserError(f"{origin}: two 'tables:' entries are called '{name}'; give one a 'name:'")
        kinds[name] = spec
    return kinds


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


def field_type(table: str, name: str) -> str:
    if name in HELPER_FIELDS:
        return HELPER_FIELDS[name]
    return TABLES[table].column(name).type


def _kind(name: str, spec: Any, doc: dict, origin: str, weighted: frozenset[str]) -> Kind:
    where = f"{origin}: kind '{name}'"
    if not isinstance(spec, dict):
        raise UserError(f"{where}: expected a mapping with 'table:' and 'columns:'")
    unknown = sorted(set(spec) - KIND_KEYS)
    if unknown:
        raise UserError(
            f"{where}: unknown key '{unknown[0]}'", hint=f"known keys: {', '.join(sorted(KIND_KEYS))}"
        )
    table = spec.get("table")
    if table not in TABLES:
        raise UserError(
            f"{where}: table '{table}' is not a canonical table", hint=f"tables: {', '.join(TABLES)}"
        )
    allowed = set(TABLES[table].names) | set(HELPER_FIELDS)
    columns = _kind_columns(spec, table, allowed, where, weighted)
    detect = _kind_detect(spec, where)
    values = _kind_values(spec, doc, where)
    dates = {}
    default_formats = _as_list(spec.get("date_format", doc.get("date_format")), f"{where}: date_format")
    for fname in columns:
        if field_type(table, fname) == "DATE":
            formats = {**(doc.get("dates") or {}), **(spec.get("dates") or {})}.get(fname)
            dates[fname] = _as_list(formats, f"{where}: dates.{fname}") or default_formats
    derive = {}
    for fname, expr in (spec.get("derive") or {}).items():
        terms = []
        for part in (p.strip() for p in str(expr).split("*")):
            complement = re.fullmatch(r"\(\s*1\s*-\s*(\w+)\s*\)", part)
            terms.append((complement.group(1), True) if complement else (part, False))
        if len(terms) < 2 or not all(name in allowed for name, _ in terms):
            raise UserError(
                f"{where}: derive.{fname}: write it as 'quantity * unit_price' or "
                "'quantity * unit_price * (1 - discount)' (columns of the table or helpers)"
            )
        derive[fname] = tuple(terms)
    keep_rows = _row_filters(spec.get("keep_rows"), f"{where}: keep_rows", "not")
    drop_rows = _row_filters(spec.get("drop_rows"), f"{where}: drop_rows", "is")
    stage_categories = {value_key(k): str(v) for k, v in (spec.get("stage_categories") or {}).items()}
    bad = sorted(set(stage_categories.values()) - OPPORTUNITY_STATUSES)
    if bad:
        raise UserError(f"{where}: stage_categories must give open, won or lost, not '{bad[0]}'")
    cancelled_amount = str(spec.get("cancelled_amount", doc.get("cancelled_amount", "keep")))
    if cancelled_amount not in ("keep", "negate"):
        raise UserError(f"{where}: cancelled_amount must be 'keep' or 'negate'")
    return Kind(
        name=name,
        table=table,
        detect=detect,
        columns=columns,
        values=values,
        dates=dates,
        constants=dict(spec.get("constants") or {}),
        derive=derive,
        closed_at_from=_as_list(spec.get("closed_at_from"), where) or ["close_date"],
        keep_rows=keep_rows,
        stage_categories=stage_categories,
        fallbacks={**(doc.get("fallbacks") or {}), **(spec.get("fallbacks") or {})},
        cancelled_amount=cancelled_amount,
        drop_rows=drop_rows,
        cancelled_if=_cancelled_if(spec.get("cancelled_if"), table, where),
        file=None if spec.get("file") is None else str(spec["file"]),
        join=_joins(spec.get("join"), where),
        add_up_identical_lines=bool(
            spec.get("add_up_identical_lines", doc.get("add_up_identical_lines", False))
        ),
    )


def _row_filters(spec: Any, where: str, verb: str) -> dict[str, tuple[set[str], str]]:
    """``keep_rows:``/``drop_rows:``: header (or mapped field) -> SOURCE values keeping/dropping a row."""
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise UserError(f"{where}: expected 'header: [values]' lines")
    out = {}
    for name, wanted in spec.items():
        wanted = _as_list(wanted, f"{where}.{name}")
        out[str(name)] = ({value_key(v) for v in wanted}, f"{name} {verb} {' / '.join(wanted)}")
    return out


def _cancelled_if(spec: Any, table: str, where: str) -> dict[str, Any]:
    """``cancelled_if: {id_prefix: C, flag: <header>}``: order lines that are cancellations."""
    if spec is None:
        return {}
    if table != "orders" or not isinstance(spec, dict) or set(spec) - {"id_prefix", "flag", "column"}:
        raise UserError(
            f"{where}: cancelled_if takes id_prefix: (e.g. C), column: (the id column, default order_id) and "
            "flag: (a true/false column), for order lines"
        )
    return {
        "id_prefix": tuple(_as_list(spec.get("id_prefix"), f"{where}: cancelled_if.id_prefix")),
        "column": str(spec.get("column") or "order_id"),
        "flag": None if spec.get("flag") is None else str(spec["flag"]),
    }


def _joins(spec: Any, where: str) -> list[Join]:
    """``join:`` entries: ``{file: items.csv, on: order_id}`` or ``on: {source header: joined header}``."""
    if spec is None:
        return []
    items = spec if isinstance(spec, list) else [spec]
    out = []
    for item in items:
        if isinstance(item, dict):  # YAML 1.1 reads a bare `on:` key as true
            item = {("on" if k is True else k): v for k, v in item.items()}
        if not isinstance(item, dict) or not {"file", "on"} <= set(item) or set(item) - JOIN_KEYS:
            raise UserError(f"{where}: each 'join:' entry takes file:, on: and optionally how: (left/inner)")
        on = item["on"]
        if isinstance(on, dict) and len(on) == 1:
            pair = (str(next(iter(on))), str(next(iter(on.values()))))
        elif isinstance(on, str):
            pair = (on, on)
        else:
            raise UserError(f"{where}: join.on is a header name or '{{source header: joined header}}'")
        how = str(item.get("how", "left"))
        if how not in ("left", "inner"):
            raise UserError(f"{where}: join.how must be 'left' or 'inner'")
        out.append(
            Join(
                str(item["file"]),
                pair,
                how,
                str(item.get("delimiter") or "auto"),
                str(item.get("encoding") or "auto"),
            )
        )
    return out


def _kind_columns(spec: dict, table: str, allowed: set[str], where: str, weighted: frozenset[str]) -> dict:
    """``columns:`` of a kind: field -> source header aliases, checked against the table and helpers."""
    columns = {}
    for fname, aliases in (spec.get("columns") or {}).items():
        if fname not in allowed:
            raise UserError(
                f"{where}: '{fname}' is not a column of table '{table}'",
                hint=f"columns: {', '.join(TABLES[table].names)}; helpers: {', '.join(HELPER_FIELDS)}",
            )
        columns[fname] = _as_list(aliases, f"{where}: columns.{fname}")
    for alias in columns.get("amount", []):
        if parsing.normalize_header(alias) in weighted:
            raise UserError(
                f"{where}: amount cannot come from '{alias}': it is a weighted amount (amount × probability)",
                hint="map the deal's own Amount column instead",
            )
    return columns


def _kind_detect(spec: dict, where: str) -> list[Detect]:
    """``detect:`` of a kind: its header signatures."""
    detect = []
    for alt in spec.get("detect") or []:
        if not isinstance(alt, dict) or set(alt) - {"all", "any", "none", "min"}:
            raise UserError(f"{where}: each 'detect' entry takes all:, any:, none: and min:")
        detect.append(
            Detect(
                all=tuple(parsing.normalize_header(h) for h in _as_list(alt.get("all"), where)),
                any=tuple(parsing.normalize_header(h) for h in _as_list(alt.get("any"), where)),
                none=tuple(parsing.normalize_header(h) for h in _as_list(alt.get("none"), where)),
                min=int(alt.get("min", 1)),
            )
        )
    return detect


def _kind_values(spec: dict, doc: dict, where: str) -> dict[str, dict]:
    """``values:`` of a kind over the mapping's: field -> {"map": source key -> value, "unknown": rule}."""
    values = {}
    merged_values = _merge(doc.get("values") or {}, spec.get("values") or {})
    for fname, vmap in merged_values.items():
        if not isinstance(vmap, dict):
            raise UserError(f"{where}: values.{fname} must map source values to canonical values")
        table_map = vmap.get("map", vmap) if isinstance(vmap.get("map"), dict) else vmap
        unknown_rule = vmap.get("unknown", "error" if fname in ("status", "order_status") else "keep")
        values[fname] = {
            "map": {
                value_key(k): (None if v is None else str(v)) for k, v in table_map.items() if k != "unknown"
            },
            "unknown": str(unknown_rule),
        }
    return values


def value_key_or_none(value: object) -> str | None:
    return None if value is None else value_key(value)


def value_key(value: object) -> str:
    text = parsing.clean_text(value)
    return parsing.to_simplified(text).casefold() if text is not None else ""

"""Convert CRM exports (Salesforce, HubSpot, Zoho CRM, Fxiaoke, or any file described by a mapping file) into canonical tables.

A *mapping* (YAML; the presets in ``salesperf/data/presets/`` are mappings too) lists one or more *kinds* of export. A kind
names the canonical table it feeds, how to recognise it from its headers (``detect``) and, for every canonical or helper
field, the source headers it may come from (``columns``, first match wins). See docs/import.md for the format.

``run_import`` reads each source file, finds its header row, recognises its kind, parses numbers/dates/flags
(:mod:`salesperf.data.parsing`), derives status and close dates, and writes ``<table>.csv`` files (UTF-8, ISO dates) that
``--data DIR`` reads. Every row read is either written or counted under a drop reason in the returned ``ImportSummary``.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import yaml

from salesperf.data import parsing
from salesperf.data.schema import TABLES
from salesperf.core.errors import UserError, examples

PRESET_DIR = Path(__file__).with_name("presets")
COMMON_FILE = PRESET_DIR / "_common.yml"
HEADER_SEARCH_ROWS = 30

# Helper fields a mapping may name besides the canonical columns; they are consumed here and not written.
HELPER_FIELDS = {
    "rep_name": "VARCHAR", "customer_name": "VARCHAR", "owner_rep_name": "VARCHAR", "opportunity_name": "VARCHAR",
    "product_name": "VARCHAR", "close_date": "DATE", "stage_changed_at": "DATE", "won_flag": "BOOLEAN",
    "lost_flag": "BOOLEAN", "closed_flag": "BOOLEAN", "field_event": "VARCHAR",
}
ID_FIELDS = {"order_id", "customer_id", "rep_id", "owner_rep_id", "opportunity_id", "product_id", "activity_id",
             "manager_id", "response_id", "ticket_id", "agent_id"}
OPPORTUNITY_STATUSES = {"open", "won", "lost"}
ORDER_STATUSES = {"completed", "returned", "cancelled"}
_EXCEL_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+\d+$", re.IGNORECASE)
_SALESFORCE_ID18 = re.compile(r"^(?=.*\d)[0-9A-Za-z]{18}$")

TOP_KEYS = {"preset", "description", "extends", "kinds", "table", "detect", "columns", "locale", "encoding", "delimiter",
            "sheet", "header_row", "timezone", "date_format", "stop_at_blank_row", "id_style", "strip_id_prefixes",
            "footer_patterns", "weighted_amount_headers", "fallbacks", "values", "dates", "constants", "derive",
            "closed_at_from", "keep_rows", "stage_categories", "cancelled_amount"}
KIND_KEYS = {"table", "detect", "columns", "values", "dates", "constants", "derive", "closed_at_from", "keep_rows",
             "stage_categories", "fallbacks", "date_format", "cancelled_amount"}


# --- summary --------------------------------------------------------------------------------------------------------

@dataclass
class SourceSummary:
    """What happened to one source file."""

    file: str
    preset: str
    kind: str
    table: str
    encoding: str | None
    header_row: int
    rows_read: int = 0
    rows_kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    columns: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)


@dataclass
class TableSummary:
    """Row accounting of one output table: ``rows_read + rows_derived == rows_written + sum(dropped)``."""

    table: str
    rows_read: int = 0
    rows_derived: int = 0
    rows_written: int = 0
    dropped: Counter = field(default_factory=Counter)
    sources: list[str] = field(default_factory=list)

    @property
    def rows_dropped(self) -> int:
        return sum(self.dropped.values())


@dataclass
class ImportSummary:
    """Result of :func:`run_import`: per-table rows read / written / dropped by reason, files written and notes."""

    out_dir: Path
    tables: dict[str, TableSummary] = field(default_factory=dict)
    sources: list[SourceSummary] = field(default_factory=list)
    files_written: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def table(self, name: str) -> TableSummary:
        return self.tables.setdefault(name, TableSummary(name))

    def format(self) -> str:
        """Human-readable multi-line report for the CLI."""
        lines = []
        for src in self.sources:
            lines.append(f"{src.file}: {src.preset}/{src.kind} → {src.table} ({src.rows_read} rows read, "
                         f"{src.rows_kept} kept; encoding {src.encoding or 'xlsx'}, header on row {src.header_row})")
        for t in self.tables.values():
            derived = f" + {t.rows_derived} derived" if t.rows_derived else ""
            dropped = ", ".join(f"{n} {reason}" for reason, n in sorted(t.dropped.items())) or "none"
            lines.append(f"{t.table}: {t.rows_read} read{derived}, {t.rows_written} written, dropped: {dropped}")
        lines += [f"wrote {p}" for p in self.files_written]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


# --- mapping specs --------------------------------------------------------------------------------------------------

@dataclass
class Detect:
    """One header signature: all of ``all``, at least ``min`` of ``any``, none of ``none`` (normalised headers)."""

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
class Kind:
    """One kind of export within a mapping (e.g. Salesforce opportunities) and how it becomes one canonical table."""

    name: str
    table: str
    detect: list[Detect]
    columns: dict[str, list[str]]
    values: dict[str, dict]
    dates: dict[str, list[str]]
    constants: dict[str, Any]
    derive: dict[str, tuple[str, str]]
    closed_at_from: list[str]
    keep_rows: dict[str, tuple[set[str], str]]
    stage_categories: dict[str, str]
    fallbacks: dict[str, str]
    cancelled_amount: str


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
            raise UserError(f"unknown preset or mapping file '{source}'",
                            hint=f"presets: {', '.join(available_presets())}; or give a path to a .yml mapping file")
    doc = _read_yaml(path)
    unknown = sorted(set(doc) - TOP_KEYS)
    if unknown:
        raise UserError(f"{path}: unknown key '{unknown[0]}'", hint=f"known keys: {', '.join(sorted(TOP_KEYS))}")
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
    """Load and validate a preset (by name) or a mapping file (by path), merged over the shared ``_common.yml``.

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
    if kinds_doc is None:
        if "table" not in doc:
            raise UserError(f"{origin}: a mapping needs 'table:' and 'columns:' (or 'kinds:' with one entry per export kind)")
        kinds_doc = {"default": {k: doc[k] for k in KIND_KEYS if k in doc and k not in ("values", "fallbacks")}}
        kinds_doc["default"]["values"] = doc.get("values", {})
    if not isinstance(kinds_doc, dict) or not kinds_doc:
        raise UserError(f"{origin}: 'kinds:' must map kind names to their descriptions")
    weighted = frozenset(parsing.normalize_header(h) for h in _as_list(doc.get("weighted_amount_headers"), origin))
    kinds = {name: _kind(name, spec, doc, origin, weighted) for name, spec in kinds_doc.items()}
    try:
        patterns = _as_list(doc.get("footer_patterns"), f"{origin}: footer_patterns")
        footers = tuple(re.compile(p, re.IGNORECASE) for p in patterns)
        if footers:
            footers = (re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE),)
    except re.error as exc:
        raise UserError(f"{origin}: footer_patterns: not a valid regular expression ({exc})") from None
    _check_zone(doc.get("timezone"), origin)
    if doc.get("header_row") is not None and not (isinstance(doc["header_row"], int) and doc["header_row"] >= 1):
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
    )


def _check_zone(zone: Any, origin: str) -> None:
    if zone is None:
        return
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"{origin}: timezone '{zone}' is not a time zone name",
                        hint="use an IANA name such as Asia/Shanghai or Europe/Berlin") from None


def _field_type(table: str, name: str) -> str:
    if name in HELPER_FIELDS:
        return HELPER_FIELDS[name]
    return TABLES[table].column(name).type


def _kind(name: str, spec: Any, doc: dict, origin: str, weighted: frozenset[str]) -> Kind:
    where = f"{origin}: kind '{name}'"
    if not isinstance(spec, dict):
        raise UserError(f"{where}: expected a mapping with 'table:' and 'columns:'")
    unknown = sorted(set(spec) - KIND_KEYS)
    if unknown:
        raise UserError(f"{where}: unknown key '{unknown[0]}'", hint=f"known keys: {', '.join(sorted(KIND_KEYS))}")
    table = spec.get("table")
    if table not in TABLES:
        raise UserError(f"{where}: table '{table}' is not a canonical table", hint=f"tables: {', '.join(TABLES)}")
    allowed = set(TABLES[table].names) | set(HELPER_FIELDS)
    columns = {}
    for fname, aliases in (spec.get("columns") or {}).items():
        if fname not in allowed:
            raise UserError(f"{where}: '{fname}' is not a column of table '{table}'",
                            hint=f"columns: {', '.join(TABLES[table].names)}; helpers: {', '.join(HELPER_FIELDS)}")
        columns[fname] = _as_list(aliases, f"{where}: columns.{fname}")
    for alias in columns.get("amount", []):
        if parsing.normalize_header(alias) in weighted:
            raise UserError(f"{where}: amount cannot come from '{alias}': it is a weighted amount (amount × probability)",
                            hint="map the deal's own Amount column instead")
    detect = []
    for alt in spec.get("detect") or []:
        if not isinstance(alt, dict) or set(alt) - {"all", "any", "none", "min"}:
            raise UserError(f"{where}: each 'detect' entry takes all:, any:, none: and min:")
        detect.append(Detect(
            all=tuple(parsing.normalize_header(h) for h in _as_list(alt.get("all"), where)),
            any=tuple(parsing.normalize_header(h) for h in _as_list(alt.get("any"), where)),
            none=tuple(parsing.normalize_header(h) for h in _as_list(alt.get("none"), where)),
            min=int(alt.get("min", 1)),
        ))
    values = {}
    merged_values = _merge(doc.get("values") or {}, spec.get("values") or {})
    for fname, vmap in merged_values.items():
        if not isinstance(vmap, dict):
            raise UserError(f"{where}: values.{fname} must map source values to canonical values")
        table_map = vmap.get("map", vmap) if isinstance(vmap.get("map"), dict) else vmap
        unknown_rule = vmap.get("unknown", "error" if fname in ("status", "order_status") else "keep")
        values[fname] = {
            "map": {_value_key(k): (None if v is None else str(v)) for k, v in table_map.items() if k != "unknown"},
            "unknown": str(unknown_rule),
        }
    dates = {}
    default_formats = _as_list(spec.get("date_format", doc.get("date_format")), f"{where}: date_format")
    for fname in columns:
        if _field_type(table, fname) == "DATE":
            formats = {**(doc.get("dates") or {}), **(spec.get("dates") or {})}.get(fname)
            dates[fname] = _as_list(formats, f"{where}: dates.{fname}") or default_formats
    derive = {}
    for fname, expr in (spec.get("derive") or {}).items():
        parts = [p.strip() for p in str(expr).split("*")]
        if len(parts) != 2 or not all(p in allowed for p in parts):
            raise UserError(f"{where}: derive.{fname}: write it as 'quantity * unit_price' (two columns of the table)")
        derive[fname] = (parts[0], parts[1])
    keep_rows = {}
    for fname, wanted in (spec.get("keep_rows") or {}).items():
        wanted = _as_list(wanted, f"{where}: keep_rows.{fname}")
        keep_rows[fname] = ({_value_key(v) for v in wanted}, f"{fname} not {' / '.join(wanted)}")
    stage_categories = {_value_key(k): str(v) for k, v in (spec.get("stage_categories") or {}).items()}
    bad = sorted(set(stage_categories.values()) - OPPORTUNITY_STATUSES)
    if bad:
        raise UserError(f"{where}: stage_categories must give open, won or lost, not '{bad[0]}'")
    cancelled_amount = str(spec.get("cancelled_amount", doc.get("cancelled_amount", "keep")))
    if cancelled_amount not in ("keep", "negate"):
        raise UserError(f"{where}: cancelled_amount must be 'keep' or 'negate'")
    return Kind(
        name=name, table=table, detect=detect, columns=columns, values=values, dates=dates,
        constants=dict(spec.get("constants") or {}), derive=derive,
        closed_at_from=_as_list(spec.get("closed_at_from"), where) or ["close_date"],
        keep_rows=keep_rows, stage_categories=stage_categories,
        fallbacks={**(doc.get("fallbacks") or {}), **(spec.get("fallbacks") or {})},
        cancelled_amount=cancelled_amount,
    )


def _value_key_or_none(value: object) -> str | None:
    return None if value is None else _value_key(value)


def _value_key(value: object) -> str:
    text = parsing.clean_text(value)
    return parsing.to_simplified(text).casefold() if text is not None else ""


# --- detection ------------------------------------------------------------------------------------------------------

def _kind_scores(mapping: Mapping, keys: set[str]) -> list[tuple[int, str]]:
    scores = []
    for kind in mapping.kinds.values():
        best = max((d.score(keys) for d in kind.detect), default=-1)
        if best >= 0:
            scores.append((best, kind.name))
    return sorted(scores, reverse=True)


def _header_keys(headers: list) -> set[str]:
    keys = set()
    for header in headers:
        if parsing.clean_text(header) is None:
            continue
        key = parsing.normalize_header(header)
        keys.add(key)
        keys.add(parsing.normalize_header(parsing.split_header_unit(str(header))[0]))
    return keys


def detect_preset(headers: list) -> str | None:
    """Name the preset whose export signatures best match these headers, or ``None`` when none (or a tie) does.

    Parameters
    ----------
    headers : list of str
        The header row of one export file.
    """
    keys = _header_keys(headers)
    scored = []
    for name in available_presets():
        kinds = _kind_scores(load_mapping(name), keys)
        if kinds:
            scored.append((kinds[0][0], name))
    scored.sort(reverse=True)
    if not scored or (len(scored) > 1 and scored[0][0] == scored[1][0]):
        return None
    return scored[0][1]


def _detect_kind(mapping: Mapping, headers: list, file: str) -> Kind:
    if len(mapping.kinds) == 1 and not next(iter(mapping.kinds.values())).detect:
        return next(iter(mapping.kinds.values()))
    scores = _kind_scores(mapping, _header_keys(headers))
    if not scores:
        shown = ", ".join(repr(str(h)) for h in headers[:8] if parsing.clean_text(h))
        raise UserError(f"{file}: the headers do not look like any {mapping.name} export ({', '.join(mapping.kinds)}); "
                        f"headers: {shown}",
                        hint="check the preset, or describe the file in a mapping file (--mapping)")
    if len(scores) > 1 and scores[0][0] == scores[1][0]:
        raise UserError(f"{file}: the headers fit both '{scores[0][1]}' and '{scores[1][1]}' of {mapping.name}",
                        hint="describe the file in a mapping file (--mapping) that extends the preset")
    return mapping.kinds[scores[0][1]]


# --- reading files --------------------------------------------------------------------------------------------------

def read_cells(path: Path, mapping_encoding: str = "auto", delimiter: str = "auto", sheet: Any = 0,
               locale: str | None = None) -> tuple[list[list[object]], str | None]:
    """All rows of a CSV/TSV/TXT or XLSX file as lists of raw cells, and the encoding used (``None`` for xlsx)."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        try:
            frame = pd.read_excel(path, sheet_name=sheet, header=None, dtype=object)
        except ImportError as exc:
            raise UserError(f"{path}: cannot read {suffix} files here ({exc})", hint="save it as .xlsx or .csv") from None
        except Exception as exc:  # noqa: BLE001 - any reader failure is a file problem the user can fix
            raise UserError(f"{path}: cannot read the workbook ({str(exc).splitlines()[0][:200]})") from None
        frame = frame.astype(object).where(frame.notna(), None)
        return [list(row) for row in frame.itertuples(index=False, name=None)], None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: cannot read the file ({exc.strerror})") from None
    encoding = parsing.detect_encoding(data, locale) if mapping_encoding == "auto" else mapping_encoding
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise UserError(f"{path}: cannot decode the file as {encoding} ({exc})",
                        hint="set 'encoding:' in a mapping file (utf-8, gb18030, cp1252 ...)") from None
    text = text.lstrip("\ufeff")
    delim = ("\t" if suffix == ".tsv" else parsing.sniff_delimiter(text)) if delimiter == "auto" else delimiter
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    except csv.Error as exc:
        raise UserError(f"{path}: not a readable CSV ({exc})") from None
    return rows, encoding


def _is_blank(row: list) -> bool:
    return not any(c is not None and str(c).strip() for c in row)


def locate_header(rows: list[list], alias_keys: set[str], header_row: int | None = None) -> int:
    """Index of the header row: the row (among the first 30) matching the most known headers (at least 2); else the
    first row with at least three non-blank cells; else the first non-blank row."""
    if header_row:
        return int(header_row) - 1
    best, best_hits = None, 1
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        hits = len(_header_keys(row) & alias_keys)
        if hits > best_hits:
            best, best_hits = i, hits
    if best is not None:
        return best
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if sum(parsing.clean_text(c) is not None for c in row) >= 3:
            return i
    return next((i for i, row in enumerate(rows) if not _is_blank(row)), 0)


def _body_rows(rows: list[list], mapping: Mapping, dropped: Counter) -> list[list]:
    """Data rows below the header with blank rows, report footers and subtotal rows removed (and counted)."""
    kept = []
    for i, row in enumerate(rows):
        if _is_blank(row):
            if mapping.stop_at_blank_row:
                dropped["blank row"] += 1
                rest = rows[i + 1:]
                n_rest = sum(not _is_blank(r) for r in rest)
                if n_rest:
                    dropped["report footer (below the first blank row)"] += n_rest
                dropped["blank row"] += len(rest) - n_rest
                break
            dropped["blank row"] += 1
            continue
        first = next((text for c in row if c is not None and (text := str(c).strip())), "")
        if any(p.search(first) for p in mapping.footer_patterns):
            dropped["report footer or subtotal row"] += 1
            continue
        kept.append(row)
    return kept


# --- column resolution and parsing ----------------------------------------------------------------------------------

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
                    mapping.weighted_amount_headers):
                continue
            resolved[fname] = Resolved(index, header.strip(), parsing.split_header_unit(header)[1])
            break
    return resolved


def _bad_column(file: str, header: str, fname: str, what: str, bad: list, hint: str | None = None) -> UserError:
    return UserError(f"{file}: column '{header}' ({fname}): {len(bad)} value(s) cannot be read as {what}; "
                     f"examples: {examples(bad)}", hint=hint)


def _parse_numbers(values: list, decimal: str | None, multiplier: float, file: str, res: Resolved, fname: str) -> list:
    out, bad, cache = [], [], {}
    for value in values:
        key = value if isinstance(value, (str, int, float)) else repr(value)
        if key not in cache:
            try:
                number = parsing.parse_number(value, decimal)
                cache[key] = None if number is None else round(number * multiplier, 6)
            except ValueError:
                cache[key] = ValueError
        if cache[key] is ValueError:
            bad.append(value)
            out.append(None)
        else:
            out.append(cache[key])
    if bad:
        hint = "declare the number locale (--locale de_DE or 'locale:' in the mapping)" if decimal is None else None
        raise _bad_column(file, res.header, fname, "numbers", bad, hint)
    return out


def _parse_ids(values: list, mapping: Mapping, file: str, res: Resolved, fname: str) -> list:
    def clean_id(value: object) -> str | None:
        text = parsing.clean_text(value)
        if text is None:
            return None
        if _EXCEL_SCIENTIFIC.match(text):
            return ValueError
        for prefix in mapping.strip_id_prefixes:
            text = text.removeprefix(prefix)
        if mapping.id_style == "salesforce" and _SALESFORCE_ID18.match(text):
            text = text[:15]
        return text

    out = _memo_map(clean_id, values)
    bad = [v for v, o in zip(values, out) if o is ValueError]
    if bad:
        raise _bad_column(file, res.header, fname, "ids (Excel turned them into scientific notation)", bad,
                          hint="re-export the file; do not open and re-save the CSV in Excel")
    return out


def _parse_field(values: list, fname: str, kind: Kind, mapping: Mapping, res: Resolved, file: str,
                 locale: str | None, notes: list[str]) -> list:
    ftype = _field_type(kind.table, fname)
    if fname == "probability":
        try:
            return parsing.parse_probability_column(values, parsing.decimal_separator(locale))
        except ValueError:
            bad = []
            for v in values:
                try:
                    parsing.parse_probability_column([v], parsing.decimal_separator(locale))
                except ValueError:
                    bad.append(v)
            raise _bad_column(file, res.header, fname, "probabilities (75, 75% or 0.75)", bad) from None
    if ftype == "DOUBLE":
        return _parse_numbers(values, parsing.decimal_separator(locale), res.multiplier, file, res, fname)
    if ftype == "DATE":
        try:
            dates, note = parsing.parse_date_column(values, formats=kind.dates.get(fname, []), locale=locale,
                                                    tz=mapping.timezone)
        except ValueError as exc:
            bad = [] if "mixes" in str(exc) else _bad_dates(values, kind.dates.get(fname, []))
            if not bad:
                raise UserError(f"{file}: column '{res.header}' ({fname}): {exc}",
                                hint="set the format under 'dates:' in a mapping file, e.g. '%d/%m/%Y'") from None
            raise _bad_column(file, res.header, fname, "dates", bad,
                              hint="set the format under 'dates:' in a mapping file, e.g. '%d.%m.%Y'") from None
        if note:
            notes.append(f"{file}: column '{res.header}': {note}")
        return [d.isoformat() if d else None for d in dates]
    if ftype == "BOOLEAN":
        out = _memo_map(lambda v: _or_error(parsing.parse_bool, v), values)
        bad = [v for v, o in zip(values, out) if o is ValueError]
        if bad:
            raise _bad_column(file, res.header, fname, "true/false flags", bad)
        return out
    if fname in ID_FIELDS:
        return _parse_ids(values, mapping, file, res, fname)
    return _memo_map(parsing.clean_text, values)


def _memo_map(function, values: list) -> list:
    """``[function(v) for v in values]``, computed once per distinct value (exports repeat names and stages a lot)."""
    cache: dict = {}
    out = []
    for value in values:
        try:
            out.append(cache[value])
        except KeyError:
            out.append(cache.setdefault(value, function(value)))
        except TypeError:  # unhashable
            out.append(function(value))
    return out


def _or_error(function, value):
    try:
        return function(value)
    except ValueError:
        return ValueError


def _bad_dates(values: list, formats: list[str]) -> list:
    bad = []
    for value in values:
        try:
            parsing.parse_date(value, formats=formats)
        except ValueError:
            bad.append(value)
    return bad


# --- one file → canonical rows --------------------------------------------------------------------------------------

def _apply_values(frame: pd.DataFrame, kind: Kind, file: str, resolved: dict[str, Resolved]) -> None:
    for fname, vmap in kind.values.items():
        if fname not in frame or fname == "order_status":
            continue
        keys = pd.Series(_memo_map(_value_key_or_none, list(frame[fname])), index=frame.index, dtype=object)
        table_map = vmap["map"]
        mapped = keys.map(lambda k, m=table_map: m.get(k, _MISSING) if k is not None else None)
        unknown = frame[fname][mapped.map(lambda v: v is _MISSING)]
        if len(unknown):
            rule = vmap["unknown"]
            if rule == "error":
                header = resolved[fname].header if fname in resolved else fname
                raise UserError(f"{file}: column '{header}' ({fname}): {unknown.nunique()} value(s) the mapping does not "
                                f"know; examples: {examples(unknown.unique())}",
                                hint=f"add them under 'values: {fname}: map:' in a mapping file")
            fill = frame[fname] if rule == "keep" else pd.Series(rule, index=frame.index)
            mapped = mapped.where(~mapped.map(lambda v: v is _MISSING), fill)
        frame[fname] = mapped


_MISSING = object()


def _opportunity_status(frame: pd.DataFrame, kind: Kind, source: SourceSummary, notes: list[str]) -> None:
    """Status from the CRM's own flags (or its status column / stage categories), never from the stage text."""
    if "status" in frame:
        if "status" not in kind.values:
            frame["status"] = frame["status"].map(lambda v: v.casefold() if isinstance(v, str) else v)
        bad = frame["status"].dropna()
        bad = bad[~bad.isin(OPPORTUNITY_STATUSES)]
        if len(bad):
            raise UserError(f"{source.file}: status values must map to open/won/lost; got {examples(bad.unique())}",
                            hint="fix 'values: status: map:' in the mapping file")
        return
    flags = [f for f in ("won_flag", "lost_flag", "closed_flag") if f in frame]
    if "won_flag" in frame and ("closed_flag" in frame or "lost_flag" in frame):
        won = frame["won_flag"]
        closed = frame["closed_flag"] if "closed_flag" in frame else pd.Series(None, index=frame.index, dtype=object)
        lost = frame["lost_flag"] if "lost_flag" in frame else pd.Series(None, index=frame.index, dtype=object)

        def status(w, c, lo) -> str | None:
            if w is True:
                return "won"
            if lo is True or (c is True and w is False):
                return "lost"
            if c is False or (lo is False and w is False):
                return "open"
            return None

        frame["status"] = [status(w, c, lo) for w, c, lo in zip(won, closed, lost)]
    elif kind.stage_categories and "stage" in frame:
        keys = frame["stage"].map(lambda v: _value_key(v) if v is not None else None)
        frame["status"] = keys.map(lambda k: kind.stage_categories.get(k) if k else None)
        unknown = frame.loc[frame["status"].isna() & frame["stage"].notna(), "stage"]
        if len(unknown):
            notes.append(f"{source.file}: {len(unknown)} deal(s) left without status: stage(s) "
                         f"{examples(unknown.unique())} have no category; list them under 'stage_categories:' in a "
                         f"mapping file that extends '{source.preset}'")
    else:
        what = f"only {', '.join(flags)}" if flags else "no won/closed flag or status column"
        notes.append(f"{source.file}: {what}: status left empty (it is never guessed from stage names)")
    frame.drop(columns=[f for f in flags if f in frame], inplace=True)


def _route_close_date(frame: pd.DataFrame, kind: Kind) -> None:
    """The CRM's close date is expected while open and actual once closed."""
    status = frame["status"] if "status" in frame else pd.Series(None, index=frame.index, dtype=object)
    closed = status.isin(["won", "lost"])
    if "close_date" in frame and "expected_close_date" not in frame:
        frame["expected_close_date"] = frame["close_date"].where(~closed, None)
    mapped_directly = "closed_at" in frame
    if not mapped_directly:
        frame["closed_at"] = None
    for source_field in kind.closed_at_from:
        if source_field in frame:
            frame["closed_at"] = frame["closed_at"].where(frame["closed_at"].notna() | ~closed, frame[source_field])
    if not mapped_directly:
        frame["closed_at"] = frame["closed_at"].where(closed, None)


def _order_status(frame: pd.DataFrame, kind: Kind, source: SourceSummary, notes: list[str]) -> None:
    """Returns are negative lines with status 'returned'; cancellations are kept with status 'cancelled'."""
    if "status" in frame:
        if "status" not in kind.values and "order_status" in kind.values:
            vmap = kind.values["order_status"]["map"]
            keys = frame["status"].map(lambda v: _value_key(v) if v is not None else None)
            unknown = frame.loc[keys.notna() & ~keys.isin(list(vmap)), "status"]
            if len(unknown):
                raise UserError(f"{source.file}: order status value(s) the mapping does not know; examples: "
                                f"{examples(unknown.unique())}",
                                hint="map them to completed / returned / cancelled under 'values: status: map:'")
            frame["status"] = keys.map(lambda k: vmap.get(k) if k else None)
        bad = frame["status"].dropna()
        bad = bad[~bad.isin(ORDER_STATUSES)]
        if len(bad):
            raise UserError(f"{source.file}: order status values must map to completed/returned/cancelled; got "
                            f"{examples(bad.unique())}")
    else:
        frame["status"] = None
    amount = pd.to_numeric(frame["amount"], errors="coerce")
    returned = frame["status"].eq("returned")
    negate = returned & (amount > 0)
    if kind.cancelled_amount == "negate":
        negate |= frame["status"].eq("cancelled") & (amount > 0)
    frame.loc[negate, "amount"] = -amount[negate]
    if "quantity" in frame:
        quantity = pd.to_numeric(frame["quantity"], errors="coerce")
        frame.loc[returned & (quantity > 0), "quantity"] = -quantity[returned & (quantity > 0)]
    frame.loc[frame["status"].isna() & (amount < 0), "status"] = "returned"
    frame.loc[frame["status"].isna() & amount.notna(), "status"] = "completed"
    n_cancelled = int(frame["status"].eq("cancelled").sum())
    if n_cancelled and kind.cancelled_amount == "keep":
        notes.append(f"{source.file}: {n_cancelled} cancelled line(s) kept with status 'cancelled' and their exported "
                     f"amount; leave them out of revenue (or set 'cancelled_amount: negate' in a mapping)")


def _finish_frame(frame: pd.DataFrame, kind: Kind, source: SourceSummary, notes: list[str]) -> pd.DataFrame:
    for fname, (left, right) in kind.derive.items():
        if left in frame and right in frame:
            product = pd.to_numeric(frame[left], errors="coerce") * pd.to_numeric(frame[right], errors="coerce")
            product = product.round(6).astype(object).where(product.notna(), None)
            frame[fname] = frame[fname].where(frame[fname].notna(), product) if fname in frame else product
    for fname, helper in kind.fallbacks.items():
        if helper in frame and fname in set(TABLES[kind.table].names) | set(HELPER_FIELDS):
            frame[fname] = frame[fname].where(frame[fname].notna(), frame[helper]) if fname in frame else frame[helper]
    for fname, value in kind.constants.items():
        frame[fname] = frame[fname].where(frame[fname].notna(), str(value)) if fname in frame else str(value)
    for fname, (keep, label) in kind.keep_rows.items():
        if fname in frame:
            mask = frame[fname].map(lambda v, wanted=keep: _value_key(v) in wanted)
            source.dropped[label] += int((~mask).sum())
            frame = frame[mask].copy()
    if kind.table == "opportunities":
        _opportunity_status(frame, kind, source, notes)
        _route_close_date(frame, kind)
    if kind.table == "orders" and "amount" in frame:
        _order_status(frame, kind, source, notes)
    return frame


def _required_check(frame: pd.DataFrame, kind: Kind, source: SourceSummary, headers: list) -> pd.DataFrame:
    table = TABLES[kind.table]
    for col in table.required:
        if col not in frame:
            tried = kind.columns.get(col, []) + [a for h, f in kind.fallbacks.items() if h == col
                                                  for a in kind.columns.get(f, [])]
            found = ", ".join(repr(str(h)) for h in headers if parsing.clean_text(h))
            raise UserError(f"{source.file}: no column for required '{table.name}.{col}' (looked for: "
                            f"{', '.join(repr(t) for t in tried) or 'nothing mapped'}); headers: {found}",
                            hint=f"add the column to the export, or map it under 'columns: {col}:' in a mapping file")
    for col in table.required:
        missing = frame[col].isna()
        if missing.any():
            source.dropped[f"missing {col}"] += int(missing.sum())
            frame = frame[~missing]
    return frame


def import_file(path: Path, mapping: Mapping, locale: str | None, notes: list[str]) -> tuple[SourceSummary, pd.DataFrame]:
    """Read one export with one mapping: the canonical rows (plus helper columns) and the source's accounting."""
    locale = locale or mapping.locale
    rows, encoding = read_cells(path, mapping.encoding, mapping.delimiter, mapping.sheet, locale)
    file = path.name
    if not rows or all(_is_blank(r) for r in rows):
        raise UserError(f"{file}: the file is empty")
    header_index = locate_header(rows, mapping.alias_keys, mapping.header_row)
    headers = [("" if h is None else str(h)) for h in rows[header_index]]
    kind = _detect_kind(mapping, headers, file)
    source = SourceSummary(file=str(path), preset=mapping.name, kind=kind.name, table=kind.table, encoding=encoding,
                           header_row=header_index + 1)
    above = rows[:header_index]
    source.rows_read = len(rows) - 1
    if above:
        source.dropped["title row above the header"] += sum(not _is_blank(r) for r in above)
        source.dropped["blank row"] += sum(_is_blank(r) for r in above)
    body = _body_rows(rows[header_index + 1:], mapping, source.dropped)
    resolved = resolve_columns(headers, kind, mapping)
    source.columns = {f: r.header for f, r in resolved.items()}
    used = {r.index for r in resolved.values()}
    source.ignored_columns = [str(h) for i, h in enumerate(headers) if i not in used and parsing.clean_text(h)]
    width = len(headers)
    body = [list(r[:width]) + [None] * (width - len(r)) for r in body]
    frame = pd.DataFrame(index=range(len(body)))
    for fname, res in resolved.items():
        raw = [r[res.index] for r in body]
        frame[fname] = pd.Series(_parse_field(raw, fname, kind, mapping, res, file, locale, notes), dtype=object)
    _apply_values(frame, kind, file, resolved)
    frame = _finish_frame(frame, kind, source, notes)
    frame = _required_check(frame, kind, source, headers)
    source.rows_kept = len(frame)
    source.dropped = +source.dropped  # drop zero counts
    return source, frame.reset_index(drop=True)


# --- all files → tables ---------------------------------------------------------------------------------------------

def _side_rows(frame: pd.DataFrame, source: SourceSummary, kind: Kind) -> dict[str, pd.DataFrame]:
    """Reps (id, name) from owner names; customers and products (id, name) when both an id and a name column were read."""
    out = {}
    for id_field, name_field in (("rep_id", "rep_name"), ("owner_rep_id", "owner_rep_name")):
        if name_field in frame and id_field in frame:
            reps = frame[[id_field, name_field]].dropna(subset=[id_field]).rename(
                columns={id_field: "rep_id", name_field: "name"})
            out["reps"] = pd.concat([out.get("reps", pd.DataFrame()), reps], ignore_index=True)
    for table, id_field, name_field in (("customers", "customer_id", "customer_name"),
                                        ("products", "product_id", "product_name")):
        if (kind.table != table and id_field in source.columns and name_field in source.columns
                and source.columns[id_field] != source.columns[name_field]):
            out[table] = frame[[id_field, name_field]].dropna(subset=[id_field]).rename(columns={name_field: "name"})
    return out


def _dedupe(frame: pd.DataFrame, key: str, table: TableSummary, reason: str) -> pd.DataFrame:
    duplicated = frame.duplicated(subset=[key], keep="first")
    if duplicated.any():
        table.dropped[reason] += int(duplicated.sum())
    return frame[~duplicated]


def _history_changes(frame: pd.DataFrame, table: TableSummary) -> pd.DataFrame:
    """Keep the rows where a deal's stage changes (Salesforce also logs amount and date edits)."""
    frame = frame.sort_values(["opportunity_id", "entered_at"], kind="stable")
    previous = frame.groupby("opportunity_id")["stage"].shift()
    repeat = previous.eq(frame["stage"])
    if repeat.any():
        table.dropped["stage unchanged (an amount or date edit)"] += int(repeat.sum())
    return frame[~repeat]


def _reconcile(tables: dict[str, pd.DataFrame], summary: ImportSummary) -> None:
    """Where one file keyed customers/reps by name and another by id, re-key the names to the ids."""
    for lookup, key, targets in (("customers", "customer_id", [("opportunities", "customer_id"), ("orders", "customer_id"),
                                                              ("activities", "customer_id")]),
                                 ("reps", "rep_id", [("opportunities", "rep_id"), ("orders", "rep_id"),
                                                     ("activities", "rep_id"), ("customers", "owner_rep_id")])):
        if lookup not in tables or "name" not in tables[lookup]:
            continue
        ref = tables[lookup].dropna(subset=["name"])
        ref = ref[ref["name"] != ref[key]]
        unique = ref.drop_duplicates("name", keep=False)
        by_name = dict(zip(unique["name"], unique[key]))
        ids = set(tables[lookup][key])
        for table, column in targets:
            if table not in tables or column not in tables[table]:
                continue
            col = tables[table][column]
            swap = col.map(lambda v, known=ids, names=by_name: v not in known and v in names)
            if swap.any():
                tables[table].loc[swap, column] = col[swap].map(by_name)
                summary.notes.append(f"{table}.{column}: {int(swap.sum())} name(s) replaced by the {lookup} id with that name")
    if "reps" in tables:
        reps = tables["reps"]
        name_only = reps["rep_id"].eq(reps["name"]) & reps["name"].isin(
            set(reps.loc[reps["rep_id"] != reps["name"], "name"]))
        if name_only.any():
            summary.table("reps").dropped["rep known by name and by id (kept the id)"] += int(name_only.sum())
            tables["reps"] = reps[~name_only]


def _write(frame: pd.DataFrame, table_name: str, out_dir: Path) -> Path:
    table = TABLES[table_name]
    columns = [c for c in table.names if c in frame and (frame[c].notna().any() or c in table.required)]
    path = out_dir / f"{table_name}.csv"
    frame[columns].to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path


def run_import(
    sources: list[str | Path],
    out_dir: str | Path,
    preset: str | None = None,
    mapping: str | Path | None = None,
    locale: str | None = None,
) -> ImportSummary:
    """Convert CRM export files into canonical ``<table>.csv`` files in ``out_dir``.

    Parameters
    ----------
    sources : list of str or Path
        Export files (.csv/.tsv/.txt in UTF-8, UTF-8 with BOM, UTF-16, GBK/GB18030 or cp1252; or .xlsx). Folders are
        expanded to the files they contain.
    out_dir : str or Path
        Folder for the canonical CSVs (created). Tables produced here replace same-named files; others are left alone.
    preset : str, optional
        ``salesforce``, ``hubspot``, ``zoho`` or ``fxiaoke``.
    mapping : str or Path, optional
        A mapping YAML file (see docs/import.md). Without preset or mapping the preset is detected per file.
    locale : str, optional
        Number and date locale such as ``de_DE`` or ``en_GB`` (overrides the mapping's ``locale:``).

    Returns
    -------
    ImportSummary
        Rows read / written / dropped by reason per table, the files written and notes.
    """
    if preset and mapping:
        raise UserError("give either a preset or a mapping file, not both",
                        hint="a mapping file can start with 'extends: <preset>' to build on a preset")
    files = _expand(sources)
    out = Path(out_dir)
    summary = ImportSummary(out_dir=out)
    fixed = load_mapping(mapping if mapping else preset) if (mapping or preset) else None
    frames: dict[str, list[pd.DataFrame]] = {}
    derived: dict[str, list[pd.DataFrame]] = {}
    for path in files:
        chosen = fixed or _auto_mapping(path, locale)
        source, frame = import_file(path, chosen, locale, summary.notes)
        summary.sources.append(source)
        table = summary.table(source.table)
        table.rows_read += source.rows_read
        table.dropped.update(source.dropped)
        table.sources.append(source.file)
        frames.setdefault(source.table, []).append(frame)
        for side_table, rows in _side_rows(frame, source, chosen.kinds[source.kind]).items():
            derived.setdefault(side_table, []).append(rows)
    tables = _assemble(frames, derived, summary)
    _reconcile(tables, summary)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        summary.table(name).rows_written = len(frame)
        summary.files_written.append(_write(frame, name, out))
    if "orders" not in tables:
        summary.notes.append("no orders table was imported: '--data' needs orders.csv (import a sales-order export "
                             "or an order file with a mapping)")
    return summary


def _assemble(frames: dict[str, list[pd.DataFrame]], derived: dict[str, list[pd.DataFrame]],
              summary: ImportSummary) -> dict[str, pd.DataFrame]:
    tables: dict[str, pd.DataFrame] = {}
    for name, parts in frames.items():
        frame = pd.concat(parts, ignore_index=True)
        key = TABLES[name].key
        if key and name != "orders":
            frame = _dedupe(frame, key, summary.table(name), f"duplicate {key}")
        if name == "opportunity_history":
            frame = _history_changes(frame, summary.table(name))
        tables[name] = frame
    for name, parts in derived.items():
        extra = pd.concat(parts, ignore_index=True)
        extra = extra.sort_values("name", na_position="last", kind="stable")
        t = summary.table(name)
        t.rows_derived += len(extra)
        if name in tables:
            known = extra[extra[TABLES[name].key].isin(set(tables[name][TABLES[name].key]))]
            t.dropped[f"derived {name} row already in the {name} file"] += len(known)
            extra = extra.drop(known.index)
            extra = _dedupe(extra, TABLES[name].key, t, f"derived {name} row repeated")
            tables[name] = pd.concat([tables[name], extra], ignore_index=True)
        else:
            tables[name] = _dedupe(extra, TABLES[name].key, t, f"derived {name} row repeated")
    return tables


def _auto_mapping(path: Path, locale: str | None) -> Mapping:
    mappings = [load_mapping(name) for name in available_presets()]
    rows, _ = read_cells(path, locale=locale)
    alias_keys = set().union(*(m.alias_keys for m in mappings))
    headers = rows[locate_header(rows, alias_keys)] if rows else []
    name = detect_preset(headers)
    if name is None:
        raise UserError(f"{path.name}: cannot tell which CRM exported this file",
                        hint=f"pass --preset ({', '.join(available_presets())}) or --mapping FILE")
    return load_mapping(name)


def _expand(sources: list[str | Path]) -> list[Path]:
    if isinstance(sources, (str, Path)):
        sources = [sources]
    files: list[Path] = []
    for src in sources:
        path = Path(src)
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix.lower() in (".csv", ".tsv", ".txt", ".xlsx", ".xlsm"))
        elif path.exists():
            files.append(path)
        else:
            raise UserError(f"{path}: no such file")
    if not files:
        raise UserError("no export files to import", hint="give CSV or XLSX files (or folders holding them)")
    return files

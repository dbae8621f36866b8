"""One kind of export in a mapping: the ``Kind`` and ``Detect`` records, the helper fields a mapping may
name, and the validation of a kind's ``columns:``, ``detect:``, ``values:``, ``dates:``, ``derive:``,
``keep_rows:``/``drop_rows:``, ``stage_categories:`` and ``cancelled_if:``. Also the small YAML helpers
(:func:`as_list`, :func:`merge`) and the source-value key (:func:`value_key`) the importer compares values by.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from salesperf.core.errors import UserError, unknown_key
from salesperf.data import parsing
from salesperf.data.importer.mapping_tables import Join, parse_joins
from salesperf.data.schema import TABLES

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


def as_list(value: Any, where: str) -> list[str]:
    """A header name or a list of header names from YAML, as a list of strings.

    Parameters
    ----------
    value : Any
        The YAML value (``None``, a scalar or a list of scalars).
    where : str
        File and key named in the error message.

    Returns
    -------
    list of str
        Empty for ``None``.

    Raises
    ------
    UserError
        When ``value`` is neither a scalar nor a list of scalars.
    """
    if value is None:
        return []
    if isinstance(value, (str, int, float)):
        return [str(value)]
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v) for v in value]
    raise UserError(f"{where}: expected a header name or a list of header names, got {value!r}")


def merge(base: dict, override: dict) -> dict:
    """``override`` laid over ``base``, merging nested dicts key by key (``extends:``, ``_common.yml``).

    Parameters
    ----------
    base, override : dict
        YAML documents (or parts of them); neither is modified.

    Returns
    -------
    dict
        A new dict: keys of ``override`` win, dicts present in both are merged recursively.
    """
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def field_type(table: str, name: str) -> str:
    """The type of a canonical column or helper field.

    Parameters
    ----------
    table : str
        Canonical table name.
    name : str
        Column of ``table`` or a key of :data:`HELPER_FIELDS`.

    Returns
    -------
    str
        ``VARCHAR``, ``DATE``, ``DOUBLE``, ``BOOLEAN``...
    """
    if name in HELPER_FIELDS:
        return HELPER_FIELDS[name]
    return TABLES[table].column(name).type


def build_kind(name: str, spec: Any, doc: dict, origin: str, weighted: frozenset[str]) -> Kind:
    """One validated :class:`Kind` from its YAML description.

    Parameters
    ----------
    name : str
        The kind's name (a key of ``kinds:``, a ``tables:`` entry's name, or ``default``).
    spec : Any
        The kind's YAML (expected: a dict with ``table:`` and ``columns:``).
    doc : dict
        The whole mapping document, for mapping-wide ``values:``, ``dates:``, ``fallbacks:``... defaults.
    origin : str
        The mapping file, named in error messages.
    weighted : frozenset of str
        Normalised headers of weighted amounts, refused as ``amount``.

    Returns
    -------
    Kind

    Raises
    ------
    UserError
        Naming the file, kind and key of anything malformed.
    """
    where = f"{origin}: kind '{name}'"
    if not isinstance(spec, dict):
        raise UserError(f"{where}: expected a mapping with 'table:' and 'columns:'")
    unknown = sorted(set(spec) - KIND_KEYS)
    if unknown:
        raise unknown_key(unknown[0], KIND_KEYS, where)
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
    default_formats = as_list(spec.get("date_format", doc.get("date_format")), f"{where}: date_format")
    for fname in columns:
        if field_type(table, fname) == "DATE":
            formats = {**(doc.get("dates") or {}), **(spec.get("dates") or {})}.get(fname)
            dates[fname] = as_list(formats, f"{where}: dates.{fname}") or default_formats
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
        closed_at_from=as_list(spec.get("closed_at_from"), where) or ["close_date"],
        keep_rows=keep_rows,
        stage_categories=stage_categories,
        fallbacks={**(doc.get("fallbacks") or {}), **(spec.get("fallbacks") or {})},
        cancelled_amount=cancelled_amount,
        drop_rows=drop_rows,
        cancelled_if=_cancelled_if(spec.get("cancelled_if"), table, where),
        file=None if spec.get("file") is None else str(spec["file"]),
        join=parse_joins(spec.get("join"), where),
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
        wanted = as_list(wanted, f"{where}.{name}")
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
        "id_prefix": tuple(as_list(spec.get("id_prefix"), f"{where}: cancelled_if.id_prefix")),
        "column": str(spec.get("column") or "order_id"),
        "flag": None if spec.get("flag") is None else str(spec["flag"]),
    }


def _kind_columns(spec: dict, table: str, allowed: set[str], where: str, weighted: frozenset[str]) -> dict:
    """``columns:`` of a kind: field -> source header aliases, checked against the table and helpers."""
    columns = {}
    for fname, aliases in (spec.get("columns") or {}).items():
        if fname not in allowed:
            raise UserError(
                f"{where}: '{fname}' is not a column of table '{table}'",
                hint=f"columns: {', '.join(TABLES[table].names)}; helpers: {', '.join(HELPER_FIELDS)}",
            )
        columns[fname] = as_list(aliases, f"{where}: columns.{fname}")
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
                all=tuple(parsing.normalize_header(h) for h in as_list(alt.get("all"), where)),
                any=tuple(parsing.normalize_header(h) for h in as_list(alt.get("any"), where)),
                none=tuple(parsing.normalize_header(h) for h in as_list(alt.get("none"), where)),
                min=int(alt.get("min", 1)),
            )
        )
    return detect


def _kind_values(spec: dict, doc: dict, where: str) -> dict[str, dict]:
    """``values:`` of a kind over the mapping's: field -> {"map": source key -> value, "unknown": rule}."""
    values = {}
    merged_values = merge(doc.get("values") or {}, spec.get("values") or {})
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
    """:func:`value_key` of ``value``, or ``None`` for ``None``.

    Parameters
    ----------
    value : object
        A source cell.

    Returns
    -------
    str or None
    """
    return None if value is None else value_key(value)


def value_key(value: object) -> str:
    """The key source values are compared by: cleaned, simplified Chinese, case-folded.

    Parameters
    ----------
    value : object
        A source cell or a value written in a mapping.

    Returns
    -------
    str
        ``""`` for a blank cell.
    """
    text = parsing.clean_text(value)
    return parsing.to_simplified(text).casefold() if text is not None else ""

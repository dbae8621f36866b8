"""The multi-table spec of a mapping: ``tables:`` (one export feeding several canonical tables, each entry a
kind read from every file its ``file:`` pattern fits) and ``join:`` (a second file joined onto each row by a
key). Reading and joining the files is :mod:`~.join`'s; this module only validates the YAML.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from salesperf.core.errors import UserError

JOIN_KEYS = {"file", "on", "how", "delimiter", "encoding"}


@dataclass
class Join:
    """A second file joined onto every row of the source by a key (``join:`` of a mapping or table entry)."""

    file: str
    on: tuple[str, str]  # (header in the source, header in the joined file)
    how: str = "left"
    delimiter: str = "auto"
    encoding: str = "auto"


def tables_entries(doc: dict, origin: str) -> dict[str, dict]:
    """``tables:`` (a list of table entries, each like a one-table mapping) as kinds named by ``name:`` or
    table.

    The mapping's top-level ``join:``, ``keep_rows:``/``drop_rows:``, ``cancelled_if:`` and
    ``add_up_identical_lines:`` apply to each entry that does not set its own.

    Parameters
    ----------
    doc : dict
        The whole mapping document (with ``tables:``).
    origin : str
        The mapping file, named in error messages.

    Returns
    -------
    dict of str to dict
        Kind name -> the entry's YAML with the shared keys filled in, for :func:`~.mapping_kinds.build_kind`.

    Raises
    ------
    UserError
        When ``tables:`` is not a list of entries, is given beside ``table:``/``kinds:``, or two entries share
        a name.
    """
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


def parse_joins(spec: Any, where: str) -> list[Join]:
    """``join:`` entries: ``{file: items.csv, on: order_id}`` or ``on: {source header: joined header}``.

    Parameters
    ----------
    spec : Any
        The ``join:`` YAML: one entry, a list of entries, or ``None``.
    where : str
        File and kind named in error messages.

    Returns
    -------
    list of Join
        Empty for ``None``.

    Raises
    ------
    UserError
        For an entry without ``file:``/``on:``, with unknown keys, or with ``how:`` other than left/inner.
    """
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

"""The row rules of validation as engine-neutral Ibis expressions: typed columns, exclusion reasons, flags and
the point-in-time view of a row.

:mod:`salesperf.data.validate` applies them to a raw table (the source's columns renamed to canonical names,
any types) in whatever engine holds it: the embedded DuckDB for files, PostgreSQL or Spark when the catalog
names one. Each function returns expressions; nothing runs here.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir

from salesperf.core.expr import CANCELLED, RETURNED, one_of
from salesperf.data.engine import Engine
from salesperf.data.schema import Table

#: Canonical column types (:mod:`salesperf.data.schema`) as Ibis types.
IBIS_TYPES = {"VARCHAR": "string", "DATE": "date", "DOUBLE": "float64"}
#: The column holding a row's position in its source (files only; see :func:`typed`).
ROW = "_row"
#: Words exports write for "no value" in an id column (lower case): such an id is missing, not a customer.
NULL_WORDS = ("nan", "null", "none", "n/a", "#n/a", "nil", "undefined")
#: An order line at or above this amount (in any currency) is flagged: more likely a typo or a sentinel.
LARGE_AMOUNT = 1e12
#: A row dated before this day is flagged: more likely a placeholder (Excel's day 0 is 1900-01-00).
EARLY_DAY = date(1980, 1, 1)


def text(value: ir.Value) -> ir.StringValue:
    """A value as trimmed text, NULL when empty.

    Only a value that starts or ends with a space or a control character is trimmed: trimming every value
    cost 2.5 times as much (1.9 CPU-s per 10 M ids on DuckDB). Trimmed by a regular expression, not Ibis's
    ``strip()``, which on Spark also cuts the letters v and f ('void' became 'oid')."""
    value = value.cast("string")
    padded = (value.ascii_str() <= 32) | (value.right(1).ascii_str() <= 32)
    return ibis.ifelse(padded, value.re_replace(r"^\s+|\s+$", ""), value).nullif("")


def written(name: str) -> str:
    """The typed table's column holding a date column's source value, time of day included."""
    return f"_written_{name}"


def dated(table: Table) -> list[str]:
    """The table's DATE columns."""
    return [c.name for c in table.columns if c.type == "DATE"]


def _amount(engine: Engine, raw: ir.Table, present: list[str]) -> ir.FloatingValue:
    """An order line's amount: the amount column, else quantity x unit price; a line whose status says it was
    returned counts against revenue whatever its sign."""
    product = None
    if {"quantity", "unit_price"} <= set(present):
        product = engine.parse(raw.quantity, "float64") * engine.parse(raw.unit_price, "float64")
    amount = engine.parse(raw.amount, "float64") if "amount" in present else product
    if "amount" in present and product is not None:
        amount = amount.fill_null(product)
    if "status" in present:
        returned = one_of(text(raw.status).lower(), RETURNED)
        amount = ibis.ifelse(returned.fill_null(False), -amount.abs(), amount)
    return ibis.ifelse(amount.isnan() | amount.isinf(), ibis.null("float64"), amount)  # 'inf', 'NaN'



def typed(engine: Engine, raw: ir.Table, table: Table, present: list[str]) -> ir.Table:
    """``raw`` with every canonical column cast to its type (NULL where absent or unparseable).

    Returns
    -------
    ibis.Table
        The canonical columns, then ``_written_<date column>`` (a date column as written: the timestamp when
        it reads as one, so ``2010-12-01`` and ``2010-12-01 00:00:00`` are one value and 08:26 and 14:02 of a
        day are two; else the trimmed text), then ``_row`` (the row's position in the source, from 0) on
        DuckDB, whose file scans keep the source order.
    """
    columns = {}
    for col in table.columns:
        kind = IBIS_TYPES[col.type]
        if col.name == "amount" and table.name == "orders":
            columns[col.name] = _amount(engine, raw, present)
        elif col.name not in present:
            columns[col.name] = ibis.null(kind)
        elif kind == "string" and col.name.endswith("_id"):
            value = text(raw[col.name])
            columns[col.name] = ibis.ifelse(one_of(value.lower(), NULL_WORDS), ibis.null("string"), value)
        elif kind == "string":
            columns[col.name] = text(raw[col.name])
        else:
            columns[col.name] = engine.parse(raw[col.name], kind)
    for name in dated(table):
        if name in present:
            as_time = engine.parse(raw[name], "timestamp").cast("string")
            columns[written(name)] = as_time.fill_null(text(raw[name]))
        else:
            columns[written(name)] = ibis.null("string")
    if engine.name == "duckdb":
        columns[ROW] = ibis.row_number()
    return raw.select(**columns)


def with_unknown_customers(rows: ir.Table, customers: ir.Table) -> ir.Table:
    """``rows`` (typed orders) with ``_unknown_customer``: a customer id the customers table lacks."""
    known = customers.select(_known=customers.customer_id).distinct()
    joined = rows.left_join(known, rows.customer_id == known._known)
    flag = joined.customer_id.notnull() & joined._known.isnull()
    return joined.mutate(_unknown_customer=flag).drop("_known")


def _later(rows: ir.Table, table: Table, by: list[str]) -> ir.BooleanValue:
    """False for the first row of each group of ``by`` (the first in the source on DuckDB, else the
    smallest by every column: the same data always keep the same row), True for the others."""
    order = [rows[ROW]] if ROW in rows.columns else [rows[c] for c in table.names]
    return ibis.row_number().over(group_by=[rows[c] for c in by], order_by=order) > 0


def _same_row(table: Table) -> list[str]:
    """The columns two rows must share to be one row written twice (dates as written, time of day
    included)."""
    return [written(c) if c in dated(table) else c for c in table.names]


def with_repeats(rows: ir.Table, table: Table) -> ir.Table:
    """``rows`` (typed) with ``_repeat_row`` (a copy of an earlier row) and, for a table with a key other
    than orders, ``_repeat_key`` (the key of an earlier row).

    On DuckDB, where rows have their source position, only rows whose hash is shared by another row are
    ranked (a window over every row of 10 M order lines cost 10 CPU-s; the few candidates cost nothing), then
    joined back by position; elsewhere every row is ranked.
    """
    groups = {"_repeat_row": _same_row(table)}
    if table.key and table.name != "orders":
        groups["_repeat_key"] = [table.key]
    if ROW not in rows.columns:
        return rows.mutate(**{name: _later(rows, table, by) for name, by in groups.items()})
    for name, by in groups.items():
        digest = ibis.struct({c: rows[c] for c in by}).hash()
        shared = rows.select(_digest=digest).group_by("_digest").agg(_n=ibis._.count()).filter(ibis._._n > 1)
        candidates = rows.filter(digest.isin(shared._digest))
        ranked = candidates.select(_at=candidates[ROW], _later=_later(candidates, table, by))
        joined = rows.left_join(ranked, rows[ROW] == ranked._at)
        rows = joined.mutate(**{name: joined._later.fill_null(False)}).drop("_at", "_later")
    return rows


def reasons(
    rows: ir.Table,
    table: Table,
    today: date,
    as_of: date,
    stages: tuple[str, ...] = (),
    other_currencies: tuple[str, ...] = (),
) -> tuple[list, list]:
    """Exclusion reasons (first match wins) and flags of one table, as (label, boolean expression) pairs over
    ``rows`` (the typed table with :func:`with_repeats`' columns, orders with ``_unknown_customer`` when
    customers exist)."""
    excluded = []
    for col in table.columns:
        if col.required:
            what = "missing or unparseable" if col.type != "VARCHAR" else "missing"
            excluded.append((f"{what} {col.name}", rows[col.name].isnull()))
    if other_currencies:
        excluded.append(("in another currency (no exchange rates)", rows.currency.isin(other_currencies)))
    flags = []
    if table.name == "orders":
        excluded.append(("cancelled (status)", one_of(rows.status.lower(), CANCELLED)))
        excluded.append(("zero amount", rows.amount == 0))
        flags.append(("negative amount (kept as a return)", rows.amount < 0))
        flags.append((f"amount of {LARGE_AMOUNT:,.0f} or more", rows.amount.abs() >= LARGE_AMOUNT))
        if "_unknown_customer" in rows.columns:
            flags.append(("customer not in the customers table", rows._unknown_customer))
    if table.name == "opportunities":
        known = rows.status.lower().isin(("open", "won", "lost"))
        flags.append(("unknown status (not open/won/lost)", rows.status.notnull() & ~known))
    if stages and table.name in ("opportunities", "opportunity_history"):
        flags.append(("unknown stage", ~rows.stage.isin(stages)))
    day = rows[table.date_column] if table.date_column else None
    if day is not None:
        excluded.append(("dated in the future", day > ibis.date(today)))
        flags.append((f"dated before {EARLY_DAY.isoformat()}", day < ibis.date(EARLY_DAY)))
    excluded.append(("duplicate row", rows._repeat_row))
    if "_repeat_key" in rows.columns:
        excluded.append((f"duplicate {table.key}", rows._repeat_key))
    if day is not None:
        excluded.append(("after the period end", day > ibis.date(as_of)))
    return excluded, flags


def checked(rows: ir.Table, table: Table, excluded: list, flags: list) -> ir.Table:
    """The canonical columns of ``rows``, ``_reason`` (the first exclusion reason, NULL for a row used) and
    ``_flag0``, ``_flag1`` ... (True when the flag applies)."""
    reason = ibis.cases(*[(condition, label) for label, condition in excluded], else_=ibis.null("string"))
    marks = {f"_flag{i}": condition.fill_null(False) for i, (_, condition) in enumerate(flags)}
    return rows.select(*table.names, _reason=reason, **marks)


def point_in_time(rows: ir.Table, table: Table, as_of: date) -> ir.Table:
    """The used rows of a checked table as they stood at ``as_of``: a deal closed later was still open then;
    a ticket resolved later was unresolved, without its satisfaction; a rep who left later was still there."""
    cut = ibis.date(as_of)
    rows = rows.filter(rows._reason.isnull())
    blank = {c.name: ibis.null(IBIS_TYPES[c.type]) for c in table.columns}
    rewrites = {}
    if table.name == "opportunities":
        later = (rows.closed_at > cut).fill_null(False)
        rewrites = {
            "closed_at": ibis.ifelse(later, blank["closed_at"], rows.closed_at),
            "status": ibis.ifelse(later, "open", rows.status.lower()),
            "lost_reason": ibis.ifelse(later, blank["lost_reason"], rows.lost_reason),
        }
    elif table.name == "tickets":
        resolved_later = (rows.resolved_at > cut).fill_null(False)
        rewrites = {
            "resolved_at": ibis.ifelse(resolved_later, blank["resolved_at"], rows.resolved_at),
            "first_response_at": ibis.ifelse(
                (rows.first_response_at > cut).fill_null(False),
                blank["first_response_at"],
                rows.first_response_at,
            ),
            "satisfaction": ibis.ifelse(resolved_later, blank["satisfaction"], rows.satisfaction),
        }
    elif table.name == "reps":
        rewrites = {
            "end_date": ibis.ifelse((rows.end_date > cut).fill_null(False), blank["end_date"], rows.end_date)
        }
    return rows.select(**{c: rewrites.get(c, rows[c]) for c in table.names})

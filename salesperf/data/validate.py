"""Validation: fatal problems stop the run with one line; every other problem is counted by reason.

For each table the engine (:mod:`salesperf.data.engine`: the embedded DuckDB, or the warehouse or Spark a
catalog names) checks the fatal conditions, casts the canonical columns to their types, then labels every row
with at most one exclusion reason (first match wins) and any number of flags (rows kept but worth knowing,
such as returns); the rules are the expressions of :mod:`salesperf.data.checks`. ``rows read = rows used +
rows excluded`` holds per table and is what the data-quality section of every report shows (after the
import's own accounting, see :mod:`salesperf.data.quality`). A "duplicate row" is identical in every column,
a date compared as written, time of day included; the clean table keeps the day.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir

from salesperf.core.errors import UserError, examples
from salesperf.core.fmt import currency_code
from salesperf.data import checks
from salesperf.data.engine import Engine
from salesperf.data.quality import TableQuality
from salesperf.data.schema import TABLES, Table

#: Share of non-empty values of a required date/number column that may fail to parse before the run stops:
#: above it the column is in a format we do not read (convert with ``salesperf import``); below it the rows
#: are excluded.
FATAL_UNPARSEABLE_SHARE = 0.01


def currency_values(engine: Engine, raw: ir.Table) -> dict[str, int]:
    """Rows per non-empty value of the ``currency`` column of ``raw`` (values as written, trimmed)."""
    value = checks.text(raw.currency)
    counts = raw.select(value=value).filter(value.notnull()).group_by("value").agg(n=ibis._.count())
    frame = engine.fetch(counts.order_by([ibis.desc("n"), "value"]))
    return {str(v): int(n) for v, n in zip(frame["value"], frame["n"], strict=True)}


def by_code(values: dict[str, int]) -> dict[str, int]:
    """Rows per ISO code (``'$'`` and ``'usd'`` are both USD), largest first."""
    out: dict[str, int] = {}
    for value, n in values.items():
        out[currency_code(value)] = out.get(currency_code(value), 0) + n
    return dict(sorted(out.items(), key=lambda item: (-item[1], item[0])))


def choose_currency(codes: dict[str, int], stated: str, where: str, table: str = "orders") -> str:
    """The currency of a table's amounts: the stated one (``--currency`` or the catalog's ``currency:``), else
    the one currency of its currency column ('' when the column is absent or empty).

    Raises
    ------
    UserError
        Several currencies and none stated (salesperf has no exchange rates: summing them would be wrong), or
        a stated currency that none of the rows has.
    """
    stated = currency_code(stated)
    listed = ", ".join(f"{code} {n:,} rows" for code, n in codes.items())
    if stated:
        if codes and stated not in codes:
            raise UserError(
                f"{where}: the report currency is {stated}, but the {table} amounts are in {listed}",
                hint="drop --currency (or the catalog's 'currency:') to use the data's currency",
            )
        return stated
    if len(codes) > 1:
        first = next(iter(codes))
        raise UserError(
            f"{where}: the {table} amounts are in {len(codes)} currencies ({listed}) and salesperf has no "
            "exchange rates, so it will not add them up",
            hint=f"choose the report currency with --currency {first} (or 'currency: {first}' in the "
            "catalog): rows in other currencies are then excluded and counted; or convert to one currency",
        )
    return next(iter(codes), "")


def _tally(condition: ir.BooleanColumn) -> ir.IntegerScalar:
    """Rows where ``condition`` holds (0 for no rows; PostgreSQL cannot sum booleans)."""
    return ibis.ifelse(condition.fill_null(False), 1, 0).sum().fill_null(0)


def _typed_as(value: ir.Value, kind: str) -> bool:
    """Whether the source already gives ``value`` the canonical type ``kind`` (then nothing can fail to
    parse)."""
    dtype = value.type()
    return dtype.is_temporal() if kind == "DATE" else dtype.is_numeric()


def _check_parseable(engine: Engine, raw: ir.Table, table: Table, present: list[str], where: str) -> None:
    """Stop when a required typed column is mostly unparseable: one line with up to five example values."""
    typed = [
        c
        for c in table.columns
        if c.required and c.type != "VARCHAR" and c.name in present and not _typed_as(raw[c.name], c.type)
    ]
    if not typed:
        return

    def bad(name: str, kind: str) -> ir.BooleanValue:
        return checks.text(raw[name]).notnull() & engine.parse(raw[name], kind).isnull()

    measures = {}
    for col in typed:
        measures[f"{col.name}__values"] = checks.text(raw[col.name]).count()
        measures[f"{col.name}__bad"] = _tally(bad(col.name, checks.IBIS_TYPES[col.type]))
    counts = engine.fetch(raw.aggregate(**measures)).iloc[0]
    for col in typed:
        n_values, n_bad = int(counts[f"{col.name}__values"]), int(counts[f"{col.name}__bad"])
        if n_bad and n_bad > FATAL_UNPARSEABLE_SHARE * n_values:
            values = raw.filter(bad(col.name, checks.IBIS_TYPES[col.type]))
            values = values.select(value=checks.text(values[col.name])).distinct().order_by("value")
            sample = engine.fetch(values.limit(5))["value"].tolist()
            kind = "dates (YYYY-MM-DD)" if col.type == "DATE" else "numbers"
            raise UserError(
                f"{where}: column '{col.name}' has {n_bad:,} of {n_values:,} values that are not {kind}; "
                f"examples: {examples(sample)}",
                hint="convert the export with 'salesperf import' (it reads local date and number formats)",
            )


def _require_columns(table: Table, present: list[str], where: str, found_all: list[str]) -> None:
    missing = [c for c in table.required if c not in present]
    if table.name == "orders" and "amount" in missing and {"quantity", "unit_price"} <= set(present):
        missing.remove("amount")
    if missing:
        alt = " (or quantity and unit_price)" if "amount" in missing and table.name == "orders" else ""
        raise UserError(
            f"{where}: required column '{missing[0]}'{alt} is missing from table '{table.name}'",
            hint=f"columns found: {', '.join(found_all) or 'none'}; rename it or map it in the catalog",
        )


def _count(engine: Engine, rows: ir.Table, table: Table, present: list[str], flags: list) -> TableQuality:
    """Rows read, excluded by reason (with the three smallest example keys) and flagged, of a checked table:
    one grouped query, and one more for the examples when rows were excluded."""
    marks = {f"_flag{i}": _tally(rows[f"_flag{i}"]) for i in range(len(flags))}
    grouped = engine.fetch(rows.group_by("_reason").agg(n=ibis._.count(), **marks))
    used = grouped[grouped["_reason"].isna()]
    quality = TableQuality(table.name, "", int(grouped["n"].sum()), int(used["n"].sum()))
    for i, (label, _) in enumerate(flags):
        if n := int(used[f"_flag{i}"].sum()):
            quality.flagged[label] = n
    per_reason = grouped.dropna(subset=["_reason"]).sort_values(["n", "_reason"], ascending=[False, True])
    if per_reason.empty:
        return quality
    excluded = rows.filter(rows._reason.notnull())
    example = next((c for c in (table.key, *table.names) if c and c in present), table.names[0])
    shown = excluded.filter(excluded[example].notnull()).select("_reason", value=excluded[example]).distinct()
    rank = ibis.row_number().over(group_by=shown._reason, order_by=shown.value)
    shown = engine.fetch(shown.mutate(_rank=rank).filter(ibis._._rank < 3).order_by(["_reason", "value"]))
    samples = shown.groupby("_reason")["value"].agg(list).to_dict()
    for reason, n in zip(per_reason["_reason"], per_reason["n"], strict=True):
        quality.excluded[reason] = int(n)
        quality.examples[reason] = examples(samples.get(reason, []), 3)
    return quality


def validate_table(
    engine: Engine,
    raw: ir.Table,
    present: list[str],
    where: str,
    *,
    table_name: str,
    today: date,
    as_of: date,
    stages: tuple[str, ...] = (),
    currency: str = "",
    customers: ir.Table | None = None,
) -> tuple[TableQuality, ir.Table]:
    """Validate one raw table and give its clean, point-in-time form.

    Parameters
    ----------
    engine : Engine
        Where ``raw`` lives (the embedded DuckDB for files, a warehouse or Spark).
    raw : ibis.Table
        The source's rows, columns renamed to canonical names (any types).
    present : list of str
        Canonical columns the source provides.
    where : str
        The source, for messages.
    table_name : str
    today, as_of : datetime.date
        Rows dated after ``today`` are future-dated errors; rows dated after ``as_of`` are outside the period.
    stages : tuple of str
        Known stage names; when given, other stages are flagged.
    currency : str
        The report currency when stated (``--currency``, the catalog's ``currency:``); rows of a currency
        column in another currency are excluded (no exchange rates). Unstated, the column must hold one
        currency.
    customers : ibis.Table, optional
        The clean customers, for flagging orders of unknown customers.

    Returns
    -------
    quality : TableQuality
        ``rows read = rows used + rows excluded``, by reason, with flags and the currency.
    clean : ibis.Table
        The used rows, canonical columns and types, as they stood at ``as_of``: an expression over the checked
        table ``checked_<table_name>``, which is kept in the engine's current database (the run's snapshot in
        DuckDB; a session's temporary table in a warehouse).

    Raises
    ------
    UserError
        Missing required column, mostly unparseable required column, several currencies and none stated, or
        (for orders) no rows at all.
    """
    table = TABLES[table_name]
    _require_columns(table, present, where, [c for c in raw.columns if c != "_empty"])
    _check_parseable(engine, raw, table, present, where)
    values = currency_values(engine, raw) if "currency" in present else {}
    codes = by_code(values)
    if table_name == "orders" or not currency:
        currency = choose_currency(codes, currency, where, table_name)
    others = tuple(v for v in values if currency and currency_code(v) != currency)
    rows, flags = checked_rows(engine, raw, present, table_name, today, as_of, stages, others, customers)
    kept = engine.keep(rows, f"checked_{table_name}", temporary=False)
    quality = _count(engine, kept, table, present, flags)
    if table_name == "orders" and quality.rows_read == 0:
        hint = "export the orders (order lines) again"
        raise UserError(f"{where}: the orders table has no rows", hint=hint)
    quality.source, quality.currency, quality.currencies = where, currency, codes
    quality.other_currencies = list(others)
    quality.content_hash = engine.fingerprint(kept.select(*table.names))
    return quality, checks.point_in_time(kept, table, as_of)


def checked_rows(
    engine: Engine,
    raw: ir.Table,
    present: list[str],
    table_name: str,
    today: date,
    as_of: date,
    stages: tuple[str, ...] = (),
    other_currencies: tuple[str, ...] = (),
    customers: ir.Table | None = None,
) -> tuple[ir.Table, list]:
    """The rows of ``raw`` typed and labelled: canonical columns, ``_reason`` and ``_flag<i>`` (see
    :func:`salesperf.data.checks.checked`), and the flags' (label, condition) pairs. An expression: nothing
    runs (a run's notebooks rebuild a warehouse's clean tables with it, without counting again)."""
    table = TABLES[table_name]
    rows = checks.with_repeats(checks.typed(engine, raw, table, present), table)
    if table_name == "orders" and customers is not None:
        rows = checks.with_unknown_customers(rows, customers)
    excluded, flags = checks.reasons(rows, table, today, as_of, stages, other_currencies)
    return checks.checked(rows, table, excluded, flags), flags

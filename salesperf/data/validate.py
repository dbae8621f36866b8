"""Validation: fatal problems stop the run with one line; every other problem is counted by reason.

For each table the engine builds a typed view ``typed_<table>`` (canonical columns cast to their types),
checks the fatal conditions, then labels every row with at most one exclusion reason (first match wins) and
any number of flags (rows kept but worth knowing, such as returns). ``rows read = rows used + rows excluded``
holds per table and is what the data-quality section of every report shows (after the import's own
accounting, see :mod:`salesperf.data.quality`). A "duplicate row" is identical in every column, a date
compared as written, time of day included; the clean table keeps the day.
"""

from __future__ import annotations

from datetime import date

import duckdb

from salesperf.core.errors import UserError, examples
from salesperf.core.fmt import currency_code
from salesperf.core.sql import CANCELLED, RETURNED
from salesperf.data.quality import TableQuality
from salesperf.data.schema import TABLES, Table
from salesperf.data.sources import _literal, _quote

#: Share of non-empty values of a required date/number column that may fail to parse before the run stops:
#: above it the column is in a format we do not read (convert with ``salesperf import``); below it the rows
#: are excluded.
FATAL_UNPARSEABLE_SHARE = 0.01

AFTER_PERIOD = "after the period end"
OTHER_CURRENCY = "in another currency (no exchange rates)"


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(_literal(v) for v in values) + ")"


def _typed_expression(table: Table, name: str, present: list[str]) -> str:
    col = table.column(name)
    if name == "amount" and table.name == "orders":
        product = "TRY_CAST(quantity AS DOUBLE) * TRY_CAST(unit_price AS DOUBLE)"
        if "amount" in present and {"quantity", "unit_price"} <= set(present):
            amount = f"COALESCE(TRY_CAST(amount AS DOUBLE), {product})"
        elif "amount" in present:
            amount = "TRY_CAST(amount AS DOUBLE)"
        else:
            amount = product
        if "status" in present:  # a return stated by its status counts against revenue whatever its sign
            return (
                f"CASE WHEN lower(TRIM(CAST(status AS VARCHAR))) IN {_in(RETURNED)} "
                f"THEN -abs({amount}) ELSE {amount} END"
            )
        return amount
    if name not in present:
        return f"CAST(NULL AS {col.type})"
    if col.type == "VARCHAR":
        return f"NULLIF(TRIM(CAST({_quote(name)} AS VARCHAR)), '')"
    return f"TRY_CAST({_quote(name)} AS {col.type})"


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


def _check_parseable(con, table: Table, present: list[str], where: str) -> None:
    """Stop when a required typed column is mostly unparseable: one line with up to five example values."""
    for col in table.columns:
        if not col.required or col.type == "VARCHAR" or col.name not in present:
            continue
        raw = f"NULLIF(TRIM(CAST({_quote(col.name)} AS VARCHAR)), '')"
        bad_rows = f"{raw} IS NOT NULL AND TRY_CAST({_quote(col.name)} AS {col.type}) IS NULL"
        n_values, n_bad = con.execute(
            f"SELECT count({raw}), count(*) FILTER (WHERE {bad_rows}) FROM raw_{table.name}"
        ).fetchone()
        if n_bad and n_bad > FATAL_UNPARSEABLE_SHARE * n_values:
            sample = [
                r[0]
                for r in con.execute(
                    f"SELECT DISTINCT {raw} FROM raw_{table.name} WHERE {bad_rows} ORDER BY 1 LIMIT 5"
                ).fetchall()
            ]
            kind = "dates (YYYY-MM-DD)" if col.type == "DATE" else "numbers"
            raise UserError(
                f"{where}: column '{col.name}' has {n_bad:,} of {n_values:,} values that are not {kind}; "
                f"examples: {examples(sample)}",
                hint="convert the export with 'salesperf import' (it reads local date and number formats)",
            )


def _dated(table: Table) -> list[str]:
    return [c.name for c in table.columns if c.type == "DATE"]


def _as_written(name: str) -> str:
    """The typed view's column holding a date column's source value, time of day included."""
    return f"_written_{name}"


def _written_expression(name: str, present: list[str]) -> str:
    """A date column as the source wrote it, for the duplicate rule: the timestamp when the value reads as
    one (``2010-12-01`` and ``2010-12-01 00:00:00`` are the same value; ``08:26`` and ``14:02`` of one day
    are not), else the trimmed text. The typed column keeps the day (the analyses work on a DATE)."""
    if name not in present:
        return "NULL"
    text = f"NULLIF(TRIM(CAST({_quote(name)} AS VARCHAR)), '')"
    return f"COALESCE(CAST(TRY_CAST({_quote(name)} AS TIMESTAMP) AS VARCHAR), {text})"


def _reason_cases(
    table: Table,
    today: date,
    as_of: date,
    has_customers: bool,
    stages: tuple[str, ...],
    other_currencies: tuple[str, ...] = (),
) -> tuple[list, list]:
    """Exclusion reasons (first match wins) and flags of one table, as (label, SQL condition) pairs."""
    excluded = []
    for col in table.columns:
        if col.required:
            what = "missing or unparseable" if col.type != "VARCHAR" else "missing"
            excluded.append((f"{what} {col.name}", f"{_quote(col.name)} IS NULL"))
    if other_currencies:
        excluded.append((OTHER_CURRENCY, f"currency IN {_in(other_currencies)}"))
    flags = []
    if table.name == "orders":
        excluded.append(("cancelled (status)", f"lower(status) IN {_in(CANCELLED)}"))
        excluded.append(("zero amount", "amount = 0"))
        flags.append(("negative amount (kept as a return)", "amount < 0"))
        if has_customers:
            flags.append(("customer not in the customers table", "_unknown_customer"))
    if table.name == "opportunities":
        flags.append(
            (
                "unknown status (not open/won/lost)",
                "status IS NOT NULL AND lower(status) NOT IN ('open','won','lost')",
            )
        )
    if stages and table.name in ("opportunities", "opportunity_history"):
        stage_list = ", ".join(_literal(s) for s in stages)
        flags.append(("unknown stage", f"stage NOT IN ({stage_list})"))
    dated = _quote(table.date_column) if table.date_column else None
    if dated:
        excluded.append(("dated in the future", f"{dated} > DATE {_literal(today.isoformat())}"))
    # the first occurrence in the source (``_row``) is kept, so the same file always gives the same clean
    # table
    same = ", ".join(_quote(_as_written(c)) if c in _dated(table) else _quote(c) for c in table.names)
    excluded.append(("duplicate row", f"row_number() OVER (PARTITION BY {same} ORDER BY _row) > 1"))
    if table.key and table.name != "orders":
        excluded.append(
            (
                f"duplicate {table.key}",
                f"row_number() OVER (PARTITION BY {_quote(table.key)} ORDER BY _row) > 1",
            )
        )
    if dated:
        excluded.append((AFTER_PERIOD, f"{dated} > DATE {_literal(as_of.isoformat())}"))
    return excluded, flags


def currency_values(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, int]:
    """Rows per non-empty value of the ``currency`` column of ``relation`` (values as written, trimmed)."""
    value = "NULLIF(TRIM(CAST(currency AS VARCHAR)), '')"
    rows = con.execute(
        f"SELECT {value}, count(*) FROM {relation} WHERE {value} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall()
    return {str(v): int(n) for v, n in rows}


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


def _point_in_time(table: Table, as_of: date) -> dict[str, str]:
    """Column rewrites that show a row as it stood at ``as_of`` (a deal closed later was still open then)."""
    cut = f"DATE {_literal(as_of.isoformat())}"
    if table.name == "opportunities":
        later = f"closed_at > {cut}"
        return {
            "closed_at": f"CASE WHEN {later} THEN NULL ELSE closed_at END",
            "status": f"CASE WHEN {later} THEN 'open' ELSE lower(status) END",
            "lost_reason": f"CASE WHEN {later} THEN NULL ELSE lost_reason END",
        }
    if table.name == "tickets":
        return {
            "resolved_at": f"CASE WHEN resolved_at > {cut} THEN NULL ELSE resolved_at END",
            "first_response_at": f"CASE WHEN first_response_at > {cut} THEN NULL ELSE first_response_at END",
            "satisfaction": f"CASE WHEN resolved_at > {cut} THEN NULL ELSE satisfaction END",
        }
    if table.name == "reps":
        return {"end_date": f"CASE WHEN end_date > {cut} THEN NULL ELSE end_date END"}
    return {}


def validate_table(
    con: duckdb.DuckDBPyConnection,
    table_name: str,
    present: list[str],
    where: str,
    *,
    today: date,
    as_of: date,
    stages: tuple[str, ...] = (),
    currency: str = "",
) -> TableQuality:
    """Validate ``raw_<table>`` and create the clean table ``<table>`` (point-in-time at ``as_of``).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Holds the view ``raw_<table>`` (see :func:`salesperf.data.sources.attach`) and, when already
        validated, the clean ``customers`` table used to flag orders of unknown customers.
    table_name : str
    present : list of str
        Canonical columns the source provides.
    where : str
        The source, for messages.
    today, as_of : datetime.date
        Rows dated after ``today`` are future-dated errors; rows dated after ``as_of`` are outside the period.
    stages : tuple of str
        Known stage names; when given, other stages are flagged.
    currency : str
        The report currency when stated (``--currency``, the catalog's ``currency:``); rows of a currency
        column in another currency are excluded (no exchange rates). Unstated, the column must hold one
        currency.

    Returns
    -------
    TableQuality

    Raises
    ------
    UserError
        Missing required column, mostly unparseable required column, several currencies and none stated, or
        (for orders) no rows at all.
    """
    table = TABLES[table_name]
    found_all = [r[0] for r in con.execute(f"DESCRIBE raw_{table_name}").fetchall()]
    _require_columns(table, present, where, [c for c in found_all if c != "_empty"])
    _check_parseable(con, table, present, where)
    values = currency_values(con, f"raw_{table_name}") if "currency" in present else {}
    codes = by_code(values)
    if table_name == "orders" or not currency:
        currency = choose_currency(codes, currency, where, table_name)
    others = tuple(v for v in values if currency and currency_code(v) != currency)
    typed = ", ".join(
        [f"{_typed_expression(table, c, present)} AS {_quote(c)}" for c in table.names]
        + [f"{_written_expression(c, present)} AS {_quote(_as_written(c))}" for c in _dated(table)]
    )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW typed_{table_name} AS "
        f"SELECT {typed}, row_number() OVER () AS _row FROM raw_{table_name}"
    )

    has_customers = table_name == "orders" and _exists(con, "customers")
    excluded, flags = _reason_cases(table, today, as_of, has_customers, stages, others)
    reason_sql = (
        "CASE " + " ".join(f"WHEN {cond} THEN {_literal(label)}" for label, cond in excluded) + " END"
    )
    flag_sql = ", ".join(f"({cond}) IS TRUE AS _flag{i}" for i, (_, cond) in enumerate(flags))
    source = f"typed_{table_name}"
    if has_customers:
        source = (
            "(SELECT o.*, (o.customer_id IS NOT NULL AND k.customer_id IS NULL) AS _unknown_customer "
            "FROM typed_orders o "
            "LEFT JOIN (SELECT DISTINCT customer_id FROM customers) k USING (customer_id))"
        )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE checked_{table_name} AS "
        f"SELECT {', '.join(_quote(c) for c in table.names)}, "
        f"{reason_sql} AS _reason{', ' + flag_sql if flags else ''} "
        f"FROM {source}"
    )
    all_cols = ", ".join(_quote(c) for c in table.names)
    rows_read, digest = con.execute(
        f"SELECT count(*), coalesce(sum(hash({all_cols})::HUGEINT), 0) % 18446744073709551616 "
        f"FROM checked_{table_name}"
    ).fetchone()
    if table_name == "orders" and rows_read == 0:
        raise UserError(
            f"{where}: the orders table has no rows", hint="export the orders (order lines) again"
        )
    quality = TableQuality(
        table_name,
        where,
        rows_read,
        0,
        content_hash=f"{int(digest):016x}",
        currency=currency,
        currencies=codes,
    )
    # examples: the smallest keys, so the same data always show the same examples whatever the read order
    example_col = _quote(next((c for c in (table.key, *table.names) if c and c in present), table.names[0]))
    for reason, n, sample in con.execute(
        f"SELECT _reason, count(*), "
        f"list(DISTINCT {example_col} ORDER BY {example_col}) FILTER (WHERE {example_col} IS NOT NULL)[1:3] "
        f"FROM checked_{table_name} WHERE _reason IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall():
        quality.excluded[reason] = n
        quality.examples[reason] = examples(sample or [], 3)
    for i, (label, _) in enumerate(flags):
        n = con.execute(
            f"SELECT count(*) FROM checked_{table_name} WHERE _flag{i} AND _reason IS NULL"
        ).fetchone()[0]
        if n:
            quality.flagged[label] = n
    quality.rows_used = rows_read - sum(quality.excluded.values())

    rewrites = _point_in_time(table, as_of)
    columns = ", ".join(f"{rewrites.get(c, _quote(c))} AS {_quote(c)}" for c in table.names)
    con.execute(
        f"CREATE OR REPLACE TABLE {table_name} AS "
        f"SELECT {columns} FROM checked_{table_name} WHERE _reason IS NULL"
    )
    con.execute(f"DROP TABLE checked_{table_name}")
    return quality


def _exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]).fetchone()[0]
    )

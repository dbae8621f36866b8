"""Open a company's data for one period: read the catalog, validate, cut at the period end, keep it in DuckDB.

The CLI builds a *snapshot* (a DuckDB file holding the validated, point-in-time tables and their quality
accounting) once per run; every report notebook of the run opens that file read-only. An analyst in JupyterLab
may instead pass a catalog or a data folder and the same validation runs in the kernel.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import ibis
import pandas as pd

from salesperf.core.errors import UserError
from salesperf.core.fmt import DEFAULT_CURRENCY, currency_code, slug
from salesperf.core.periods import Period, parse_period
from salesperf.data import checks
from salesperf.data.catalog import Catalog, Source, load_catalog, resolve
from salesperf.data.engine import Engine, embedded
from salesperf.data.quality import QualityReport, import_steps
from salesperf.data.schema import TABLES
from salesperf.data.sources import attach
from salesperf.data.validate import (
    by_code,
    checked_rows,
    choose_currency,
    currency_values,
    validate_table,
)
from salesperf.data.warehouse import open_engine, raw_table

_META = "_salesperf_meta"
# customers first: orders are checked against them
_ORDER = ["customers"] + [t for t in TABLES if t != "customers"]


@dataclass
class Dataset:
    """Validated, point-in-time data of one company for one period.

    Attributes
    ----------
    con : duckdb.DuckDBPyConnection
        Holds one table per available canonical table, already cut at ``period.end``.
    period : Period
    today : datetime.date
        The run date (rows dated later are errors).
    quality : QualityReport
        Row accounting per table: at import (when ``salesperf import`` wrote the file) and at validation.
    origin : str
        The catalog or folder the data came from.
    entity : str
        ``region:East`` etc. when the tables are restricted to one entity, else empty.
    store : Path or None
        Folder where a run keeps the analyses' results for this dataset (None outside a run).
    results : dict
        Analysis results already computed or read for this dataset in this process (see
        salesperf.analyses.registry).
    engine : salesperf.data.engine.Engine
        Where the analyses' queries run (Ibis over the period's tables); the embedded DuckDB unless the
        catalog names a warehouse.
    """

    con: duckdb.DuckDBPyConnection
    period: Period
    today: date
    quality: QualityReport
    origin: str
    entity: str = ""
    store: Path | None = None
    results: dict = field(default_factory=dict)
    engine: Engine = None  # type: ignore[assignment]
    _filled: dict = field(default_factory=dict, repr=False)  # (table, column) -> holds a value

    def __post_init__(self) -> None:
        if self.engine is None:
            self.engine = embedded(self.con)

    @property
    def as_of(self) -> date:
        return self.period.end

    @property
    def currency(self) -> str:
        """The currency of the amounts (ISO code): stated, or the data's one currency, else the default."""
        orders = self.quality.get("orders")
        return (orders.currency if orders else "") or DEFAULT_CURRENCY

    @property
    def tables(self) -> list[str]:
        return [t.table for t in self.quality.tables]

    def has(self, table: str, *columns: str) -> bool:
        """Whether ``table`` is available and, when columns are given, holds at least one non-null value in
        each."""
        if table not in self.tables:
            return False
        missing = [c for c in columns if (table, c) not in self._filled]
        if missing:
            rows = self.engine.table(table)
            counts = self.engine.fetch(rows.aggregate(**{c: rows[c].count() for c in missing}))
            self._filled.update({(table, c): int(counts[c].iloc[0]) > 0 for c in missing})
        return all(self._filled[(table, c)] for c in columns)

    def sql(self, query: str, params: list | None = None) -> pd.DataFrame:
        """Run a DuckDB query on the period's tables and return a pandas frame (for aggregates, not raw rows;
        the embedded engine only: with a catalog's ``engine:``, write Ibis over :attr:`engine` instead)."""
        return self.con.execute(query, params or []).df()

    def fingerprints(self) -> dict[str, dict]:
        """Per table: rows read and an order-independent content hash of the source (for manifests)."""
        return {t.table: {"rows": t.rows_read, "hash": t.content_hash} for t in self.quality.tables}


def _source_rows(engine: Engine, src: Source) -> tuple[ibis.Table, list[str], str]:
    """One source's raw rows (canonical column names) where the engine reads them, the canonical columns it
    provides, and its name for messages."""
    if engine.name == "duckdb":  # files and databases the embedded engine reads (salesperf.data.sources)
        present = attach(engine.backend.con, src)
        where = str(src.files[0]) if len(src.files) == 1 else src.location
        return engine.backend.table(f"raw_{src.table}"), present, where
    raw, present = raw_table(engine, src)
    return raw, present, f"{engine.name}: {src.location}"


def _validate_catalog(
    engine: Engine, catalog: Catalog, period: Period, today: date
) -> tuple[QualityReport, dict[str, ibis.Table]]:
    """Validate every table of ``catalog`` in ``engine``: the row accounting, and the clean tables (DuckDB:
    tables of the current database; a warehouse or Spark: expressions over its raw tables)."""
    reports, clean = [], {}
    currency = catalog.currency
    for table in _ORDER:
        if table not in catalog.sources:
            continue
        src = catalog.sources[table]
        raw, present, where = _source_rows(engine, src)
        quality, rows = validate_table(
            engine,
            raw,
            present,
            where,
            table_name=table,
            today=today,
            as_of=period.end,
            stages=catalog.stages,
            currency=currency,
            customers=clean.get("customers"),
        )
        # a view of the used rows: a copy of 10 M order lines cost 14 s at 1 M customers
        clean[table] = engine.keep(rows, table, temporary=False, view=True)
        quality.imported, quality.import_stale = import_steps(src, quality.rows_read)
        if table == "orders":  # the orders' currency is the report's: other tables' amounts must match it
            currency = quality.currency or currency
        reports.append(quality)
    return QualityReport(reports), clean


def _rebuild(engine: Engine, catalog: Catalog, quality: QualityReport, period: Period, today: date) -> dict:
    """The clean tables of a warehouse or Spark dataset validated earlier in the run, as expressions (the
    same rules, without counting again)."""
    clean: dict[str, ibis.Table] = {}
    for table in _ORDER:
        if quality.get(table) is None:
            continue
        raw, present, _ = _source_rows(engine, catalog.sources[table])
        others = tuple(quality.get(table).other_currencies)
        rows, _ = checked_rows(
            engine, raw, present, table, today, period.end, catalog.stages, others, clean.get("customers")
        )
        clean[table] = engine.keep(checks.point_in_time(rows, TABLES[table], period.end), table)
    return clean


def data_currency(catalog: Catalog, stated: str = "") -> str:
    """The report currency of a catalog (ISO code, or a symbol we do not know), before validation.

    ``stated`` (``--currency``) wins, then the catalog's ``currency:``, then the one currency of the orders'
    currency column, then the default (CNY). Reads only the orders' currency column.

    Raises
    ------
    UserError
        Several currencies in the orders and none stated, or a stated currency none of the orders has.
    """
    stated = currency_code(stated) or catalog.currency
    with duckdb.connect() as con:
        engine = open_engine(catalog) if catalog.engine else embedded(con, own_cursor=False)
        raw, present, where = _source_rows(engine, catalog.sources["orders"])
        values = currency_values(engine, raw) if "currency" in present else {}
    return choose_currency(by_code(values), stated, where) or DEFAULT_CURRENCY


_ENTITY_KINDS = ("region", "team", "rep")


def _region_filters(v: str, tables: list[str]) -> dict[str, str]:
    """WHERE clauses of one region's copy (``v``: the region as a SQL literal).

    A region is the order line's where the line has one, else the customer's: a customer who bought in two
    regions has each line in its own region's copy, and is a customer of both copies (and of the copy of the
    region their record names).
    """
    named = f"SELECT customer_id FROM snap.customers WHERE region = {v}" if "customers" in tables else None
    on_line = f"region = {v}" + (f" OR (region IS NULL AND customer_id IN ({named}))" if named else "")
    bought = f"SELECT customer_id FROM snap.orders WHERE {on_line}"
    customer_ids = f"{named} UNION {bought}" if named else bought
    filters = {"reps": f"region = {v}", "orders": on_line}
    for table in tables:
        if table == "opportunity_history":
            filters[table] = "opportunity_id IN (SELECT opportunity_id FROM opportunities)"
        elif table not in filters and "customer_id" in TABLES[table].names:
            filters[table] = f"customer_id IN ({customer_ids})"
    return filters


def _entity_filters(kind: str, value: str, tables: list[str]) -> dict[str, str]:
    """WHERE clauses restricting every table to one region, team or rep (the data of one fan-out copy)."""
    v = "'" + value.replace("'", "''") + "'"
    if kind == "region":
        return _region_filters(v, tables)
    rep_ids = f"SELECT rep_id FROM snap.reps WHERE team = {v}" if kind == "team" else f"SELECT {v}"
    filters = {"reps": f"rep_id IN ({rep_ids})"}
    for table in tables:
        cols = TABLES[table].names
        if table == "customers":
            filters[table] = f"owner_rep_id IN ({rep_ids})"
        elif table == "opportunity_history":
            filters[table] = "opportunity_id IN (SELECT opportunity_id FROM opportunities)"
        elif "rep_id" in cols and table != "reps":
            filters[table] = f"rep_id IN ({rep_ids})"
        elif "customer_id" in cols:
            filters[table] = (
                f"customer_id IN (SELECT customer_id FROM snap.customers WHERE owner_rep_id IN ({rep_ids}))"
            )
    return filters


def parse_entity(entity: str) -> tuple[str, str] | None:
    """``'region:East'`` → ``('region', 'East')``; empty → None."""
    if not entity:
        return None
    kind, _, value = entity.partition(":")
    if kind not in _ENTITY_KINDS or not value:
        raise UserError(f"entity {entity!r} is not understood", hint="use region:NAME, team:NAME or rep:ID")
    return kind, value


def _expose(con: duckdb.DuckDBPyConnection, tables: list[str], entity: str = "") -> None:
    """Create one view per table over the attached database ``snap``, restricted to ``entity`` when given."""
    filters = {}
    if parsed := parse_entity(entity):
        if parsed[0] == "team" and "reps" not in tables:
            raise UserError("a copy per team needs the reps table (with team)")
        filters = _entity_filters(*parsed, tables)
    order = sorted(tables, key=lambda t: t == "opportunity_history")
    for table in order:
        where = f" WHERE {filters[table]}" if table in filters else ""
        con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM snap.{table}{where}")


def entities(ds: Dataset, kind: str) -> list[str]:
    """The values of a fan-out dimension present in the data: regions, teams or rep ids, sorted."""
    if ds.engine.closed:
        _whole_only(kind)
    if kind == "region":  # the order lines' regions and the customers'
        sources = [t for t in ("orders", "customers") if ds.has(t, "region")]
        if not sources:
            raise UserError("--each region needs a region on the order lines or on the customers")
        query = " UNION ".join(f"SELECT region FROM {t} WHERE region IS NOT NULL" for t in sources)
    else:
        if not ds.has("reps"):
            raise UserError(f"--each {kind} needs the reps table")
        column = "team" if kind == "team" else "rep_id"
        query = f"SELECT DISTINCT {column} FROM reps WHERE {column} IS NOT NULL"
    return sorted(str(r[0]) for r in ds.con.execute(query).fetchall())


def build_snapshot(catalog: Catalog, period: Period, path: str | Path, today: date | None = None) -> Dataset:
    """Validate ``catalog`` for ``period`` and write the snapshot, the DuckDB file ``path``: the clean tables
    and their row accounting (with an ``engine:``, the accounting only: the data stay in the warehouse).

    Returns the dataset, open on the snapshot (read-only), for checks that happen before the reports run.

    Raises
    ------
    UserError
        On any fatal data problem (see :mod:`salesperf.data.validate`).
    """
    today = today or date.today()
    path = Path(path)
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        engine = open_engine(catalog) if catalog.engine else embedded(con, own_cursor=False)
        quality, _ = _validate_catalog(engine, catalog, period, today)
        meta = {
            "period": period.label,
            "today": today.isoformat(),
            "origin": catalog.origin,
            "engine": catalog.engine,  # as written: ${VAR} is read again from the environment when opened
            "quality": quality.to_json(),
        }
        con.execute(f"CREATE TABLE {_META} AS SELECT ? AS meta", [json.dumps(meta)])
    return open_dataset(path)


def _open_snapshot(path: Path, entity: str = "") -> Dataset:
    con = duckdb.connect()
    con.execute(f"ATTACH '{path!s}' AS snap (READ_ONLY)")
    meta = json.loads(con.execute(f"SELECT meta FROM snap.{_META}").fetchone()[0])
    quality = QualityReport.from_json(meta["quality"])
    period, today = parse_period(meta["period"]), date.fromisoformat(meta["today"])
    store = results_folder(path, entity)
    if meta.get("engine"):
        engine = _engine_dataset(load_catalog(meta["origin"]), quality, period, today, entity)
        return Dataset(con, period, today, quality, meta["origin"], entity, store, engine=engine)
    _expose(con, [t.table for t in quality.tables], entity)
    return Dataset(con, period, today, quality, meta["origin"], entity, store)


def _whole_only(entity: str) -> None:
    """Refuse a per-entity copy of data that stay in an engine (its filters are DuckDB SQL on a snapshot)."""
    if entity:
        raise UserError(
            "copies per region, team or rep (--each) are not available yet when the data stay in an engine",
            hint="run without --each, or export the tables to Parquet files for a per-entity run",
        )


def _engine_dataset(
    catalog: Catalog, quality: QualityReport, period: Period, today: date, entity: str
) -> Engine:
    """The catalog's engine holding the clean tables of a dataset validated earlier (see :func:`_rebuild`)."""
    _whole_only(entity)
    engine = open_engine(catalog)
    engine.tables, engine.closed = _rebuild(engine, catalog, quality, period, today), True
    return engine


def results_folder(snapshot: Path, entity: str = "") -> Path:
    """Where a run keeps the analyses' results for the snapshot (and one entity of a fan-out)."""
    return Path(snapshot).parent / ".results" / (slug(entity) if entity else "all")


def open_dataset(
    data: str | Path | Catalog,
    period: str | Period = "last-month",
    today: str | date | None = None,
    entity: str = "",
) -> Dataset:
    """Open data for a period: a snapshot written by a run, a catalog file or a folder of table files.

    Parameters
    ----------
    data : str, Path or Catalog
        ``*.duckdb`` snapshot (then ``period`` and ``today`` come from it), ``catalog.yml``, a data folder or
        a catalog already read (with its report currency).
    period : str or Period
        ``2026-10``, ``2026-Q3``, ``last-month``... (ignored for snapshots).
    today : str or date, optional
        Run date; defaults to the system date.
    entity : str, optional
        ``region:East``, ``team:Alpha`` or ``rep:R007``: restrict every table to that entity (fan-out copies).

    Returns
    -------
    Dataset
    """
    if not isinstance(data, Catalog):
        data = Path(data)
        if data.suffix == ".duckdb" and data.is_file():
            return _open_snapshot(data, entity)
    today = date.fromisoformat(today) if isinstance(today, str) and today else (today or date.today())
    period = period if isinstance(period, Period) else parse_period(period, today)
    catalog = data if isinstance(data, Catalog) else resolve(data=data)
    con = duckdb.connect()
    if catalog.engine:
        _whole_only(entity)
        engine = open_engine(catalog)
        quality, clean = _validate_catalog(engine, catalog, period, today)
        engine.tables, engine.closed = clean, True
        return Dataset(con, period, today, quality, catalog.origin, entity, engine=engine)
    con.execute("ATTACH ':memory:' AS snap")
    con.execute("USE snap")
    quality, _ = _validate_catalog(embedded(con, own_cursor=False), catalog, period, today)
    con.execute("USE memory")
    _expose(con, [t.table for t in quality.tables], entity)
    return Dataset(con, period, today, quality, catalog.origin, entity)

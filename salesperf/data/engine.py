"""Where the queries run: one engine-neutral query layer (Ibis) over the embedded DuckDB or a SQL warehouse.

Analyses write their queries once, as Ibis expressions over the canonical tables (:meth:`Engine.table`), and
:meth:`Engine.fetch` runs them where the data are — inside DuckDB for files and the demo company (nothing to
install or start), inside PostgreSQL when the catalog names a warehouse — so that only aggregates travel back.
Results come back through Arrow (``to_pyarrow``): pandas' own path turns columns with NULLs into Python
objects.

Known differences between engines are handled here and in :mod:`salesperf.core.expr`, not in the analyses:
``ibis.row_number()`` counts from 0 everywhere; money is rounded to cents in the engine so that a parallel sum
gives the same figures in every run and on every engine.
"""

from __future__ import annotations

import os
import re
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import ibis
import pandas as pd
from ibis.backends import BaseBackend
from ibis.common.exceptions import TableNotFound

from salesperf.core.errors import UserError
from salesperf.data.catalog import mask_url

#: URL schemes of the warehouses salesperf can run its queries in, and the extra that brings each driver.
WAREHOUSES = {"postgresql": "postgres", "postgres": "postgres"}
#: Settings of a Spark session started by salesperf: no web UI or progress bars, few shuffle partitions
#: (aggregates are small), dates in UTC so that a day is the same day on every engine, and its warehouse
#: folder in the temporary folder rather than the current one.
SPARK_CONFIG = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.warehouse.dir": str(Path(tempfile.gettempdir()) / "salesperf-spark-warehouse"),
}
#: DuckDB settings (process-wide) under which its allocator returns freed memory to the system.
DUCKDB_RETURN_FREED = (
    "allocator_flush_threshold = '16MB'",
    "allocator_bulk_deallocation_flush_threshold = '16MB'",
    "allocator_background_threads = true",
)
#: Memory one embedded DuckDB may use before it writes intermediate results and tables to disk (its
#: ``temp_directory``, in the system's temporary folder); ``SALESPERF_MEMORY_LIMIT`` (``3GB``, ``500MB``,
#: ``40%``) overrides it. Unbounded, DuckDB keeps up to 80 % of the machine's memory: validating a 900 MB
#: orders CSV peaked at 2.8 GB.
DEFAULT_MEMORY_LIMIT = "2GB"
_MEMORY_LIMIT = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB|%)\s*$", re.IGNORECASE)
#: What a text must look like for PostgreSQL to cast it (it has no TRY_CAST: a plain CAST of a bad value
#: stops the query), by Ibis type; docs/warehouse.md says where this differs from DuckDB's TRY_CAST.
_DAY = r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_PARSEABLE = {
    "float64": r"^\s*[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?\s*$",
    "int64": r"^\s*[+-]?[0-9]{1,18}\s*$",
    "date": rf"^\s*{_DAY}\s*$",
    "timestamp": rf"^\s*{_DAY}([ T][0-9]{{2}}:[0-9]{{2}}(:[0-9]{{2}}([.][0-9]+)?)?)?\s*$",
}


@dataclass
class Engine:
    """An Ibis backend holding the canonical tables of one dataset.

    Attributes
    ----------
    backend : ibis.backends.BaseBackend
    tables : dict of str to ibis.Table
        Canonical tables defined as expressions over the backend's own tables (in a warehouse: the validated,
        point-in-time views of its raw tables); other names are the backend's tables.
    rows_fetched : int
        Rows returned to Python by :meth:`fetch` and :meth:`scalar` so far (what travelled back).
    closed : bool
        Only :attr:`tables` are the dataset's (a warehouse holds other tables, which are not).
    """

    backend: BaseBackend
    tables: dict = field(default_factory=dict)
    rows_fetched: int = 0
    closed: bool = False

    @property
    def name(self) -> str:
        """``duckdb``, ``postgres``, ``pyspark`` ..."""
        return self.backend.name

    def table(self, name: str) -> ibis.Table:
        """The canonical table ``name`` (orders, customers ...) as an Ibis table expression."""
        if name in self.tables:
            return self.tables[name]
        if self.closed:
            raise TableNotFound(name)
        with warnings.catch_warnings():  # Ibis 12 reads a schema through a method DuckDB 2 deprecates
            warnings.simplefilter("ignore", DeprecationWarning)
            return self.backend.table(name)

    def has_table(self, name: str) -> bool:
        """Whether the dataset holds the table ``name``."""
        if name in self.tables:
            return True
        try:  # not list_tables(): Ibis 12 calls a method there that DuckDB 2 no longer has
            self.table(name)
        except TableNotFound:
            return False
        return True

    def fetch(self, expr: ibis.Expr, order_by: str | list[str] | None = None) -> pd.DataFrame:
        """Run ``expr`` in the engine and return its rows as a pandas frame (through Arrow, whose buffers are
        freed as the frame is built), sorted ascending by the columns ``order_by`` (NULLs last) when given.

        Sorted in Arrow, not in the engine (a warehouse's collation may order text differently) nor in pandas
        (sorting 1 M shuffled customer ids there took 2.3 s, in Arrow 0.6 s): the same order, byte by byte,
        everywhere.
        """
        rows = self.arrow(expr)
        if order_by is not None:
            keys = [order_by] if isinstance(order_by, str) else order_by
            rows = rows.sort_by([(key, "ascending") for key in keys])
        return rows.to_pandas(self_destruct=True, split_blocks=True)

    def scalar(self, expr: ibis.Scalar):
        """Run a scalar expression and return its Python value."""
        return self.arrow(expr).as_py()

    def parse(self, value: ibis.Value, to: str) -> ibis.Value:
        """``value`` as type ``to`` (``float64``, ``int64``, ``date``, ``timestamp``), NULL where it does not
        parse: TRY_CAST where the engine has it; on PostgreSQL a text is cast only when it has the form of
        that type (:data:`_PARSEABLE`), since a plain CAST of a bad value stops the query there."""
        if self.name != "postgres":
            return value.try_cast(to)
        if not value.type().is_string():
            return value.cast(to)
        return ibis.ifelse(value.re_search(_PARSEABLE[to]), value.strip().cast(to), ibis.null(to))

    def keep(self, expr: ibis.Table, name: str, temporary: bool = True, view: bool = False) -> ibis.Table:
        """``expr`` computed once and kept: in DuckDB as table ``name`` (of the run's snapshot unless
        ``temporary``), or as a view when ``view`` (a cheap filter of a kept table: not worth a copy); in a
        warehouse as a temporary table of this session, dropped when it ends; on Spark cached in the
        executors' memory. Nothing salesperf keeps outlives the session outside DuckDB."""
        if self.name != "duckdb":
            return self.cache(expr)
        kind = ("TEMP " if temporary else "") + ("VIEW" if view else "TABLE")
        self.backend.raw_sql(f"CREATE OR REPLACE {kind} \"{name}\" AS {self.backend.compile(expr)}")
        return self.backend.table(name)

    def _remote(self, expr: ibis.Expr):
        """Run ``expr`` in a warehouse or on Spark: what they refuse (a value their CAST cannot read, a lost
        connection, a missing permission) is the data's or the environment's, said in one line."""
        try:
            return self.backend.to_pyarrow(expr)
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserError(
                f"{self.name}: the engine refused a query of salesperf ({mask_url(first)[:300]})",
                hint="check the catalog's tables and permissions; a text column with impossible dates "
                "(2026-02-30) stops PostgreSQL: fix or type the column",
            ) from None

    def cache(self, expr: ibis.Table) -> ibis.Table:
        """``expr`` computed once for this session (a temporary table, or Spark's cache); ``release()`` of the
        result frees it."""
        with warnings.catch_warnings():  # Ibis 12 calls a DuckDB method DuckDB 2 deprecates: not the user's
            warnings.simplefilter("ignore", DeprecationWarning)
            return expr.cache()

    def fingerprint(self, rows: ibis.Table) -> str:
        """An order-independent hash of the rows' content (16 hex digits) on DuckDB; '' elsewhere (a
        warehouse's tables are identified by their row counts)."""
        if self.name != "duckdb":
            return ""
        columns = ", ".join(f'"{c}"' for c in rows.columns)
        query = (
            f"SELECT coalesce(sum(hash({columns})::HUGEINT), 0) % 18446744073709551616 "
            f"FROM ({self.backend.compile(rows)})"
        )
        return f"{int(self.backend.raw_sql(query).fetchone()[0]):016x}"

    def arrow(self, expr: ibis.Expr):
        """Run ``expr`` in the engine and return its rows as an Arrow table (a scalar as an Arrow scalar)."""
        with warnings.catch_warnings():  # Ibis 12 calls a DuckDB method DuckDB 2 deprecates: not the user's
            warnings.simplefilter("ignore", DeprecationWarning)
            if self.name == "duckdb":
                result = self.backend.to_pyarrow(expr)
            else:
                result = self._remote(expr)
        self.rows_fetched += len(result) if hasattr(result, "num_rows") else 1
        return result


def _spill_settings() -> tuple[str, str]:
    """DuckDB's memory limit setting (:data:`DEFAULT_MEMORY_LIMIT` or ``SALESPERF_MEMORY_LIMIT``) and the
    folder it spills to.

    Raises
    ------
    UserError
        ``SALESPERF_MEMORY_LIMIT`` is not an amount of memory.
    """
    limit = os.environ.get("SALESPERF_MEMORY_LIMIT", "").strip() or DEFAULT_MEMORY_LIMIT
    if not _MEMORY_LIMIT.match(limit):
        raise UserError(
            f"SALESPERF_MEMORY_LIMIT: {limit[:40]!r} is not an amount of memory",
            hint="write it like 3GB, 500MB or 40%",
        )
    return f"memory_limit = '{limit.strip()}'", str(Path(tempfile.gettempdir()) / "salesperf-duckdb")


def embedded(con: duckdb.DuckDBPyConnection, own_cursor: bool = True) -> Engine:
    """The engine over an open DuckDB connection (its tables and views are the canonical tables).

    Ibis gets a cursor of its own (the same database, views and attached snapshot): DuckDB refuses new work on
    a connection whose last result was not read to the end, and other code of the run shares ``con``.
    Validation passes ``own_cursor=False``: it works on the connection's temporary views and current database.
    DuckDB's allocator is told to give back what a query freed (:data:`DUCKDB_RETURN_FREED`: at 1 M customers
    it kept 1.4 GB after the per-customer query, at no cost in time to return it).
    """
    limit, spill = _spill_settings()
    for setting in (*DUCKDB_RETURN_FREED, limit):
        con.execute(f"SET {setting}")
    if con.execute("SELECT current_setting('temp_directory')").fetchone()[0] != spill:
        quoted = spill.replace("'", "''")
        con.execute(f"SET temp_directory = '{quoted}'")  # once: DuckDB refuses to move it after a spill
    return Engine(ibis.duckdb.from_connection(con.cursor() if own_cursor else con))


def connect(url: str) -> Engine:
    """Connect to the warehouse at ``url`` (``postgresql://user@host:5432/db``; put the password in an
    environment variable and write ``${VAR}`` in the catalog, never in the file).

    Raises
    ------
    UserError
        Unknown scheme, missing driver (with the ``pip install`` that brings it) or unreachable server; the
        message shows the URL with its secrets masked.
    """
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in WAREHOUSES:
        raise UserError(
            f"{mask_url(url)}: not a warehouse URL salesperf can run queries in",
            hint="use postgresql://user@host:5432/database",
        )
    try:
        backend = ibis.connect(url)
    except ModuleNotFoundError as exc:
        raise UserError(
            f"{mask_url(url)}: the {WAREHOUSES[scheme]} driver is not installed ({exc.name})",
            hint=f"pip install 'salesperf[{WAREHOUSES[scheme]}]'",
        ) from None
    except Exception as exc:  # the driver's own errors: unreachable host, wrong password, no such database
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{mask_url(url)}: cannot connect ({mask_url(message)[:300]})") from None
    return Engine(backend)


def spark(master: str = "local[2]", session=None) -> Engine:
    """The engine over a Spark session: ``session`` when given, else one started for ``master``
    (``local[2]``, ``spark://host:7077`` ...). Needs the ``salesperf[spark]`` extra and Java 17.

    Raises
    ------
    UserError
        PySpark is not installed, or the session cannot start (no Java, unreachable master).
    """
    try:
        from pyspark.sql import SparkSession
    except ModuleNotFoundError:
        hint = "pip install 'salesperf[spark]' (and Java 17)"
        raise UserError("PySpark is not installed", hint=hint) from None
    if session is None:
        builder = SparkSession.builder.master(master).appName("salesperf")
        for key, value in SPARK_CONFIG.items():
            builder = builder.config(key, value)
        try:
            session = builder.getOrCreate()
        except Exception as exc:  # no JVM, wrong master URL: the user's environment, not a bug
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserError(f"Spark master {master}: cannot start a session ({message[:300]})") from None
        session.sparkContext.setLogLevel("ERROR")  # Spark's warnings are not the reader's
    return Engine(ibis.pyspark.connect(session))

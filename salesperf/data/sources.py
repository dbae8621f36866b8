"""Attach catalog sources to a DuckDB connection as relations named ``raw_<table>`` with canonical column
names.

Files are queried in place by DuckDB (CSV, TSV, Parquet; globs and folders as one relation); Excel sheets and
SQL databases are read once and registered. Nothing here validates content: see
:mod:`salesperf.data.validate`.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from salesperf.core.errors import UserError
from salesperf.data.catalog import Source, mask_url
from salesperf.data.schema import TABLES


def _quote(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__


def _file_relation(con: duckdb.DuckDBPyConnection, src: Source) -> str:
    files = "[" + ", ".join(_literal(str(f)) for f in src.files) + "]"
    if src.format == "parquet":
        return f"read_parquet({files}, union_by_name = true)"
    if src.format in ("csv", "tsv"):
        delim = src.options.get("delimiter") or ("\t" if src.format == "tsv" else None)
        opts = f", delim = {_literal(delim)}" if delim else ""
        return f"read_csv({files}, header = true, union_by_name = true{opts})"
    frames = [pd.read_excel(f, sheet_name=src.options.get("sheet", 0), dtype=str) for f in src.files]
    con.register(f"_xlsx_{src.table}", pd.concat(frames, ignore_index=True))
    return f"_xlsx_{src.table}"


#: URL schemes whose driver a salesperf extra brings (``pip install 'salesperf[postgres]'``).
_EXTRAS = {"postgresql": "postgres", "postgres": "postgres"}


def _driver_url(url: str) -> str:
    """A bare ``postgresql://`` URL is read with psycopg 3, the driver of the ``salesperf[postgres]`` extra
    (SQLAlchemy's default for it is psycopg2, which nothing installs)."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql+psycopg://{rest}" if sep and scheme.lower() in _EXTRAS else url


def _missing_driver(src: Source, exc: ModuleNotFoundError) -> UserError:
    scheme = src.options["url"].split("://", 1)[0].split("+")[0].lower()
    extra = _EXTRAS.get(scheme)
    hint = (
        f"pip install 'salesperf[{extra}]'"
        if extra
        else f"install the Python driver for {scheme}:// URLs (pip install {exc.name or 'the driver'})"
    )
    return UserError(
        f"{src.location}: table '{src.table}': the database driver for {scheme}:// is not installed "
        f"(no module named {exc.name!r})",
        hint=hint,
    )


def _database_relation(con: duckdb.DuckDBPyConnection, src: Source) -> str:
    opts = src.options
    if src.kind == "duckdb":
        if opts.get("query"):  # the query names the file's tables unqualified: run it on the file itself
            with duckdb.connect(opts["database"], read_only=True) as database:
                frame = database.execute(opts["query"]).to_arrow_table()
            con.register(f"_q_{src.table}", frame)
            return f"_q_{src.table}"
        alias = f"_db_{src.table}"
        con.execute(f"ATTACH {_literal(opts['database'])} AS {alias} (READ_ONLY)")
        return f"{alias}.{opts['table']}"
    import sqlalchemy

    engine = sqlalchemy.create_engine(_driver_url(opts["url"]))
    query = opts.get("query") or f"SELECT * FROM {opts['table']}"
    try:
        with engine.connect() as connection:
            frame = pd.read_sql(sqlalchemy.text(query), connection)
    finally:
        engine.dispose()
    con.register(f"_sql_{src.table}", frame)
    return f"_sql_{src.table}"


def attach(con: duckdb.DuckDBPyConnection, src: Source) -> list[str]:
    """Create view ``raw_<table>`` for one source, renaming source columns to canonical names.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    src : Source

    Returns
    -------
    list of str
        The canonical columns the source provides.

    Raises
    ------
    UserError
        When the source cannot be read (bad file, wrong encoding, database unreachable), naming the source.
    """
    where = src.location if src.kind != "file" or len(src.files) != 1 else str(src.files[0])
    try:
        relation = _file_relation(con, src) if src.kind == "file" else _database_relation(con, src)
        found = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
    except UserError:
        raise
    except ModuleNotFoundError as exc:
        if src.kind != "sql":
            raise
        raise _missing_driver(src, exc) from None
    except Exception as exc:
        message = _first_line(exc)
        if src.kind == "sql":  # driver errors quote the URL, its host or its port: any part of a password
            message = mask_url(message)
        hint = (
            "non-UTF-8 exports (GBK, Excel CSV): convert with 'salesperf import'"
            if "unicode" in message.lower()
            else None
        )
        if src.kind == "sql":
            hint = "check that the server is reachable and the user, password (${VAR}) and database are right"
        raise UserError(f"{where}: cannot read table '{src.table}': {message}", hint=hint) from None
    canonical = TABLES[src.table].names
    by_lower = {c.strip().lower(): c for c in found}
    renames = {}
    for name in canonical:
        source_name = src.columns.get(name)
        if source_name is not None and source_name not in found:
            raise UserError(
                f"{where}: column {source_name!r} (mapped to '{name}' in the catalog) not found",
                hint=f"columns present: {', '.join(found[:12])}",
            )
        source_name = source_name or by_lower.get(name)
        if source_name is not None:
            renames[name] = source_name
    select = ", ".join(f"{_quote(s)} AS {_quote(c)}" for c, s in renames.items()) or "NULL AS _empty"
    con.execute(f"CREATE OR REPLACE TEMP VIEW raw_{src.table} AS SELECT {select} FROM {relation}")
    return list(renames)

"""Attach catalog sources to a DuckDB connection as relations named ``raw_<table>`` with canonical column
names.

Files are queried in place by DuckDB (CSV, TSV, Parquet; globs and folders as one relation); Excel sheets and
SQL databases are read once and registered. Nothing here validates content: see
:mod:`salesperf.data.validate`.
"""

from __future__ import annotations

import atexit
import codecs
import os
import shutil
import tempfile
from pathlib import Path

import duckdb
import pandas as pd

from salesperf.core.errors import UserError
from salesperf.data import text_checks
from salesperf.data.catalog import Source, mask_url
from salesperf.data.schema import TABLES


def _quote(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__


def _file_relation(con: duckdb.DuckDBPyConnection, src: Source) -> str:
    paths = [_readable_path(f) for f in src.files]
    files = "[" + ", ".join(_literal(p) for p in paths) + "]"
    if src.format == "parquet":
        return f"read_parquet({files}, union_by_name = true)"
    if src.format in ("csv", "tsv"):
        delim = src.options.get("delimiter") or ("\t" if src.format == "tsv" else None)
        encoding = src.options.get("encoding", "utf-8")
        if codecs.lookup(encoding).name != "utf-8":  # declared in the catalog: decoded here, read as text
            frames = [pd.read_csv(p, sep=delim, encoding=encoding, dtype=str, engine="python") for p in paths]
            con.register(f"_text_{src.table}", pd.concat(frames, ignore_index=True))
            return f"_text_{src.table}"
        for path, shown in zip(paths, src.files, strict=True):
            text_checks.check_text(path, shown)
        opts = f", delim = {_literal(delim)}" if delim else ""
        return f"read_csv({files}, header = true, union_by_name = true, all_varchar = true{opts})"
    frames = []
    for path, shown in zip(paths, src.files, strict=True):
        frame = pd.read_excel(path, sheet_name=src.options.get("sheet", 0), dtype=str)
        if frame.empty and not len(frame.columns):
            raise UserError(f"{shown}: the sheet is empty", hint="export the table again, or name its sheet:")
        frames.append(frame)
    con.register(f"_xlsx_{src.table}", pd.concat(frames, ignore_index=True))
    return f"_xlsx_{src.table}"


_LINKS: list[str] = []


def _readable_path(path: Path) -> str:
    """A path DuckDB can open: a file name that is not valid UTF-8 (a Windows-1252 ``café.csv`` on a UTF-8
    system) is reached through a symbolic link with a plain name in a temporary folder."""
    try:
        str(path).encode("utf-8")
        return str(path)
    except UnicodeEncodeError:
        pass
    if not _LINKS:
        _LINKS.append(tempfile.mkdtemp(prefix="salesperf-names-"))
        atexit.register(shutil.rmtree, _LINKS[0], True)
    link = Path(_LINKS[0]) / f"{len(os.listdir(_LINKS[0]))}{path.suffix.encode('ascii', 'replace').decode()}"
    os.symlink(os.path.abspath(path), link)
    return str(link)


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
                frame = database.sql(opts["query"]).to_arrow_table()  # Arrow without a DB-API copy
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


def _no_known_column(src: Source, where: str, found: list[str]) -> None:
    """A file none of whose columns is one of the table's: say whether its header lies lower (title rows,
    merged cells) or what its first row holds."""
    names = TABLES[src.table].names
    if src.format == "parquet":
        return
    path, declared = _readable_path(src.files[0]), src.options.get("delimiter")
    rows = text_checks.first_rows(path, src.format, src.options.get("sheet", 0), declared)
    below = text_checks.header_below(rows, names)
    first = ", ".join(repr(c) for c in (rows[0] if rows else []) if str(c).strip())[:200] or "nothing"
    if declared and src.format != "xlsx" and (found := text_checks.sniffed_delimiter(path)) != declared:
        raise UserError(
            f"{where}: with the catalog's delimiter {declared!r}, the first row is one column {first}; "
            f"the file is separated by {found!r}",
            hint=f"set delimiter: {found!r} in the catalog, or leave it out (it is detected)",
        )
    if below:
        number, cells = below
        raise UserError(
            f"{where}: the header is not on the first row: row 1 holds {first} (a title or merged cells); "
            f"the column names are on row {number}: {', '.join(repr(c) for c in cells[:8])}",
            hint="delete the rows above the header, or read the file with 'salesperf import'",
        )
    raise UserError(
        f"{where}: none of the columns of table '{src.table}' is in the file; its first row holds {first}",
        hint=f"name the columns {', '.join(names[:4])}... or map them in a catalog (columns:)",
    )


def _read_error(src: Source, where: str, exc: Exception) -> UserError:
    """The one line for a source DuckDB or the driver could not read (the file's own problem when a check
    finds it; never a part of a password)."""
    if src.kind == "file" and src.format in ("csv", "tsv"):
        for path in src.files:
            text_checks.check_text(_readable_path(path), path, limit=None)
    message = _first_line(exc)
    hint = (
        "non-UTF-8 exports (GBK, Excel CSV): convert with 'salesperf import'"
        if "unicode" in str(exc).lower()
        else None
    )
    if src.kind == "sql":  # driver errors quote the URL, its host or its port: any part of a password
        message = mask_url(message)
        hint = "check that the server is reachable and the user, password (${VAR}) and database are right"
    return UserError(f"{where}: cannot read table '{src.table}': {message}", hint=hint)


def canonical_names(table: str, found: list[str], mapped: dict[str, str], where: str) -> dict[str, str]:
    """Canonical column → source column: the catalog's ``columns:`` mapping, else the source column of the
    same name (case and surrounding spaces ignored).

    Raises
    ------
    UserError
        A mapped column that the source lacks.
    """
    by_lower = {c.strip().lower(): c for c in found}
    names = {}
    for name in TABLES[table].names:
        source_name = mapped.get(name)
        if source_name is not None and source_name not in found:
            raise UserError(
                f"{where}: column {source_name!r} (mapped to '{name}' in the catalog) not found",
                hint=f"columns present: {', '.join(found[:12])}",
            )
        source_name = source_name or by_lower.get(name)
        if source_name is not None:
            names[name] = source_name
    return names


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
        raise _read_error(src, where, exc) from None
    renames = canonical_names(src.table, found, src.columns, where)
    if not renames and src.kind == "file":
        _no_known_column(src, where, found)
    select = ", ".join(f"{_quote(s)} AS {_quote(c)}" for c, s in renames.items()) or "NULL AS _empty"
    con.execute(f"CREATE OR REPLACE TEMP VIEW raw_{src.table} AS SELECT {select} FROM {relation}")
    return list(renames)

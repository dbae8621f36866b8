"""The data catalog: where each canonical table comes from.

A catalog is a YAML file::

    stages: [Qualification, Proposal, Negotiation, Closed Won, Closed Lost]   # optional: known stage names
    currency: GBP                           # optional: the amounts' currency when the data do not say
    tables:
      orders: exports/orders-*.csv          # a file, or a glob of files (CSV/TSV, Parquet, Excel .xlsx)
      products: {path: erp/products.csv, delimiter: ";", encoding: gb18030}   # a CSV in another encoding
      customers:
        path: crm/accounts.xlsx
        sheet: Accounts
        columns: {customer_id: Account ID, name: Account Name}   # canonical name: source column
      reps:
        duckdb: warehouse.duckdb                                  # a DuckDB database file
        table: sales.reps
      targets:
        url: postgresql://${PGUSER}:${PGPASSWORD}@db.example/sales   # any SQLAlchemy URL
        query: select rep_id, period, quota from quotas

A catalog may instead name the **engine** the queries run in, so that validation, the period cut and every
aggregate run where the data live and only aggregates travel back::

    engine: postgresql://${PGUSER}:${PGPASSWORD}@db.example/sales   # or spark://host:7077, local[2]
    tables:
      orders: {table: sales.order_lines, columns: {amount: net_amount}}
      customers: {table: crm.accounts}
      # on Spark a table may also be Parquet files: orders: s3a://bucket/orders/  (or a local folder)

Relative paths resolve against the catalog's folder; ``${VAR}`` is read from the environment, so credentials
never live in the file. Without a catalog, a folder whose files are named after the tables (``orders.csv``,
``customers.parquet``, or a sub-folder ``orders/`` of files) is a catalog too.
"""

from __future__ import annotations

import codecs
import glob
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote

from salesperf.core.errors import UserError, unknown_key
from salesperf.core.fmt import currency_code
from salesperf.data.schema import TABLES
from salesperf.data.yamlfile import read_yaml

FILE_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "xlsx",
}
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: The catalog's schema: top-level keys, and the keys of a table's source by kind (the key that names it).
TOP_KEYS = ("tables", "stages", "currency", "engine")
SOURCE_KEYS = {
    "path": ("path", "sheet", "delimiter", "encoding", "format", "columns"),
    "duckdb": ("duckdb", "table", "query", "columns"),
    "url": ("url", "table", "query", "columns"),
    "table": ("table", "columns"),  # a table of the catalog's engine
}


@dataclass(frozen=True)
class Source:
    """Where one canonical table comes from.

    Attributes
    ----------
    table : str
        Canonical table name.
    kind : {'file', 'duckdb', 'sql', 'engine'}
    files : tuple of Path
        The files (``kind='file'``), already expanded from a glob.
    format : str
        ``csv``, ``tsv``, ``parquet`` or ``xlsx`` for files.
    location : str
        What the user wrote (path, glob, database file or URL with credentials masked) — for messages and
        manifests.
    columns : dict
        Canonical column name → source column name, for sources whose headers differ.
    options : dict
        ``sheet`` for Excel, ``delimiter`` for text files, ``table``/``query`` for databases, ``url`` (secret)
        for SQL; ``table`` for a table of the catalog's engine.
    """

    table: str
    kind: str
    location: str
    files: tuple[Path, ...] = ()
    format: str = ""
    columns: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Catalog:
    """All sources of one company's data, and where the description came from."""

    sources: dict[str, Source]
    origin: str
    stages: tuple[str, ...] = ()
    currency: str = ""  # ISO code (or symbol) stated by the catalog or the command line; '' = the data's
    engine: str = ""  # the warehouse URL or Spark master as written (``${VAR}`` unexpanded); '' = embedded

    def __contains__(self, table: str) -> bool:
        return table in self.sources


_SECRET_KEYS = r"(?:password|passwd|pwd|token|secret|api_key|apikey|access_token)"
_SECRET_QUERY = re.compile(rf"([?&]{_SECRET_KEYS}=)[^&]*", re.IGNORECASE)
# scheme://user: then everything up to the last '@' of the token (a password may contain '@', ':', '/', '%')
_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s'\"]*:)[^\s'\"]*@")
_PART_SEPARATORS = re.compile(r"[@:/%?#]")
#: Passwords read from catalog URLs in this process (and their parts), masked in every message.
_SECRETS: set[str] = set()


def _split_userinfo(url: str) -> tuple[str, str, str, str] | None:
    """``(scheme://, user, password, host and the rest)``, the password running up to the last ``@`` before
    the query string; ``None`` when the URL has no password."""
    match = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*://)(.*)\Z", url, re.DOTALL)
    if not match:
        return None
    tail = match[2]
    query = tail.find("?")
    cut = tail.rfind("@", 0, query if query >= 0 else len(tail))
    user, sep, password = tail[: max(cut, 0)].partition(":")
    if cut < 0 or not sep or not password:
        return None
    return match[1], user, password, tail[cut + 1 :]


def _remember_secret(password: str) -> None:
    for text in {password, unquote(password)}:
        _SECRETS.add(text)
        _SECRETS.update(part for part in _PART_SEPARATORS.split(text) if len(part) >= 4)


def connect_url(url: str) -> str:
    """The URL a driver is given: its password remembered as a secret (masked by :func:`mask_url` in every
    later message) and percent-encoded when written raw (``p@ss:w/rd`` → ``p%40ss%3Aw%2Frd``), so that a
    password with ``@``, ``:`` or ``/`` reaches the server instead of being read as a host or a port."""
    for match in re.finditer(rf"[?&]{_SECRET_KEYS}=([^&]+)", url, re.IGNORECASE):
        _remember_secret(match[1])
    parts = _split_userinfo(url)
    if parts is None:
        return url
    head, user, password, rest = parts
    _remember_secret(password)
    if re.search(r"[@:/?#\s]|%(?![0-9A-Fa-f]{2})", password):
        password = quote(password, safe="")
        _remember_secret(password)
    return f"{head}{user}:{password}@{rest}"


def mask_url(url: str) -> str:
    """Hide the secrets of a database URL, or of a message that quotes one, in the authority or the query
    string; and every password :func:`connect_url` has seen (and each of its parts), wherever it appears.

    ``postgresql://ann:hunter2@host/db`` → ``postgresql://ann:***@host/db``;
    ``postgresql://ann:p@ss:w/rd@host/db`` → ``postgresql://ann:***@host/db`` (up to the last ``@``);
    ``sqlite:///crm.db?password=x&mode=ro`` → ``sqlite:///crm.db?password=***&mode=ro``.
    """
    for secret in sorted(_SECRETS, key=len, reverse=True):
        url = url.replace(secret, "***")
    url = _USERINFO.sub(r"\1***@", url)
    return _SECRET_QUERY.sub(r"\1***", url)


def _expand_env(text: str, where: str) -> str:
    def value(match: re.Match) -> str:
        name = match[1]
        if name not in os.environ:
            raise UserError(f"{where}: environment variable {name} is not set", hint=f"export {name}=...")
        return os.environ[name]

    return _ENV.sub(value, text)


def _file_source(table: str, pattern: str, base: Path, where: str, spec: dict) -> Source:
    path = Path(pattern).expanduser()
    path = path if path.is_absolute() else base / path
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in FILE_FORMATS)
    else:
        files = sorted(Path(p) for p in glob.glob(str(path)))
    if not files:
        raise UserError(
            f"{where}: table '{table}': no file matches {pattern!r}", hint="check the path in the catalog"
        )
    formats = {spec.get("format") or FILE_FORMATS.get(f.suffix.lower()) for f in files}
    if None in formats or len(formats) != 1:
        raise UserError(
            f"{where}: table '{table}': cannot tell the file format of {pattern!r}",
            hint="use .csv, .tsv, .parquet or .xlsx files of one kind, or set format:",
        )
    options = {k: spec[k] for k in ("sheet", "delimiter", "encoding") if k in spec}
    return Source(
        table, "file", pattern, tuple(files), formats.pop(), dict(spec.get("columns") or {}), options
    )


def engine_url(catalog: Catalog) -> str:
    """The catalog's engine with its ``${VAR}`` read from the environment ('' = the embedded DuckDB)."""
    return connect_url(_expand_env(catalog.engine, catalog.origin)) if catalog.engine else ""


def _engine_source(table: str, spec, base: Path, where: str) -> Source:
    """A table of the catalog's engine (``{table: schema.name}``), or files the engine reads (Spark)."""
    if isinstance(spec, dict) and "table" in spec and not {"path", "duckdb", "url"} & set(spec):
        _check_spec(table, spec, where)
        columns = dict(spec.get("columns") or {})
        name = str(spec["table"])
        return Source(table, "engine", name, columns=columns, options={"table": name})
    source = _source(table, spec, base, where)
    if source.kind != "file" or source.format != "parquet":
        raise UserError(
            f"{where}: table '{table}': with an engine, a table is 'table: NAME' (a table of the engine) or "
            f"Parquet files, got {source.location!r}"
        )
    return source


def _check_spec(table: str, spec: dict, where: str) -> None:
    """Refuse keys outside the schema (naming the nearest valid key), keys of another kind of source, and
    values of the wrong type; ``columns:`` must map canonical columns of the table to source headers."""
    place = f"{where}: table '{table}'"
    every = {key for keys in SOURCE_KEYS.values() for key in keys}
    kind = next((k for k in SOURCE_KEYS if k in spec), "path")
    for key in spec:
        if key not in every:
            raise unknown_key(key, every, place)
        if key not in SOURCE_KEYS[kind]:
            raise UserError(
                f"{place}: '{key}:' does not apply to a {kind}: source",
                hint=f"a {kind}: source takes {', '.join(SOURCE_KEYS[kind])}",
            )
    for key, value in spec.items():
        text = isinstance(value, str) or (key == "sheet" and type(value) is int)
        if key != "columns" and not text:
            raise UserError(f"{place}: '{key}:' must be text, got {type(value).__name__} {str(value)[:60]!r}")
    if len(spec.get("delimiter", ",")) != 1:
        raise UserError(f"{place}: 'delimiter:' is one character, got {spec['delimiter']!r}", hint="e.g. ';'")
    try:
        codecs.lookup(spec.get("encoding", "utf-8"))
    except LookupError:
        raise UserError(
            f"{place}: unknown encoding {spec['encoding']!r}", hint="e.g. gb18030, cp1252, utf-16"
        ) from None
    if spec.get("format", "csv") not in set(FILE_FORMATS.values()):
        raise unknown_key(spec["format"], set(FILE_FORMATS.values()), place, "format")
    _check_columns(table, spec.get("columns") or {}, place)


def _check_columns(table: str, columns, place: str) -> None:
    if not isinstance(columns, dict):
        raise UserError(f"{place}: 'columns:' maps canonical columns to source headers (customer_id: Kunde)")
    for name, header in columns.items():
        if name not in TABLES[table].names:
            raise unknown_key(name, TABLES[table].names, f"{place}: columns", "column")
        if not isinstance(header, str | int) or isinstance(header, bool):
            raise UserError(f"{place}: columns: '{name}' must name one source header, got {header!r}")


def _source(table: str, spec, base: Path, where: str) -> Source:
    if isinstance(spec, str):
        return _file_source(table, spec, base, where, {})
    if not isinstance(spec, dict):
        kind = type(spec).__name__
        raise UserError(f"{where}: table '{table}' must be a path or a mapping, got a {kind}")
    _check_spec(table, spec, where)
    columns = dict(spec.get("columns") or {})
    if "path" in spec:
        return _file_source(table, str(spec["path"]), base, where, spec)
    if "duckdb" in spec:
        path = Path(spec["duckdb"]).expanduser()
        path = path if path.is_absolute() else base / path
        if not path.exists():
            raise UserError(f"{where}: table '{table}': DuckDB file {str(path)!r} does not exist")
        options = {"database": str(path), "table": spec.get("table", table), "query": spec.get("query")}
        return Source(table, "duckdb", str(spec["duckdb"]), columns=columns, options=options)
    if "url" in spec:
        if not spec.get("query") and not spec.get("table"):
            raise UserError(f"{where}: table '{table}': a SQL source needs 'query:' or 'table:'")
        options = {
            "url": connect_url(_expand_env(str(spec["url"]), where)),
            "table": spec.get("table"),
            "query": spec.get("query"),
        }
        return Source(table, "sql", mask_url(str(spec["url"])), columns=columns, options=options)
    raise UserError(f"{where}: table '{table}' needs one of path:, duckdb: or url:")


def load_catalog(path: str | Path) -> Catalog:
    """Read a catalog YAML file.

    Parameters
    ----------
    path : str or Path
        The catalog file.

    Returns
    -------
    Catalog

    Raises
    ------
    UserError
        Unreadable YAML, unknown table names, missing files or environment variables, no ``orders`` source.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"catalog {str(path)!r} does not exist", hint="pass --catalog FILE or --data DIR")
    spec = read_yaml(path, "catalog") or {}
    tables = spec.get("tables") if isinstance(spec, dict) else None
    if not isinstance(tables, dict):
        raise UserError(f"{path}: expected a 'tables:' mapping of table name to source")
    for key in spec:
        if key not in TOP_KEYS:
            raise unknown_key(key, TOP_KEYS, str(path))
    for name in tables:
        if name not in TABLES:
            raise unknown_key(name, TABLES, str(path), "table")
    if not isinstance(spec.get("stages") or [], list):
        raise UserError(f"{path}: 'stages:' is a list of stage names, got {spec['stages']!r}")
    engine = spec.get("engine") or ""
    if not isinstance(engine, str):
        raise UserError(f"{path}: 'engine:' must be a warehouse URL or a Spark master, got {engine!r}")
    read = _engine_source if engine else _source
    sources = {name: read(name, spec_, path.parent, str(path)) for name, spec_ in tables.items()}
    stages = tuple(str(s) for s in spec.get("stages") or ())
    currency = spec.get("currency") or ""
    if not isinstance(currency, str) or len(currency.strip()) > 8:
        raise UserError(
            f"{path}: 'currency:' must be an ISO code such as GBP (or a symbol), got {currency!r}"
        )
    return _checked(Catalog(sources, str(path), stages, currency_code(currency), engine.strip()))


def catalog_from_folder(folder: str | Path) -> Catalog:
    """Treat a folder of files named after the canonical tables as a catalog.

    ``orders.csv``, ``customers.parquet``, ``reps.xlsx`` or a sub-folder ``orders/`` holding many files all
    work. A ``catalog.yml`` inside the folder takes precedence.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(
            f"data folder {str(folder)!r} does not exist", hint="pass --data DIR or --catalog FILE"
        )
    if (folder / "catalog.yml").is_file():
        return load_catalog(folder / "catalog.yml")
    sources = {}
    for table in TABLES:
        candidates = [p for p in folder.glob(f"{table}.*") if p.suffix.lower() in FILE_FORMATS]
        if (folder / table).is_dir():
            candidates.append(folder / table)
        if len(candidates) > 1:
            raise UserError(f"{folder}: table '{table}' found twice: {', '.join(p.name for p in candidates)}")
        if candidates:
            sources[table] = _file_source(table, candidates[0].name, folder, str(folder), {})
    return _checked(Catalog(sources, str(folder)))


def _checked(catalog: Catalog) -> Catalog:
    if "orders" not in catalog:
        raise UserError(
            f"{catalog.origin}: no orders table",
            hint=(
                "orders is the one required table (orders.csv / orders.parquet, or 'orders:' in the catalog)"
            ),
        )
    return catalog


def resolve(catalog: str | Path | None = None, data: str | Path | None = None) -> Catalog:
    """The catalog a command reads: ``--catalog FILE`` or ``--data DIR`` (a file path given as data is read as
    catalog)."""
    if catalog:
        return load_catalog(catalog)
    if data and Path(data).is_file():
        return load_catalog(data)
    if data:
        return catalog_from_folder(data)
    raise UserError("no data given", hint="pass --catalog FILE or --data DIR")

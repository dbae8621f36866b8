"""Data that live in an engine of their own: a SQL warehouse or a Spark cluster named by the catalog's
``engine:``.

Validation, the period cut and every aggregate then run inside that engine: its raw tables stay where they
are, the clean tables are Ibis expressions over them (nothing is written into the warehouse), and only
aggregates travel back. See docs/warehouse.md.
"""

from __future__ import annotations

import ibis

from salesperf.core.errors import UserError
from salesperf.data.catalog import Catalog, Source, engine_url
from salesperf.data.engine import Engine, connect, spark
from salesperf.data.sources import canonical_names

#: How a catalog names a Spark master rather than a warehouse URL.
SPARK_MASTERS = ("spark://", "local", "yarn", "k8s://")


def open_engine(catalog: Catalog) -> Engine:
    """The engine a catalog names: a warehouse (``postgresql://…``) or a Spark master (``spark://host:7077``,
    ``local[2]``)."""
    url = engine_url(catalog)
    if url.startswith(SPARK_MASTERS):
        return spark(url)
    return connect(url)


def _split(name: str) -> tuple[str | None, str]:
    """``sales.orders`` → (``sales``, ``orders``); ``orders`` → (None, ``orders``)."""
    database, _, table = name.rpartition(".")
    return database or None, table


def raw_table(engine: Engine, src: Source) -> tuple[ibis.Table, list[str]]:
    """A source read where the engine is: a table of the engine, or Parquet files (Spark), with its columns
    renamed to canonical names.

    Returns
    -------
    raw : ibis.Table
        One column per canonical column the source provides (types as the source has them).
    present : list of str
        Those canonical columns.

    Raises
    ------
    UserError
        The table does not exist or cannot be read, or a mapped column is missing.
    """
    where = f"{engine.name}: {src.location}"
    try:
        if src.kind == "engine":
            database, name = _split(src.options["table"])
            source = engine.backend.table(name, database=database)
        else:  # Parquet files read by Spark
            session = engine.backend._session
            session.read.parquet(*[str(f) for f in src.files]).createOrReplaceTempView(f"raw_{src.table}")
            source = engine.backend.table(f"raw_{src.table}")
    except Exception as exc:  # the engine's own errors: no such table, no permission, unreadable files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{where}: cannot read table '{src.table}' ({first[:300]})") from None
    names = canonical_names(src.table, list(source.columns), src.columns, where)
    if not names:
        return source.select(_empty=ibis.null("string")), []
    return source.select(**{c: source[s] for c, s in names.items()}), list(names)

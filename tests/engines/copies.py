"""The demo company's validated tables copied into another engine, for the tests that compare engines."""

from __future__ import annotations

import ibis
from support import PERIOD, TODAY

from salesperf.data.dataset import open_dataset
from salesperf.data.engine import connect, embedded


def copied(request, company, engine: str, tables: tuple[str, ...]):
    """(dataset of ``company``, its DuckDB engine, ``engine`` — ``postgres`` or ``spark`` — holding copies of the
    same validated ``tables``; on Spark as views, so that no table lands in a warehouse folder)."""
    ds = open_dataset(company / "catalog.yml", PERIOD, TODAY)
    other = (
        connect(request.getfixturevalue("postgres_url"))
        if engine == "postgres"
        else request.getfixturevalue("spark_session")
    )
    for name in tables:
        frame = ds.con.execute(f"SELECT * FROM {name}").df()
        if other.name == "pyspark":
            other.backend.create_view(name, ibis.memtable(frame), overwrite=True)
        else:
            other.backend.create_table(name, frame, overwrite=True)
    return ds, embedded(ds.con), other

"""Validation's text rule (``checks.text``: trimmed, NULL when empty) gives the same values on every engine.

Ibis's ``strip()`` compiles on Spark to ``TRIM(' \\t\\n\\r\\v\\f' FROM x)``, whose escapes Spark reads as the
letters v and f: a padded ' void ' came back as 'oid'. The values below start or end with those letters, padded
and not.
"""

from __future__ import annotations

import duckdb
import ibis
import pandas as pd
import pytest

from salesperf.data import checks
from salesperf.data.engine import connect, embedded

WRITTEN = [" void ", "visit", "fix\t", "\tv", "a b", "", "  ", "f", "\nvv\n", None]
EXPECTED = ["void", "visit", "fix", "v", "a b", None, None, "f", "vv", None]


@pytest.fixture(params=["duckdb", "postgres", "spark"])
def engine(request):
    if request.param == "duckdb":
        return embedded(duckdb.connect())
    if request.param == "postgres":
        return connect(request.getfixturevalue("postgres_url"))
    return request.getfixturevalue("spark_session")


def test_text_is_trimmed_alike_on_every_engine(engine):
    frame = pd.DataFrame({"i": range(len(WRITTEN)), "x": WRITTEN})
    if engine.name == "pyspark":
        engine.backend.create_view("text_rule", ibis.memtable(frame), overwrite=True)
    else:
        engine.backend.create_table("text_rule", frame, overwrite=True)
    raw = engine.backend.table("text_rule")
    got = engine.fetch(raw.select(raw.i, x=checks.text(raw.x)).order_by("i"))
    assert [None if pd.isna(v) else v for v in got["x"]] == EXPECTED

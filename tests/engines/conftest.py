"""Fixtures of the engine tests: a real PostgreSQL server (see tests/postgres_server.py) and a local Spark
session (PySpark, two cores, Java 17).

Without a PostgreSQL server or without PySpark/Java the tests that need them skip with one line saying how to run
them, unless ``SALESPERF_REQUIRE_POSTGRES=1`` / ``SALESPERF_REQUIRE_SPARK=1`` (set by .ci/run): there a missing engine
is a failure.
"""

import importlib.util
import os
import shutil
import tempfile

import pytest
from postgres_server import HOW, PostgresServer, server_binaries


def _missing(what: str, flag: str) -> None:
    if os.environ.get(flag) == "1":
        pytest.fail(what)
    pytest.skip(what)


@pytest.fixture(scope="session")
def postgres_url():
    """URL of a fresh PostgreSQL server for this session (user ``salesperf``, database ``postgres``)."""
    binaries = server_binaries()
    if binaries is None:
        _missing(HOW, "SALESPERF_REQUIRE_POSTGRES")
    folder = tempfile.mkdtemp(prefix="salesperf_pg_")
    os.chmod(folder, 0o755)
    server = PostgresServer(folder, binaries).start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory):
    """A local Spark session (``local[2]``, its warehouse folder in a temporary folder) for this test session."""
    if importlib.util.find_spec("pyspark") is None or shutil.which("java") is None:
        _missing("PySpark or Java 17 not found: pip install 'salesperf[spark]' and install Java 17 (bash .ci/run does) "
                 "to run them", "SALESPERF_REQUIRE_SPARK")
    from pyspark.sql import SparkSession

    from salesperf.data.engine import SPARK_CONFIG, spark

    builder = SparkSession.builder.master("local[2]")
    for key, value in SPARK_CONFIG.items():
        builder = builder.config(key, value)
    # this session's own warehouse folder: tables a test saves never meet those of another session
    builder = builder.config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark_warehouse")))
    engine = spark(session=builder.getOrCreate())
    yield engine
    engine.backend._session.stop()


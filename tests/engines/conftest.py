"""Fixtures of the engine tests: a real PostgreSQL server (see tests/postgres_server.py)."""

import os
import tempfile

import pytest
from postgres_server import HOW, PostgresServer, server_binaries


@pytest.fixture(scope="session")
def postgres_url():
    """URL of a fresh PostgreSQL server for this session (user ``salesperf``, database ``postgres``)."""
    binaries = server_binaries()
    if binaries is None:
        if os.environ.get("SALESPERF_REQUIRE_POSTGRES") == "1":
            pytest.fail(HOW)
        pytest.skip(HOW)
    folder = tempfile.mkdtemp(prefix="salesperf_pg_")
    os.chmod(folder, 0o755)
    server = PostgresServer(folder, binaries).start()
    yield server.url
    server.stop()

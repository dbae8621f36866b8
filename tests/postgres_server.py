"""A real, throwaway PostgreSQL server for the warehouse tests (``postgres_url`` fixture of tests/engines).

The server binaries come from the Debian package ``postgresql`` (``bash .ci/run`` installs it). A cluster is
created with ``initdb`` in a temporary folder, started with ``pg_ctl`` on a free local port with trust
authentication, and stopped when the test session ends. PostgreSQL refuses to run as root: as root the cluster
belongs to the ``postgres`` system user the package creates.

Without the binaries the tests that need the server are skipped with one line saying how to run them, unless
``SALESPERF_REQUIRE_POSTGRES=1`` (set by .ci/run), where their absence is a failure.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

HOW = "PostgreSQL server binaries not found: install the Debian package 'postgresql' (bash .ci/run does) to run them"


def server_binaries() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: on PATH, else the newest /usr/lib/postgresql/*/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    """One cluster in ``folder``; ``url`` is ready once :meth:`start` returns."""

    def __init__(self, folder: Path, binaries: Path):
        self.folder, self.binaries = Path(folder), binaries
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root; the package's system user runs it
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.folder, "postgres")
        self.data = self.folder / "cluster"
        self.url = f"postgresql://salesperf@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> PostgresServer:
        self._run(str(self.binaries / "initdb"), "-D", str(self.data), "-U", "salesperf", "-A", "trust",
                  "-E", "UTF8", "--locale=C")
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(str(self.binaries / "pg_ctl"), "-D", str(self.data), "-o", options, "-l",
                  str(self.folder / "server.log"), "-w", "-t", "60", "start")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.2)
        raise RuntimeError(f"PostgreSQL did not accept connections on port {self.port}")

    def stop(self) -> None:
        subprocess.run([*self.as_user, str(self.binaries / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"],
                       capture_output=True, timeout=60)

"""The databases tests run on: a fresh SQLite file, or a fresh database on a PostgreSQL server
started for the test run (Debian's postgresql, listening on 127.0.0.1 only, its data in a
temporary folder, gone when the run ends).

Each PostgreSQL test database is a copy of a template migrated once per run, so a test pays for
CREATE DATABASE, not for the migrations. tests/setup.sh installs the server.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text

from testengine.services.backups import postgres_program
from testengine.storage.database import open_database

BACKENDS = ("sqlite", "postgresql")
TEMPLATE = "testengine_template"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """A throwaway PostgreSQL cluster. As root, the server runs as the postgres user (it refuses root)."""

    def __init__(self, fsync: bool = False) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="testengine-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.folder, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        options = f"-h 127.0.0.1 -p {self.port} -k {self.folder}" + ("" if fsync else " -F")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "server.log"), "-w", "start")
        self._names = itertools.count(1)
        self._admin = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        with self._admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {TEMPLATE}"))
        open_database(self.url(TEMPLATE)).dispose()

    def _run(self, program: str, *args: str) -> None:
        subprocess.run([*self._as, postgres_program(program), *args], check=True, capture_output=True, timeout=120)

    def url(self, name: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def new_database(self, empty: bool = False) -> str:
        """A fresh database at the newest schema (or with no tables at all); its URL."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        with self._admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name} TEMPLATE {'template0' if empty else TEMPLATE}"))
        return self.url(name)

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with self._admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))

    def stop(self) -> None:
        self._admin.dispose()
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

"""Backups of the whole database, taken while the engine runs, and restores into an empty one.

SQLite: the online backup API copies a consistent snapshot page by page while writers carry on
(a backup is itself a SQLite database file). PostgreSQL: pg_dump's custom format, from one
consistent snapshot, restored with pg_restore. Both refuse to restore over data.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine, make_url

from testengine.storage.database import make_engine


class BackupError(RuntimeError):
    """The backup or restore could not be done; the message says why."""


@dataclass(frozen=True)
class TableCounts:
    rows: dict[str, int]  # per table, alembic's bookkeeping included

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def table_counts(engine: Engine) -> TableCounts:
    with engine.connect() as connection:
        names = sorted(inspect(connection).get_table_names())
        return TableCounts({name: int(connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()) for name in names})


def backup(url: str, target: Path) -> TableCounts:
    """Write a consistent copy of the database at `url` to `target` (which must not exist)."""
    if target.exists():
        raise BackupError(f"{target} exists already: give a new file name, so that no backup is overwritten")
    target.parent.mkdir(parents=True, exist_ok=True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        source = sqlite3.connect(_sqlite_file(url))
        copy = sqlite3.connect(target)
        try:
            with copy:
                source.backup(copy, pages=1024)
        finally:
            copy.close()
            source.close()
        counted = make_engine(f"sqlite:///{target}")
    else:
        _run("pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}", f"--dbname={_libpq(url)}")
        counted = make_engine(url)
    try:
        return table_counts(counted)
    finally:
        counted.dispose()


def restore(source: Path, url: str) -> TableCounts:
    """Restore a backup into the database at `url`, which must be empty (no tables)."""
    if not source.is_file():
        raise BackupError(f"no backup file {source}")
    parsed = make_url(url)
    engine = make_engine(url)
    try:
        existing = inspect(engine).get_table_names()
        if existing:
            raise BackupError(f"the database at {parsed.render_as_string(hide_password=True)} is not empty "
                              f"({len(existing)} tables): restore into an empty database")
    finally:
        engine.dispose()
    if parsed.get_backend_name() == "sqlite":
        if not _is_sqlite_file(source):
            raise BackupError(f"{source} is not a SQLite backup")
        backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        target = sqlite3.connect(_sqlite_file(url))
        try:
            with target:
                backup_db.backup(target)
        finally:
            target.close()
            backup_db.close()
    else:
        if _is_sqlite_file(source):
            raise BackupError(f"{source} is a SQLite backup: restore it into a SQLite database")
        _run("pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={_libpq(url)}", str(source))
    engine = make_engine(url)
    try:
        return table_counts(engine)
    finally:
        engine.dispose()


def _sqlite_file(url: str) -> str:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up or restored")
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return str(Path(database).expanduser())


def _is_sqlite_file(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(16) == b"SQLite format 3\x00"


def _libpq(url: str) -> str:
    """The URL for PostgreSQL's own programs (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def postgres_program(name: str) -> str:
    """The newest installed PostgreSQL's program (Debian: /usr/lib/postgresql/N/bin), else PATH."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parent.parent.name))
    if found:
        return str(found[-1])
    located = shutil.which(name)
    if located is None:
        raise BackupError(f"{name} is not installed: install PostgreSQL (Debian: postgresql-client for pg_dump and pg_restore, "
                          "postgresql for the server)")
    return located


def _run(name: str, *args: str) -> None:
    result = subprocess.run([postgres_program(name), *args], capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise BackupError(f"{name} failed: {result.stderr.strip() or result.stdout.strip()}")

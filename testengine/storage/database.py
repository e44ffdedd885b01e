"""Engines for SQLite (the embedded default) and PostgreSQL, migrated with Alembic."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import create_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # A pooled connection is tested before each use, so a database restart costs no request.
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    writer = _Writer()
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", writer.begin)
    event.listen(engine, "commit", writer.end)
    event.listen(engine, "rollback", writer.end)
    return engine


class _Writer:
    """One serialized writer for SQLite.

    Every transaction takes SQLite's write lock at BEGIN (IMMEDIATE), so one that reads and
    then writes never fails because another wrote in between. Threads of this process queue
    for it on a mutex first: waiting in SQLite's own busy handler would mean sleeps that grow
    to 100 ms each, which is where tail latency comes from under load.
    """

    WAIT_SECONDS = 30.0

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def begin(self, connection: Any) -> None:
        if not self._lock.acquire(timeout=self.WAIT_SECONDS):
            raise TimeoutError("the database stayed busy for 30 seconds")
        connection.info["testengine_writer"] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self.end(connection)
            raise

    def end(self, connection: Any) -> None:
        if connection.info.pop("testengine_writer", False):
            self._lock.release()


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # The driver must not open transactions itself; _begin_immediate does.
    connection.isolation_level = None
    cursor = connection.cursor()
    # WAL lets readers work while one writer commits; FULL makes every acknowledged commit
    # survive a power cut; foreign keys are off in SQLite unless asked for.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (the newest by default; a no-op when it is there)."""
    config = alembic_config()
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            # SQLite alters a table by copying it, which referencing tables' foreign keys would
            # refuse; they are checked as a whole after the migration instead. The pragma only
            # takes effect outside a transaction, so it goes straight to the driver.
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        with connection.begin():
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left rows with broken references: {broken[:5]}")
        if sqlite:
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def open_database(url: str) -> Engine:
    engine = make_engine(url)
    migrate(engine)
    return engine

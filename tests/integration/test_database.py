"""The schema comes from Alembic migrations, matches the tables, and SQLite runs in WAL mode."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from testengine.storage import tables  # noqa: F401
from testengine.storage.database import migrate, open_database


def test_the_migrations_build_exactly_the_schema_the_tables_describe(engine):
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


def test_migrating_twice_changes_nothing(engine):
    migrate(engine)
    with engine.connect() as connection:
        assert connection.execute(text("select version_num from alembic_version")).scalar() == "0001"


def test_sqlite_runs_in_wal_mode_with_durable_commits_and_foreign_keys(engine):
    with engine.connect() as connection:
        assert connection.execute(text("pragma journal_mode")).scalar() == "wal"
        assert connection.execute(text("pragma synchronous")).scalar() == 2  # FULL
        assert connection.execute(text("pragma foreign_keys")).scalar() == 1


def test_the_database_folder_is_created_when_missing(tmp_path):
    target = tmp_path / "nested" / "data" / "te.db"
    open_database(f"sqlite:///{target}")
    assert target.exists()

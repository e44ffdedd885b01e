"""The schema comes from Alembic migrations and matches the tables on SQLite and PostgreSQL;
SQLite runs in WAL mode with durable commits, PostgreSQL with durable commits."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
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
        assert connection.execute(text("select version_num from alembic_version")).scalar() == "0012"


def test_sqlite_runs_in_wal_mode_with_durable_commits_and_foreign_keys(tmp_path):
    engine = open_database(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("pragma journal_mode")).scalar() == "wal"
        assert connection.execute(text("pragma synchronous")).scalar() == 2  # FULL
        assert connection.execute(text("pragma foreign_keys")).scalar() == 1


def test_postgresql_commits_are_durable_and_references_are_checked(postgres):
    engine = open_database(postgres.new_database())
    with engine.connect() as connection:
        assert connection.execute(text("show synchronous_commit")).scalar() == "on"
        with pytest.raises(IntegrityError):
            connection.execute(text("insert into sittings (candidate_id, unit, status, practice, simulated, created_at)"
                                    " values (999, 5, 'booked', false, false, now())"))
    engine.dispose()


def test_the_database_folder_is_created_when_missing(tmp_path):
    target = tmp_path / "nested" / "data" / "te.db"
    open_database(f"sqlite:///{target}")
    assert target.exists()


def test_a_database_with_sittings_from_the_first_schema_upgrades_with_its_data(tmp_path):
    from datetime import UTC, datetime

    from testengine.storage.database import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, "0001")
    now = datetime(2026, 1, 5, tzinfo=UTC).isoformat()
    with engine.begin() as connection:
        connection.execute(text("insert into candidates (id, candidate_number, name, created_at) values (1, 'C1', 'A', :t)"), {"t": now})
        connection.execute(text(
            "insert into forms (id, unit, seed, blueprint_digest, duration_minutes, total_marks, cut_score, pass_rule,"
            " expected_facility, expected_seconds, exposure_relaxed, candidate_id, created_at)"
            " values (1, 5, 1, 'd', 35, 25, 13, '{}', 0.6, 900, '[]', 1, :t)"), {"t": now})
        connection.execute(text(
            "insert into sittings (id, candidate_id, form_id, unit, status, practice, simulated, created_at)"
            " values (1, 1, 1, 5, 'submitted', 0, 1, :t)"), {"t": now})
        connection.execute(text("insert into responses (sitting_id, position, response, answered_at) values (1, 1, '\"a\"', :t)"), {"t": now})
    migrate(engine)
    with engine.connect() as connection:
        assert connection.execute(text("select sequence, flagged from responses")).one() == (0, 0)
        assert connection.execute(text("select form_id, booking_id from sittings")).one() == (1, None)
        assert connection.execute(text("pragma foreign_keys")).scalar() == 1


def test_concurrent_read_then_write_transactions_never_fail(engine):
    """SQLite: every transaction takes the write lock at BEGIN, so threads queue instead of
    failing busy. PostgreSQL: row versions let them run side by side."""
    from concurrent.futures import ThreadPoolExecutor
    from datetime import UTC, datetime

    from sqlmodel import Session, func, select

    from testengine.storage.tables import CandidateRecord

    def add(worker: int) -> None:
        for n in range(25):
            with Session(engine) as session, session.begin():
                count = session.exec(select(func.count()).select_from(CandidateRecord)).one()
                session.add(CandidateRecord(candidate_number=f"W{worker}-{n}-{count}", name="x", created_at=datetime.now(UTC)))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(add, range(4)))
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(CandidateRecord)).one() == 100

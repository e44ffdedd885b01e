"""Opening what a running engine needs: the database, the units, the conduct policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from testengine.domain.conduct import ConductPolicy
from testengine.services.assembly import Assembler
from testengine.services.catalogue import Catalogue, load_catalogue
from testengine.settings import Settings
from testengine.storage.bank_items import seed_bank
from testengine.storage.database import open_database
from testengine.storage.policy_file import read_policy


@dataclass(frozen=True)
class Runtime:
    engine: Engine
    catalogue: Catalogue
    assembler: Assembler
    policy: ConductPolicy


def open_engine(settings: Settings) -> Engine:
    """The database at TESTENGINE_DATABASE_URL, migrated to the newest schema."""
    return open_database(settings.database_url)


def saves_engine(engine: Engine) -> Engine:
    """The engine for the answer saves' group commit. On SQLite, the same engine (its one writer
    is per engine). On PostgreSQL, a pool of its own whose connections are not tested before
    use: the test is one more round trip on the busiest request (p99 33 ms with it, 19 ms
    without, 1,000 candidates on two workers), and a save that meets a dead connection is not
    lost: the queue tries each save of a failed batch again, on a new connection."""
    if engine.dialect.name == "sqlite":
        return engine
    return create_engine(engine.url, pool_pre_ping=False)


def open_runtime(settings: Settings, catalogue: Catalogue | None = None, now: datetime | None = None) -> Runtime:
    """Everything checked before anything is served: a bad file stops start-up with its reasons.
    A catalogue already loaded from the same files may be passed in. The shipped banks are put
    in the database the first time (see seed_banks)."""
    catalogue = catalogue or load_catalogue(settings.item_banks, settings.blueprints)
    policy = read_policy(settings.invigilation)
    engine = open_engine(settings)
    seed_banks(engine, catalogue, now or datetime.now(UTC))
    return Runtime(engine, catalogue, Assembler(catalogue), policy)


def seed_banks(engine: Engine, catalogue: Catalogue, now: datetime) -> list[int]:
    """Put each unit's shipped bank in the database, where items live once the engine runs,
    unless the unit's bank there has been changed in the engine. Returns the units written."""
    written = []
    with Session(engine) as session, session.begin():
        for package in catalogue.units.values():
            if seed_bank(session, package.bank, now):
                written.append(package.number)
    return written

"""Opening what a running engine needs: the database, the units, the conduct policy."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from testengine.domain.conduct import ConductPolicy
from testengine.services.assembly import Assembler
from testengine.services.catalogue import Catalogue, load_catalogue
from testengine.settings import Settings
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


def open_runtime(settings: Settings, catalogue: Catalogue | None = None) -> Runtime:
    """Everything checked before anything is served: a bad file stops start-up with its reasons.
    A catalogue already loaded from the same files may be passed in."""
    catalogue = catalogue or load_catalogue(settings.item_banks, settings.blueprints)
    policy = read_policy(settings.invigilation)
    return Runtime(open_engine(settings), catalogue, Assembler(catalogue), policy)

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from testengine.services.assembly import Assembler
from testengine.services.catalogue import Catalogue, UnitPackage, load_catalogue
from testengine.settings import PROJECT_ROOT
from testengine.storage.database import open_database
from tests.factories import make_blueprint, make_item, make_unit, make_bank

SHIPPED_BANKS = PROJECT_ROOT / "item_banks"
SHIPPED_BLUEPRINTS = PROJECT_ROOT / "blueprints"


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    """A fresh SQLite database in WAL mode, migrated to the newest schema."""
    return open_database(f"sqlite:///{tmp_path / 'testengine.db'}")


@pytest.fixture(scope="session")
def shipped() -> Catalogue:
    return load_catalogue(SHIPPED_BANKS, SHIPPED_BLUEPRINTS)


@pytest.fixture
def small_assembler() -> Assembler:
    """Unit 9: four criteria, six one-mark items each; forms of 6 marks."""
    unit = make_unit()
    items = [make_item(n, unit.criteria[(n - 1) % 4].number, facility=0.5 + 0.05 * (n % 5)) for n in range(1, 25)]
    return Assembler(Catalogue({9: UnitPackage(make_bank(unit, items), make_blueprint(unit, total_marks=6), "digest")}))

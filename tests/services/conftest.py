"""Services on a fresh database (SQLite and PostgreSQL) with the shipped banks, blueprints and policy."""

from __future__ import annotations

import pytest

from testengine.services.runtime import open_runtime
from testengine.settings import PROJECT_ROOT, Settings


@pytest.fixture
def runtime(database_url, shipped):
    settings = Settings(
        database_url=database_url, item_banks=PROJECT_ROOT / "item_banks",
        blueprints=PROJECT_ROOT / "blueprints", invigilation=PROJECT_ROOT / "invigilation",
    )
    opened = open_runtime(settings, shipped)
    yield opened
    opened.engine.dispose()

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from testengine.services.assembly import Assembler
from testengine.services.catalogue import Catalogue, UnitPackage, load_catalogue
from testengine.settings import PROJECT_ROOT
from testengine.storage import database
from testengine.storage.database import make_engine, open_database
from tests.databases import BACKENDS, PostgresServer
from tests.factories import make_blueprint, make_item, make_unit, make_bank

SHIPPED_BANKS = PROJECT_ROOT / "item_banks"
SHIPPED_BLUEPRINTS = PROJECT_ROOT / "blueprints"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--databases", default=",".join(BACKENDS),
        help="the databases tests that take `database_url` run on, separated by commas (default: sqlite,postgresql)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Every test on a database runs on each backend: the same suite on SQLite and PostgreSQL.
    if "database_url" in metafunc.fixturenames:
        chosen = selected_backends(metafunc.config)
        unknown = sorted(set(chosen) - set(BACKENDS))
        if unknown:
            raise pytest.UsageError(f"--databases: {', '.join(unknown)} (choose from {', '.join(BACKENDS)})")
        metafunc.parametrize("database_url", chosen, indirect=True)
    if "module_database" in metafunc.fixturenames:
        metafunc.parametrize("module_database", selected_backends(metafunc.config), indirect=True, scope="module")


@pytest.fixture(autouse=True)
def _close_connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every engine a test opens gives its pooled connections back when the test ends (an engine
    stays usable: it connects again when next used), so no connection is left for the garbage
    collector, and PostgreSQL test databases can be dropped."""
    opened: list[Engine] = []

    def make(url: str) -> Engine:
        engine = make_engine(url)
        opened.append(engine)
        return engine

    monkeypatch.setattr(database, "make_engine", make)
    yield
    for engine in opened:
        engine.dispose()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    yield server
    server.stop()


def fresh_database(request: pytest.FixtureRequest, backend: str, folder: Path) -> Iterator[str]:
    """A fresh database on `backend`: a SQLite file in `folder`, or a PostgreSQL database at the
    newest schema, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'testengine.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    url = server.new_database()
    yield url
    server.drop(url)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database at the newest schema: a SQLite file, or a PostgreSQL database."""
    yield from fresh_database(request, request.param, tmp_path)


@pytest.fixture
def another_database(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Makes more fresh databases on the same backend as `database_url` (for a second engine):
    migrated like it, or with no tables at all (`empty`)."""
    made: list[str] = []

    def make(name: str, empty: bool = False) -> str:
        if database_url.startswith("sqlite"):
            return f"sqlite:///{tmp_path / (name + '.db')}"
        server: PostgresServer = request.getfixturevalue("postgres")
        made.append(server.new_database(empty))
        return made[-1]

    yield make
    if made:
        server: PostgresServer = request.getfixturevalue("postgres")
        for url in made:
            server.drop(url)


def selected_backends(config: pytest.Config) -> list[str]:
    return [b.strip() for b in config.getoption("--databases").split(",") if b.strip()]


@pytest.fixture(scope="module")
def module_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database shared by one module's tests, once per backend chosen with --databases."""
    yield from fresh_database(request, request.param, tmp_path_factory.mktemp("module"))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A fresh database (SQLite in WAL mode, or PostgreSQL), migrated to the newest schema."""
    opened = open_database(database_url)
    yield opened
    opened.dispose()


@pytest.fixture(scope="session")
def shipped() -> Catalogue:
    return load_catalogue(SHIPPED_BANKS, SHIPPED_BLUEPRINTS)


@pytest.fixture
def small_assembler() -> Assembler:
    """Unit 9: four criteria, six one-mark items each; forms of 6 marks."""
    unit = make_unit()
    items = [make_item(n, unit.criteria[(n - 1) % 4].number, facility=0.5 + 0.05 * (n % 5)) for n in range(1, 25)]
    return Assembler(Catalogue({9: UnitPackage(make_bank(unit, items), make_blueprint(unit, total_marks=6), "digest")}))

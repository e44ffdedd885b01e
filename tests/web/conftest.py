"""The web app in-process (Starlette's TestClient), on a fresh database (SQLite and PostgreSQL), with a clock and
chance the tests control. The deadline sweep is driven by the tests, not a timer."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from testengine.services.demo import create_ready_session
from testengine.services.runtime import Runtime, open_runtime
from testengine.settings import PROJECT_ROOT, Settings
from testengine.web.app import create_app

START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Site:
    settings: Settings
    clock: Clock
    runtime: Runtime
    clients: list[TestClient] = field(default_factory=list)

    def client(self) -> TestClient:
        app = create_app(self.settings, clock=self.clock, rng=random.Random(7), sweep_seconds=0, runtime=self.runtime)
        client = TestClient(app)
        client.__enter__()
        self.clients.append(client)
        return client

    def ready_session(self, unit: int = 5, candidates: int = 2, extra_time: list[int] | None = None, centre: str = "DEMO01"):
        return create_ready_session(
            self.runtime.engine, self.runtime.catalogue, self.runtime.policy, centre, unit, candidates,
            extra_time or [], False, self.clock(), random.Random(len(self.clients) + 11),
        )


@pytest.fixture
def site(database_url, shipped) -> Site:
    settings = Settings(
        database_url=database_url,
        item_banks=PROJECT_ROOT / "item_banks",
        blueprints=PROJECT_ROOT / "blueprints",
        invigilation=PROJECT_ROOT / "invigilation",
        secret_keys=("test-key-new", "test-key-old"),
    )
    # The shipped catalogue is read once per test run; each test gets its own database.
    built = Site(settings, Clock(), open_runtime(settings, shipped))
    yield built
    for client in built.clients:
        client.__exit__(None, None, None)
    built.runtime.engine.dispose()


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str):
    page = client.get("/staff/sign-in")
    return client.post("/staff/sign-in", data={"username": username, "password": password, "csrf_token": csrf_of(page.text)}, follow_redirects=True)


def log_in(client: TestClient, keycode: str):
    page = client.get("/candidate")
    return client.post("/candidate", data={"keycode": keycode, "csrf_token": csrf_of(page.text)}, follow_redirects=True)


def to_waiting_room(client: TestClient, keycode: str):
    page = log_in(client, keycode)
    page = client.post("/candidate/confirm", data={"csrf_token": csrf_of(page.text)}, follow_redirects=True)
    return client.post("/candidate/declaration", data={"csrf_token": csrf_of(page.text), "agree": "yes"}, follow_redirects=True)


def unlock_all(staff: TestClient, session_id: int):
    page = staff.get(f"/staff/sessions/{session_id}")
    return staff.post(f"/staff/sessions/{session_id}", data={"csrf_token": csrf_of(page.text), "action": "unlock_all"})


def start(client: TestClient):
    page = client.get("/candidate/wait")
    return client.post("/candidate/start", data={"csrf_token": csrf_of(page.text)}, follow_redirects=True)


def player_token(html: str) -> str:
    match = re.search(r'data-csrf="([^"]+)"', html)
    assert match
    return match.group(1)

"""Browser tests: Playwright drives Debian's Chromium against a real server on 127.0.0.1.

The server runs in a thread of the test process with a clock the test can move, and its
deadline sweep runs every 0.2 s, as a real one would every second.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from testengine.services.demo import ReadySession, create_ready_session
from testengine.services.runtime import Runtime, open_runtime
from testengine.settings import PROJECT_ROOT, Settings
from testengine.web.app import create_app
from tests.web.conftest import Clock

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    base: str
    clock: Clock
    runtime: Runtime

    def session(self, unit: int = 5, candidates: int = 2, extra_time: list[int] | None = None) -> ReadySession:
        return create_ready_session(
            self.runtime.engine, self.runtime.catalogue, self.runtime.policy, "DEMO01", unit, candidates,
            extra_time or [], False, self.clock(), random.Random(5),
        )


def serve(database_url: str, catalogue, app_seed: int = 3) -> Iterator[Server]:
    settings = Settings(
        database_url=database_url,
        item_banks=PROJECT_ROOT / "item_banks",
        blueprints=PROJECT_ROOT / "blueprints",
        invigilation=PROJECT_ROOT / "invigilation",
        secret_keys=("e2e-key",),
    )
    clock = Clock()
    runtime = open_runtime(settings, catalogue)
    app = create_app(settings, clock=clock, rng=random.Random(app_seed), sweep_seconds=0.2, runtime=runtime)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield Server(f"http://127.0.0.1:{port}", clock, runtime)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        runtime.engine.dispose()


@pytest.fixture
def server(database_url, shipped) -> Iterator[Server]:
    yield from serve(database_url, shipped)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    yield context.new_page()
    context.close()

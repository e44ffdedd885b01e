"""Load benchmark: many candidates sitting tests against a real server on 127.0.0.1.

    python -m tests.benchmarks.load [--candidates 1000] [--seconds 30] [--think 5.0]

1. Starts `testengine serve` in a subprocess on a free port, on a fresh SQLite database.
2. Books the candidates (services, in sessions of up to 500), unlocks them, and takes each one
   through the real pages over HTTP: keycode, confirmation, declaration, Start (which assembles
   their form on demand).
3. Steady phase, bounded by --seconds: every candidate saves an answer, waits an exponential
   think time (mean --think seconds; 1,000 candidates at 5 s make 200 saves/s), and saves
   again. Prints saves/s, p50, p99 and errors.
4. Final burst: every candidate sends one last save at the same instant; prints how long until
   all were acknowledged, and errors.
Targets on the 2-core reference machine with SQLite: 200 saves/s with p99 under 25 ms and no
errors; 1,000 simultaneous final saves all acknowledged within 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import httpx2 as httpx  # the HTTP client Starlette's TestClient uses (the test extras)

from testengine.domain.centres import Actor, Role
from testengine.services.demo import DEMO_CENTRE, create_ready_session, ensure_demo_centre
from testengine.services.invigilation import unlock
from testengine.services.runtime import open_runtime
from testengine.settings import Settings
from tests.web.keys import form_items, right_answer

FAILURES: Counter[str] = Counter()
SERVER_MS: list[float] = []  # the server's own time per save (Server-Timing)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PLAYER_CSRF = re.compile(r'data-csrf="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def token(page: str) -> str:
    match = CSRF.search(page)
    if match is None:
        shown = re.findall(r"<title>[^<]*|<h1>[^<]*|<p role=\"alert\">[^<]*", page)
        raise RuntimeError(f"no form token on the page: {shown}")
    return match.group(1)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))] if ordered else float("nan")


class Candidate:
    """One browser: its own cookies and its own keep-alive connection (aiohttp: a light client,
    so that the load generator does not starve the server of the machine's two cores)."""

    def __init__(self, base: str, keycode: str) -> None:
        self.base = base
        self.keycode = keycode
        self.client = aiohttp.ClientSession(
            base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True), connector=aiohttp.TCPConnector(limit=1),
            timeout=aiohttp.ClientTimeout(total=30),
        )
        self.token = ""
        self.answers: list[tuple[int, object]] = []
        self.sequence = 0

    async def page(self, method: str, url: str, **kwargs) -> str:
        async with self.client.request(method, url, **kwargs) as reply:
            text = await reply.text()
            if reply.status != 200:
                raise RuntimeError(f"{method} {url} answered {reply.status}: {text[:200]}")
            return text

    async def sit_down(self) -> None:
        page = await self.page("GET", "/candidate")
        page = await self.page("POST", "/candidate", data={"keycode": self.keycode, "csrf_token": token(page)})
        page = await self.page("POST", "/candidate/confirm", data={"csrf_token": token(page)})
        await self.page("POST", "/candidate/declaration", data={"csrf_token": token(page), "agree": "yes"})

    async def start(self) -> None:
        page = await self.page("GET", "/candidate/wait")
        page = await self.page("POST", "/candidate/start", data={"csrf_token": token(page)})
        match = PLAYER_CSRF.search(page)
        if match is None:
            raise RuntimeError(f"{self.keycode}: the test did not start")
        self.token = match.group(1)

    async def save(self) -> tuple[float, bool]:
        position, response = random.choice(self.answers)
        self.sequence += 1
        began = time.perf_counter()
        try:
            async with self.client.post(
                "/candidate/answers", json={"position": position, "response": response, "sequence": self.sequence},
                headers={"X-CSRF-Token": self.token},
            ) as reply:
                await reply.read()
                ok = reply.status == 200
                timing = reply.headers.get("Server-Timing", "")
                if timing.startswith("app;dur="):
                    SERVER_MS.append(float(timing[len("app;dur="):]))
                if not ok:
                    FAILURES[f"HTTP {reply.status}"] += 1
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            ok = False
            FAILURES[type(error).__name__] += 1
        return (time.perf_counter() - began) * 1000, ok


def answers_for(engine, keycode: str) -> list[tuple[int, object]]:
    """Right answers to the candidate's own form (any answer would do; these are valid)."""
    return [(position, right_answer(item)) for position, item in form_items(engine, keycode)]


async def gather_limited(jobs, limit: int) -> None:
    gate = asyncio.Semaphore(limit)

    async def run(job):
        async with gate:
            await job

    await asyncio.gather(*(run(j) for j in jobs))


async def start_all(candidates: list[Candidate]) -> None:
    began = time.perf_counter()
    await gather_limited([c.start() for c in candidates], 20)
    print(f"started {len(candidates)} tests (each form assembled on demand) in {time.perf_counter() - began:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the steady phase")
    parser.add_argument("--think", type=float, default=5.0, help="mean seconds between one candidate's saves")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="do not give server and generator a core each")
    args = parser.parse_args()
    if not 1 <= args.candidates <= 5000 or not 1 <= args.seconds <= 600:
        parser.error("at most 5,000 candidates and 600 seconds: the run is bounded")

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'load.db'}"
        settings = Settings.from_environ({"TESTENGINE_DATABASE_URL": url, "TESTENGINE_SECRET_KEYS": "load-benchmark-key"})
        runtime = open_runtime(settings)
        now = datetime.now(UTC)
        centre = ensure_demo_centre(runtime.engine, now)
        keycodes: list[str] = []
        sessions = []
        remaining = args.candidates
        while remaining:
            size = min(500, remaining)
            ready = create_ready_session(runtime.engine, runtime.catalogue, runtime.policy, DEMO_CENTRE, 5, size, [], False, now, random.Random(len(sessions)))
            sessions.append(ready.session_id)
            keycodes += [c.keycode for c in ready.candidates]
            remaining -= size
        print(f"booked {len(keycodes)} candidates in {len(sessions)} session(s)")

        port = free_port()
        env = {**os.environ, "TESTENGINE_DATABASE_URL": url, "TESTENGINE_SECRET_KEYS": "load-benchmark-key"}
        server = subprocess.Popen(
            [sys.executable, "-m", "testengine", "serve", "--host", "127.0.0.1", "--port", str(port), "--quiet"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            # The server gets a core of its own and the load generator the other, so that the
            # generator's own work does not show up as the server's latency.
            preexec_fn=(lambda: os.sched_setaffinity(0, {0})) if args.pin else None,
        )
        if args.pin:
            os.sched_setaffinity(0, {1})
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    httpx.get(f"{base}/", timeout=1.0)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            admin = Actor(0, "benchmark", Role.CENTRE_ADMIN, centre)

            # Log in first, then unlock the rooms, as an invigilator would once all are seated.
            rooms = lambda: [unlock(runtime.engine, admin, s, None, datetime.now(UTC)) for s in sessions]  # noqa: E731
            asyncio.run(main_with_unlock(args, base, keycodes, runtime.engine, rooms))
        finally:
            server.terminate()
            server.wait(timeout=10)
            runtime.engine.dispose()


async def main_with_unlock(args, base, keycodes, engine, unlock_rooms) -> None:
    candidates = [Candidate(base, k) for k in keycodes]
    began = time.perf_counter()
    await gather_limited([c.sit_down() for c in candidates], 20)
    print(f"{len(candidates)} candidates logged in through the pages (keycode, confirmation, declaration) in {time.perf_counter() - began:.1f} s")
    unlock_rooms()
    await start_all(candidates)
    for candidate in candidates:
        candidate.answers = answers_for(engine, candidate.keycode)
    with collector_paused():
        await steady_and_burst(args, candidates)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The generator is the measuring instrument: a pause of its own collector would hold back a
    hundred candidates' saves and send them at once, and the server would be blamed for it. A
    measured phase is bounded, so its garbage can wait."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


async def steady_saves(candidates: list[Candidate], seconds: float, think: float) -> tuple[list[float], int]:
    """Every candidate saves, thinks (exponential, mean `think` s) and saves again, for `seconds`:
    each save's milliseconds, and the errors."""
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds

    async def sit(candidate: Candidate) -> None:
        nonlocal errors
        await asyncio.sleep(random.uniform(0, think))
        while time.perf_counter() < stop_at:
            elapsed, ok = await candidate.save()
            latencies.append(elapsed)
            errors += not ok
            pause = random.expovariate(1 / think)
            if time.perf_counter() + pause >= stop_at:
                break
            await asyncio.sleep(pause)

    await asyncio.gather(*(sit(c) for c in candidates))
    return latencies, errors


async def steady_and_burst(args: argparse.Namespace, candidates: list[Candidate]) -> None:
    latencies, errors = await steady_saves(candidates, args.seconds, args.think)
    duration = args.seconds  # saves are counted only while the phase runs
    print(
        f"steady: {len(latencies)} saves in {duration:.1f} s = {len(latencies) / duration:.0f} saves/s; "
        f"p50 {percentile(latencies, 0.5):.1f} ms, p99 {percentile(latencies, 0.99):.1f} ms, max {max(latencies):.1f} ms; errors {errors}"
    )
    print(
        f"        the server's own time: p50 {percentile(SERVER_MS, 0.5):.1f} ms, p99 {percentile(SERVER_MS, 0.99):.1f} ms, "
        f"max {max(SERVER_MS, default=0):.1f} ms"
    )
    SERVER_MS.clear()
    began = time.perf_counter()
    finals = await asyncio.gather(*(c.save() for c in candidates))
    burst = time.perf_counter() - began
    failed = sum(1 for _, ok in finals if not ok)
    print(
        f"final burst: {len(finals)} simultaneous saves all answered in {burst:.2f} s "
        f"(p50 {percentile([f for f, _ in finals], 0.5):.0f} ms, max {max(f for f, _ in finals):.0f} ms); errors {failed}"
    )
    if FAILURES:
        print("errors by kind:", dict(FAILURES))
    await asyncio.gather(*(c.client.close() for c in candidates))


if __name__ == "__main__":
    main()

"""Scale benchmark: the engine on SQLite and on PostgreSQL with several worker processes, side
by side with a bare Starlette endpoint doing the same single-row write, in one run.

    python -m tests.benchmarks.scale [--candidates 1000] [--configs sqlite,postgresql:2,postgresql:4]
                                     [--seconds 20] [--think 5] [--start-window 30] [--saturate 10]

For each configuration, on a fresh database (PostgreSQL: Debian's server started here on
127.0.0.1 with fsync on, durable commits; SQLite: synchronous=FULL):
1. --candidates booked; the engine (`testengine serve --workers N`) started; every candidate
   logs in through the pages.
2. Start-of-session burst: the room is unlocked and the candidates press Start at random moments
   within --start-window seconds (at most 60), each start assembling a form on demand; prints
   the p50 and p99 of a start. Target: p99 under 1 s.
3. Steady: every candidate saves, thinks (exponential, mean --think s: 1,000 at 5 s is 200
   saves/s) and saves again, for --seconds; prints saves/s, p50, p99, errors. Target: p99 under
   25 ms at 200 saves/s.
4. Saturation, --saturate seconds each: 64 clients send saves back to back, first to the engine's
   answer endpoint, then to the bare endpoint (tests/benchmarks/bare_app.py, same workers, same
   database); prints both throughputs. Target: the engine at least half the bare endpoint.
Everything listens on 127.0.0.1 and every phase is bounded; at most 3,000 candidates.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import httpx2 as httpx  # the HTTP client Starlette's TestClient uses (the test extras)

from testengine.domain.centres import Actor, Role
from testengine.services.demo import DEMO_CENTRE, create_ready_session, ensure_demo_centre
from testengine.services.invigilation import unlock
from testengine.services.runtime import open_runtime
from testengine.settings import Settings
from tests.benchmarks.load import (
    FAILURES,
    SERVER_MS,
    Candidate,
    answers_for,
    collector_paused,
    free_port,
    gather_limited,
    percentile,
    steady_saves,
)
from tests.web.keys import sitting_of

KEY = "scale-benchmark-key"
CLIENTS = 64


@dataclass
class Figures:
    config: str
    start_p50: float = 0.0
    start_p99: float = 0.0
    start_errors: int = 0
    steady_rate: float = 0.0
    steady_p50: float = 0.0
    steady_p99: float = 0.0
    server_p99: float = 0.0  # the server's own time (Server-Timing): the rest is queueing and the client
    steady_errors: int = 0
    engine_saturated: float = 0.0
    bare_saturated: float = 0.0


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    """Until `url` answers at all (any status: the bare endpoint answers a GET with 405)."""
    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError(f"the server behind {url} stopped")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"the server behind {url} did not start")


def serve(command: list[str], env: dict[str, str], log: Path | None = None) -> subprocess.Popen[bytes]:
    """The server's output goes to `log` (--logs), or nowhere."""
    output = log.open("ab") if log else subprocess.DEVNULL
    return subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=20)


async def start_burst(candidates: list[Candidate], window: float) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0

    async def press(candidate: Candidate) -> None:
        nonlocal errors
        await asyncio.sleep(random.uniform(0, window))
        began = time.perf_counter()
        try:
            await candidate.start()
            latencies.append((time.perf_counter() - began) * 1000)
        except Exception as error:
            errors += 1
            FAILURES[f"start: {type(error).__name__}: {str(error)[:100]}"] += 1

    await asyncio.gather(*(press(c) for c in candidates))
    return latencies, errors


async def saturate_engine(candidates: list[Candidate], seconds: float) -> float:
    """Saves per second with CLIENTS candidates saving back to back."""
    done = 0
    stop_at = time.perf_counter() + seconds

    async def hammer(candidate: Candidate) -> None:
        nonlocal done
        while time.perf_counter() < stop_at:
            _, ok = await candidate.save()
            done += ok

    await asyncio.gather(*(hammer(c) for c in candidates[:CLIENTS]))
    return done / seconds


async def saturate_bare(base: str, targets: list[tuple[int, int, object]], seconds: float) -> float:
    done = 0
    stop_at = time.perf_counter() + seconds

    async def hammer(k: int) -> None:
        nonlocal done
        sitting, position, response = targets[k % len(targets)]
        sequence = 10_000_000 + k * 1_000_000
        async with aiohttp.ClientSession(base_url=base, connector=aiohttp.TCPConnector(limit=1)) as client:
            while time.perf_counter() < stop_at:
                sequence += 1
                async with client.post("/save", json={"sitting": sitting, "position": position, "response": response,
                                                      "sequence": sequence}) as reply:
                    await reply.read()
                    done += reply.status == 200

    await asyncio.gather(*(hammer(k) for k in range(CLIENTS)))
    return done / seconds


def run_config(config: str, args: argparse.Namespace, folder: Path, postgres) -> Figures:
    backend, _, workers_text = config.partition(":")
    workers = int(workers_text or "1")
    url = postgres.new_database() if backend == "postgresql" else f"sqlite:///{folder / (config.replace(':', '-') + '.db')}"
    env = {**os.environ, "TESTENGINE_DATABASE_URL": url, "TESTENGINE_SECRET_KEYS": KEY}
    runtime = open_runtime(Settings.from_environ(env))
    now = datetime.now(UTC)
    centre = ensure_demo_centre(runtime.engine, now)
    keycodes, sessions, remaining = [], [], args.candidates
    while remaining:
        size = min(500, remaining)
        ready = create_ready_session(runtime.engine, runtime.catalogue, runtime.policy, DEMO_CENTRE, 5, size, [], False, now,
                                     random.Random(len(sessions)))
        sessions.append(ready.session_id)
        keycodes += [c.keycode for c in ready.candidates]
        remaining -= size
    figures = Figures(config)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logs = args.logs / f"{config.replace(':', '-')}-engine.log" if args.logs else None
    engine_server = serve([sys.executable, "-m", "testengine", "serve", "--port", str(port), "--workers", str(workers), "--quiet"], env, logs)
    try:
        wait_ready(base + "/", engine_server)
        asyncio.run(_engine_phases(args, base, keycodes, sessions, runtime, centre, figures))
    finally:
        stop(engine_server)
    targets = _bare_targets(runtime, keycodes)
    runtime.engine.dispose()
    bare_port = free_port()
    bare = serve([sys.executable, "-m", "uvicorn", "--factory", "tests.benchmarks.bare_app:app", "--host", "127.0.0.1",
                  "--port", str(bare_port), "--workers", str(workers), "--log-level", "warning"], env)
    try:
        wait_ready(f"http://127.0.0.1:{bare_port}/save", bare)
        with collector_paused():
            figures.bare_saturated = asyncio.run(saturate_bare(f"http://127.0.0.1:{bare_port}", targets, args.saturate))
    finally:
        stop(bare)
    return figures


def _bare_targets(runtime, keycodes: list[str]) -> list[tuple[int, int, object]]:
    """Sittings with a form (a candidate whose start failed has none), and an answer to write."""
    found = []
    for keycode in keycodes:
        sitting = sitting_of(runtime.engine, keycode)
        if sitting.form_id is None:
            continue
        position, response = answers_for(runtime.engine, keycode)[0]
        found.append((int(sitting.id), position, response))
        if len(found) == CLIENTS:
            break
    return found


async def _engine_phases(args, base: str, keycodes: list[str], sessions: list[int], runtime, centre: int, figures: Figures) -> None:
    candidates = [Candidate(base, k) for k in keycodes]
    try:
        await gather_limited([c.sit_down() for c in candidates], 20)
        admin = Actor(0, "benchmark", Role.CENTRE_ADMIN, centre)
        for session_id in sessions:
            unlock(runtime.engine, admin, session_id, None, datetime.now(UTC))
        with collector_paused():
            starts, figures.start_errors = await start_burst(candidates, min(args.start_window, 60.0))
        figures.start_p50, figures.start_p99 = percentile(starts, 0.5), percentile(starts, 0.99)
        for candidate in candidates:
            candidate.answers = answers_for(runtime.engine, candidate.keycode) if candidate.token else []
        working = [c for c in candidates if c.answers]
        SERVER_MS.clear()
        with collector_paused():
            saves, figures.steady_errors = await steady_saves(working, args.seconds, args.think)
        figures.server_p99 = percentile(SERVER_MS, 0.99)
        figures.steady_rate = len(saves) / args.seconds
        figures.steady_p50, figures.steady_p99 = percentile(saves, 0.5), percentile(saves, 0.99)
        with collector_paused():
            figures.engine_saturated = await saturate_engine(working, args.saturate)
    finally:
        await asyncio.gather(*(c.client.close() for c in candidates))


HEADER = (f"{'config':<16}{'start p50':>10}{'start p99':>10}{'saves/s':>9}{'save p50':>9}{'save p99':>9}{'errors':>7}"
          f"{'server p99':>11}{'engine max/s':>13}{'bare max/s':>11}{'ratio':>7}")


def row(f: Figures) -> str:
    ratio = f.engine_saturated / f.bare_saturated if f.bare_saturated else float("nan")
    return (f"{f.config:<16}{f.start_p50:>8.0f}ms{f.start_p99:>8.0f}ms{f.steady_rate:>9.0f}{f.steady_p50:>7.1f}ms{f.steady_p99:>7.1f}ms"
            f"{f.steady_errors + f.start_errors:>7}{f.server_p99:>9.1f}ms{f.engine_saturated:>13.0f}{f.bare_saturated:>11.0f}{ratio:>7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=1000)
    parser.add_argument("--configs", default="sqlite,postgresql:2,postgresql:4")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--think", type=float, default=5.0)
    parser.add_argument("--start-window", type=float, default=30.0)
    parser.add_argument("--saturate", type=float, default=10.0)
    parser.add_argument("--logs", type=Path, help="a folder for each engine's output (warnings and errors); none if not given")
    args = parser.parse_args()
    if not 1 <= args.candidates <= 3000 or not 1 <= args.seconds <= 300 or not 1 <= args.saturate <= 60:
        parser.error("at most 3,000 candidates, 300 s steady and 60 s saturation: the run is bounded")
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    postgres = None
    results = []
    with tempfile.TemporaryDirectory() as folder:
        try:
            if any(c.startswith("postgresql") for c in configs):
                from tests.databases import PostgresServer

                postgres = PostgresServer(fsync=True)
            print(HEADER, flush=True)
            for config in configs:
                results.append(run_config(config, args, Path(folder), postgres))
                print(row(results[-1]), flush=True)
                if FAILURES:
                    print(f"{'':<16}errors by kind: {dict(FAILURES)}", flush=True)
                    FAILURES.clear()
        finally:
            if postgres is not None:
                postgres.stop()
    print(f"{args.candidates} candidates; starts within {min(args.start_window, 60.0):g} s; steady load at a mean think time of "
          f"{args.think:g} s for {args.seconds:g} s; {CLIENTS} clients to saturate for {args.saturate:g} s")


if __name__ == "__main__":
    main()

"""Crash test: candidates save answers while the server process is killed with SIGKILL at random
moments, and restarted each time; then every answer the server acknowledged must be in the
database, and every sitting's clock must be as it was owed.

    python -m tests.benchmarks.crash [--database sqlite|postgresql] [--kills 20] [--candidates 60] [--seed 1]

1. A fresh database (SQLite with synchronous=FULL; or PostgreSQL from Debian's server, started
   here on 127.0.0.1 with fsync on and durable commits), a session of --candidates booked,
   unlocked and started through the real pages.
2. --kills rounds: every candidate saves answers with a short think time; after a random 0.3 to
   2.5 s the server gets SIGKILL (mid-commit, mid-response: wherever it is) and is started
   again. A save counts as acknowledged only when the server answered 200; saves that got no
   answer are sent again later with a new sequence number, as the player does.
3. Checks, printed as counts: for every question a candidate's acknowledged saves reached, the
   stored answer is the last acknowledged one or a later one (never older); no sitting was
   submitted; each sitting's deadline is its start plus its time allowed plus the time given back
   for the outages (D7: at least the time the server was away), and the remaining time the
   server reports now is that deadline minus now.
Exit status 1 if anything acknowledged was lost or any clock is wrong. Bounded: at most 100
kills and 300 candidates.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2 as httpx  # the HTTP client Starlette's TestClient uses (the test extras)
from sqlmodel import Session, col, select

from testengine.domain.centres import Actor, Role
from testengine.services.demo import DEMO_CENTRE, create_ready_session, ensure_demo_centre
from testengine.services.invigilation import unlock
from testengine.services.runtime import open_runtime
from testengine.settings import Settings
from testengine.domain.sittings import Kind, replay
from testengine.storage.sitting_events import aware, load_events
from testengine.storage.tables import ResponseRecord, SittingRecord
from tests.benchmarks.load import Candidate, answers_for, free_port
from tests.web.keys import sitting_of

KEY = "crash-test-key"


@dataclass
class Ledger:
    """What the server acknowledged: per (sitting, position), the highest sequence and its answer."""

    acknowledged: dict[tuple[int, int], tuple[int, object]] = field(default_factory=dict)
    sent: int = 0
    acked: int = 0
    unanswered: int = 0

    def record(self, sitting: int, position: int, sequence: int, response: object) -> None:
        held = self.acknowledged.get((sitting, position))
        if held is None or sequence > held[0]:
            self.acknowledged[(sitting, position)] = (sequence, response)


class Server:
    def __init__(self, port: int, env: dict[str, str]) -> None:
        self.port, self.env = port, env
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        began = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "testengine", "serve", "--host", "127.0.0.1", "--port", str(self.port), "--quiet"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        for _ in range(300):
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/", timeout=1.0)
                return time.perf_counter() - began
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("the server did not come back within 15 s")

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


async def save_loop(candidate: Candidate, sitting: int, ledger: Ledger, stop: asyncio.Event, rng: random.Random) -> None:
    while not stop.is_set():
        position, response = rng.choice(candidate.answers)
        candidate.sequence += 1
        sequence = candidate.sequence
        ledger.sent += 1
        try:
            async with candidate.client.post(
                "/candidate/answers", json={"position": position, "response": response, "sequence": sequence},
                headers={"X-CSRF-Token": candidate.token},
            ) as reply:
                await reply.read()
                if reply.status == 200:
                    ledger.acked += 1
                    ledger.record(sitting, position, sequence, response)
                else:
                    ledger.unanswered += 1
        except Exception:  # the server died under the request: not acknowledged, sent again later
            ledger.unanswered += 1
            await asyncio.sleep(0.05)
        await asyncio.sleep(rng.uniform(0.01, 0.1))


async def rounds(args: argparse.Namespace, server: Server, candidates: list[Candidate], sittings: list[int], ledger: Ledger) -> list[float]:
    """Returns how long the server was away each time: from SIGKILL until it answered again."""
    rng = random.Random(args.seed)
    restarts = []
    for _ in range(args.kills):
        stop = asyncio.Event()
        loops = [asyncio.create_task(save_loop(c, s, ledger, stop, random.Random(rng.random()))) for c, s in zip(candidates, sittings)]
        await asyncio.sleep(rng.uniform(0.3, 2.5))
        killed = time.perf_counter()
        server.kill()  # while saves are in flight
        stop.set()
        await asyncio.gather(*loops)
        server.start()  # the browsers' next requests open new connections
        restarts.append(time.perf_counter() - killed)
    return restarts


def check(engine, sittings: list[int], ledger: Ledger, allowed: dict[int, timedelta], now: datetime, away: float,
          kills: int) -> tuple[int, int, int, float]:
    """Acknowledged answers lost; sittings whose deadline is not start + time allowed + the time
    given back for outages (in the log or on the row), or that were given back less than the
    time the server was away (less 0.5 s a kill: the moments between the restarted server
    giving the time back and answering); sittings submitted; and the seconds given back."""
    lost = wrong = submitted = 0
    given = 0.0
    with Session(engine) as session:
        stored = {(r.sitting_id, r.position): (r.sequence, r.response) for r in session.exec(
            select(ResponseRecord).where(col(ResponseRecord.sitting_id).in_(sittings)))}
        for key, (sequence, response) in ledger.acknowledged.items():
            found = stored.get(key)
            if found is None or found[0] < sequence or (found[0] == sequence and found[1] != response):
                lost += 1
        for sitting_id in sittings:
            record = session.get(SittingRecord, sitting_id)
            assert record is not None
            events = load_events(session, sitting_id)
            state = replay(events)
            submitted += any(e.kind is Kind.SUBMITTED for e in events)
            given = sum(float(e.data.get("seconds", 0)) for e in events if e.kind is Kind.TIME_ADDED)
            expected = state.started_at + allowed[sitting_id] + timedelta(seconds=given) if state.started_at else None
            if expected is None or state.deadline(now) != expected or aware(record.deadline) != expected:
                wrong += 1
            elif given < away - 0.5 * kills:
                wrong += 1
    return lost, wrong, submitted, given


async def clocks_seen(candidates: list[Candidate], expected: list[datetime]) -> int:
    """Candidates whose screen would show other than deadline - now (to within 2 s)."""
    wrong = 0
    for candidate, deadline in zip(candidates, expected, strict=True):
        async with candidate.client.get("/candidate/clock") as reply:
            body = await reply.json()
        if abs(body["remaining_seconds"] - (deadline - datetime.now(UTC)).total_seconds()) > 2:
            wrong += 1
    return wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--candidates", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not 1 <= args.kills <= 100 or not 1 <= args.candidates <= 300:
        parser.error("at most 100 kills and 300 candidates: the run is bounded")
    postgres = None
    with tempfile.TemporaryDirectory() as folder:
        if args.database == "postgresql":
            from tests.databases import PostgresServer

            postgres = PostgresServer(fsync=True)
            url = postgres.new_database()
        else:
            url = f"sqlite:///{Path(folder) / 'crash.db'}"
        env = {**os.environ, "TESTENGINE_DATABASE_URL": url, "TESTENGINE_SECRET_KEYS": KEY}
        runtime = open_runtime(Settings.from_environ(env))
        now = datetime.now(UTC)
        centre = ensure_demo_centre(runtime.engine, now)
        ready = create_ready_session(runtime.engine, runtime.catalogue, runtime.policy, DEMO_CENTRE, 5, args.candidates, [], False, now,
                                     random.Random(args.seed))
        server = Server(free_port(), env)
        try:
            server.start()
            ledger = Ledger()
            asyncio.run(run(args, server, runtime, ready, centre, ledger))
        finally:
            server.stop()
            runtime.engine.dispose()
            if postgres is not None:
                postgres.stop()


async def run(args, server: Server, runtime, ready, centre: int, ledger: Ledger) -> None:
    base = f"http://127.0.0.1:{server.port}"
    candidates = [Candidate(base, c.keycode) for c in ready.candidates]
    for c in candidates:
        await c.sit_down()
    unlock(runtime.engine, Actor(0, "crash-test", Role.CENTRE_ADMIN, centre), ready.session_id, None, datetime.now(UTC))
    for c in candidates:
        await c.start()
        c.answers = answers_for(runtime.engine, c.keycode)
    sittings = [sitting_of(runtime.engine, c.keycode).id for c in candidates]
    allowed = {s: timedelta(minutes=runtime.catalogue.unit(5).blueprint.duration_minutes) for s in sittings}
    began = time.perf_counter()
    restarts = await rounds(args, server, candidates, sittings, ledger)
    lost, wrong, submitted, given = check(runtime.engine, sittings, ledger, allowed, datetime.now(UTC), sum(restarts), args.kills)
    with Session(runtime.engine) as session:
        deadlines = [replay(load_events(session, s)).deadline(datetime.now(UTC)) for s in sittings]
    wrong_screens = await clocks_seen(candidates, [d for d in deadlines if d is not None])
    for c in candidates:
        await c.client.close()
    print(f"{args.database}: {args.kills} SIGKILLs in {time.perf_counter() - began:.0f} s; server away {min(restarts):.2f}-{max(restarts):.2f} s "
          f"each, {sum(restarts):.1f} s in all; time given back to each test {given:.0f} s")
    print(f"saves sent {ledger.sent}, acknowledged {ledger.acked}, not answered (server killed) {ledger.unanswered}")
    print(f"questions with an acknowledged answer: {len(ledger.acknowledged)}; acknowledged answers lost: {lost}")
    print(f"sittings {len(sittings)}: clock wrong (deadline, or less given back than the server was away) {wrong}, "
          f"remaining time on screen wrong {wrong_screens}, "
          f"submitted by mistake {submitted}")
    if lost or wrong or wrong_screens or submitted:
        sys.exit(1)


if __name__ == "__main__":
    main()

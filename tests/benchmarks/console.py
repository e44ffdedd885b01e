"""Console benchmark: how long the invigilator's console takes to refresh, for full rooms.

    python -m tests.benchmarks.console [--rooms 100 500] [--refreshes 200] [--pages 10]

For each room size (at most 500 candidates, the most a session may hold):
1. Books the room on a fresh SQLite database (the demo centre, Unit 5, a few candidates with
   extra time) and, through the services rather than the pages (the console is what is being
   measured), logs every candidate in, unlocks the room and starts every test (each form
   assembled on demand). Then the room is put mid-test: each candidate has 0-25 answers saved,
   some flagged, a few lost focus or were warned, a few are paused or on a rest break, a few
   have finished, and most browsers have checked in recently.
2. Starts `testengine serve` on 127.0.0.1 in a subprocess, signs the room's invigilator in over
   HTTP, and times --refreshes sequential GETs of the polled live part
   (`/staff/sessions/{id}/console?live=1`, what htmx fetches every few seconds) and --pages
   GETs of the full console page.
3. Prints p50, p95 and max in ms, as the client saw them and as the server timed itself
   (Server-Timing), the size of the response, and the target.
Targets on the 2-core reference machine with SQLite (p95 of the live refresh, as the client
sees it): under 50 ms for a room of 100, under 200 ms for a room of 500.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx2 as httpx  # the HTTP client Starlette's TestClient uses (the test extras)

from testengine.domain.centres import Actor, Role
from testengine.services.delivery import (
    AnswerSave,
    CandidateSession,
    confirm_details,
    finish_test,
    keycode_login,
    make_declaration,
    record_check_ins,
    record_focus,
    save_answers,
    set_flag,
    start_test,
)
from testengine.services.demo import DEMO_CENTRE, create_ready_session, ensure_demo_centre
from testengine.services.invigilation import Action, act, unlock
from testengine.services.runtime import Runtime, open_runtime
from testengine.settings import Settings
from tests.benchmarks.load import free_port, percentile, token
from tests.web.keys import form_items, right_answer, wrong_answer

SECRET = "console-benchmark-key"
TARGETS_MS = {100: 50.0, 500: 200.0}  # p95 of the live refresh, by room size
MAX_ROOM, MAX_REFRESHES, MAX_PAGES = 500, 2000, 100
REQUEST_TIMEOUT = 10.0  # seconds, for each request


def clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Room:
    session_id: int
    invigilator: str
    password: str
    candidates: int
    answers: int
    flags: int
    paused: int
    on_break: int
    finished: int


def prepare_room(runtime: Runtime, size: int, rng: random.Random) -> Room:
    """A session of `size` candidates, every test started and answers in progress."""
    engine, policy = runtime.engine, runtime.policy
    centre = ensure_demo_centre(engine, clock())
    extra_time = [25, 50, 25, 25, 50][: min(5, size)]
    ready = create_ready_session(engine, runtime.catalogue, policy, DEMO_CENTRE, 5, size, extra_time, False, clock(), rng)
    assert ready.password is not None
    admin = Actor(0, "benchmark", Role.CENTRE_ADMIN, centre)

    seated: list[tuple[str, CandidateSession]] = []
    for k, booked in enumerate(ready.candidates):
        client = f"10.1.{k // 200}.{k % 200 + 1}"
        who = keycode_login(engine, booked.keycode, clock(), client, f"workstation-{k + 1:03d}")
        confirm_details(engine, who, clock(), client)
        make_declaration(engine, who, clock(), client)
        seated.append((booked.keycode, who))
    unlock(engine, admin, ready.session_id, None, clock())
    for keycode, who in seated:
        start_test(engine, runtime.assembler, who, clock(), "10.1.0.1", rng)

    # Answers in progress: 0-25 each (right or wrong), saved the way the web layer saves them.
    saves: list[AnswerSave] = []
    flagged: list[tuple[CandidateSession, int]] = []
    for keycode, who in seated:
        items = form_items(engine, keycode)
        chosen = rng.sample(items, rng.randint(0, min(25, len(items))))
        for sequence, (position, item) in enumerate(chosen, 1):
            answer = right_answer(item) if rng.random() < 0.7 else wrong_answer(item)
            saves.append(AnswerSave(who, position, answer, sequence, clock()))
        if rng.random() < 0.3:
            flagged += [(who, position) for position, _ in rng.sample(items, rng.randint(1, 3))]
    for start in range(0, len(saves), 500):
        outcomes = save_answers(engine, saves[start : start + 500], policy.answer_grace_seconds)
        refused = [o for o in outcomes if isinstance(o, Exception)]
        if refused:
            raise RuntimeError(f"{len(refused)} answers refused while setting up, e.g. {refused[0]}")
    for who, position in flagged:
        set_flag(engine, who, position, True, clock())

    # A realistic room: some lost focus, a warning, a few paused or on a break, a few finished.
    order = list(seated)
    rng.shuffle(order)
    share = lambda percent: max(1, size * percent // 100)  # noqa: E731
    finishing = order[: share(5)]
    pausing = order[len(finishing) : len(finishing) + share(3)]
    breaking = order[len(finishing) + len(pausing) : len(finishing) + len(pausing) + share(2)]
    for _, who in rng.sample(order, share(8)):
        record_focus(engine, who, True, clock(), "10.1.0.1")
        if rng.random() < 0.7:
            record_focus(engine, who, False, clock(), "10.1.0.1")
    if size >= 20:
        act(engine, admin, ready.session_id, [order[-1][1].sitting_id], Action.WARN, clock(), "talking to a neighbour")
    for _, who in finishing:
        finish_test(engine, who, clock(), "10.1.0.1")
    if size >= 3:
        act(engine, admin, ready.session_id, [w.sitting_id for _, w in pausing], Action.PAUSE, clock(), "workstation problem")
        act(engine, admin, ready.session_id, [w.sitting_id for _, w in breaking], Action.START_BREAK, clock())
    # Most browsers checked in a moment ago; a few hold unsent answers or have gone quiet.
    now = clock()
    check_ins = {who.sitting_id: (now, 0) for _, who in seated if rng.random() < 0.97}
    for sitting_id in rng.sample(sorted(check_ins), min(len(check_ins), share(2))):
        check_ins[sitting_id] = (now, rng.randint(1, 3))
    record_check_ins(engine, check_ins)

    flags = len({(w.sitting_id, p) for w, p in flagged})
    return Room(
        ready.session_id, ready.invigilator, ready.password, size, len(saves), flags,
        len(pausing) if size >= 3 else 0, len(breaking) if size >= 3 else 0, len(finishing),
    )


@dataclass
class Timings:
    client_ms: list[float]
    server_ms: list[float]
    size_bytes: int

    def line(self, what: str) -> str:
        c, s = self.client_ms, self.server_ms
        return (
            f"  {what:<13} n={len(c):<4} client p50 {percentile(c, 0.5):6.1f}  p95 {percentile(c, 0.95):6.1f}  max {max(c):6.1f} ms | "
            f"server p50 {percentile(s, 0.5):6.1f}  p95 {percentile(s, 0.95):6.1f}  max {max(s, default=float('nan')):6.1f} ms | "
            f"{self.size_bytes / 1024:.0f} KiB"
        )


def timed_gets(client: httpx.Client, url: str, times: int, headers: dict[str, str] | None = None) -> Timings:
    client_ms: list[float] = []
    server_ms: list[float] = []
    size = 0
    for _ in range(times):
        began = time.perf_counter()
        reply = client.get(url, headers=headers)
        body = reply.content
        client_ms.append((time.perf_counter() - began) * 1000)
        if reply.status_code != 200:
            raise RuntimeError(f"GET {url} answered {reply.status_code}: {reply.text[:200]}")
        timing = reply.headers.get("Server-Timing", "")
        if timing.startswith("app;dur="):
            server_ms.append(float(timing[len("app;dur="):]))
        size = len(body)
    return Timings(client_ms, server_ms, size)


def wait_for(base: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(150):
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped on start-up with code {server.returncode}")
        try:
            httpx.get(f"{base}/", timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the server did not answer within 15 s")


def sign_in(client: httpx.Client, room: Room) -> None:
    page = client.get("/staff/sign-in")
    reply = client.post(
        "/staff/sign-in", data={"username": room.invigilator, "password": room.password, "csrf_token": token(page.text)},
        follow_redirects=True,
    )
    if reply.status_code != 200 or "/staff/sign-in" in str(reply.url):
        raise RuntimeError(f"the invigilator could not sign in: {reply.status_code} at {reply.url}")


def measure(size: int, args: argparse.Namespace, pin: bool) -> bool:
    """Set up one room, serve it, time it; True if the target was met."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'console.db'}"
        settings = Settings.from_environ({"TESTENGINE_DATABASE_URL": url, "TESTENGINE_SECRET_KEYS": SECRET})
        runtime = open_runtime(settings)
        began = time.perf_counter()
        try:
            room = prepare_room(runtime, size, random.Random(size))
        finally:
            runtime.engine.dispose()
        print(
            f"room of {room.candidates}: set up in {time.perf_counter() - began:.1f} s; {room.answers} answers saved, "
            f"{room.flags} flags, {room.paused} paused, {room.on_break} on a rest break, {room.finished} finished"
        )

        port = free_port()
        env = {**os.environ, "TESTENGINE_DATABASE_URL": url, "TESTENGINE_SECRET_KEYS": SECRET}
        server = subprocess.Popen(
            [sys.executable, "-m", "testengine", "serve", "--host", "127.0.0.1", "--port", str(port), "--quiet"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            # The server gets a core of its own and this client the other, as in the load benchmark.
            preexec_fn=(lambda: os.sched_setaffinity(0, {0})) if pin else None,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(base, server)
            with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT) as client:
                sign_in(client, room)
                console = f"/staff/sessions/{room.session_id}/console"
                live = f"{console}?live=1"
                polled = {"HX-Request": "true"}
                cold = timed_gets(client, live, 1, polled)
                timed_gets(client, live, 5, polled)  # warm: templates compiled, caches filled
                timed_gets(client, console, 2)
                gc.collect()
                gc.freeze()
                refreshes = timed_gets(client, live, args.refreshes, polled)
                pages = timed_gets(client, console, args.pages)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)
            gc.unfreeze()

    target = TARGETS_MS.get(size)
    p95 = percentile(refreshes.client_ms, 0.95)
    print(f"  first refresh after start-up: {cold.client_ms[0]:.1f} ms (not counted)")
    print(refreshes.line("live refresh"))
    print(pages.line("full page"))
    if target is None:
        print(f"  no target for a room of {size}; live refresh p95 {p95:.1f} ms")
        return True
    met = p95 < target
    print(f"  target p95 < {target:.0f} ms for a room of {size} (live refresh, client): {'PASS' if met else 'FAIL'} ({p95:.1f} ms)")
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, nargs="+", default=[100, 500], help="room sizes (candidates per session)")
    parser.add_argument("--refreshes", type=int, default=200, help="live refreshes timed per room")
    parser.add_argument("--pages", type=int, default=10, help="full console pages timed per room")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="do not give server and client a core each")
    args = parser.parse_args()
    if not all(1 <= r <= MAX_ROOM for r in args.rooms) or len(args.rooms) > 5:
        parser.error(f"room sizes 1-{MAX_ROOM}, at most 5 of them: the run is bounded")
    if not 1 <= args.refreshes <= MAX_REFRESHES or not 1 <= args.pages <= MAX_PAGES:
        parser.error(f"at most {MAX_REFRESHES} refreshes and {MAX_PAGES} pages: the run is bounded")
    pin = args.pin and len(os.sched_getaffinity(0)) >= 2
    if pin:
        os.sched_setaffinity(0, {1})
    results = [measure(size, args, pin) for size in args.rooms]
    print("all targets met" if all(results) else "target missed")


if __name__ == "__main__":
    main()

"""Group commit of autosaves: saves that arrive while a write runs go out together in the next
one; each save gets its own outcome; one save the database refuses never fails its neighbours."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlmodel import Session, select

from testengine.services.delivery import AnswerRefused, AnswerSave, CandidateSession, NotYours, SaveReceipt, save_answers
from testengine.storage.tables import ResponseRecord
from testengine.web.answer_queue import AnswerQueue
from tests.web.keys import form_items, right_answer, sitting_of
from tests.web.test_candidate_test import ready_and_started

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def a_save(sitting: int, position: int = 1, sequence: int = 1) -> AnswerSave:
    return AnswerSave(CandidateSession(sitting, "device"), position, "a", sequence, AT)


class Writer:
    """A stand-in for the database: records each batch; the first write waits until released,
    so that the saves behind it pile up as they would behind a real commit."""

    def __init__(self, refuse_sitting: int | None = None, fail_sitting: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.release = threading.Event()
        self.refuse_sitting = refuse_sitting
        self.fail_sitting = fail_sitting

    def __call__(self, saves):
        if not self.batches:
            self.release.wait(5)
        self.batches.append([s.who.sitting_id for s in saves])
        if any(s.who.sitting_id == self.fail_sitting for s in saves):
            raise RuntimeError("disk I/O error")
        return [
            AnswerRefused("The test has ended.") if s.who.sitting_id == self.refuse_sitting
            else SaveReceipt(s.position, s.sequence, s.received)
            for s in saves
        ]


def in_own_loop(coroutine):
    """asyncio.run on a thread of its own: the browser tests keep an event loop in the main one."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


async def save_all(queue: AnswerQueue, writer: Writer, sittings: range):
    first = asyncio.create_task(queue.save(a_save(sittings[0])))
    await asyncio.sleep(0.05)  # the first save's write is under way, and held
    tasks = [first] + [asyncio.create_task(queue.save(a_save(s))) for s in sittings[1:]]
    await asyncio.sleep(0.05)  # the others queue behind it
    writer.release.set()
    return await asyncio.gather(*tasks, return_exceptions=True)


def test_saves_arriving_during_a_write_go_out_together_in_the_next_one():
    writer = Writer(refuse_sitting=7)
    outcomes = in_own_loop(save_all(AnswerQueue(writer), writer, range(1, 51)))
    assert writer.batches == [[1], list(range(2, 51))]
    assert [o.position for o in outcomes if isinstance(o, SaveReceipt)] == [1] * 49
    assert isinstance(outcomes[6], AnswerRefused)  # sitting 7's own outcome, no one else's


def test_a_batch_is_never_larger_than_the_limit():
    writer = Writer()
    queue = AnswerQueue(writer)
    queue.MAX_BATCH = 20
    in_own_loop(save_all(queue, writer, range(1, 52)))
    assert [len(b) for b in writer.batches] == [1, 20, 20, 10]


def test_a_save_the_database_refuses_fails_alone():
    writer = Writer(fail_sitting=5)
    outcomes = in_own_loop(save_all(AnswerQueue(writer), writer, range(1, 11)))
    assert isinstance(outcomes[4], RuntimeError)
    assert all(isinstance(o, SaveReceipt) for i, o in enumerate(outcomes) if i != 4)
    # The failed batch was tried again one save at a time.
    assert writer.batches[:2] == [[1], list(range(2, 11))] and sorted(b[0] for b in writer.batches[2:]) == list(range(2, 11))


def test_one_transaction_checks_each_save_against_its_own_sitting(site):
    ready, _, _, keycode, _ = ready_and_started(site)
    sitting = sitting_of(site.runtime.engine, keycode)
    position, item = form_items(site.runtime.engine, keycode)[0]
    mine = CandidateSession(sitting.id, sitting.device)
    outcomes = save_answers(site.runtime.engine, [
        AnswerSave(mine, position, right_answer(item), 3, site.clock()),
        AnswerSave(CandidateSession(sitting.id, "another browser"), position, right_answer(item), 4, site.clock()),
        AnswerSave(mine, 99, "a", 5, site.clock()),
        AnswerSave(mine, position, right_answer(item), 2, site.clock()),  # older than the first: kept as it was
    ], grace_seconds=5)
    assert isinstance(outcomes[0], SaveReceipt) and outcomes[0].sequence == 3
    assert isinstance(outcomes[1], NotYours)
    assert isinstance(outcomes[2], AnswerRefused) and "no question 99" in str(outcomes[2])
    assert isinstance(outcomes[3], SaveReceipt) and outcomes[3].sequence == 3
    with Session(site.runtime.engine) as session:
        stored = session.exec(select(ResponseRecord)).all()
    assert [(r.position, r.sequence) for r in stored] == [(position, 3)]


def test_saves_meeting_dead_database_connections_are_acknowledged_and_kept(site):
    """On PostgreSQL the saves have a pool of their own whose connections are not tested before
    use (services.runtime.saves_engine). When the database drops every connection (a restart, a
    failover), the next saves meet dead ones: each is tried again on a new connection, so the
    candidate sees them acknowledged and nothing is lost; the pages' pool tests its connections."""
    import pytest
    from sqlalchemy import text

    from tests.web.conftest import player_token
    from tests.web.test_candidate_test import save

    if site.runtime.engine.dialect.name == "sqlite":
        pytest.skip("SQLite has no connections to drop")
    _, _, candidate, keycode, page = ready_and_started(site)
    token = player_token(page.text)
    items = form_items(site.runtime.engine, keycode)
    (first, item_1), (second, item_2) = items[0], items[1]
    assert save(candidate, token, first, right_answer(item_1), 1).status_code == 200  # the saves' pool is open
    with site.runtime.engine.connect() as connection:
        dropped = connection.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )).scalar()
    assert dropped and dropped >= 1
    reply = save(candidate, token, second, right_answer(item_2), 2)
    assert reply.status_code == 200, reply.text
    assert candidate.get(f"/candidate/question/{second}").status_code == 200
    with Session(site.runtime.engine) as session:
        kept = session.exec(select(ResponseRecord).where(ResponseRecord.sitting_id == sitting_of(site.runtime.engine, keycode).id)).all()
    assert {r.position for r in kept} == {first, second}

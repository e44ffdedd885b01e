"""What invigilators do in the room, and the clock arithmetic behind it (conduct rules B3-F5).

Every time is a plain datetime passed in as `now`: nothing sleeps and nothing reads the wall
clock, so every remaining time is asserted exactly, to the second. Candidates are driven
through the delivery services as their browsers would be; the invigilator is the account
`create_ready_session` made for the session.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from testengine.domain.centres import Actor, Role
from testengine.domain.incidents import Category
from testengine.domain.items import ItemType
from testengine.domain.sittings import Event, Kind, SittingRuleError, Status
from testengine.services import delivery, invigilation
from testengine.services.accounts import actor_of, add_staff
from testengine.services.assembly import Assembler, Eligibility
from testengine.services.console import RoomRow, RoomView, room_view
from testengine.services.demo import ReadySession, create_ready_session, ensure_centre
from testengine.services.errors import Forbidden, InvalidInput, NotFound
from testengine.services.invigilation import Action, Done
from testengine.services.runtime import Runtime
from testengine.storage.centres import find_staff
from testengine.storage.incidents import incidents_of
from testengine.storage.sitting_events import aware, load_event_records, load_events
from testengine.storage.tables import AuditRecord, FormRecord, IncidentRecord, ResponseRecord, ResultRecord

# create_ready_session books the session for the minute it is made: 09:30 in November, when
# London is on GMT, so this is also the session's published start.
GRACE = 5  # invigilation/policy.yaml answer_grace_seconds
START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
UNIT = 5
BASE = 35 * 60  # Unit 5's base time, in seconds
CENTRE = "C1"
CLIENT = "10.0.0.9"  # the invigilator's workstation, on the record with each action
PASSWORD = "long-enough-password"


def minutes(m: float, s: int = 0) -> timedelta:
    return timedelta(minutes=m, seconds=s)


# --- the room -------------------------------------------------------------------------------


@dataclass
class Room:
    """A Unit 5 session at centre C1: its invigilator, and the candidates' browsers by index
    (candidate k is ready.candidates[k])."""

    runtime: Runtime
    ready: ReadySession
    invigilator: Actor
    sitting_ids: list[int]
    browsers: dict[int, delivery.CandidateSession] = field(default_factory=dict)

    @property
    def engine(self) -> Any:
        return self.runtime.engine

    @property
    def session_id(self) -> int:
        return self.ready.session_id

    def number(self, k: int) -> str:
        return self.ready.candidates[k].candidate_number

    def seat(self, k: int, at: datetime) -> delivery.CandidateSession:
        """Keycode, details confirmed, declaration made: waiting, locked (B1, B5, B6)."""
        who = delivery.keycode_login(self.engine, self.ready.candidates[k].keycode, at, "", f"workstation-{k}")
        delivery.confirm_details(self.engine, who, at, "")
        delivery.make_declaration(self.engine, who, at, "")
        self.browsers[k] = who
        return who

    def start(self, k: int, at: datetime) -> None:
        """Seated, unlocked by the invigilator, and Start pressed at `at` (B7)."""
        who = self.browsers.get(k) or self.seat(k, at)
        invigilation.unlock(self.engine, self.invigilator, self.session_id, [self.sitting_ids[k]], at)
        delivery.start_test(self.engine, self.runtime.assembler, who, at, "", random.Random(k))

    def act(self, action: Action, candidates: list[int], at: datetime, reason: str = "") -> Done:
        ids = [self.sitting_ids[k] for k in candidates]
        return invigilation.act(self.engine, self.invigilator, self.session_id, ids, action, at, reason, CLIENT)

    def view(self, at: datetime) -> RoomView:
        return room_view(self.engine, self.invigilator, self.runtime.catalogue, self.runtime.policy, self.session_id, at)

    def row(self, k: int, at: datetime) -> RoomRow:
        [row] = [r for r in self.view(at).rows if r.sitting_id == self.sitting_ids[k]]
        return row

    def clocks(self, at: datetime) -> list[int]:
        """Every candidate's remaining seconds on the console, in candidate order."""
        by_id = {r.sitting_id: r.remaining_seconds for r in self.view(at).rows}
        return [by_id[s] for s in self.sitting_ids]

    def remaining(self, k: int, at: datetime) -> int:
        """Remaining seconds, the same on the console and on the candidate's screen (B8)."""
        console_says = self.row(k, at).remaining_seconds
        if k in self.browsers:
            candidate_sees = delivery.sitting_view(self.engine, self.runtime.catalogue, self.browsers[k], at, ()).remaining_seconds
            assert candidate_sees == console_says, f"candidate sees {candidate_sees} s, console shows {console_says} s"
        return console_says

    def events(self, k: int, kind: Kind | None = None) -> list[Event]:
        with Session(self.engine) as session:
            events = load_events(session, self.sitting_ids[k])
        return [e for e in events if kind is None or e.kind is kind]

    def incidents(self) -> list[IncidentRecord]:
        with Session(self.engine) as session:
            return incidents_of(session, self.session_id)

    def answer_first_question(self, k: int, at: datetime) -> Any:
        """Save an answer to question 1, whatever its type; returns what was sent."""
        question = delivery.question_view(self.engine, self.browsers[k], 1, at)
        ids = [o.id for o in question.options]
        raw: Any = {
            ItemType.SINGLE: ids[0],
            ItemType.MULTIPLE: ids[: question.select_count],
            ItemType.ORDERING: ids,
        }.get(question.type) or {question.premises[0].id: ids[0]}
        delivery.save_answer(self.engine, self.browsers[k], 1, raw, 1, at, self.runtime.policy.answer_grace_seconds)
        return raw


def open_room(runtime: Runtime, candidates: int = 1, extra_time: tuple[int, ...] = ()) -> Room:
    ready = create_ready_session(
        runtime.engine, runtime.catalogue, runtime.policy, CENTRE, UNIT, candidates, list(extra_time), False, START, random.Random(11)
    )
    with Session(runtime.engine) as session:
        staff = find_staff(session, ready.invigilator)
        assert staff is not None
        invigilator = actor_of(staff)
    assert invigilator.role is Role.INVIGILATOR
    rows = room_view(runtime.engine, invigilator, runtime.catalogue, runtime.policy, ready.session_id, START).rows
    by_number = {r.candidate_number: r.sitting_id for r in rows}
    return Room(runtime, ready, invigilator, [by_number[c.candidate_number] for c in ready.candidates])


def not_refused(calls: dict[str, Callable[[], object]], error: type[Exception], match: str = "") -> list[str]:
    """The calls that did not raise `error` (with `match` in its message), and what they did."""
    wrong = []
    for name, call in calls.items():
        try:
            call()
        except error as exc:
            if match not in str(exc):
                wrong.append(f"{name}: {error.__name__} without {match!r}: {exc}")
        except Exception as exc:  # noqa: BLE001 - reported as a failure below
            wrong.append(f"{name}: {type(exc).__name__}: {exc}")
        else:
            wrong.append(f"{name}: allowed")
    return wrong


def staff_actions(room: Room, k: int, at: datetime) -> dict[str, Callable[[Actor], object]]:
    """Every action an invigilator can take on the session (and on candidate k)."""
    e, session_id, s = room.engine, room.session_id, room.sitting_ids[k]
    return {
        "pause one": lambda who: invigilation.act(e, who, session_id, [s], Action.PAUSE, at, "workstation froze"),
        "void one": lambda who: invigilation.act(e, who, session_id, [s], Action.VOID, at, "malpractice"),
        "mark all absent": lambda who: invigilation.act(e, who, session_id, None, Action.ABSENT, at),
        "add time": lambda who: invigilation.add_time(e, who, session_id, s, 5, "disruption", at),
        "late arrival": lambda who: invigilation.record_arrival(e, who, room.runtime.catalogue, session_id, s, None, "bus late", at),
        "pause all": lambda who: invigilation.pause_all(e, who, session_id, Category.EMERGENCY_EVACUATION, "fire alarm", at),
        "resume all": lambda who: invigilation.resume_all(e, who, session_id, at),
        "new PIN": lambda who: invigilation.new_pin(e, who, session_id, random.Random(1), at),
        "clear PIN": lambda who: invigilation.clear_pin(e, who, session_id, at),
        "incident": lambda who: invigilation.record_incident(e, who, session_id, s, Category.ILLNESS, "felt faint", "water given", at),
        "unlock all": lambda who: invigilation.unlock(e, who, session_id, None, at),
        "approve a new log-in": lambda who: invigilation.approve_relogin(e, who, session_id, s, "workstation crashed", at),
        "sign off": lambda who: invigilation.sign_off(e, who, session_id, "", at, GRACE),
    }


@pytest.fixture
def runtime(runtime):
    """The services' runtime with this file's centre."""
    ensure_centre(runtime.engine, CENTRE, "Centre One", START)
    return runtime


# --- pausing one candidate (C5) -------------------------------------------------------------


def test_a_paused_candidates_clock_stands_still_and_resumes_with_exactly_the_time_left(runtime):
    """C5: pause/resume one candidate; clock frozen, question hidden, who/when/why recorded."""
    room = open_room(runtime, candidates=2)
    started = START + minutes(2)
    room.start(0, started)
    room.start(1, started)
    paused_at = started + minutes(10, 17)
    left = BASE - 617
    assert room.remaining(0, paused_at) == left

    assert room.act(Action.PAUSE, [0], paused_at, "workstation froze") == Done(1)

    for later in (paused_at + minutes(0, 1), paused_at + minutes(9)):
        assert room.row(0, later).state == "paused"
        assert room.remaining(0, later) == left
    with pytest.raises(delivery.AnswerRefused, match="not in progress"):
        delivery.question_view(runtime.engine, room.browsers[0], 1, paused_at + minutes(1))
    # Only the named candidate stopped.
    assert room.remaining(1, paused_at + minutes(9)) == left - 9 * 60

    resumed_at = paused_at + minutes(12, 3)
    assert room.act(Action.RESUME, [0], resumed_at) == Done(1)
    assert room.remaining(0, resumed_at) == left
    assert room.remaining(0, resumed_at + minutes(1)) == left - 60
    assert room.row(0, resumed_at).finish_at == started + minutes(35) + minutes(12, 3)

    [pause] = room.events(0, Kind.PAUSED)
    [resume] = room.events(0, Kind.RESUMED)
    assert pause == Event(Kind.PAUSED, paused_at, room.invigilator.username, "workstation froze", {})
    assert (resume.at, resume.actor, resume.reason) == (resumed_at, room.invigilator.username, "resumed by the invigilator")
    with Session(runtime.engine) as session:
        records = load_event_records(session, [room.sitting_ids[0]])
    assert {r.kind: r.client for r in records}[Kind.PAUSED.value] == CLIENT
    assert room.events(1, Kind.PAUSED) == []


# --- the whole room at once (D1-D3) ---------------------------------------------------------


def test_pause_all_stops_thirty_clocks_at_one_instant_and_resume_all_gives_each_their_time(runtime):
    """D1-D3: emergency pause-all at one instant, who was in the room, exact time back, length logged."""
    room = open_room(runtime, candidates=30)
    for k in range(30):
        room.start(k, START + minutes(5) + timedelta(seconds=20 * k))  # staggered starts
    alarm = START + minutes(25)
    at_alarm = [BASE - 20 * 60 + 20 * k for k in range(30)]
    assert room.clocks(alarm) == at_alarm

    stopped = invigilation.pause_all(runtime.engine, room.invigilator, room.session_id, Category.EMERGENCY_EVACUATION,
                                     "fire alarm: room evacuated", alarm, CLIENT)

    assert (stopped.at, stopped.paused) == (alarm, 30)
    assert [c["candidate_number"] for c in stopped.in_room] == [room.number(k) for k in range(30)]
    assert {c["state"] for c in stopped.in_room} == {"in progress"}
    for k in range(30):
        [pause] = room.events(k, Kind.PAUSED)
        assert (pause.at, pause.actor, dict(pause.data)) == (alarm, room.invigilator.username, {"emergency": True})
    [started] = [i for i in room.incidents() if i.data.get("interruption") == "started"]
    assert (aware(started.at), started.category, started.sitting_id) == (alarm, Category.EMERGENCY_EVACUATION, None)
    assert started.data["in_room"] == list(stopped.in_room) and started.data["paused"] == 30

    during = room.view(alarm + minutes(7))
    assert during.interruption is not None and during.interruption["since"] == alarm
    assert {r.status for r in during.rows} == {Status.PAUSED}
    assert room.clocks(alarm + minutes(7)) == at_alarm

    back = alarm + minutes(12, 34)
    assert invigilation.resume_all(runtime.engine, room.invigilator, room.session_id, back, CLIENT) == Done(30)

    assert room.clocks(back) == at_alarm
    assert room.clocks(back + minutes(1)) == [s - 60 for s in at_alarm]
    assert room.remaining(29, back + minutes(1)) == at_alarm[29] - 60
    [ended] = [i for i in room.incidents() if i.data.get("interruption") == "ended"]
    assert aware(ended.at) == back
    assert ended.data["seconds"] == 12 * 60 + 34 and ended.data["started_id"] == started.id
    assert "lasted 12 min 34 s" in ended.action
    after = room.view(back)
    assert after.interruption is None
    assert {r.status for r in after.rows} == {Status.IN_PROGRESS}


# --- rest breaks and extra time (B8, E1-E3) -------------------------------------------------


def test_a_rest_break_with_25_percent_extra_time_moves_the_finish_by_exactly_the_break(runtime):
    """E1-E3, B8: 35 min + 25% = 43:45; a 10-minute break; finish = start + 43:45 + 10:00."""
    room = open_room(runtime, candidates=2, extra_time=(25,))
    started = START + minutes(4)
    room.start(0, started)
    room.start(1, started)
    allowed = minutes(43, 45)
    assert room.remaining(0, started) == allowed.total_seconds() == BASE * 125 / 100
    assert room.row(0, started).extra_percent == 25
    assert room.row(0, started).finish_at == started + allowed
    assert room.row(1, started).finish_at == started + minutes(35)  # extra time is the candidate's own

    break_at = started + minutes(20)
    assert room.act(Action.START_BREAK, [0], break_at) == Done(1)
    left = int(allowed.total_seconds()) - 20 * 60
    on_break = room.row(0, break_at + minutes(7))
    assert on_break.state == "on rest break"
    assert on_break.remaining_seconds == left
    assert on_break.finish_at == started + allowed + minutes(7)  # projected: moves with the clock

    back = break_at + minutes(10)
    assert room.act(Action.END_BREAK, [0], back) == Done(1)
    later = back + minutes(5)
    assert room.row(0, later).finish_at == started + allowed + minutes(10)
    assert room.remaining(0, later) == left - 5 * 60
    assert [e.at for e in room.events(0) if e.kind in (Kind.BREAK_STARTED, Kind.BREAK_ENDED)] == [break_at, back]
    # The server submits at that finish, not a second before (F2).
    finish = started + allowed + minutes(10)
    assert room.sitting_ids[0] not in delivery.submit_overdue(runtime.engine, finish - minutes(0, 1))
    assert room.sitting_ids[0] in delivery.submit_overdue(runtime.engine, finish)
    assert room.row(0, finish).status is Status.SUBMITTED


# --- late arrivals (B3, B9) -----------------------------------------------------------------


def test_a_late_arrival_needs_a_reason_and_still_gets_the_full_time_from_their_own_start(runtime):
    """B3, B9: on time, late (reason required, flagged, logged), full time from their own Start."""
    room = open_room(runtime, candidates=2)
    assert room.view(START).start_time == "09:30"
    catalogue, session_id = runtime.catalogue, room.session_id

    # On time: present, not late, nothing to report.
    assert not invigilation.record_arrival(runtime.engine, room.invigilator, catalogue, session_id, room.sitting_ids[1], None, "", START)
    on_time = room.row(1, START)
    assert (on_time.present, on_time.late, on_time.very_late) == (True, False, False)

    arrived, now = START + minutes(12), START + minutes(14)
    with pytest.raises(InvalidInput, match="give the reason for the late arrival"):
        invigilation.record_arrival(runtime.engine, room.invigilator, catalogue, session_id, room.sitting_ids[0], arrived, " ", now)
    assert not room.row(0, now).present
    very_late = invigilation.record_arrival(
        runtime.engine, room.invigilator, catalogue, session_id, room.sitting_ids[0], arrived, "bus was late", now
    )

    assert very_late is False
    row = room.row(0, now)
    assert (row.present, row.late, row.very_late, row.arrived_at) == (True, True, False, arrived)
    [late] = room.incidents()
    assert (late.category, late.sitting_id, aware(late.at)) == (Category.LATE_ARRIVAL, room.sitting_ids[0], now)
    assert "09:42" in late.description and "bus was late" in late.description
    assert late.data["arrived_at"] == arrived.isoformat()
    [marked] = room.events(0, Kind.MARKED_PRESENT)
    assert (marked.at, marked.reason, marked.data["late"]) == (arrived, "bus was late", True)

    started = START + minutes(20)
    room.start(0, started)
    assert room.remaining(0, started) == BASE
    assert room.row(0, started).finish_at == started + minutes(35)  # after the published 10:05 finish
    assert room.remaining(0, started + minutes(30)) == 5 * 60


def test_arriving_after_the_published_finish_of_a_short_test_is_very_late_and_logged(runtime):
    """B9, C7: Unit 5 (35 min, under 1 h): after 09:30 + 35 min is very late, with an incident."""
    room = open_room(runtime, candidates=2)
    catalogue, session_id = runtime.catalogue, room.session_id
    published_finish = START + minutes(35)

    # At the published finish itself: late, not very late.
    assert not invigilation.record_arrival(
        runtime.engine, room.invigilator, catalogue, session_id, room.sitting_ids[1], published_finish, "train cancelled",
        published_finish + minutes(1),
    )
    assert (room.row(1, published_finish).late, room.row(1, published_finish).very_late) == (True, False)

    arrived = published_finish + minutes(1)
    assert invigilation.record_arrival(
        runtime.engine, room.invigilator, catalogue, session_id, room.sitting_ids[0], arrived, "overslept", arrived + minutes(1)
    ) is True
    row = room.row(0, arrived + minutes(1))
    assert (row.late, row.very_late, row.arrived_at) == (True, True, arrived)
    assert [(i.category, i.sitting_id) for i in room.incidents()] == [
        (Category.LATE_ARRIVAL, room.sitting_ids[1]), (Category.VERY_LATE_ARRIVAL, room.sitting_ids[0]),
    ]
    assert "a report goes to the awarding body" in room.incidents()[-1].action
    # Admitted, the very late candidate still has the full time from their own Start.
    started = arrived + minutes(5)
    room.start(0, started)
    assert room.remaining(0, started + minutes(1)) == BASE - 60


def test_an_arrival_time_in_the_future_is_refused(runtime):
    """B9: the time a candidate came under supervision cannot be later than now."""
    room = open_room(runtime)
    with pytest.raises(InvalidInput, match="later than now"):
        invigilation.record_arrival(runtime.engine, room.invigilator, runtime.catalogue, room.session_id, room.sitting_ids[0],
                                    START + minutes(10), "bus", START + minutes(8))
    assert not room.row(0, START + minutes(8)).present


# --- adding time (E1) -----------------------------------------------------------------------


def test_adding_five_minutes_with_a_reason_adds_exactly_300_seconds(runtime):
    """E1: time added for one candidate, with the reason and who on the record."""
    room = open_room(runtime, candidates=2)
    started = START + minutes(1)
    room.start(0, started)
    room.start(1, started)
    at = started + minutes(10)
    assert room.remaining(0, at) == BASE - 600

    invigilation.add_time(runtime.engine, room.invigilator, room.session_id, room.sitting_ids[0], 5, "disrupted by a fire drill", at, CLIENT)

    assert room.remaining(0, at) == BASE - 600 + 300
    assert room.remaining(0, at + minutes(1)) == BASE - 660 + 300
    assert room.row(0, at).finish_at == started + minutes(40)
    assert room.remaining(1, at) == BASE - 600  # the other candidate's time is unchanged
    [added] = room.events(0, Kind.TIME_ADDED)
    assert added == Event(Kind.TIME_ADDED, at, room.invigilator.username, "disrupted by a fire drill", {"seconds": 300})
    # The server's deadline moved too: the sweep submits at the new finish, not before (F2).
    assert delivery.submit_overdue(runtime.engine, started + minutes(40) - minutes(0, 1)) == [room.sitting_ids[1]]
    assert delivery.submit_overdue(runtime.engine, started + minutes(40)) == [room.sitting_ids[0]]


@pytest.mark.parametrize(
    ("added", "reason", "problem"),
    [
        (5, "", "reason: say why"),
        (5, "   ", "reason: say why"),
        (0, "disruption", "minutes 0: give a whole number from 1 to 120"),
        (-5, "disruption", "minutes -5"),
        (121, "disruption", "minutes 121"),
        (500, "disruption", "minutes 500"),
    ],
)
def test_adding_time_needs_a_reason_and_1_to_120_minutes(runtime, added, reason, problem):
    """E1: no reason, or a number of minutes outside 1-120, adds nothing."""
    room = open_room(runtime)
    started = START + minutes(1)
    room.start(0, started)
    at = started + minutes(10)
    with pytest.raises(InvalidInput, match=re.escape(problem)):
        invigilation.add_time(runtime.engine, room.invigilator, room.session_id, room.sitting_ids[0], added, reason, at)
    assert room.remaining(0, at) == BASE - 600
    assert room.events(0, Kind.TIME_ADDED) == []


def test_time_cannot_be_added_to_a_finished_sitting(runtime):
    """E1, F2: after submission nothing changes."""
    room = open_room(runtime)
    room.start(0, START)
    delivery.finish_test(runtime.engine, room.browsers[0], START + minutes(20), "")
    with pytest.raises(InvalidInput, match="cannot add time to a sitting that is submitted"):
        invigilation.add_time(runtime.engine, room.invigilator, room.session_id, room.sitting_ids[0], 5, "disruption", START + minutes(21))


# --- void, abandon, leaving the room, warn and remove (C8, C10, C11, D5) --------------------


def test_voiding_a_sitting_needs_a_reason_and_is_audited(runtime):
    """C11: void with a mandatory reason, audited; a voided sitting cannot be voided again."""
    room = open_room(runtime)
    room.start(0, START)
    at = START + minutes(10)
    with pytest.raises(InvalidInput, match="void: give the reason"):
        room.act(Action.VOID, [0], at, "  ")
    assert room.row(0, at).status is Status.IN_PROGRESS

    assert room.act(Action.VOID, [0], at, "notes found in the candidate's pocket") == Done(1)

    row = room.row(0, at + minutes(1))
    assert (row.status, row.final, row.remaining_seconds) == (Status.VOIDED, True, 0)
    assert room.events(0)[-1] == Event(Kind.VOIDED, at, room.invigilator.username, "notes found in the candidate's pocket", {})
    with Session(runtime.engine) as session:
        [audit] = session.exec(select(AuditRecord).where(AuditRecord.action == "sitting.void")).all()
    assert (audit.actor, audit.details, audit.client) == (room.invigilator.username, {"reason": "notes found in the candidate's pocket"}, CLIENT)
    with pytest.raises(InvalidInput, match="cannot void a sitting that is voided"):
        room.act(Action.VOID, [0], at + minutes(1), "again")


def test_a_sitting_voided_while_paused_shows_when_it_ended(runtime):
    """A14, E3: once ended, the console and room display show the actual finish, which stays put."""
    room = open_room(runtime)
    room.start(0, START)
    room.act(Action.PAUSE, [0], START + minutes(5))
    voided_at = START + minutes(6)
    room.act(Action.VOID, [0], voided_at, "impersonation")
    assert room.row(0, voided_at + minutes(30)).finish_at == voided_at


def test_abandoning_a_sitting_that_cannot_resume_keeps_its_answers(runtime):
    """D5: a sitting that cannot resume is closed as abandoned, with a reason, its answers kept."""
    room = open_room(runtime)
    room.start(0, START)
    saved = room.answer_first_question(0, START + minutes(3))
    crashed = START + minutes(8)
    room.act(Action.PAUSE, [0], crashed, "workstation crashed")
    given_up = crashed + minutes(20)
    with pytest.raises(InvalidInput, match="abandon: give the reason"):
        room.act(Action.ABANDON, [0], given_up)

    assert room.act(Action.ABANDON, [0], given_up, "no workstation could be restored") == Done(1)

    row = room.row(0, given_up + minutes(1))
    assert (row.status, row.answered, row.finish_at, row.remaining_seconds) == (Status.ABANDONED, 1, given_up, 0)
    with Session(runtime.engine) as session:
        [response] = session.exec(select(ResponseRecord).where(ResponseRecord.sitting_id == room.sitting_ids[0])).all()
    assert (response.position, response.response) == (1, saved)


def test_a_candidate_who_leaves_unaccompanied_cannot_return_and_the_sitting_is_ended(runtime):
    """C8, C7: out/in recorded; unaccompanied may not return; END submits it, with an incident."""
    room = open_room(runtime, candidates=2)
    room.start(0, START)
    room.start(1, START)
    # Accompanied: out and back in, the clock running all the while.
    room.act(Action.LEFT_ACCOMPANIED, [1], START + minutes(5))
    assert room.row(1, START + minutes(6)).out_of_room
    room.act(Action.RETURNED, [1], START + minutes(9))
    assert not room.row(1, START + minutes(9)).out_of_room
    assert room.remaining(1, START + minutes(9)) == BASE - 9 * 60

    left = START + minutes(10)
    room.act(Action.LEFT_UNACCOMPANIED, [0], left)
    row = room.row(0, left)
    assert (row.out_of_room, row.left_unaccompanied, row.status) == (True, True, Status.IN_PROGRESS)
    with pytest.raises(InvalidInput, match="left unaccompanied may not return"):
        room.act(Action.RETURNED, [0], left + minutes(2))
    with pytest.raises(InvalidInput, match="end: give the reason"):
        room.act(Action.END, [0], left + minutes(2))

    ended = left + minutes(3)
    assert room.act(Action.END, [0], ended, "left the room unaccompanied") == Done(1)

    row = room.row(0, ended + minutes(1))
    assert (row.status, row.state, row.finish_at) == (Status.SUBMITTED, "finished", ended)
    assert room.events(0)[-1].kind is Kind.ENDED
    logged = [(i.category, i.sitting_id, aware(i.at), i.action) for i in room.incidents()]
    assert logged == [
        (Category.LEAVING_RETURNING, room.sitting_ids[0], left, "Recorded as leaving unaccompanied; the candidate may not return."),
        (Category.LEAVING_RETURNING, room.sitting_ids[0], ended, "The sitting was ended by the invigilator."),
    ]
    with Session(runtime.engine) as session:
        assert session.exec(select(ResultRecord).where(ResultRecord.sitting_id == room.sitting_ids[0])).all()


def test_a_disruptive_candidate_is_warned_then_removed_with_the_record_kept(runtime):
    """C10, C7: a warning and a removal each need a reason and go in the incident log."""
    room = open_room(runtime)
    room.start(0, START)
    with pytest.raises(InvalidInput, match="warn: give the reason"):
        room.act(Action.WARN, [0], START + minutes(5))
    room.act(Action.WARN, [0], START + minutes(5), "talking to a neighbour")
    assert room.row(0, START + minutes(5)).warnings == 1
    with pytest.raises(InvalidInput, match="remove: give the reason"):
        room.act(Action.REMOVE, [0], START + minutes(9))

    removed = START + minutes(9)
    assert room.act(Action.REMOVE, [0], removed, "kept talking after the warning") == Done(1)

    row = room.row(0, removed + minutes(1))
    assert (row.status, row.state, row.out_of_room, row.warnings, row.finish_at) == (Status.SUBMITTED, "removed", True, 1, removed)
    assert [(i.category, i.action) for i in room.incidents()] == [
        (Category.DISTURBANCE, "Candidate warned."),
        (Category.DISTURBANCE, "Candidate removed from the room; the sitting was ended and the record kept."),
    ]
    assert [e.kind for e in room.events(0)][-2:] == [Kind.WARNED, Kind.REMOVED]
    with Session(runtime.engine) as session:
        assert session.exec(select(AuditRecord).where(AuditRecord.action == "sitting.remove")).all()


# --- who may act (A6, C11) ------------------------------------------------------------------


def test_only_the_sessions_own_invigilators_may_act_on_it(runtime):
    """C11: an unassigned invigilator or another centre's sees no session; an item writer is forbidden."""
    room = open_room(runtime)
    room.start(0, START)
    at = START + minutes(5)
    unassigned = add_staff(runtime.engine, "inv-unassigned", "Not on this session", Role.INVIGILATOR, PASSWORD, START, room.invigilator.centre_id)
    other_centre = ensure_centre(runtime.engine, "C2", "Centre Two", START)
    outsider = add_staff(runtime.engine, "inv-outsider", "Another centre", Role.INVIGILATOR, PASSWORD, START, other_centre)
    writer = add_staff(runtime.engine, "writer", "Item writer", Role.ITEM_WRITER, PASSWORD, START)
    events_before = len(room.events(0))
    actions = staff_actions(room, 0, at)
    actions["room view"] = lambda who: room_view(runtime.engine, who, runtime.catalogue, runtime.policy, room.session_id, at)
    actions["end check"] = lambda who: invigilation.end_check(runtime.engine, who, room.session_id, START, GRACE)

    for who, error in ((unassigned, NotFound), (outsider, NotFound), (writer, Forbidden)):
        calls = {name: (lambda do=do, who=who: do(who)) for name, do in actions.items()}
        assert not_refused(calls, error) == [], who.username

    assert len(room.events(0)) == events_before
    assert room.incidents() == []
    view = room.view(at)
    assert (view.pin, view.signed_off_at, view.rows[0].status) == (None, None, Status.IN_PROGRESS)


# --- the end of the session (F4, F5) --------------------------------------------------------


def test_sign_off_is_refused_until_everyone_is_finished_absent_or_voided_then_closes_the_session(runtime):
    """F4, F5: end check lists who is unfinished; sign-off then refused; afterwards nothing more."""
    room = open_room(runtime, candidates=4)
    for k in range(3):
        room.start(k, START)
    delivery.finish_test(runtime.engine, room.browsers[0], START + minutes(20), "")
    room.act(Action.VOID, [2], START + minutes(21), "impersonation")
    room.act(Action.ABSENT, [3], START + minutes(25))
    at = START + minutes(30)

    check = invigilation.end_check(runtime.engine, room.invigilator, room.session_id, at, GRACE)
    assert (check.not_finished, check.unsent, check.interrupted, check.ready) == ((f"{room.number(1)} (in progress)",), (), False, False)
    with pytest.raises(InvalidInput) as refused:
        invigilation.sign_off(runtime.engine, room.invigilator, room.session_id, "all well", at, GRACE)
    assert refused.value.messages == [f"not yet finished, absent or voided: {room.number(1)} (in progress)"]
    assert room.view(at).signed_off_at is None

    delivery.finish_test(runtime.engine, room.browsers[1], at, "")
    # Answers the candidate's browser still held are outstanding too (F4).
    delivery.record_check_ins(runtime.engine, {room.sitting_ids[1]: (at, 2)})
    with pytest.raises(InvalidInput, match=re.escape(f"answers not yet on the server: {room.number(1)} (2 answers not acknowledged)")):
        invigilation.sign_off(runtime.engine, room.invigilator, room.session_id, "all well", at, GRACE)
    delivery.record_check_ins(runtime.engine, {room.sitting_ids[1]: (at, 0)})
    assert invigilation.end_check(runtime.engine, room.invigilator, room.session_id, at, GRACE).ready

    signed = at + minutes(2)
    invigilation.sign_off(runtime.engine, room.invigilator, room.session_id, "  no problems  ", signed, GRACE, CLIENT)

    view = room.view(signed)
    assert (view.signed_off_at, view.signed_off_by) == (signed, room.invigilator.username)
    calls = {name: (lambda do=do: do(room.invigilator)) for name, do in staff_actions(room, 1, signed + minutes(1)).items()}
    assert not_refused(calls, InvalidInput, "signed off") == []
    assert room.incidents() == []


def test_resume_all_leaves_a_candidate_paused_on_their_own_before_the_emergency_paused(runtime):
    """D3, D6: resume all ends the interruption; a crashed workstation's pause is the invigilator's to end."""
    room = open_room(runtime, candidates=2)
    room.start(0, START)
    room.start(1, START)
    crashed = START + minutes(10)
    room.act(Action.PAUSE, [0], crashed, "workstation crashed")
    alarm = START + minutes(12)
    stopped = invigilation.pause_all(runtime.engine, room.invigilator, room.session_id, Category.EMERGENCY_EVACUATION, "fire alarm", alarm)
    assert stopped.paused == 1
    back = alarm + minutes(15)
    assert invigilation.resume_all(runtime.engine, room.invigilator, room.session_id, back) == Done(1)
    assert room.row(1, back).status is Status.IN_PROGRESS
    assert room.row(0, back).status is Status.PAUSED  # still waiting for a working workstation
    assert room.remaining(0, back + minutes(5)) == BASE - 10 * 60


def test_answers_that_can_no_longer_be_saved_do_not_block_sign_off_for_ever(runtime):
    """F4, F5: the browser reports what it held when the time ran out; once refused, nothing can clear it."""
    room = open_room(runtime)
    room.start(0, START)
    deadline = START + minutes(35)
    assert delivery.submit_overdue(runtime.engine, deadline) == [room.sitting_ids[0]]
    # The browser's next clock call finds the test over, reporting the answer it still holds
    # (player.js syncClock); it sends it, the server refuses it as final, and the page moves on.
    late = deadline + minutes(1)
    delivery.record_check_ins(runtime.engine, {room.sitting_ids[0]: (late, 1)})
    with pytest.raises(delivery.AnswerRefused, match="test has ended"):
        delivery.save_answer(runtime.engine, room.browsers[0], 1, None, 9, late, runtime.policy.answer_grace_seconds)
    # No later check-in ever comes from that browser, and no service clears the count.
    invigilation.sign_off(runtime.engine, room.invigilator, room.session_id, "", late + minutes(30), GRACE)
    assert room.view(late + minutes(30)).signed_off_at == late + minutes(30)


def test_the_room_cannot_be_signed_off_while_paused_for_an_emergency(runtime):
    """F5, D3: the interruption must be ended (and its length logged) before sign-off."""
    room = open_room(runtime)
    room.act(Action.ABSENT, [0], START + minutes(15))
    alarm = START + minutes(20)
    invigilation.pause_all(runtime.engine, room.invigilator, room.session_id, Category.EMERGENCY_EVACUATION, "fire alarm", alarm)
    with pytest.raises(InvalidInput, match="the room is still paused for an emergency"):
        invigilation.sign_off(runtime.engine, room.invigilator, room.session_id, "", alarm + minutes(1), GRACE)
    assert invigilation.resume_all(runtime.engine, room.invigilator, room.session_id, alarm + minutes(3)) == Done(0)
    invigilation.sign_off(runtime.engine, room.invigilator, room.session_id, "", alarm + minutes(4), GRACE)
    assert room.view(alarm + minutes(4)).signed_off_at == alarm + minutes(4)


# --- the session PIN (A5) -------------------------------------------------------------------


def test_the_session_pin_unlocks_a_waiting_candidate_and_a_new_pin_replaces_the_old(runtime):
    """A5: a 6-digit PIN; a wrong one is refused; regenerating it invalidates the old one."""
    room = open_room(runtime, candidates=2)
    first, second = room.seat(0, START), room.seat(1, START)
    pin = invigilation.new_pin(runtime.engine, room.invigilator, room.session_id, random.Random(3), START, CLIENT)
    assert re.fullmatch(r"\d{6}", pin)
    assert room.view(START).pin == pin
    assert delivery.sitting_view(runtime.engine, runtime.catalogue, first, START, ()).pin_set

    wrong = f"{(int(pin[0]) + 1) % 10}{pin[1:]}"
    with pytest.raises(delivery.LoginRefused, match="not the session PIN"):
        delivery.unlock_with_pin(runtime.engine, first, wrong, START + minutes(1), "")
    assert room.row(0, START + minutes(1)).state == "locked"

    delivery.unlock_with_pin(runtime.engine, first, f" {pin} ", START + minutes(1), "")
    assert room.row(0, START + minutes(1)).state == "ready to start"
    delivery.start_test(runtime.engine, runtime.assembler, first, START + minutes(2), "", random.Random(1))
    assert room.remaining(0, START + minutes(2)) == BASE

    new = invigilation.new_pin(runtime.engine, room.invigilator, room.session_id, random.Random(4), START + minutes(3), CLIENT)
    assert re.fullmatch(r"\d{6}", new) and new != pin
    assert room.view(START + minutes(3)).pin == new
    with pytest.raises(delivery.LoginRefused):
        delivery.unlock_with_pin(runtime.engine, second, pin, START + minutes(4), "")
    assert not room.row(1, START + minutes(4)).unlocked
    delivery.unlock_with_pin(runtime.engine, second, new, START + minutes(4), "")
    assert room.row(1, START + minutes(4)).unlocked


def test_no_one_can_start_while_the_room_is_paused_for_an_emergency(runtime):
    """D1: during an evacuation every clock stays stopped, including ones not yet started."""
    room = open_room(runtime, candidates=2)
    room.start(0, START)
    waiting = room.seat(1, START)
    invigilation.unlock(runtime.engine, room.invigilator, room.session_id, [room.sitting_ids[1]], START)
    alarm = START + minutes(4)
    invigilation.pause_all(runtime.engine, room.invigilator, room.session_id, Category.EMERGENCY_EVACUATION, "fire alarm", alarm)
    with pytest.raises(SittingRuleError, match="paused for an emergency"):
        delivery.start_test(runtime.engine, runtime.assembler, waiting, alarm + minutes(1), "", random.Random(1))
    invigilation.resume_all(runtime.engine, room.invigilator, room.session_id, alarm + minutes(10))
    delivery.start_test(runtime.engine, runtime.assembler, waiting, alarm + minutes(11), "", random.Random(1))
    assert room.remaining(1, alarm + minutes(11)) == BASE


def test_a_sign_off_after_lost_answers_records_them(runtime):
    """F4: answers a browser still held after its test ended cannot be saved; the sign-off says so."""
    room = open_room(runtime)
    room.start(0, START)
    deadline = START + minutes(35)
    delivery.record_check_ins(runtime.engine, {room.sitting_ids[0]: (deadline - minutes(1), 3)})
    delivery.submit_overdue(runtime.engine, deadline)
    within_grace = invigilation.end_check(runtime.engine, room.invigilator, room.session_id, deadline + timedelta(seconds=GRACE), GRACE)
    assert within_grace.unsent and not within_grace.ready
    later = deadline + minutes(2)
    after = invigilation.end_check(runtime.engine, room.invigilator, room.session_id, later, GRACE)
    assert after.ready and after.lost == (f"{room.number(0)} (3 answers not acknowledged)",)
    invigilation.sign_off(runtime.engine, room.invigilator, room.session_id, "", later, GRACE)
    with Session(runtime.engine) as session:
        [audit] = session.exec(select(AuditRecord).where(AuditRecord.action == "session.signed_off")).all()
    assert audit.details["answers_never_saved"] == list(after.lost)


def test_sweeps_in_several_server_processes_submit_each_overdue_sitting_exactly_once(runtime):
    """Each server process runs the deadline sweep; with PostgreSQL several run at once. Four
    sweeps on four engines (four connection pools, as four processes have) race over eight
    overdue sittings: each sitting gets one SUBMITTED event and one result."""
    from concurrent.futures import ThreadPoolExecutor

    from testengine.storage.database import make_engine
    from testengine.storage.results import result_history

    room = open_room(runtime, candidates=8)
    for k in range(8):
        room.start(k, START)
    deadline = START + minutes(35)
    engines = [make_engine(str(runtime.engine.url.render_as_string(hide_password=False))) for _ in range(4)]
    try:
        with ThreadPoolExecutor(4) as pool:
            submitted = list(pool.map(lambda e: delivery.submit_overdue(e, deadline), engines))
    finally:
        for engine in engines:
            engine.dispose()
    assert sorted(s for found in submitted for s in found) == sorted(room.sitting_ids)
    for k in range(8):
        assert len(room.events(k, Kind.SUBMITTED)) == 1
        with Session(room.engine) as session:
            assert len(result_history(session, room.sitting_ids[k])) == 1


def test_time_no_server_was_running_is_given_back_to_running_tests_and_logged(runtime):
    """D7: candidates 0 and 1 are working, 2 is paused, 3's time was up before the outage; the
    server stops heartbeating at 09:40 and starts again at 09:42:30."""
    from testengine.services.outages import beat, credit_outage

    room = open_room(runtime, candidates=4)
    for k in range(4):
        room.start(k, START if k != 3 else START - minutes(40))
    room.act(Action.PAUSE, [2], START + minutes(5), "feeling unwell")
    assert credit_outage(runtime.engine, START + minutes(6)) is None  # the first start: nothing to measure
    beat(runtime.engine, START + minutes(10))
    before = room.clocks(START + minutes(10))
    outage = credit_outage(runtime.engine, START + minutes(12, 30))
    assert outage is not None and outage.seconds == 150
    assert sorted(outage.sittings) == sorted(room.sitting_ids[:2])
    after = room.clocks(START + minutes(12, 30))
    assert after[:2] == before[:2]  # the two minutes thirty the server was away cost them nothing
    assert after[2] == before[2]  # paused: its clock was stopped anyway
    [incident] = [i for i in room.incidents() if i.category == "technical failure"]
    assert "150 s" in incident.description and incident.data["sittings"] == sorted(room.sitting_ids[:2])
    assert [e.reason for e in room.events(0, Kind.TIME_ADDED)] == ["server unavailable from 09:40:00 to 09:42:30 UTC: 150 s added"]
    # A second process starting now finds a fresh heartbeat: nothing is added twice.
    assert credit_outage(runtime.engine, START + minutes(12, 31)) is None


class _Meanwhile(Assembler):
    """An assembler that, while it solves, lets something else happen first (as another request
    or the invigilator could, now that no transaction is open during the solve)."""

    def __init__(self, assembler: Assembler, meanwhile) -> None:
        super().__init__(assembler.catalogue)
        self.meanwhile = meanwhile

    def choose(self, package, seed, eligibility=Eligibility()):
        happen, self.meanwhile = self.meanwhile, None
        if happen:
            happen()
        return super().choose(package, seed, eligibility)


def forms_stored(runtime) -> int:
    with Session(runtime.engine) as session:
        return len(session.exec(select(FormRecord)).all())


def test_what_happens_while_a_form_is_solved_is_checked_again_before_the_start_is_written(runtime):
    """Start solves outside any transaction: a second Start of the same sitting finishing first,
    or an emergency pause called meanwhile, is seen before anything is written."""
    room = open_room(runtime, candidates=2)
    first = room.seat(0, START)
    invigilation.unlock(runtime.engine, room.invigilator, room.session_id, [room.sitting_ids[0]], START)
    twice = _Meanwhile(runtime.assembler, lambda: delivery.start_test(runtime.engine, runtime.assembler, first, START, "", random.Random(2)))
    with pytest.raises(SittingRuleError):
        delivery.start_test(runtime.engine, twice, first, START, "", random.Random(1))
    assert forms_stored(runtime) == 1 and room.remaining(0, START) == BASE

    waiting = room.seat(1, START)
    invigilation.unlock(runtime.engine, room.invigilator, room.session_id, [room.sitting_ids[1]], START)
    alarm = _Meanwhile(runtime.assembler, lambda: invigilation.pause_all(
        runtime.engine, room.invigilator, room.session_id, Category.EMERGENCY_EVACUATION, "fire alarm", START))
    with pytest.raises(SittingRuleError, match="paused for an emergency"):
        delivery.start_test(runtime.engine, alarm, waiting, START + minutes(1), "", random.Random(3))
    assert forms_stored(runtime) == 1

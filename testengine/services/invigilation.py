"""What invigilators do in the room, under the exam-room rules (conduct rules B3-F5).

Every action is an event on a sitting's log (who, when, why, from which workstation) or an
entry in the session's incident log; nothing is edited. Actions on several candidates happen
in one transaction at one instant, so an emergency "pause all" stops every clock at the same
second (D1). Nothing here reads or shows question text or keys (C6).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from testengine.domain.centres import Actor
from testengine.domain.conduct import is_very_late
from testengine.domain.incidents import Category, incident_problems
from testengine.domain.blueprints import Purpose
from testengine.domain.sittings import BEFORE_START, FINAL, RUNNING, Event, Kind, SittingRuleError, Status, replay
from testengine.services.catalogue import Catalogue
from testengine.services.centres import own_session, require
from testengine.services.console import STAFF
from testengine.services.delivery import CENTRE_TIME
from testengine.services.errors import InvalidInput, NotFound
from testengine.services.marking import mark_sitting
from testengine.storage.centres import audit
from testengine.storage.incidents import add_incident, open_interruption
from testengine.storage.sitting_events import append_event, events_by_sitting
from testengine.storage.tables import BookingRecord, CandidateRecord, ExamSessionRecord, SittingRecord

MAX_ADDED_MINUTES = 120
PIN_DIGITS = 6


class Action(StrEnum):
    """What the console's buttons do to one, selected or all candidates."""

    UNLOCK = "unlock"
    PAUSE = "pause"
    RESUME = "resume"
    START_BREAK = "start_break"
    END_BREAK = "end_break"
    ALLOW_LOGIN = "allow_login"
    ABSENT = "absent"
    LEFT_ACCOMPANIED = "left_accompanied"
    LEFT_UNACCOMPANIED = "left_unaccompanied"
    RETURNED = "returned"
    WARN = "warn"
    REMOVE = "remove"
    END = "end"
    VOID = "void"
    ABANDON = "abandon"


# Action -> (event kind, does it need a reason, the default reason, which states "all" includes)
_RULES: dict[Action, tuple[Kind, bool, str, frozenset[Status]]] = {
    Action.UNLOCK: (Kind.UNLOCKED, False, "", BEFORE_START),
    Action.PAUSE: (Kind.PAUSED, False, "paused by the invigilator", frozenset({Status.IN_PROGRESS})),
    Action.RESUME: (Kind.RESUMED, False, "resumed by the invigilator", frozenset({Status.PAUSED})),
    Action.START_BREAK: (Kind.BREAK_STARTED, False, "supervised rest break", frozenset({Status.IN_PROGRESS})),
    Action.END_BREAK: (Kind.BREAK_ENDED, False, "rest break ended", frozenset({Status.ON_BREAK})),
    Action.ALLOW_LOGIN: (Kind.RELOGIN_APPROVED, True, "", frozenset()),
    Action.ABSENT: (Kind.MARKED_ABSENT, False, "did not attend", frozenset({Status.BOOKED})),
    Action.LEFT_ACCOMPANIED: (Kind.LEFT_ROOM, False, "left the room accompanied", frozenset()),
    Action.LEFT_UNACCOMPANIED: (Kind.LEFT_ROOM, False, "left the room unaccompanied", frozenset()),
    Action.RETURNED: (Kind.RETURNED, False, "returned to the room", frozenset()),
    Action.WARN: (Kind.WARNED, True, "", frozenset()),
    Action.REMOVE: (Kind.REMOVED, True, "", frozenset()),
    Action.END: (Kind.ENDED, True, "", frozenset()),
    Action.VOID: (Kind.VOIDED, True, "", frozenset()),
    Action.ABANDON: (Kind.ABANDONED, True, "", RUNNING),
}

# Actions the incident log records by themselves, with their category (C7, C8, C10).
_LOGGED: dict[Action, Category] = {
    Action.LEFT_UNACCOMPANIED: Category.LEAVING_RETURNING,
    Action.REMOVE: Category.DISTURBANCE,
    Action.WARN: Category.DISTURBANCE,
    Action.END: Category.LEAVING_RETURNING,
}

_ENDS_AND_MARKS = (Action.REMOVE, Action.END)


@dataclass(frozen=True)
class Done:
    """What an action did: how many sittings changed, and why any named one could not."""

    changed: int
    refused: tuple[str, ...] = ()

    def message(self, what: str) -> str:
        text = f"{what}: {self.changed} candidate{'' if self.changed == 1 else 's'}."
        return text if not self.refused else f"{text} Not done for {'; '.join(self.refused)}."


def _session_for_actions(session: Session, actor: Actor, session_id: int) -> ExamSessionRecord:
    require(actor, *STAFF)
    exam = own_session(session, actor, session_id)
    if exam.signed_off_at is not None:
        raise InvalidInput([f"the session was signed off by {exam.signed_off_by}: nothing more can be recorded for it"])
    return exam


def _booked(session: Session, session_id: int, sitting_ids: list[int] | None) -> list[tuple[SittingRecord, CandidateRecord]]:
    rows = session.exec(
        select(SittingRecord, CandidateRecord)
        .join(BookingRecord, col(BookingRecord.id) == SittingRecord.booking_id)
        .join(CandidateRecord, col(CandidateRecord.id) == SittingRecord.candidate_id)
        .where(BookingRecord.session_id == session_id)
        .order_by(col(CandidateRecord.candidate_number))
    ).all()
    chosen = [(s, c) for s, c in rows if sitting_ids is None or s.id in sitting_ids]
    if sitting_ids is not None and len(chosen) != len(set(sitting_ids)):
        raise NotFound("no such candidate in this session")
    return chosen


def act(
    engine: Engine, actor: Actor, session_id: int, sitting_ids: list[int] | None, action: Action, now: datetime,
    reason: str = "", client: str = "",
) -> Done:
    """Do `action` to the named sittings, or to every one it applies to (sitting_ids None), at
    one instant. A named sitting the rules refuse is reported by candidate number; "all" simply
    passes over candidates it does not apply to."""
    kind, needs_reason, default_reason, for_all = _RULES[action]
    reason = " ".join(reason.split())
    if needs_reason and not reason:
        raise InvalidInput([f"{action.value.replace('_', ' ')}: give the reason (it goes on the record)"])
    if len(reason) > 400:
        raise InvalidInput([f"reason: at most 400 characters ({len(reason)} given)"])
    data = {"accompanied": action is Action.LEFT_ACCOMPANIED} if kind is Kind.LEFT_ROOM else {}
    event = Event(kind, now, actor.username, reason or default_reason, data)
    ended: list[int] = []
    with Session(engine) as session, session.begin():
        exam = _session_for_actions(session, actor, session_id)
        targets = _booked(session, session_id, sitting_ids)
        states = events_by_sitting(session, [s.id for s, _ in targets if s.id is not None])
        changed, refused = 0, []
        for sitting, candidate in targets:
            assert sitting.id is not None
            if sitting_ids is None and replay(states[sitting.id]).status not in for_all:
                continue
            if action is Action.UNLOCK and replay(states[sitting.id]).unlocked:
                continue
            try:
                append_event(session, sitting, event, client)
            except SittingRuleError as exc:
                refused.append(f"{candidate.candidate_number} ({exc})")
                continue
            changed += 1
            if action in _LOGGED:
                add_incident(
                    session, session_id, sitting.id, now, _LOGGED[action], f"{candidate.candidate_number} {candidate.name}: {event.reason}",
                    _action_taken(action), actor.username, client=client,
                )
            if action in _ENDS_AND_MARKS:
                ended.append(sitting.id)
        if changed and action in (Action.VOID, Action.ABANDON, Action.REMOVE):
            audit(session, now, actor.username, f"sitting.{action.value}", f"session {session_id}", {"reason": reason},
                  exam.centre_id, client)
    for sitting_id in ended:
        mark_sitting(engine, sitting_id, now)
    if sitting_ids is not None and len(sitting_ids) == 1 and refused:
        raise InvalidInput([f"candidate {refused[0]}"])
    return Done(changed, tuple(refused))


def _action_taken(action: Action) -> str:
    return {
        Action.LEFT_UNACCOMPANIED: "Recorded as leaving unaccompanied; the candidate may not return.",
        Action.REMOVE: "Candidate removed from the room; the sitting was ended and the record kept.",
        Action.WARN: "Candidate warned.",
        Action.END: "The sitting was ended by the invigilator.",
    }[action]


def add_time(
    engine: Engine, actor: Actor, session_id: int, sitting_id: int, minutes: int, reason: str, now: datetime, client: str = ""
) -> None:
    """Extra time for one candidate, with the reason on the record (E1)."""
    problems = []
    if not 1 <= minutes <= MAX_ADDED_MINUTES:
        problems.append(f"minutes {minutes}: give a whole number from 1 to {MAX_ADDED_MINUTES}")
    if not reason.strip():
        problems.append("reason: say why the time is added (e.g. approved arrangement missed, disruption)")
    if problems:
        raise InvalidInput(problems)
    with Session(engine) as session, session.begin():
        _session_for_actions(session, actor, session_id)
        [(sitting, candidate)] = _booked(session, session_id, [sitting_id])
        try:
            append_event(session, sitting, Event(Kind.TIME_ADDED, now, actor.username, " ".join(reason.split()), {"seconds": minutes * 60}), client)
        except SittingRuleError as exc:
            raise InvalidInput([f"candidate {candidate.candidate_number}: {exc}"]) from exc


def record_arrival(
    engine: Engine, actor: Actor, catalogue: Catalogue, session_id: int, sitting_id: int, arrived: datetime | None, reason: str,
    now: datetime, client: str = "",
) -> bool:
    """Mark a candidate present (B3). With an arrival time after the session's start, a late
    arrival (B9): the time they came under supervision and the reason are recorded, the full
    time still applies (their clock starts when they press Start), and "very late" is flagged
    and logged as an incident. Returns whether it was very late."""
    with Session(engine) as session, session.begin():
        exam = _session_for_actions(session, actor, session_id)
        [(sitting, candidate)] = _booked(session, session_id, [sitting_id])
        published = datetime.combine(datetime.fromisoformat(exam.date).date(), time.fromisoformat(exam.start_time), CENTRE_TIME)
        at = arrived or now
        if at > now + timedelta(minutes=1):
            raise InvalidInput([f"arrival time {at.astimezone(CENTRE_TIME):%H:%M}: that is later than now"])
        late = at > published
        duration = catalogue.for_purpose(exam.unit, _purpose(exam)).blueprint.duration_minutes
        very_late = late and is_very_late(published, duration, at)
        if late and not reason.strip():
            raise InvalidInput([f"candidate {candidate.candidate_number} arrived after {exam.start_time}: give the reason for the late arrival"])
        event = Event(Kind.MARKED_PRESENT, at if late else now, actor.username, " ".join(reason.split()),
                      {"late": late, "very_late": very_late})
        try:
            append_event(session, sitting, event, client)
        except SittingRuleError as exc:
            raise InvalidInput([f"candidate {candidate.candidate_number}: {exc}"]) from exc
        if late:
            category = Category.VERY_LATE_ARRIVAL if very_late else Category.LATE_ARRIVAL
            add_incident(
                session, session_id, sitting.id, now, category,
                f"{candidate.candidate_number} {candidate.name} came under supervision at {at.astimezone(CENTRE_TIME):%H:%M}"
                f" (session start {exam.start_time}): {event.reason}",
                "Admitted; the full time applies from the candidate's own start."
                + (" Very late: a report goes to the awarding body." if very_late else ""),
                actor.username, {"arrived_at": at.isoformat()}, client,
            )
    return very_late


def _purpose(exam: ExamSessionRecord) -> Purpose:
    return Purpose.PRACTICE if exam.practice else Purpose.LIVE


# --- the whole room at once (D1-D3) --------------------------------------------------------


@dataclass(frozen=True)
class Interruption:
    at: datetime
    paused: int
    in_room: tuple[dict[str, str], ...]  # candidate number, name, workstation, state (D2)


def pause_all(
    engine: Engine, actor: Actor, session_id: int, category: str, description: str, now: datetime, client: str = ""
) -> Interruption:
    """Emergency "pause all": every running clock stops at this one instant, every screen hides
    its question, and the interruption is logged with the list of who was in the room (D1, D2)."""
    problems = incident_problems(category, description, "all clocks stopped")
    if problems:
        raise InvalidInput(problems)
    with Session(engine) as session, session.begin():
        _session_for_actions(session, actor, session_id)
        if open_interruption(session, session_id) is not None:
            raise InvalidInput(["the room is already paused for an emergency: resume it first"])
        targets = _booked(session, session_id, None)
        states = events_by_sitting(session, [s.id for s, _ in targets if s.id is not None])
        in_room, paused = [], 0
        for sitting, candidate in targets:
            assert sitting.id is not None
            state = replay(states[sitting.id])
            if state.status is Status.IN_PROGRESS:
                append_event(session, sitting, Event(Kind.PAUSED, now, actor.username, f"emergency: {description.strip()}",
                                                     {"emergency": True}), client)
                paused += 1
            if state.status in RUNNING or (state.status in BEFORE_START and (state.present or state.status is not Status.BOOKED)):
                if not state.out_of_room:
                    in_room.append({"candidate_number": candidate.candidate_number, "name": candidate.name,
                                    "state": state.status.value.replace("_", " ")})
        add_incident(
            session, session_id, None, now, category, description, f"Pause all: {paused} clock{'' if paused == 1 else 's'} stopped at once.",
            actor.username, {"interruption": "started", "in_room": in_room, "paused": paused}, client,
        )
    return Interruption(now, paused, tuple(in_room))


def resume_all(engine: Engine, actor: Actor, session_id: int, now: datetime, client: str = "") -> Done:
    """Resume every paused candidate at one instant; each has exactly the time they had left
    (D3). Ends an emergency interruption, recording how long it lasted."""
    with Session(engine) as session, session.begin():
        _session_for_actions(session, actor, session_id)
        interruption = open_interruption(session, session_id)
        targets = _booked(session, session_id, None)
        states = events_by_sitting(session, [s.id for s, _ in targets if s.id is not None])
        resumed = 0
        for sitting, _ in targets:
            assert sitting.id is not None
            # During an emergency, only the clocks it stopped restart: a candidate paused on their
            # own before it (a crashed workstation, D6) stays paused until the invigilator says.
            if replay(states[sitting.id]).status is Status.PAUSED and (interruption is None or _emergency_paused(states[sitting.id])):
                append_event(session, sitting, Event(Kind.RESUMED, now, actor.username, "resume all"), client)
                resumed += 1
        if interruption is not None:
            lasted = int((now - interruption["since"]).total_seconds())
            add_incident(
                session, session_id, None, now, interruption["category"], f"Interruption ended: {interruption['description']}",
                f"Resume all: {resumed} candidate{'' if resumed == 1 else 's'} resumed with the time they had left; "
                f"the interruption lasted {lasted // 60} min {lasted % 60} s.",
                actor.username, {"interruption": "ended", "started_id": interruption["id"], "seconds": lasted}, client,
            )
    return Done(resumed)


def _emergency_paused(events: list[Event]) -> bool:
    last = next((e for e in reversed(events) if e.kind is Kind.PAUSED), None)
    return last is not None and bool(last.data.get("emergency"))


# --- the session PIN (A5) -----------------------------------------------------------------


def new_pin(engine: Engine, actor: Actor, session_id: int, rng: random.Random, now: datetime, client: str = "") -> str:
    """Set (or regenerate) the session PIN that candidates type to start together. Shown only
    to invigilators; a new one replaces the old at once."""
    pin = "".join(str(rng.randrange(10)) for _ in range(PIN_DIGITS))
    with Session(engine) as session, session.begin():
        exam = _session_for_actions(session, actor, session_id)
        exam.pin = pin
        session.add(exam)
        audit(session, now, actor.username, "session.pin", f"session {session_id}", {}, exam.centre_id, client)
    return pin


def clear_pin(engine: Engine, actor: Actor, session_id: int, now: datetime, client: str = "") -> None:
    with Session(engine) as session, session.begin():
        exam = _session_for_actions(session, actor, session_id)
        exam.pin = None
        session.add(exam)
        audit(session, now, actor.username, "session.pin_cleared", f"session {session_id}", {}, exam.centre_id, client)


# --- the incident log (C7) ----------------------------------------------------------------


def record_incident(
    engine: Engine, actor: Actor, session_id: int, sitting_id: int | None, category: str, description: str, action: str,
    now: datetime, client: str = "",
) -> None:
    problems = incident_problems(category, description, action)
    if problems:
        raise InvalidInput(problems)
    with Session(engine) as session, session.begin():
        _session_for_actions(session, actor, session_id)
        if sitting_id is not None:
            _booked(session, session_id, [sitting_id])
        add_incident(session, session_id, sitting_id, now, category, description, action, actor.username, client=client)


# --- the end of the session (F4, F5) ------------------------------------------------------


@dataclass(frozen=True)
class EndCheck:
    not_finished: tuple[str, ...]  # candidates neither finished, absent, voided nor abandoned
    unsent: tuple[str, ...]  # browsers holding answers that may still arrive (within the grace)
    lost: tuple[str, ...]  # answers a browser held after its sitting ended: they can never be saved
    interrupted: bool

    @property
    def ready(self) -> bool:
        return not (self.not_finished or self.unsent or self.interrupted)


def end_check(engine: Engine, actor: Actor, session_id: int, now: datetime, grace_seconds: int) -> EndCheck:
    """Everyone finished, absent or voided, every answer on the server (F4)."""
    require(actor, *STAFF)
    with Session(engine) as session:
        own_session(session, actor, session_id)
        return _end_check(session, session_id, now, grace_seconds)


def _end_check(session: Session, session_id: int, now: datetime, grace_seconds: int) -> EndCheck:
    targets = _booked(session, session_id, None)
    states = events_by_sitting(session, [s.id for s, _ in targets if s.id is not None])
    not_finished, unsent, lost = [], [], []
    for sitting, candidate in targets:
        assert sitting.id is not None
        state = replay(states[sitting.id])
        held = f"{candidate.candidate_number} ({sitting.unsent} answer{'' if sitting.unsent == 1 else 's'} not acknowledged)"
        if state.status not in FINAL:
            not_finished.append(f"{candidate.candidate_number} ({state.status.value.replace('_', ' ')})")
        elif sitting.unsent and state.status is not Status.ABSENT:
            # Answers in flight at the end are accepted for the grace period; after it, what a
            # browser still held can never be saved, and the sign-off records it instead.
            ended = state.submitted_at
            if ended is not None and now > ended + timedelta(seconds=grace_seconds):
                lost.append(held)
            else:
                unsent.append(held)
    return EndCheck(tuple(not_finished), tuple(unsent), tuple(lost), open_interruption(session, session_id) is not None)


def sign_off(
    engine: Engine, actor: Actor, session_id: int, note: str, now: datetime, grace_seconds: int, client: str = ""
) -> None:
    """The invigilator signs the session off (F5): the register is complete and the incident log
    closed. Refused, with what is outstanding, until the end-of-session check passes; answers a
    browser held after its sitting ended are recorded with the sign-off."""
    with Session(engine) as session, session.begin():
        exam = _session_for_actions(session, actor, session_id)
        check = _end_check(session, session_id, now, grace_seconds)
        if not check.ready:
            problems = []
            if check.not_finished:
                problems.append("not yet finished, absent or voided: " + ", ".join(check.not_finished))
            if check.unsent:
                problems.append("answers not yet on the server: " + ", ".join(check.unsent))
            if check.interrupted:
                problems.append("the room is still paused for an emergency")
            raise InvalidInput(problems)
        exam.signed_off_at = now
        exam.signed_off_by = actor.username
        exam.sign_off_note = note.strip()[:2000]
        session.add(exam)
        audit(session, now, actor.username, "session.signed_off", f"session {session_id}",
              {"note": exam.sign_off_note, "answers_never_saved": list(check.lost)}, exam.centre_id, client)


def unlock(engine: Engine, actor: Actor, session_id: int, sitting_ids: list[int] | None, now: datetime, client: str = "") -> int:
    """Unlock the named sittings, or every one not yet started (B5); returns how many changed."""
    return act(engine, actor, session_id, sitting_ids, Action.UNLOCK, now, "", client).changed


def approve_relogin(engine: Engine, actor: Actor, session_id: int, sitting_id: int, reason: str, now: datetime, client: str = "") -> None:
    """Let the candidate log in again, on this or a spare workstation (D6, D8)."""
    act(engine, actor, session_id, [sitting_id], Action.ALLOW_LOGIN, now, reason, client)

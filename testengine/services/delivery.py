"""The candidate's test: keycode, confirmation, declaration, start, answers, finish, result.

The browser is only a window: the server owns the state (the sitting's event log), the clock
(the deadline, B8, A13), every answer (saved at once, C3) and the decision to submit (F2).
One browser holds a sitting at a time (B4); another needs the invigilator's approval (D8).
What reaches the candidate never contains a key (C6 and A6 for staff, G8).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from testengine.domain.centres import pin_matches
from testengine.domain.items import Choice, ItemType
from testengine.domain.scoring import ResponseError, normalise, score
from testengine.domain.sittings import FINAL, Event, Kind, Sitting, SittingRuleError, Status
from testengine.domain.blueprints import Purpose
from testengine.services.assembly import MAX_SEED, Assembler, Eligibility, eligibility_for, store_form
from testengine.services.catalogue import Catalogue
from testengine.services.marking import mark_sitting
from testengine.storage.centres import arrangements_of, failed_logins_since, record_failed_login
from testengine.storage.forms import load_form
from testengine.storage.incidents import open_interruption
from testengine.storage.item_versions import load_scenarios, load_versions
from testengine.storage.results import result_history
from testengine.storage.sittings import sitting_row, upsert_response
from testengine.storage.sitting_events import append_event, aware, state_of
from testengine.storage.tables import (
    BookingRecord,
    CandidateRecord,
    CentreRecord,
    ExamSessionRecord,
    ResponseRecord,
    SittingRecord,
)

CENTRE_TIME = ZoneInfo("Europe/London")
KEYCODE_WINDOW = timedelta(minutes=15)
MAX_KEYCODE_FAILURES = 10


class LoginRefused(Exception):
    pass


class NotYours(Exception):
    """The browser's cookie no longer holds this sitting (another browser took it over)."""


class AnswerRefused(Exception):
    pass


@dataclass(frozen=True)
class CandidateSession:
    sitting_id: int
    device: str


@dataclass(frozen=True)
class SittingView:
    sitting_id: int
    status: Status
    candidate_name: str
    candidate_number: str
    unit_number: int
    unit_title: str
    centre_name: str
    practice: bool
    confirmed: bool
    unlocked: bool
    duration_minutes: int
    extra_time_percent: int
    remaining_seconds: int
    questions: int
    answered: int
    flagged: int
    warning_minutes: tuple[int, ...]
    pin_set: bool = False  # the invigilator has set a session PIN that unlocks the test (A5)


@dataclass(frozen=True)
class NavigatorEntry:
    position: int
    answered: bool
    flagged: bool


@dataclass(frozen=True)
class QuestionView:
    """One question as the candidate sees it: there is no key here, by construction."""

    position: int
    total: int
    type: ItemType
    marks: int
    scenario: str
    stem: str
    options: tuple[Choice, ...]
    premises: tuple[Choice, ...]
    select_count: int
    response: Any
    flagged: bool
    navigator: tuple[NavigatorEntry, ...]
    sequence: int  # of the saved answer to this question
    latest_sequence: int  # the highest of any answer in the sitting


@dataclass(frozen=True)
class SaveReceipt:
    position: int
    sequence: int
    saved_at: datetime


@dataclass(frozen=True)
class OutcomeLine:
    number: int
    title: str
    score: int
    maximum: int


@dataclass(frozen=True)
class Feedback:
    """Practice only: a question answered wrongly, the right answer and why."""

    position: int
    stem: str
    right_answer: str
    rationale: str


@dataclass(frozen=True)
class ResultView:
    released: bool
    outcome: str
    total: int
    maximum: int
    by_outcome: tuple[OutcomeLine, ...]
    feedback: tuple[Feedback, ...]


# --- logging in ---------------------------------------------------------------------------


def keycode_login(engine: Engine, keycode: str, now: datetime, client: str, device: str) -> CandidateSession:
    """Open the sitting a keycode belongs to in this browser (B1, B4, D8).

    A refusal is raised only after the transaction commits, so that the failed attempt (for
    rate limiting) and any blocked log-in (for the invigilator's log) are kept.
    """
    with Session(engine) as session, session.begin():
        outcome = _login(session, keycode, now, client, device)
    if isinstance(outcome, LoginRefused):
        raise outcome
    return outcome


def _login(session: Session, keycode: str, now: datetime, client: str, device: str) -> CandidateSession | LoginRefused:
    key = f"keycode:{client}"
    if len(failed_logins_since(session, key, now - KEYCODE_WINDOW)) >= MAX_KEYCODE_FAILURES:
        return LoginRefused("Too many keycodes were not recognised from this computer. Ask the invigilator.")
    booking = session.exec(select(BookingRecord).where(BookingRecord.keycode == keycode)).first()
    exam = session.get(ExamSessionRecord, booking.session_id) if booking else None
    sitting = session.exec(select(SittingRecord).where(SittingRecord.booking_id == booking.id)).first() if booking else None
    if booking is None or exam is None or sitting is None or sitting.id is None:
        record_failed_login(session, [key], now)
        return LoginRefused("That keycode was not recognised. Check it against your slip, or ask the invigilator.")
    if date.fromisoformat(exam.date) != now.astimezone(CENTRE_TIME).date():
        return LoginRefused(f"This keycode is for a session on {exam.date}, not today.")
    state = state_of(session, sitting.id)
    if state.status in FINAL:
        append_event(session, sitting, Event(Kind.LOGIN_BLOCKED, now, "candidate", "keycode used again after the sitting ended"), client)
        return LoginRefused("This keycode has already been used for a test that has ended. Ask the invigilator.")
    if sitting.device is not None:
        if not state.relogin_approved:
            append_event(session, sitting, Event(Kind.LOGIN_BLOCKED, now, "candidate", "keycode already in use on another workstation"), client)
            return LoginRefused("This test is already open on another computer. Ask the invigilator to approve a new log-in.")
        append_event(session, sitting, Event(Kind.RELOGGED_IN, now, "candidate", "logged in again after approval"), client)
    elif state.status is Status.BOOKED:
        append_event(session, sitting, Event(Kind.LOGGED_IN, now, "candidate"), client)
    sitting.device = device
    session.add(sitting)
    return CandidateSession(sitting.id, device)


def _own(session: Session, who: CandidateSession) -> SittingRecord:
    sitting = session.get(SittingRecord, who.sitting_id)
    if sitting is None or sitting.device != who.device:
        raise NotYours("This test has been opened on another computer, or you have been logged out.")
    return sitting


def _act(engine: Engine, who: CandidateSession, kind: Kind, now: datetime, client: str, reason: str = "") -> Sitting:
    with Session(engine) as session, session.begin():
        return append_event(session, _own(session, who), Event(kind, now, "candidate", reason), client)


def confirm_details(engine: Engine, who: CandidateSession, now: datetime, client: str) -> None:
    _act(engine, who, Kind.CONFIRMED, now, client)


def cancel_login(engine: Engine, who: CandidateSession, now: datetime, client: str) -> None:
    """The details shown were not the candidate's (B2): back to booked, no attempt recorded."""
    with Session(engine) as session, session.begin():
        sitting = _own(session, who)
        append_event(session, sitting, Event(Kind.CANCELLED, now, "candidate", "candidate said the details shown were not theirs"), client)
        sitting.device = None
        session.add(sitting)


def make_declaration(engine: Engine, who: CandidateSession, now: datetime, client: str) -> None:
    _act(engine, who, Kind.DECLARED, now, client, "declared the work will be their own and the rules of the room")


def record_focus(engine: Engine, who: CandidateSession, lost: bool, now: datetime, client: str) -> None:
    """Leaving the test window is logged for the invigilator (A12); nothing is locked."""
    with Session(engine) as session, session.begin():
        sitting = _own(session, who)
        if sitting.status in (Status.IN_PROGRESS.value, Status.PAUSED.value, Status.ON_BREAK.value):
            append_event(session, sitting, Event(Kind.FOCUS_LOST if lost else Kind.FOCUS_RETURNED, now, "candidate"), client)


def request_break(engine: Engine, who: CandidateSession, now: datetime, client: str) -> None:
    _act(engine, who, Kind.BREAK_REQUESTED, now, client, "candidate asked for a supervised rest break")


# --- starting -----------------------------------------------------------------------------


def start_test(engine: Engine, assembler: Assembler, who: CandidateSession, now: datetime, client: str, rng: random.Random) -> None:
    """Assemble the candidate's form on demand, excluding items seen before, and start the clock (B7).

    In three steps, so that no transaction is open while the solver works (on SQLite every
    transaction holds the one writer, so a solve inside one held up every autosave; on
    PostgreSQL it held a pooled connection): read what the form depends on, solve, then store
    the form and the start, checking again that the sitting may start (another request may have
    started it, or the invigilator paused the room, meanwhile)."""
    with Session(engine) as session:
        sitting = _startable(session, who, now, client)
        candidate = session.get(CandidateRecord, sitting.candidate_id)
        assert candidate is not None and candidate.id is not None
        if sitting.practice:
            # Practice uses released items only; repeats do no harm there, so nothing is excluded.
            package = assembler.catalogue.for_purpose(sitting.unit, Purpose.PRACTICE)
            eligibility = Eligibility()
        else:
            package = assembler.current(session, assembler.catalogue.unit(sitting.unit))
            eligibility = eligibility_for(session, package, candidate.candidate_number)
        candidate_id = candidate.id
    form = assembler.choose(package, rng.randint(0, MAX_SEED), eligibility)
    with Session(engine) as session, session.begin():
        sitting = _startable(session, who, now, client)
        sitting.form_id = store_form(session, package, form, now, candidate_id)
        extra = arrangements_of(session, candidate_id).extra_time_percent
        append_event(session, sitting, _started_event(now, form.duration_minutes * 60, extra), client)


def _startable(session: Session, who: CandidateSession, now: datetime, client: str) -> SittingRecord:
    """The candidate's sitting if it may start now; the rule that stops it otherwise."""
    sitting = _own(session, who)
    state = state_of(session, sitting.id or 0)
    if state.status is not Status.READY or not state.unlocked:
        # Let the domain say precisely why not.
        append_event(session, sitting, _started_event(now, 0, 0), client)
    booking = session.get(BookingRecord, sitting.booking_id) if sitting.booking_id else None
    if booking is not None and open_interruption(session, booking.session_id) is not None:
        raise SittingRuleError("the room is paused for an emergency: wait for the invigilator")
    return sitting


def _started_event(now: datetime, base_seconds: int, extra_percent: int) -> Event:
    return Event(Kind.STARTED, now, "candidate", data={"base_seconds": base_seconds, "extra_percent": extra_percent})


# --- what the candidate sees -------------------------------------------------------------


def sitting_view(engine: Engine, catalogue: Catalogue, who: CandidateSession, now: datetime, warning_minutes: tuple[int, ...]) -> SittingView:
    submit_if_overdue(engine, who.sitting_id, now)
    with Session(engine) as session:
        sitting = _own(session, who)
        state = state_of(session, who.sitting_id)
        candidate = session.get(CandidateRecord, sitting.candidate_id)
        centre = session.get(CentreRecord, candidate.centre_id) if candidate and candidate.centre_id else None
        assert candidate is not None and candidate.id is not None
        responses = _responses(session, who.sitting_id)
        questions = 0
        if sitting.form_id is not None:
            form, _ = load_form(session, sitting.form_id)
            questions = len(form.items)
        package = catalogue.unit(sitting.unit)
        extra = state.extra_percent if state.started_at else arrangements_of(session, candidate.id).extra_time_percent
        duration = package.blueprint.duration_minutes
        remaining = state.remaining(now) if state.started_at else timedelta(seconds=duration * 60 * (100 + extra) / 100)
        return SittingView(
            sitting_id=who.sitting_id,
            status=state.status,
            candidate_name=candidate.name,
            candidate_number=candidate.candidate_number,
            unit_number=package.number,
            unit_title=package.bank.unit.title,
            centre_name=centre.name if centre else "",
            practice=sitting.practice,
            confirmed=state.confirmed,
            unlocked=state.unlocked,
            duration_minutes=duration,
            extra_time_percent=extra,
            remaining_seconds=int(remaining.total_seconds()),
            questions=questions,
            answered=sum(1 for r in responses.values() if r.response is not None),
            flagged=sum(1 for r in responses.values() if r.flagged),
            warning_minutes=warning_minutes,
            pin_set=_session_pin(session, sitting) is not None,
        )


def _session_pin(session: Session, sitting: SittingRecord) -> str | None:
    booking = session.get(BookingRecord, sitting.booking_id) if sitting.booking_id else None
    exam = session.get(ExamSessionRecord, booking.session_id) if booking else None
    return exam.pin if exam else None


def unlock_with_pin(engine: Engine, who: CandidateSession, pin: str, now: datetime, client: str) -> None:
    """The candidate types the session PIN the invigilator announces, and the test unlocks (A5).
    Wrong guesses are limited like keycodes; the refusal comes after the attempt is recorded."""
    with Session(engine) as session, session.begin():
        sitting = _own(session, who)
        key = f"pin:{who.sitting_id}"
        outcome: LoginRefused | None = None
        if len(failed_logins_since(session, key, now - KEYCODE_WINDOW)) >= MAX_KEYCODE_FAILURES:
            outcome = LoginRefused("Too many wrong PINs were typed. Ask the invigilator to unlock your test.")
        elif not pin_matches(_session_pin(session, sitting), pin):
            record_failed_login(session, [key], now)
            outcome = LoginRefused("That is not the session PIN. Check it with the invigilator.")
        else:
            append_event(session, sitting, Event(Kind.UNLOCKED, now, "candidate", "unlocked with the session PIN"), client)
    if outcome is not None:
        raise outcome


def record_check_ins(engine: Engine, check_ins: Mapping[int, tuple[datetime, int]]) -> None:
    """Browsers' check-ins, many at once: when each was last heard from and how many answers it
    still held unacknowledged (the console's connection warning, D7; the end check, F4)."""
    if not check_ins:
        return
    with engine.begin() as connection:
        connection.execute(
            update(SittingRecord).where(col(SittingRecord.id) == bindparam("sitting")).values(last_seen=bindparam("at"), unsent=bindparam("held")),
            [{"sitting": s, "at": at, "held": unsent} for s, (at, unsent) in check_ins.items()],
        )


def _responses(session: Session, sitting_id: int) -> dict[int, ResponseRecord]:
    rows = session.exec(select(ResponseRecord).where(ResponseRecord.sitting_id == sitting_id))
    return {r.position: r for r in rows}


def question_view(engine: Engine, who: CandidateSession, position: int, now: datetime) -> QuestionView:
    submit_if_overdue(engine, who.sitting_id, now)
    with Session(engine) as session:
        sitting = _own(session, who)
        if sitting.status != Status.IN_PROGRESS.value or sitting.form_id is None:
            raise AnswerRefused("The test is not in progress.")
        form, _ = load_form(session, sitting.form_id)
        if not 1 <= position <= len(form.items):
            raise LookupError(f"there is no question {position}")
        form_item = form.items[position - 1]
        item = load_versions(session, [form_item.ref])[form_item.ref]
        scenario = load_scenarios(session, [form_item.ref]).get(form_item.ref, "")
        responses = _responses(session, who.sitting_id)
        current = responses.get(position)
        texts = {o.id: o.text for o in item.options}
        return QuestionView(
            position=position,
            total=len(form.items),
            type=item.type,
            marks=item.marks,
            scenario=scenario,
            stem=item.stem,
            options=tuple(Choice(o, texts[o]) for o in form_item.option_order),
            premises=item.premises,
            select_count=item.select_count,
            response=current.response if current else None,
            flagged=bool(current and current.flagged),
            navigator=tuple(
                NavigatorEntry(
                    i.position,
                    responses.get(i.position) is not None and responses[i.position].response is not None,
                    bool(responses.get(i.position) and responses[i.position].flagged),
                )
                for i in form.items
            ),
            sequence=current.sequence if current else 0,
            latest_sequence=max((r.sequence for r in responses.values()), default=0),
        )


def review_view(engine: Engine, who: CandidateSession, now: datetime) -> tuple[NavigatorEntry, ...]:
    return question_view(engine, who, 1, now).navigator


# --- answers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerSave:
    """One answer as it arrived: whose, which question, what, its sequence number, and when."""

    who: CandidateSession
    position: int
    raw: Any
    sequence: int
    received: datetime
    seconds: int | None = None  # on screen so far (the player's count), for response times


def save_answer(
    engine: Engine, who: CandidateSession, position: int, raw: Any, sequence: int, now: datetime, grace_seconds: int,
    seconds: int | None = None,
) -> SaveReceipt:
    """Save one answer at once (C3). Idempotent: a resend, or an older save arriving after a
    newer one, never overwrites what the candidate chose last."""
    outcome = save_answers(engine, [AnswerSave(who, position, raw, sequence, now, seconds)], grace_seconds)[0]
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def save_answers(
    engine: Engine, saves: Sequence[AnswerSave], grace_seconds: int
) -> list[SaveReceipt | AnswerRefused | NotYours]:
    """Save answers from many candidates in one transaction and one commit (group commit: the
    web layer gathers the saves that arrive while the previous commit runs). Each save is
    checked on its own against its sitting as it stands inside the transaction, and is either
    written or refused with the reason; a refused save never stops the others."""
    # The busiest request of all: a plain connection and two statements a save, no ORM session.
    outcomes: list[SaveReceipt | AnswerRefused | NotYours] = []
    with engine.begin() as connection:
        for save in saves:
            try:
                outcomes.append(_save_one(connection, save, grace_seconds))
            except (AnswerRefused, NotYours) as refused:
                outcomes.append(refused)
    return outcomes


def _save_one(connection: Connection, save: AnswerSave, grace_seconds: int) -> SaveReceipt:
    who, position, now = save.who, save.position, save.received
    sitting = sitting_row(connection, who.sitting_id)
    if sitting is None or sitting.device != who.device:
        raise NotYours("This test has been opened on another computer, or you have been logged out.")
    # The row's status and running deadline are written with each event in one transaction,
    # so the hot path need not replay the log.
    status = Status(sitting.status)
    deadline = aware(sitting.deadline) if sitting.deadline else None
    if status in (Status.PAUSED, Status.ON_BREAK):
        raise AnswerRefused("The test is paused: your answer was not saved. It will be sent again when the test resumes.")
    if status is not Status.IN_PROGRESS or sitting.form_id is None or deadline is None:
        raise AnswerRefused("The test has ended: answers can no longer be changed.")
    if now > deadline + timedelta(seconds=grace_seconds):
        raise AnswerRefused("Your time has ended: this answer arrived too late to be saved.")
    form, _ = load_form(connection, sitting.form_id)
    if not 1 <= position <= len(form.items):
        raise AnswerRefused(f"There is no question {position} on this test.")
    form_item = form.items[position - 1]
    item = load_versions(connection, [form_item.ref])[form_item.ref]
    try:
        normalised = normalise(item, save.raw)
    except ResponseError as exc:
        raise AnswerRefused(f"That answer does not fit question {position}.") from exc
    stored = None if normalised is None else _stored_shape(item.type, save.raw)
    kept = upsert_response(connection, who.sitting_id, position, stored, save.sequence, now, save.seconds)
    return SaveReceipt(position, kept, now)


def _stored_shape(kind: ItemType, raw: Any) -> Any:
    if kind is ItemType.MATCHING:
        return {k: v for k, v in dict(raw).items() if v}
    if kind in (ItemType.MULTIPLE, ItemType.ORDERING):
        return list(raw)
    return raw


def set_flag(engine: Engine, who: CandidateSession, position: int, flagged: bool, now: datetime) -> None:
    with Session(engine) as session, session.begin():
        sitting = _own(session, who)
        if sitting.status != Status.IN_PROGRESS.value or sitting.form_id is None:
            raise AnswerRefused("The test is not in progress.")
        form, _ = load_form(session, sitting.form_id)
        if not 1 <= position <= len(form.items):
            raise AnswerRefused(f"There is no question {position} on this test.")
        record = session.get(ResponseRecord, (who.sitting_id, position)) or ResponseRecord(
            sitting_id=who.sitting_id, position=position, response=None, sequence=0, answered_at=now
        )
        record.flagged = flagged
        session.add(record)


# --- finishing ----------------------------------------------------------------------------


def finish_test(engine: Engine, who: CandidateSession, now: datetime, client: str) -> None:
    """The candidate finishes (F1); the sitting is submitted and marked. There is no way back."""
    with Session(engine) as session, session.begin():
        append_event(session, _own(session, who), Event(Kind.SUBMITTED, now, "candidate", "candidate finished the test"), client)
    mark_sitting(engine, who.sitting_id, now)


def submit_if_overdue(engine: Engine, sitting_id: int, now: datetime) -> bool:
    """Submit the sitting if its time has run out (F2); True if this call submitted it."""
    with Session(engine) as session, session.begin():
        # Locked: with several server processes, each runs the sweep, and one submits.
        sitting = session.get(SittingRecord, sitting_id, with_for_update=True, populate_existing=True)
        if sitting is None or sitting.status != Status.IN_PROGRESS.value:
            return False
        state = state_of(session, sitting_id)
        if not state.is_overdue(now):
            return False
        deadline = state.deadline(now)
        assert deadline is not None
        # Recorded at the deadline itself, however late the sweep ran.
        append_event(session, sitting, Event(Kind.SUBMITTED, deadline, "system", "time allowed ended"))
    mark_sitting(engine, sitting_id, now)
    return True


def submit_overdue(engine: Engine, now: datetime) -> list[int]:
    """The deadline sweep: submit every running sitting whose time is up, browser open or not."""
    with Session(engine) as session:
        due = session.exec(
            select(SittingRecord.id).where(SittingRecord.status == Status.IN_PROGRESS.value, col(SittingRecord.deadline) <= now)
        ).all()
    return [s for s in due if s is not None and submit_if_overdue(engine, s, now)]


def result_view(engine: Engine, catalogue: Catalogue, who: CandidateSession) -> ResultView:
    """The outcome and the score by learning outcome (G2); never item content, except the
    practice feedback on questions answered wrongly (A15)."""
    with Session(engine) as session:
        sitting = _own(session, who)
        results = result_history(session, who.sitting_id)
        if not results:
            return ResultView(False, "", 0, 0, (), ())
        result = results[-1]
        candidate = session.get(CandidateRecord, sitting.candidate_id)
        centre = session.get(CentreRecord, candidate.centre_id) if candidate and candidate.centre_id else None
        released = sitting.practice or (centre is not None and centre.results_release == "immediate")
        unit = catalogue.unit(sitting.unit).bank.unit
        titles = {lo.number: lo.title for lo in unit.learning_outcomes}
        lines = tuple(
            OutcomeLine(int(lo), titles.get(int(lo), ""), v["score"], v["maximum"])
            for lo, v in sorted(result.by_learning_outcome.items(), key=lambda kv: int(kv[0]))
        )
        feedback: tuple[Feedback, ...] = ()
        if sitting.practice and sitting.form_id is not None:
            feedback = _practice_feedback(session, sitting.form_id, who.sitting_id)
        if not released:
            return ResultView(False, "", 0, 0, (), ())
        return ResultView(True, result.outcome, result.total, result.maximum, lines, feedback)


def _practice_feedback(session: Session, form_id: int, sitting_id: int) -> tuple[Feedback, ...]:
    form, _ = load_form(session, form_id)
    items = load_versions(session, form.refs)
    responses = _responses(session, sitting_id)
    feedback = []
    for form_item in form.items:
        item = items[form_item.ref]
        record = responses.get(form_item.position)
        given = normalise(item, record.response) if record and record.response is not None else None
        if score(item, given) < item.marks:
            feedback.append(Feedback(form_item.position, item.stem, _answer_text(item.type, item), item.rationale))
    return tuple(feedback)


def _answer_text(kind: ItemType, item: Any) -> str:
    texts = {o.id: o.text for o in item.options}
    if kind is ItemType.MATCHING:
        return "; ".join(f"{p.text}: {texts[k]}" for p, k in zip(item.premises, item.key))
    if kind is ItemType.ORDERING:
        return " -> ".join(texts[k] for k in item.key)
    return "; ".join(texts[k] for k in item.key)


def rule_error_message(error: SittingRuleError) -> str:
    return str(error)[0].upper() + str(error)[1:] + "."

"""What invigilators do to a session's sittings: unlock, approve a new log-in, and see the room.

The full live console (pause, breaks, extra time, incidents) builds on these. Nothing here
shows question text or keys (C6).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from testengine.domain.centres import Actor, Role
from testengine.domain.sittings import Event, Kind, SittingRuleError, Status
from testengine.services.catalogue import Catalogue
from testengine.services.centres import own_session, require
from testengine.services.errors import InvalidInput, NotFound
from testengine.storage.centres import arrangements_of
from testengine.storage.sitting_events import append_event, state_of
from testengine.storage.tables import BookingRecord, CandidateRecord, ExamSessionRecord, ResponseRecord, SittingRecord

STAFF = (Role.CENTRE_ADMIN, Role.INVIGILATOR)


@dataclass(frozen=True)
class RoomRow:
    sitting_id: int
    candidate_number: str
    name: str
    seat: str
    status: Status
    unlocked: bool
    arrangements: str
    remaining_seconds: int
    answered: int
    relogin_approved: bool
    keycode: str


@dataclass(frozen=True)
class SessionView:
    session_id: int
    unit_number: int
    unit_title: str
    date: str
    start_time: str
    room: str
    capacity: int
    practice: bool
    rows: tuple[RoomRow, ...]

    @property
    def locked_waiting(self) -> int:
        return sum(1 for r in self.rows if not r.unlocked and r.status in (Status.BOOKED, Status.LOGGED_IN, Status.READY))


def _sittings(session: Session, session_id: int) -> list[tuple[SittingRecord, BookingRecord, CandidateRecord]]:
    rows = session.exec(
        select(SittingRecord, BookingRecord, CandidateRecord)
        .join(BookingRecord, col(BookingRecord.id) == SittingRecord.booking_id)
        .join(CandidateRecord, col(CandidateRecord.id) == SittingRecord.candidate_id)
        .where(BookingRecord.session_id == session_id)
        .order_by(col(CandidateRecord.candidate_number))
    ).all()
    return [(s, b, c) for s, b, c in rows]


def session_view(engine: Engine, actor: Actor, catalogue: Catalogue, session_id: int, now: datetime) -> SessionView:
    require(actor, *STAFF)
    with Session(engine) as session:
        exam = own_session(session, actor, session_id)
        answered = dict(
            session.exec(
                select(ResponseRecord.sitting_id, func.count())
                .where(col(ResponseRecord.response).is_not(None))
                .group_by(col(ResponseRecord.sitting_id))
            ).all()
        )
        rows = []
        for sitting, booking, candidate in _sittings(session, session_id):
            assert sitting.id is not None and candidate.id is not None
            state = state_of(session, sitting.id)
            arrangements = arrangements_of(session, candidate.id)
            rows.append(
                RoomRow(
                    sitting_id=sitting.id,
                    candidate_number=candidate.candidate_number,
                    name=candidate.name,
                    seat=booking.seat,
                    status=state.status,
                    unlocked=state.unlocked,
                    arrangements=arrangements.summary(),
                    remaining_seconds=int(state.remaining(now).total_seconds()) if state.started_at else 0,
                    answered=answered.get(sitting.id, 0),
                    relogin_approved=state.relogin_approved,
                    keycode=booking.keycode,
                )
            )
        package = catalogue.unit(exam.unit)
        assert exam.id is not None
        return SessionView(
            exam.id, exam.unit, package.bank.unit.title, exam.date, exam.start_time, exam.room, exam.capacity, exam.practice, tuple(rows)
        )


def unlock(engine: Engine, actor: Actor, session_id: int, sitting_ids: list[int] | None, now: datetime, client: str = "") -> int:
    """Unlock the named sittings, or every one not yet started (B5); returns how many changed."""
    require(actor, *STAFF)
    changed = 0
    with Session(engine) as session, session.begin():
        own_session(session, actor, session_id)
        for sitting, _, _ in _sittings(session, session_id):
            if sitting_ids is not None and sitting.id not in sitting_ids:
                continue
            state = state_of(session, sitting.id or 0)
            if state.unlocked or state.status not in (Status.BOOKED, Status.LOGGED_IN, Status.READY):
                continue
            append_event(session, sitting, Event(Kind.UNLOCKED, now, actor.username), client)
            changed += 1
    return changed


def approve_relogin(engine: Engine, actor: Actor, sitting_id: int, reason: str, now: datetime, client: str = "") -> None:
    """Let the candidate log in again, on this or a spare workstation (D6, D8)."""
    require(actor, *STAFF)
    if not reason.strip():
        raise InvalidInput(["say why the candidate needs to log in again (e.g. workstation failure)"])
    with Session(engine) as session, session.begin():
        sitting = session.get(SittingRecord, sitting_id)
        booking = session.get(BookingRecord, sitting.booking_id) if sitting and sitting.booking_id else None
        exam = session.get(ExamSessionRecord, booking.session_id) if booking else None
        if sitting is None or exam is None or exam.id is None:
            raise NotFound("no such sitting")
        own_session(session, actor, exam.id)
        try:
            append_event(session, sitting, Event(Kind.RELOGIN_APPROVED, now, actor.username, reason.strip()), client)
        except SittingRuleError as exc:
            raise InvalidInput([str(exc)]) from exc

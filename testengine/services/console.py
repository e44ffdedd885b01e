"""What the invigilator sees of a room: one row per booked candidate, live.

The console shows counts, states and times, never question text or keys (C6). The same view
feeds the printable register, seating plan and keycode slips, and (with less in it) the room
display at the front of the room (A14).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, cast
from sqlalchemy import select as select_columns
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from testengine.domain.centres import Actor, Arrangements, Role
from testengine.domain.conduct import ConductPolicy, over_ratio
from testengine.domain.sittings import BEFORE_START, FINAL, RUNNING, Sitting, Status, display_status, replay
from testengine.services.catalogue import Catalogue
from testengine.services.centres import own_session, require
from testengine.storage.centres import arrangements_for
from testengine.storage.incidents import open_interruption
from testengine.storage.sitting_events import aware, events_by_sitting
from testengine.storage.tables import (
    BookingRecord,
    CandidateRecord,
    CentreRecord,
    ExamSessionRecord,
    ResponseRecord,
    SessionInvigilatorRecord,
    SittingRecord,
    StaffRecord,
)

STAFF = (Role.CENTRE_ADMIN, Role.INVIGILATOR)


@dataclass(frozen=True)
class RoomRow:
    sitting_id: int
    candidate_number: str
    name: str
    seat: str
    keycode: str
    status: Status
    state: str  # as the console names it: booked, logged in, locked, in progress, paused, ...
    unlocked: bool
    present: bool
    late: bool
    very_late: bool
    arrived_at: datetime | None
    arrangements: str
    extra_percent: int
    rest_breaks: bool
    answered: int
    flagged: int
    remaining_seconds: int
    started_at: datetime | None
    finish_at: datetime | None  # projected while running (E3); actual once finished
    relogin_approved: bool
    last_seen: datetime | None
    connection_lost: bool
    unsent: int
    focus_losses: int
    break_requested: bool
    out_of_room: bool
    left_unaccompanied: bool
    warnings: int

    @property
    def running(self) -> bool:
        return self.status in RUNNING

    @property
    def before_start(self) -> bool:
        return self.status in BEFORE_START

    @property
    def final(self) -> bool:
        return self.status in FINAL

    @property
    def in_room(self) -> bool:
        """Under supervision now: marked present or logged in, and not finished or out."""
        return (self.present or self.status not in (Status.BOOKED, Status.ABSENT)) and not self.final and not self.out_of_room


@dataclass(frozen=True)
class RoomView:
    session_id: int
    unit_number: int
    unit_title: str
    centre_code: str
    centre_name: str
    date: str
    start_time: str
    room: str
    capacity: int
    practice: bool
    pin: str | None
    invigilators: tuple[str, ...]
    signed_off_at: datetime | None
    signed_off_by: str | None
    interruption: dict[str, Any] | None  # the emergency pause in force, if any (D1, D2)
    rows: tuple[RoomRow, ...]
    now: datetime
    ratio_exceeded: bool

    @property
    def present(self) -> int:
        return sum(1 for r in self.rows if r.present or r.status not in (Status.BOOKED, Status.ABSENT))

    @property
    def locked_waiting(self) -> int:
        return sum(1 for r in self.rows if not r.unlocked and r.before_start)

    @property
    def running(self) -> int:
        return sum(1 for r in self.rows if r.running)

    @property
    def paused(self) -> int:
        return sum(1 for r in self.rows if r.status is Status.PAUSED)

    @property
    def stopped(self) -> int:
        return sum(1 for r in self.rows if r.status in (Status.PAUSED, Status.ON_BREAK))


def room_view(engine: Engine, actor: Actor, catalogue: Catalogue, policy: ConductPolicy, session_id: int, now: datetime) -> RoomView:
    """The room as it stands at `now`, in a handful of queries whatever its size."""
    require(actor, *STAFF)
    with Session(engine) as session:
        exam = own_session(session, actor, session_id)
        assert exam.id is not None
        rows = _rows(session, exam.id, policy, now)
        centre = session.get(CentreRecord, exam.centre_id)
        invigilators = tuple(
            s.display_name
            for s in session.exec(
                select(StaffRecord)
                .join(SessionInvigilatorRecord, col(SessionInvigilatorRecord.staff_id) == StaffRecord.id)
                .where(SessionInvigilatorRecord.session_id == exam.id)
                .order_by(col(StaffRecord.display_name))
            )
        )
        interruption = open_interruption(session, exam.id)
    package = catalogue.unit(exam.unit)
    sitting_now = sum(1 for r in rows if r.in_room or r.running)
    return RoomView(
        session_id=exam.id,
        unit_number=exam.unit,
        unit_title=package.bank.unit.title,
        centre_code=centre.code if centre else "",
        centre_name=centre.name if centre else "",
        date=exam.date,
        start_time=exam.start_time,
        room=exam.room,
        capacity=exam.capacity,
        practice=exam.practice,
        pin=exam.pin,
        invigilators=invigilators,
        signed_off_at=aware(exam.signed_off_at) if exam.signed_off_at else None,
        signed_off_by=exam.signed_off_by,
        interruption=interruption,
        rows=tuple(rows),
        now=now,
        ratio_exceeded=over_ratio(policy, max(sitting_now, 1) if rows else 0, len(invigilators)),
    )


def _rows(session: Session, session_id: int, policy: ConductPolicy, now: datetime) -> list[RoomRow]:
    # Plain columns rather than ORM objects: the console of a large room reads this every few seconds.
    booked: Sequence[Any] = session.connection().execute(
        select_columns(
            col(SittingRecord.id).label("sitting_id"), col(SittingRecord.last_seen), col(SittingRecord.unsent),
            col(BookingRecord.seat), col(BookingRecord.keycode),
            col(CandidateRecord.id).label("candidate_id"), col(CandidateRecord.candidate_number), col(CandidateRecord.name),
        )
        .join(BookingRecord, col(BookingRecord.id) == SittingRecord.booking_id)
        .join(CandidateRecord, col(CandidateRecord.id) == SittingRecord.candidate_id)
        .where(col(BookingRecord.session_id) == session_id)
        .order_by(col(CandidateRecord.candidate_number))
    ).all()
    ids = [b.sitting_id for b in booked]
    events = events_by_sitting(session, ids)
    arrangements = arrangements_for(session, [b.candidate_id for b in booked])
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for sitting_id, answered, flagged in session.exec(
        select(
            ResponseRecord.sitting_id,
            func.count(col(ResponseRecord.response)),
            func.sum(cast(col(ResponseRecord.flagged), Integer)),
        )
        .where(col(ResponseRecord.sitting_id).in_(ids))
        .group_by(col(ResponseRecord.sitting_id))
    ).all():
        counts[sitting_id] = [int(answered or 0), int(flagged or 0)]
    lost_after = timedelta(seconds=policy.connection_lost_seconds)
    rows = []
    for b in booked:
        state = replay(events.get(b.sitting_id, []))
        agreed = arrangements.get(b.candidate_id, Arrangements())
        last_seen = aware(b.last_seen) if b.last_seen else None
        answered, flagged = counts[b.sitting_id]
        rows.append(
            RoomRow(
                sitting_id=b.sitting_id,
                candidate_number=b.candidate_number,
                name=b.name,
                seat=b.seat,
                keycode=b.keycode,
                status=state.status,
                state=display_status(state),
                unlocked=state.unlocked,
                present=state.present,
                late=state.late,
                very_late=state.very_late,
                arrived_at=state.arrived_at,
                arrangements=agreed.summary(),
                extra_percent=state.extra_percent if state.started_at else agreed.extra_time_percent,
                rest_breaks=agreed.rest_breaks,
                answered=answered,
                flagged=flagged,
                remaining_seconds=int(state.remaining(now).total_seconds()) if state.started_at else 0,
                started_at=state.started_at,
                finish_at=_finish(state, now),
                relogin_approved=state.relogin_approved,
                last_seen=last_seen,
                connection_lost=state.status in RUNNING and (last_seen is None or now - last_seen > lost_after),
                unsent=b.unsent,
                focus_losses=state.focus_losses,
                break_requested=state.break_requested,
                out_of_room=state.out_of_room,
                left_unaccompanied=state.left_unaccompanied,
                warnings=state.warnings,
            )
        )
    return rows


def _finish(state: Sitting, now: datetime) -> datetime | None:
    """Projected finish while the test runs (start + allowed + stopped time so far, E3); the
    actual finish once it has ended."""
    if state.submitted_at is not None:
        return state.submitted_at
    return state.deadline(now)

"""The demo centre, and ready-made sessions for trainers and tests (`testengine session create`)."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from testengine.domain.centres import Actor, Arrangements, Role
from testengine.domain.conduct import ConductPolicy
from testengine.services.accounts import actor_of, add_staff
from testengine.services.catalogue import Catalogue
from testengine.services.centres import add_candidate, book_candidate, create_session, set_arrangements
from testengine.services.delivery import CENTRE_TIME
from testengine.services.errors import InvalidInput
from testengine.storage.centres import arrangements_of, find_centre, find_staff
from testengine.storage.tables import BookingRecord, CandidateRecord, CentreRecord, ExamSessionRecord

DEMO_CENTRE = "DEMO01"
# Demo accounts only: printed by `testengine serve --demo` so that a person can try every role.
DEMO_LOGINS = (
    ("admin", Role.CENTRE_ADMIN, "Alex Admin (demo)", "demo-admin-password"),
    ("invigilator", Role.INVIGILATOR, "Ivy Invigilator (demo)", "demo-invigilator-password"),
    ("writer", Role.ITEM_WRITER, "Wren Writer (demo)", "demo-writer-password"),
    ("analyst", Role.ANALYST, "Ana Analyst (demo)", "demo-analyst-password"),
)
DEMO_NAMES = ("Amira Khan", "Ben Carter", "Chloe Davies", "Daniel Evans", "Ellie Foster", "Farid Hussain",
              "Grace Ibbotson", "Harry Jones", "Isla Kaur", "Jack Lewis", "Kemi Mensah", "Liam Nowak")


@dataclass(frozen=True)
class BookedCandidate:
    candidate_number: str
    name: str
    keycode: str
    extra_time_percent: int


@dataclass(frozen=True)
class ReadySession:
    session_id: int
    unit: int
    practice: bool
    invigilator: str
    password: str | None
    candidates: tuple[BookedCandidate, ...]


def ensure_centre(engine: Engine, code: str, name: str, now: datetime) -> int:
    with Session(engine) as session, session.begin():
        centre = find_centre(session, code)
        if centre is None:
            centre = CentreRecord(code=code, name=name, created_at=now)
            session.add(centre)
            session.flush()
        assert centre.id is not None
        return centre.id


def ensure_demo_centre(engine: Engine, now: datetime) -> int:
    """The demo centre and its four demo accounts, created once."""
    centre_id = ensure_centre(engine, DEMO_CENTRE, "Demo Training Centre", now)
    for username, role, display_name, password in DEMO_LOGINS:
        with Session(engine) as session:
            exists = find_staff(session, username) is not None
        if not exists:
            add_staff(engine, username, display_name, role, password, now, centre_id if role.belongs_to_centre else None)
    return centre_id


def _actor(engine: Engine, username: str) -> Actor:
    with Session(engine) as session:
        record = find_staff(session, username)
        assert record is not None
        return actor_of(record)


def demo_session_today(
    engine: Engine, catalogue: Catalogue, policy: ConductPolicy, now: datetime, rng: random.Random
) -> ReadySession:
    """Today's demo session (Unit 5, six candidates, one with 25% extra time), made once a day."""
    centre_id = ensure_demo_centre(engine, now)
    today = now.astimezone(CENTRE_TIME).date().isoformat()
    with Session(engine) as session:
        existing = session.exec(
            select(ExamSessionRecord).where(
                ExamSessionRecord.centre_id == centre_id, ExamSessionRecord.date == today, col(ExamSessionRecord.practice).is_(False)
            )
        ).first()
        if existing is not None and existing.id is not None:
            rows = session.exec(
                select(BookingRecord, CandidateRecord)
                .join(CandidateRecord, col(CandidateRecord.id) == BookingRecord.candidate_id)
                .where(BookingRecord.session_id == existing.id)
                .order_by(col(CandidateRecord.candidate_number))
            ).all()
            return ReadySession(
                existing.id, existing.unit, False, "invigilator", "demo-invigilator-password",
                tuple(
                    BookedCandidate(c.candidate_number, c.name, b.keycode, arrangements_of(session, c.id or 0).extra_time_percent)
                    for b, c in rows
                ),
            )
    return create_ready_session(
        engine, catalogue, policy, DEMO_CENTRE, 5, 6, [25], False, now, rng, invigilator=_actor(engine, "invigilator")
    )


def create_ready_session(
    engine: Engine,
    catalogue: Catalogue,
    policy: ConductPolicy,
    centre_code: str,
    unit: int | str,
    candidates: int,
    extra_time: list[int],
    practice: bool,
    now: datetime,
    rng: random.Random,
    invigilator: Actor | None = None,
) -> ReadySession:
    """A session today with `candidates` new candidates booked; extra time for the first few.

    Without an invigilator given, a new invigilator account is made for the session and its
    password returned (it is shown once and kept only as a hash).
    """
    if not 1 <= candidates <= 500:
        raise InvalidInput(["candidates must be 1-500"])
    if len(extra_time) > candidates:
        raise InvalidInput([f"{len(extra_time)} extra-time figures for {candidates} candidates"])
    if centre_code == DEMO_CENTRE:
        centre_id = ensure_demo_centre(engine, now)
    else:
        with Session(engine) as session:
            centre = find_centre(session, centre_code)
        if centre is None or centre.id is None:
            raise InvalidInput([f"no centre {centre_code!r}"])
        centre_id = centre.id
    admin = Actor(0, "testengine", Role.CENTRE_ADMIN, centre_id)
    password = None
    if invigilator is None:
        password = secrets.token_urlsafe(12)
        suffix = secrets.token_hex(3)
        invigilator = add_staff(engine, f"invigilator-{suffix}", "Session invigilator", Role.INVIGILATOR, password, now, centre_id)
    package = catalogue.unit(unit)
    today = now.astimezone(CENTRE_TIME)
    session_id = create_session(
        engine, admin, catalogue, str(package.number), today.date(), today.strftime("%H:%M"), "Room 1",
        max(candidates, 1), [invigilator.staff_id], now, practice=practice,
    )
    booked = []
    stamp = secrets.token_hex(2).upper()
    for k in range(candidates):
        number = f"{centre_code[:4]}{stamp}{k + 1:03d}"
        name = DEMO_NAMES[k % len(DEMO_NAMES)] + ("" if k < len(DEMO_NAMES) else f" {k // len(DEMO_NAMES) + 1}")
        candidate_id = add_candidate(engine, admin, number, name, now)
        extra = extra_time[k] if k < len(extra_time) else 0
        if extra:
            reference = f"AA-{stamp}-{k + 1:03d}" if extra > policy.extra_time_reference_above else ""
            set_arrangements(engine, admin, policy, candidate_id, Arrangements(extra_time_percent=extra, extra_time_reference=reference), now)
        keycode = book_candidate(engine, admin, policy, catalogue, session_id, candidate_id, now, rng, seat=f"W{k + 1:02d}")
        booked.append(BookedCandidate(number, name, keycode, extra))
    return ReadySession(session_id, package.number, practice, invigilator.username, password, tuple(booked))

"""Centre administration: candidates, access arrangements, sessions, bookings and keycodes.

Every function takes the signed-in Actor and checks the role and the centre on the server:
staff of one centre never see another centre's candidates, sessions or results.
"""

from __future__ import annotations

import csv
import io
import random
import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from testengine.domain.centres import Actor, Arrangements, Role, gender_problems, new_keycode
from testengine.domain.conduct import BookingRefused, ConductPolicy, PastOutcome, arrangement_problems, check_booking
from testengine.domain.text import control_character_problem
from testengine.services.catalogue import Catalogue
from testengine.services.errors import Forbidden, InvalidInput, NotFound
from testengine.storage.centres import arrangements_of, audit, save_arrangements
from testengine.storage.results import result_history
from testengine.storage.tables import (
    BookingRecord,
    CandidateRecord,
    CentreRecord,
    ExamSessionRecord,
    SessionInvigilatorRecord,
    SittingRecord,
    StaffRecord,
)

_CANDIDATE_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")
_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
MAX_CAPACITY = 500


def require(actor: Actor, *roles: Role) -> int:
    """The actor's centre, if their role may do this; Forbidden otherwise."""
    if actor.role not in roles or actor.centre_id is None:
        raise Forbidden(f"{actor.role.label}s cannot do this")
    return actor.centre_id


def own_candidate(session: Session, actor: Actor, candidate_id: int) -> CandidateRecord:
    record = session.get(CandidateRecord, candidate_id)
    if record is None or record.centre_id != actor.centre_id:
        raise NotFound("no such candidate")
    return record


def own_session(session: Session, actor: Actor, session_id: int) -> ExamSessionRecord:
    record = session.get(ExamSessionRecord, session_id)
    if record is None or record.centre_id != actor.centre_id:
        raise NotFound("no such session")
    if actor.role is Role.INVIGILATOR:
        assigned = session.get(SessionInvigilatorRecord, (session_id, actor.staff_id))
        if assigned is None:
            raise NotFound("no such session")
    return record


def _candidate_problems(number: str, name: str, gender: str = "") -> list[str]:
    problems = gender_problems(gender)
    if not _CANDIDATE_NUMBER.match(number):
        problems.append(f"candidate number {number!r}: use 1-32 letters, digits or dashes")
    if not name.strip() or len(name) > 200:
        problems.append("name: give the candidate's name (at most 200 characters)")
    problems += [p for p in (control_character_problem("name", name), control_character_problem("gender", gender)) if p]
    return problems


def add_candidate(
    engine: Engine, actor: Actor, number: str, name: str, now: datetime, client: str = "", gender: str = ""
) -> int:
    centre = require(actor, Role.CENTRE_ADMIN)
    number, name, gender = number.strip(), " ".join(name.split()), gender.strip().lower()
    problems = _candidate_problems(number, name, gender)
    if problems:
        raise InvalidInput(problems)
    try:
        with Session(engine) as session, session.begin():
            record = CandidateRecord(candidate_number=number, name=name, centre_id=centre, created_at=now, gender=gender or None)
            session.add(record)
            session.flush()
            audit(session, now, actor.username, "candidate_added", number, {"name": name}, centre, client)
            assert record.id is not None
            return record.id
    except IntegrityError as exc:
        raise InvalidInput([f"candidate number {number!r} is already registered"]) from exc


def update_candidate(
    engine: Engine, actor: Actor, candidate_id: int, number: str, name: str, now: datetime, client: str = "", gender: str = ""
) -> None:
    centre = require(actor, Role.CENTRE_ADMIN)
    number, name, gender = number.strip(), " ".join(name.split()), gender.strip().lower()
    problems = _candidate_problems(number, name, gender)
    if problems:
        raise InvalidInput(problems)
    try:
        with Session(engine) as session, session.begin():
            record = own_candidate(session, actor, candidate_id)
            before = {"candidate_number": record.candidate_number, "name": record.name, "gender": record.gender or ""}
            record.candidate_number, record.name, record.gender = number, name, gender or None
            session.add(record)
            session.flush()
            audit(session, now, actor.username, "candidate_edited", number, {"before": before}, centre, client)
    except IntegrityError as exc:
        raise InvalidInput([f"candidate number {number!r} is already registered"]) from exc


@dataclass(frozen=True)
class ImportResult:
    added: int


def import_candidates(
    engine: Engine, actor: Actor, policy: ConductPolicy, text: str, now: datetime, client: str = ""
) -> ImportResult:
    """Add candidates from CSV (candidate_number,name[,gender,extra_time_percent,extra_time_reference]).

    All or nothing: if any row is wrong, nothing is added and every wrong row is named.
    """
    centre = require(actor, Role.CENTRE_ADMIN)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = {c.strip().lower() for c in reader.fieldnames or []}
    missing = {"candidate_number", "name"} - columns
    if missing:
        raise InvalidInput([f"the header row needs the columns candidate_number and name (missing: {', '.join(sorted(missing))})"])
    rows = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for line, raw in enumerate(reader, start=2):
        row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        number, name, gender = row.get("candidate_number", ""), row.get("name", ""), row.get("gender", "").lower()
        here = [f"row {line}: {p}" for p in _candidate_problems(number, name, gender)]
        if number in seen:
            here.append(f"row {line}: candidate number {number!r} is also on row {seen[number]}")
        seen.setdefault(number, line)
        extra_text = row.get("extra_time_percent", "") or "0"
        if not extra_text.isdigit():
            here.append(f"row {line}: extra_time_percent {extra_text!r} is not a whole number")
            extra = 0
        else:
            extra = int(extra_text)
        arrangements = Arrangements(extra_time_percent=extra, extra_time_reference=row.get("extra_time_reference", ""))
        here += [f"row {line}: {p}" for p in arrangement_problems(policy, arrangements)]
        problems += here
        rows.append((number, " ".join(name.split()), gender, arrangements))
    if not rows and not problems:
        problems.append("the file has a header but no candidates")
    with Session(engine) as session, session.begin():
        taken = set(session.exec(select(CandidateRecord.candidate_number).where(col(CandidateRecord.candidate_number).in_(seen))))
        problems += [f"row {seen[n]}: candidate number {n!r} is already registered" for n in sorted(taken)]
        if problems:
            raise InvalidInput(problems)
        for number, name, gender, arrangements in rows:
            record = CandidateRecord(candidate_number=number, name=name, centre_id=centre, created_at=now, gender=gender or None)
            session.add(record)
            session.flush()
            assert record.id is not None
            if arrangements.any:
                save_arrangements(session, record.id, arrangements, actor.username, now)
        audit(session, now, actor.username, "candidates_imported", f"{len(rows)} candidates", {}, centre, client)
    return ImportResult(len(rows))


def set_arrangements(
    engine: Engine, actor: Actor, policy: ConductPolicy, candidate_id: int, arrangements: Arrangements, now: datetime, client: str = ""
) -> None:
    centre = require(actor, Role.CENTRE_ADMIN)
    problems = arrangement_problems(policy, arrangements)
    if problems:
        raise InvalidInput(problems)
    with Session(engine) as session, session.begin():
        candidate = own_candidate(session, actor, candidate_id)
        before = arrangements_of(session, candidate_id)
        save_arrangements(session, candidate_id, arrangements, actor.username, now)
        audit(
            session, now, actor.username, "arrangements_set", candidate.candidate_number,
            {"before": before.summary(), "after": arrangements.summary(), "reference": arrangements.extra_time_reference},
            centre, client,
        )


def create_session(
    engine: Engine,
    actor: Actor,
    catalogue: Catalogue,
    unit: str,
    on: date,
    start_time: str,
    room: str,
    capacity: int,
    invigilators: list[int],
    now: datetime,
    practice: bool = False,
    client: str = "",
) -> int:
    centre = require(actor, Role.CENTRE_ADMIN)
    problems = []
    try:
        unit_number = catalogue.unit(unit).number
    except LookupError as exc:
        problems.append(str(exc.args[0]))
        unit_number = 0
    if not _TIME.match(start_time):
        problems.append(f"start time {start_time!r}: use HH:MM, e.g. 09:30")
    if not room.strip():
        problems.append("room: say where the session is held")
    if not 1 <= capacity <= MAX_CAPACITY:
        problems.append(f"capacity must be 1-{MAX_CAPACITY}")
    if on < now.date():
        problems.append(f"date {on.isoformat()} is in the past")
    if not invigilators:
        problems.append("name at least one invigilator")
    with Session(engine) as session, session.begin():
        staff = {s.id: s for s in session.exec(select(StaffRecord).where(col(StaffRecord.id).in_(invigilators)))}
        for staff_id in invigilators:
            member = staff.get(staff_id)
            if member is None or not member.active or member.centre_id != centre or member.role not in (Role.INVIGILATOR.value, Role.CENTRE_ADMIN.value):
                problems.append(f"staff member {staff_id} is not an active invigilator of this centre")
        if problems:
            raise InvalidInput(problems)
        record = ExamSessionRecord(
            centre_id=centre, unit=unit_number, date=on.isoformat(), start_time=start_time, room=room.strip(),
            capacity=capacity, practice=practice, created_at=now,
        )
        session.add(record)
        session.flush()
        assert record.id is not None
        for staff_id in sorted(set(invigilators)):
            session.add(SessionInvigilatorRecord(session_id=record.id, staff_id=staff_id))
        audit(session, now, actor.username, "session_created", f"session {record.id}",
              {"unit": unit_number, "date": record.date, "start": start_time, "room": record.room, "practice": practice}, centre, client)
        return record.id


def book_candidate(
    engine: Engine,
    actor: Actor,
    policy: ConductPolicy,
    catalogue: Catalogue,
    session_id: int,
    candidate_id: int,
    now: datetime,
    rng: random.Random,
    seat: str = "",
    client: str = "",
) -> str:
    """Book the candidate on the session (A1) under the resit policy; returns the keycode (A4)."""
    centre = require(actor, Role.CENTRE_ADMIN)
    with Session(engine) as session, session.begin():
        exam = own_session(session, actor, session_id)
        candidate = own_candidate(session, actor, candidate_id)
        assert exam.id is not None and candidate.id is not None
        booked = session.exec(select(BookingRecord).where(BookingRecord.session_id == session_id)).all()
        if any(b.candidate_id == candidate_id for b in booked):
            raise InvalidInput([f"{candidate.name} is already booked on this session"])
        if len(booked) >= exam.capacity:
            raise InvalidInput([f"the session is full ({exam.capacity} candidates)"])
        if not exam.practice:
            label = catalogue.unit(exam.unit).bank.unit.label
            try:
                check_booking(policy, label, date.fromisoformat(exam.date), _history(session, candidate.id, exam.unit))
            except BookingRefused as refusal:
                raise InvalidInput([f"{candidate.name} cannot be booked: {refusal}"]) from refusal
        taken = set(session.exec(select(BookingRecord.keycode)))
        keycode = new_keycode(rng)
        while keycode in taken:  # 39 bits: a clash is rare, and each draw is fresh
            keycode = new_keycode(rng)
        booking = BookingRecord(session_id=session_id, candidate_id=candidate_id, keycode=keycode, seat=seat.strip(), created_at=now)
        session.add(booking)
        session.flush()
        session.add(
            SittingRecord(
                candidate_id=candidate_id, booking_id=booking.id, unit=exam.unit, status="booked",
                practice=exam.practice, created_at=now,
            )
        )
        audit(session, now, actor.username, "candidate_booked", candidate.candidate_number, {"session": session_id, "seat": seat}, centre, client)
        return keycode


def _history(session: Session, candidate_id: int, unit: int) -> list[PastOutcome]:
    """The candidate's earlier live bookings of the unit, each with its outcome or None."""
    rows = session.exec(
        select(SittingRecord, ExamSessionRecord)
        .join(BookingRecord, col(BookingRecord.id) == SittingRecord.booking_id)
        .join(ExamSessionRecord, col(ExamSessionRecord.id) == BookingRecord.session_id)
        .where(SittingRecord.candidate_id == candidate_id, SittingRecord.unit == unit, col(SittingRecord.practice).is_(False))
    ).all()
    history = []
    for sitting, exam in rows:
        assert sitting.id is not None
        outcome: str | None = None
        if sitting.status == "absent":
            outcome = "absent"
        elif sitting.status == "voided":
            outcome = "void"
        elif sitting.status in ("submitted", "abandoned"):
            results = result_history(session, sitting.id)
            outcome = results[-1].outcome if results else None
        history.append(PastOutcome(date.fromisoformat(exam.date), outcome))
    return history


@dataclass(frozen=True)
class SessionSummary:
    session_id: int
    unit: int
    unit_title: str
    date: str
    start_time: str
    room: str
    booked: int
    capacity: int
    practice: bool


@dataclass(frozen=True)
class CandidateSummary:
    candidate_id: int
    candidate_number: str
    name: str
    arrangements: Arrangements
    gender: str = ""  # "" = not recorded


@dataclass(frozen=True)
class StaffSummary:
    staff_id: int
    username: str
    display_name: str
    role: Role


def list_sessions(engine: Engine, actor: Actor, catalogue: Catalogue) -> list[SessionSummary]:
    """The centre's sessions, newest first; an invigilator sees only the sessions they are on."""
    centre = require(actor, Role.CENTRE_ADMIN, Role.INVIGILATOR)
    with Session(engine) as session:
        query = select(ExamSessionRecord).where(ExamSessionRecord.centre_id == centre)
        if actor.role is Role.INVIGILATOR:
            query = query.join(SessionInvigilatorRecord, col(SessionInvigilatorRecord.session_id) == ExamSessionRecord.id).where(
                SessionInvigilatorRecord.staff_id == actor.staff_id
            )
        exams = session.exec(query.order_by(col(ExamSessionRecord.date).desc(), col(ExamSessionRecord.start_time).desc())).all()
        counts: dict[int, int] = {}
        for booking in session.exec(select(BookingRecord).where(col(BookingRecord.session_id).in_([e.id for e in exams]))):
            counts[booking.session_id] = counts.get(booking.session_id, 0) + 1
        return [
            SessionSummary(
                e.id or 0, e.unit, catalogue.unit(e.unit).bank.unit.title, e.date, e.start_time, e.room,
                counts.get(e.id or 0, 0), e.capacity, e.practice,
            )
            for e in exams
        ]


def list_candidates(engine: Engine, actor: Actor) -> list[CandidateSummary]:
    centre = require(actor, Role.CENTRE_ADMIN)
    with Session(engine) as session:
        records = session.exec(
            select(CandidateRecord).where(CandidateRecord.centre_id == centre).order_by(col(CandidateRecord.candidate_number))
        ).all()
        return [CandidateSummary(c.id or 0, c.candidate_number, c.name, arrangements_of(session, c.id or 0), c.gender or "") for c in records]


def get_candidate(engine: Engine, actor: Actor, candidate_id: int) -> CandidateSummary:
    require(actor, Role.CENTRE_ADMIN)
    with Session(engine) as session:
        record = own_candidate(session, actor, candidate_id)
        return CandidateSummary(record.id or 0, record.candidate_number, record.name, arrangements_of(session, candidate_id), record.gender or "")


def list_invigilators(engine: Engine, actor: Actor) -> list[StaffSummary]:
    centre = require(actor, Role.CENTRE_ADMIN)
    with Session(engine) as session:
        staff = session.exec(
            select(StaffRecord).where(StaffRecord.centre_id == centre, col(StaffRecord.active).is_(True)).order_by(col(StaffRecord.username))
        ).all()
        return [StaffSummary(s.id or 0, s.username, s.display_name, Role(s.role)) for s in staff]


RELEASES = {"immediate": "Candidates see Pass / Not yet passed and their marks by learning outcome as soon as they finish",
            "held": "Results are held: the centre gives them to candidates later"}


@dataclass(frozen=True)
class CentreSettings:
    code: str
    name: str
    results_release: str


def centre_settings(engine: Engine, actor: Actor) -> CentreSettings:
    centre = require(actor, Role.CENTRE_ADMIN)
    with Session(engine) as session:
        record = session.get(CentreRecord, centre)
        assert record is not None
        return CentreSettings(record.code, record.name, record.results_release)


def set_results_release(engine: Engine, actor: Actor, release: str, now: datetime, client: str = "") -> None:
    centre = require(actor, Role.CENTRE_ADMIN)
    if release not in RELEASES:
        raise InvalidInput([f"results release must be one of {', '.join(RELEASES)}"])
    with Session(engine) as session, session.begin():
        record = session.get(CentreRecord, centre)
        assert record is not None
        before = record.results_release
        record.results_release = release
        audit(session, now, actor.username, "results_release_set", record.code, {"before": before, "after": release}, centre, client)


@dataclass(frozen=True)
class ResultRow:
    candidate_number: str
    name: str
    status: str
    outcome: str
    total: int
    maximum: int
    cut_score: int
    by_outcome: tuple[tuple[int, int, int], ...]  # learning outcome, score, maximum
    remarked: bool


def session_results(engine: Engine, actor: Actor, session_id: int) -> list[ResultRow]:
    """Each booked candidate's outcome (G1, G2): result, absent, void or still to come."""
    require(actor, Role.CENTRE_ADMIN)
    with Session(engine) as session:
        own_session(session, actor, session_id)
        rows = session.exec(
            select(SittingRecord, CandidateRecord)
            .join(BookingRecord, col(BookingRecord.id) == SittingRecord.booking_id)
            .join(CandidateRecord, col(CandidateRecord.id) == SittingRecord.candidate_id)
            .where(BookingRecord.session_id == session_id)
            .order_by(col(CandidateRecord.candidate_number))
        ).all()
        results = []
        for sitting, candidate in rows:
            history = result_history(session, sitting.id or 0)
            last = history[-1] if history else None
            results.append(
                ResultRow(
                    candidate.candidate_number, candidate.name, sitting.status,
                    last.outcome if last else {"absent": "Absent", "voided": "Void"}.get(sitting.status, "No result yet"),
                    last.total if last else 0, last.maximum if last else 0, last.cut_score if last else 0,
                    tuple((int(lo), v["score"], v["maximum"]) for lo, v in sorted(last.by_learning_outcome.items(), key=lambda kv: int(kv[0])))
                    if last else (),
                    len(history) > 1,
                )
            )
        return results

"""A session's record for the centre and the awarding body: the incident log, and the full
timeline of who did what and when (pauses, breaks, extensions, late arrivals, incidents)
(C7, D5, G9). Read from the append-only logs; nothing here can change them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from testengine.domain.centres import Actor
from testengine.domain.sittings import Kind
from testengine.services.centres import own_session, require
from testengine.services.console import STAFF
from testengine.storage.incidents import incidents_of
from testengine.storage.sitting_events import aware, load_event_records
from testengine.storage.tables import BookingRecord, CandidateRecord, SittingRecord

# How each kind of event reads in the timeline.
WHAT: dict[Kind, str] = {
    Kind.LOGGED_IN: "logged in",
    Kind.CANCELLED: "cancelled at the confirmation (details not theirs)",
    Kind.CONFIRMED: "confirmed their details",
    Kind.DECLARED: "made the declaration",
    Kind.UNLOCKED: "test unlocked",
    Kind.STARTED: "started the test",
    Kind.PAUSED: "paused",
    Kind.RESUMED: "resumed",
    Kind.BREAK_STARTED: "rest break started",
    Kind.BREAK_ENDED: "rest break ended",
    Kind.TIME_ADDED: "time added",
    Kind.SUBMITTED: "test submitted",
    Kind.MARKED_ABSENT: "marked absent",
    Kind.VOIDED: "sitting voided",
    Kind.ABANDONED: "sitting closed as abandoned",
    Kind.RELOGIN_APPROVED: "new log-in allowed",
    Kind.RELOGGED_IN: "logged in again",
    Kind.LOGIN_BLOCKED: "log-in blocked",
    Kind.FOCUS_LOST: "left the test window",
    Kind.FOCUS_RETURNED: "returned to the test window",
    Kind.BREAK_REQUESTED: "asked for a rest break",
    Kind.MARKED_PRESENT: "marked present",
    Kind.LEFT_ROOM: "left the room",
    Kind.RETURNED: "returned to the room",
    Kind.WARNED: "warned",
    Kind.REMOVED: "removed from the room",
    Kind.ENDED: "sitting ended by the invigilator",
}


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    who: str  # the member of staff, "candidate" or "system"
    candidate: str  # candidate number, or "" for the whole room
    what: str
    why: str
    workstation: str  # the client address the action came from


@dataclass(frozen=True)
class IncidentEntry:
    at: datetime
    category: str
    candidate: str
    description: str
    action: str
    recorded_by: str
    in_room: tuple[str, ...]  # for an emergency pause: who was in the room at that instant (D2)


def _candidates(session: Session, session_id: int) -> dict[int, str]:
    rows = session.exec(
        select(SittingRecord.id, CandidateRecord.candidate_number)
        .join(BookingRecord, col(BookingRecord.id) == SittingRecord.booking_id)
        .join(CandidateRecord, col(CandidateRecord.id) == SittingRecord.candidate_id)
        .where(BookingRecord.session_id == session_id)
    ).all()
    return {sitting_id: number for sitting_id, number in rows if sitting_id is not None}


def incident_log(engine: Engine, actor: Actor, session_id: int) -> list[IncidentEntry]:
    require(actor, *STAFF)
    with Session(engine) as session:
        own_session(session, actor, session_id)
        numbers = _candidates(session, session_id)
        return [
            IncidentEntry(
                at=aware(r.at), category=r.category, candidate=numbers.get(r.sitting_id or 0, ""), description=r.description,
                action=r.action, recorded_by=r.recorded_by,
                in_room=tuple(f"{c['candidate_number']} {c['name']} ({c['state']})" for c in r.data.get("in_room", [])),
            )
            for r in incidents_of(session, session_id)
        ]


def session_timeline(engine: Engine, actor: Actor, session_id: int) -> list[TimelineEntry]:
    """Every event of every sitting in the session and every incident, in time order."""
    require(actor, *STAFF)
    with Session(engine) as session:
        own_session(session, actor, session_id)
        numbers = _candidates(session, session_id)
        entries = [
            TimelineEntry(aware(r.at), r.actor, numbers[r.sitting_id], _what(r.kind, r.data), r.reason, r.client)
            for r in load_event_records(session, list(numbers))
        ]
        entries += [
            TimelineEntry(aware(r.at), r.recorded_by, numbers.get(r.sitting_id or 0, ""), f"incident: {r.category}",
                          f"{r.description} Action: {r.action}", r.client)
            for r in incidents_of(session, session_id)
        ]
    return sorted(entries, key=lambda e: e.at)


def _what(kind: str, data: dict[str, object]) -> str:
    known = Kind(kind)
    text = WHAT.get(known, known.value.replace("_", " "))
    if known is Kind.TIME_ADDED:
        text += f" ({int(str(data.get('seconds', 0))) // 60} min)"
    if known is Kind.LEFT_ROOM:
        text += " (accompanied)" if data.get("accompanied") else " (unaccompanied)"
    if known is Kind.MARKED_PRESENT and data.get("late"):
        text = "arrived very late" if data.get("very_late") else "arrived late"
    if known is Kind.PAUSED and data.get("emergency"):
        text = "paused (emergency, whole room)"
    return text

"""Server outages cost no candidate time (conduct rule D7: a dropped connection never silently
costs the candidate time; the outage is logged).

Every server process writes a heartbeat with each deadline sweep (every second). When a process
starts and finds the last heartbeat older than OUTAGE_SECONDS, no process was running for that
long: every test whose clock was running when it began (its deadline not yet passed) gets that
time added, with the reason, and each session affected gets a "technical failure" incident. With several processes the heartbeat row is locked
while this is done, so the time is added once; a process starting while others run finds a
fresh heartbeat and adds nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from testengine.domain.incidents import Category
from testengine.domain.sittings import Event, Kind, SittingRuleError, Status
from testengine.storage.incidents import add_incident
from testengine.storage.sitting_events import append_event, aware
from testengine.storage.tables import BookingRecord, ServerHeartbeatRecord, SittingRecord

OUTAGE_SECONDS = 2.0  # heartbeats come every second; a gap of more than two means no server was running


@dataclass(frozen=True)
class Outage:
    began: datetime  # the last heartbeat
    ended: datetime
    seconds: int  # added to each running test (rounded up)
    sittings: tuple[int, ...]


def beat(engine: Engine, now: datetime) -> None:
    with Session(engine) as session, session.begin():
        record = session.get(ServerHeartbeatRecord, 1)
        if record is None:
            session.add(ServerHeartbeatRecord(id=1, at=now))
        elif aware(record.at) < now:
            record.at = now
            session.add(record)


def credit_outage(engine: Engine, now: datetime) -> Outage | None:
    """At start-up: add the time no server was running to every running test (see above)."""
    with Session(engine) as session, session.begin():
        record = session.get(ServerHeartbeatRecord, 1, with_for_update=True)
        if record is None:
            session.add(ServerHeartbeatRecord(id=1, at=now))
            return None
        began = aware(record.at)
        gap = (now - began).total_seconds()
        record.at = max(began, now)
        session.add(record)
        if gap <= OUTAGE_SECONDS:
            return None
        seconds = math.ceil(gap)
        reason = f"server unavailable from {began:%H:%M:%S} to {now:%H:%M:%S} UTC: {seconds} s added"
        running = session.exec(select(SittingRecord).where(SittingRecord.status == Status.IN_PROGRESS.value)).all()
        credited: list[int] = []
        sessions: dict[int, list[int]] = {}
        for sitting in running:
            if sitting.deadline is None or aware(sitting.deadline) <= began:
                continue  # its time was up before the outage began: the sweep submits it at its deadline
            try:
                append_event(session, sitting, Event(Kind.TIME_ADDED, now, "system", reason, {"seconds": seconds}))
            except SittingRuleError:
                continue
            assert sitting.id is not None
            credited.append(sitting.id)
            booking = session.get(BookingRecord, sitting.booking_id) if sitting.booking_id else None
            if booking is not None:
                sessions.setdefault(booking.session_id, []).append(sitting.id)
        for session_id, sitting_ids in sorted(sessions.items()):
            add_incident(session, session_id, None, now, Category.TECHNICAL_FAILURE.value,
                         f"The test server was unavailable from {began:%H:%M:%S} to {now:%H:%M:%S} UTC ({seconds} s).",
                         f"{seconds} s added to each of the {len(sitting_ids)} tests in progress.", "system",
                         {"sittings": sitting_ids, "seconds": seconds})
        return Outage(began, now, seconds, tuple(credited))

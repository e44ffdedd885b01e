"""Appending to a sitting's event log, and replaying it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from testengine.domain.sittings import RUNNING, Event, Kind, Sitting, Status, apply, replay
from testengine.storage.tables import SittingEventRecord, SittingRecord


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything here is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def load_events(session: Session, sitting_id: int) -> list[Event]:
    rows = session.exec(
        select(SittingEventRecord).where(SittingEventRecord.sitting_id == sitting_id).order_by(col(SittingEventRecord.sequence))
    )
    return [Event(Kind(r.kind), aware(r.at), r.actor, r.reason, r.data) for r in rows]


def load_event_records(session: Session, sitting_ids: list[int]) -> list[SittingEventRecord]:
    return list(
        session.exec(
            select(SittingEventRecord)
            .where(col(SittingEventRecord.sitting_id).in_(sitting_ids))
            .order_by(col(SittingEventRecord.at), col(SittingEventRecord.id))
        )
    )


def state_of(session: Session, sitting_id: int) -> Sitting:
    return replay(load_events(session, sitting_id))


def append_event(session: Session, sitting: SittingRecord, event: Event, client: str = "") -> Sitting:
    """Record `event` if the rules allow it now (SittingRuleError if not) and return the new state.

    The sitting row keeps a copy of the status and the running deadline for queries (the
    console, the deadline sweep); the events remain the record.
    """
    assert sitting.id is not None
    # One writer per sitting at a time, across server processes: the row lock (PostgreSQL's
    # SELECT ... FOR UPDATE; SQLite has one writer anyway) makes the log read below the latest,
    # so the rules are checked against what every other process has written.
    session.execute(select(SittingRecord.id).where(SittingRecord.id == sitting.id).with_for_update())
    events = load_events(session, sitting.id)
    state = apply(replay(events), event)
    session.add(
        SittingEventRecord(
            sitting_id=sitting.id,
            sequence=len(events) + 1,
            kind=event.kind.value,
            at=event.at,
            actor=event.actor,
            reason=event.reason,
            data=dict(event.data),
            client=client,
        )
    )
    sitting.status = state.status.value
    # A stopped clock has no fixed deadline; the sweep only looks at running ones.
    sitting.deadline = state.deadline(event.at) if state.status is Status.IN_PROGRESS else None
    if state.started_at is not None and sitting.started_at is None:
        sitting.started_at = state.started_at
    if state.status not in RUNNING and state.submitted_at is not None:
        sitting.submitted_at = state.submitted_at
    session.add(sitting)
    session.flush()
    return state


def events_by_sitting(session: Session, sitting_ids: list[int]) -> dict[int, list[Event]]:
    """Many sittings' logs in one query, each in order (the console of a large room). Plain
    columns, not ORM objects: a room of 500 has thousands of events, read every few seconds."""
    found: dict[int, list[Event]] = {s: [] for s in sitting_ids}
    if not sitting_ids:
        return found
    table = SittingEventRecord.__table__  # type: ignore[attr-defined]
    rows = session.connection().execute(
        select_columns(table.c.sitting_id, table.c.kind, table.c.at, table.c.actor, table.c.reason, table.c.data)
        .where(table.c.sitting_id.in_(sitting_ids))
        .order_by(table.c.sitting_id, table.c.sequence)
    )
    for sitting_id, kind, at, actor, reason, data in rows:
        found[sitting_id].append(Event(Kind(kind), aware(at), actor, reason, data))
    return found

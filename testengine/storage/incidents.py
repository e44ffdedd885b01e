"""The incident log of a session: added to, never edited (C7)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from testengine.storage.sitting_events import aware
from testengine.storage.tables import IncidentRecord


def add_incident(
    session: Session, session_id: int, sitting_id: int | None, at: datetime, category: str, description: str, action: str,
    recorded_by: str, data: dict[str, Any] | None = None, client: str = "",
) -> IncidentRecord:
    record = IncidentRecord(
        session_id=session_id, sitting_id=sitting_id, at=at, category=category, description=description.strip(),
        action=action.strip(), recorded_by=recorded_by, data=data or {}, client=client,
    )
    session.add(record)
    session.flush()
    return record


def incidents_of(session: Session, session_id: int) -> list[IncidentRecord]:
    return list(
        session.exec(select(IncidentRecord).where(IncidentRecord.session_id == session_id).order_by(col(IncidentRecord.at), col(IncidentRecord.id)))
    )


def open_interruption(session: Session, session_id: int) -> dict[str, Any] | None:
    """The emergency pause in force (D1): when it began, why, and who was in the room then (D2)."""
    latest = None
    for record in incidents_of(session, session_id):
        if record.data.get("interruption") in ("started", "ended"):
            latest = record
    if latest is None or latest.data["interruption"] != "started":
        return None
    return {"id": latest.id, "since": aware(latest.at), "category": latest.category, "description": latest.description,
            "in_room": list(latest.data.get("in_room", []))}

"""Candidates, their sittings and the answers given in them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from testengine.storage.tables import CandidateRecord, ResponseRecord, SittingRecord


def find_candidate(session: Session, candidate_number: str) -> CandidateRecord | None:
    return session.exec(select(CandidateRecord).where(CandidateRecord.candidate_number == candidate_number)).first()


def add_candidate(session: Session, candidate_number: str, name: str, now: datetime) -> CandidateRecord:
    record = CandidateRecord(candidate_number=candidate_number, name=name, created_at=now)
    session.add(record)
    session.flush()
    return record


def add_sitting(
    session: Session,
    candidate_id: int,
    form_id: int,
    unit: int,
    now: datetime,
    practice: bool = False,
    simulated: bool = False,
) -> SittingRecord:
    record = SittingRecord(
        candidate_id=candidate_id,
        form_id=form_id,
        unit=unit,
        status="booked",
        practice=practice,
        simulated=simulated,
        created_at=now,
    )
    session.add(record)
    session.flush()
    return record


def save_response(session: Session, sitting_id: int, position: int, response: Any, now: datetime) -> None:
    record = session.get(ResponseRecord, (sitting_id, position))
    if record is None:
        session.add(ResponseRecord(sitting_id=sitting_id, position=position, response=response, answered_at=now))
    else:
        record.response = response
        record.answered_at = now
        session.add(record)


def load_responses(session: Session, sitting_id: int) -> dict[int, Any]:
    rows = session.exec(
        select(ResponseRecord).where(ResponseRecord.sitting_id == sitting_id).order_by(col(ResponseRecord.position))
    )
    return {r.position: r.response for r in rows}

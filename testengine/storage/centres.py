"""Centres, staff accounts, candidates and their access arrangements, and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from testengine.domain.centres import Arrangements
from testengine.storage.tables import (
    ArrangementRecord,
    AuditRecord,
    CandidateRecord,
    CentreRecord,
    LoginAttemptRecord,
    StaffRecord,
)


def find_centre(session: Session, code: str) -> CentreRecord | None:
    return session.exec(select(CentreRecord).where(CentreRecord.code == code)).first()


def find_staff(session: Session, username: str) -> StaffRecord | None:
    return session.exec(select(StaffRecord).where(StaffRecord.username == username)).first()


def centre_candidates(session: Session, centre_id: int) -> list[CandidateRecord]:
    return list(
        session.exec(select(CandidateRecord).where(CandidateRecord.centre_id == centre_id).order_by(col(CandidateRecord.candidate_number)))
    )


def centre_staff(session: Session, centre_id: int) -> list[StaffRecord]:
    return list(session.exec(select(StaffRecord).where(StaffRecord.centre_id == centre_id).order_by(col(StaffRecord.username))))


def arrangements_of(session: Session, candidate_id: int) -> Arrangements:
    return arrangements_for(session, [candidate_id]).get(candidate_id, Arrangements())


def save_arrangements(session: Session, candidate_id: int, arrangements: Arrangements, by: str, now: datetime) -> None:
    record = session.get(ArrangementRecord, candidate_id) or ArrangementRecord(candidate_id=candidate_id, updated_by=by, updated_at=now)
    record.extra_time_percent = arrangements.extra_time_percent
    record.extra_time_reference = arrangements.extra_time_reference
    record.rest_breaks = arrangements.rest_breaks
    record.separate_invigilation = arrangements.separate_invigilation
    record.reader = arrangements.reader
    record.display_needs = arrangements.display_needs
    record.updated_by = by
    record.updated_at = now
    session.add(record)


def audit(
    session: Session, now: datetime, actor: str, action: str, subject: str, details: dict[str, Any],
    centre_id: int | None = None, client: str = "",
) -> None:
    session.add(AuditRecord(at=now, actor=actor, centre_id=centre_id, action=action, subject=subject, details=details, client=client))


def record_failed_login(session: Session, keys: list[str], now: datetime) -> None:
    for key in keys:
        session.add(LoginAttemptRecord(key=key, at=now))


def failed_logins_since(session: Session, key: str, since: datetime) -> list[datetime]:
    return list(
        session.exec(select(LoginAttemptRecord.at).where(LoginAttemptRecord.key == key, col(LoginAttemptRecord.at) >= since))
    )


def arrangements_for(session: Session, candidate_ids: list[int]) -> dict[int, Arrangements]:
    """Many candidates' arrangements in one query (the console of a large room)."""
    if not candidate_ids:
        return {}
    rows = session.exec(select(ArrangementRecord).where(col(ArrangementRecord.candidate_id).in_(candidate_ids)))
    return {
        r.candidate_id: Arrangements(
            extra_time_percent=r.extra_time_percent,
            extra_time_reference=r.extra_time_reference,
            rest_breaks=r.rest_breaks,
            separate_invigilation=r.separate_invigilation,
            reader=r.reader,
            display_needs=r.display_needs,
        )
        for r in rows
    }


def candidate_groups(session: Session, candidate_ids: list[int]) -> dict[int, tuple[str, str]]:
    """Each candidate's centre code and recorded gender ("" where there is none)."""
    found: dict[int, tuple[str, str]] = {}
    for at in range(0, len(candidate_ids), 10_000):  # within every database's limit on parameters
        chunk = candidate_ids[at : at + 10_000]
        rows = session.exec(
            select(CandidateRecord.id, CentreRecord.code, CandidateRecord.gender)
            .join(CentreRecord, col(CentreRecord.id) == col(CandidateRecord.centre_id), isouter=True)
            .where(col(CandidateRecord.id).in_(chunk))
        ).all()
        found.update({int(cid or 0): (code or "", gender or "") for cid, code, gender in rows})
    return found

"""Candidates, their sittings and the answers given in them."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
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


@dataclass(frozen=True)
class SittingRow:
    """What saving an answer needs to know of a sitting, read without the ORM (the hot path)."""

    device: str | None
    status: str
    deadline: datetime | None
    form_id: int | None


def sitting_row(connection: Connection, sitting_id: int) -> SittingRow | None:
    table = SittingRecord.__table__  # type: ignore[attr-defined]
    row = connection.execute(
        select(table.c.device, table.c.status, table.c.deadline, table.c.form_id).where(table.c.id == sitting_id)
    ).one_or_none()
    return None if row is None else SittingRow(row.device, row.status, row.deadline, row.form_id)


@functools.cache
def _upsert(dialect: str) -> Any:
    """INSERT ... ON CONFLICT DO UPDATE ... WHERE the stored sequence is older, built once per
    dialect: building it per call makes a fresh `excluded` alias of the table each time, which is
    cyclic garbage the collector then has to stop the server for."""
    table = ResponseRecord.__table__  # type: ignore[attr-defined]
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    statement = insert(table)
    # RETURNING says whether the row was written: a row comes back only for an insert or an
    # update that passed the WHERE (rowcount is not reliable for this on every driver).
    return statement.on_conflict_do_update(
        index_elements=[table.c.sitting_id, table.c.position],
        set_={"response": statement.excluded.response, "sequence": statement.excluded.sequence, "answered_at": statement.excluded.answered_at,
              "seconds": statement.excluded.seconds},
        where=table.c.sequence < statement.excluded.sequence,
    ).returning(table.c.sequence)


@functools.cache
def _stored_sequence() -> Any:
    table = ResponseRecord.__table__  # type: ignore[attr-defined]
    return select(table.c.sequence).where(table.c.sitting_id == bindparam("sitting"), table.c.position == bindparam("position"))


def upsert_response(
    connection: Connection, sitting_id: int, position: int, response: Any, sequence: int, now: datetime, seconds: int | None = None
) -> int:
    """Store the answer unless a newer one (higher sequence) is there already, in one statement
    (SQLite and PostgreSQL alike); returns the sequence now stored."""
    values = {"sitting_id": sitting_id, "position": position, "response": response, "sequence": sequence, "flagged": False,
              "answered_at": now, "seconds": seconds}
    if connection.execute(_upsert(connection.dialect.name), values).first() is not None:
        return sequence
    return int(connection.execute(_stored_sequence(), {"sitting": sitting_id, "position": position}).scalar_one())


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

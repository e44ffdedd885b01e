"""Analysts' decisions on items, and item calibrations: both appended, never edited."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from testengine.storage.sitting_events import aware
from testengine.storage.tables import ItemCalibrationRecord, ItemDecisionRecord

# Decisions that take an item out of live assembly until it is cleared (or, for a corrected
# key, until the bank carries the correction in a new version).
WITHDRAWING = frozenset({"review", "retired", "key_corrected"})


@dataclass(frozen=True)
class Decision:
    item_id: str
    version: int
    decision: str
    key: Any
    reason: str
    decided_by: str
    decided_at: datetime


def add_decision(
    session: Session, unit: int, item_id: str, version: int, decision: str, reason: str, by: str, now: datetime, key: Any = None
) -> None:
    session.add(ItemDecisionRecord(unit=unit, item_id=item_id, version=version, decision=decision, key=key, reason=reason,
                                   decided_by=by, decided_at=now))
    session.flush()


def decisions_in_force(session: Session, unit: int) -> dict[str, Decision]:
    """The latest decision on each item of the unit (any version)."""
    rows = session.exec(
        select(ItemDecisionRecord).where(ItemDecisionRecord.unit == unit).order_by(col(ItemDecisionRecord.id))
    )
    latest: dict[str, Decision] = {}
    for r in rows:
        latest[r.item_id] = Decision(r.item_id, r.version, r.decision, r.key, r.reason, r.decided_by, aware(r.decided_at))
    return latest


def decision_history(session: Session, item_id: str) -> list[Decision]:
    rows = session.exec(select(ItemDecisionRecord).where(ItemDecisionRecord.item_id == item_id).order_by(col(ItemDecisionRecord.id)))
    return [Decision(r.item_id, r.version, r.decision, r.key, r.reason, r.decided_by, aware(r.decided_at)) for r in rows]


@dataclass(frozen=True)
class Calibrated:
    item_id: str
    version: int
    n: int
    facility: float
    difficulty: float | None


def save_calibration(session: Session, unit: int, rows: Iterable[Calibrated], now: datetime) -> int:
    """A new calibration run for the unit; returns its number."""
    latest = session.exec(select(func.max(ItemCalibrationRecord.run))).one()
    run = int(latest or 0) + 1
    for r in rows:
        session.add(ItemCalibrationRecord(run=run, unit=unit, item_id=r.item_id, version=r.version, n=r.n, facility=r.facility,
                                          difficulty=r.difficulty, calibrated_at=now))
    session.flush()
    return run


def calibration_in_force(session: Session, unit: int) -> tuple[int, dict[tuple[str, int], Calibrated]]:
    """The unit's latest calibration run (0 if none) and its values by item version."""
    run = session.exec(select(func.max(ItemCalibrationRecord.run)).where(ItemCalibrationRecord.unit == unit)).one()
    if run is None:
        return 0, {}
    rows = session.exec(select(ItemCalibrationRecord).where(ItemCalibrationRecord.run == run))
    return int(run), {(r.item_id, r.version): Calibrated(r.item_id, r.version, r.n, r.facility, r.difficulty) for r in rows}

"""Results: each marking of a sitting kept, a re-mark pointing at what it supersedes."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlmodel import Session, col, select

from testengine.domain.marking import Result
from testengine.storage.tables import ResultRecord


def save_result(
    session: Session,
    sitting_id: int,
    form_id: int,
    result: Result,
    reason: str,
    marked_by: str,
    now: datetime,
    supersedes: int | None = None,
) -> ResultRecord:
    record = ResultRecord(
        sitting_id=sitting_id,
        supersedes_id=supersedes,
        form_id=form_id,
        total=result.total,
        maximum=result.maximum,
        cut_score=result.cut_score,
        outcome=result.outcome.value,
        rule=result.rule,
        by_learning_outcome={str(k): asdict(v) for k, v in result.by_learning_outcome.items()},
        by_criterion={k: asdict(v) for k, v in result.by_criterion.items()},
        item_scores=[asdict(s) for s in result.item_scores],
        failed_hurdles=list(result.failed_hurdles),
        reason=reason,
        marked_by=marked_by,
        marked_at=now,
    )
    session.add(record)
    session.flush()
    return record


def result_history(session: Session, sitting_id: int) -> list[ResultRecord]:
    """Every marking of the sitting, oldest first; the last is the one in force."""
    return list(
        session.exec(select(ResultRecord).where(ResultRecord.sitting_id == sitting_id).order_by(col(ResultRecord.id)))
    )

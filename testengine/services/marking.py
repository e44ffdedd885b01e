"""Marking a sitting, and re-marking it after a key correction, each recorded."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from testengine.domain.items import Item, Key, item_problems
from testengine.domain.marking import Result, mark
from testengine.domain.scoring import ResponseError, normalise
from testengine.storage.forms import load_form
from testengine.storage.item_versions import load_versions
from testengine.storage.results import result_history, save_result
from testengine.storage.sittings import load_responses
from testengine.storage.tables import SittingRecord


@dataclass(frozen=True)
class MarkedSitting:
    sitting_id: int
    result_id: int
    result: Result


class MarkingError(Exception):
    pass


def mark_sitting(engine: Engine, sitting_id: int, now: datetime, marked_by: str = "testengine") -> MarkedSitting:
    """First marking of a submitted sitting, against the item versions its form froze."""
    with Session(engine) as session, session.begin():
        if result_history(session, sitting_id):
            raise MarkingError(f"sitting {sitting_id} is already marked: re-mark it with a reason instead")
        return _mark(session, sitting_id, {}, "marked on submission", marked_by, now, None)


def remark_sitting(
    engine: Engine,
    sitting_id: int,
    corrections: Mapping[str, Any],
    reason: str,
    marked_by: str,
    now: datetime,
) -> MarkedSitting:
    """Mark again with corrected keys (item id -> key in the file format); the old result stays."""
    if not reason.strip():
        raise MarkingError("a re-mark needs a reason")
    with Session(engine) as session, session.begin():
        history = result_history(session, sitting_id)
        if not history:
            raise MarkingError(f"sitting {sitting_id} has not been marked yet")
        return _mark(session, sitting_id, corrections, reason, marked_by, now, history[-1].id)


def _mark(
    session: Session,
    sitting_id: int,
    corrections: Mapping[str, Any],
    reason: str,
    marked_by: str,
    now: datetime,
    supersedes: int | None,
) -> MarkedSitting:
    sitting = session.get(SittingRecord, sitting_id)
    if sitting is None:
        raise MarkingError(f"no sitting {sitting_id}")
    if sitting.form_id is None:
        raise MarkingError(f"sitting {sitting_id} was never started: there is no form to mark")
    form_id = sitting.form_id
    form, rule = load_form(session, form_id)
    items = load_versions(session, form.refs)
    unknown = set(corrections) - {item_id for item_id, _ in items}
    if unknown:
        raise MarkingError(f"corrected items {', '.join(sorted(unknown))} are not on sitting {sitting_id}'s form")
    items = {ref: _corrected(item, corrections.get(item.id)) for ref, item in items.items()}
    raw = load_responses(session, sitting_id)
    responses: dict[int, Key | None] = {}
    for form_item in form.items:
        responses[form_item.position] = normalise(items[form_item.ref], raw.get(form_item.position))
    result = mark(form, items, responses, rule)
    record = save_result(session, sitting_id, form_id, result, reason, marked_by, now, supersedes)
    assert record.id is not None
    return MarkedSitting(sitting_id, record.id, result)


def _corrected(item: Item, raw_key: Any) -> Item:
    if raw_key is None:
        return item
    try:
        key = normalise(item, raw_key)
    except ResponseError as exc:
        raise MarkingError(f"corrected key for {item.id}: {exc}") from exc
    if key is None:
        raise MarkingError(f"corrected key for {item.id} is empty")
    corrected = replace(item, key=key)
    problems = item_problems(corrected)
    if problems:
        raise MarkingError(f"corrected key for {item.id}: {problems[0].reason}")
    return corrected

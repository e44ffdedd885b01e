"""Forms as stored: frozen item versions in order, with option orders, seed and cut."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection
from sqlmodel import Session, col, func, select

from testengine.domain.blueprints import CutMethod, Hurdle, PassRule, Rounding
from testengine.domain.forms import Form, FormItem
from testengine.domain.items import ItemType
from testengine.storage.frozen import Frozen
from testengine.storage.tables import FormItemRecord, FormRecord, SittingRecord


def pass_rule_to_json(rule: PassRule) -> dict[str, Any]:
    return {
        "method": rule.method.value,
        "rounding": rule.rounding.value,
        "fixed_cut": rule.fixed_cut,
        "hurdles": [{"learning_outcome": h.learning_outcome, "minimum_share": h.minimum_share} for h in rule.hurdles],
    }


def pass_rule_from_json(data: dict[str, Any]) -> PassRule:
    return PassRule(
        method=CutMethod(data["method"]),
        rounding=Rounding(data["rounding"]),
        fixed_cut=data["fixed_cut"],
        hurdles=tuple(Hurdle(h["learning_outcome"], h["minimum_share"]) for h in data["hurdles"]),
    )


def save_form(session: Session, form: Form, rule: PassRule, now: datetime, candidate_id: int | None = None) -> int:
    record = FormRecord(
        unit=form.unit,
        seed=form.seed,
        blueprint_digest=form.blueprint_digest,
        duration_minutes=form.duration_minutes,
        total_marks=form.total_marks,
        cut_score=form.cut_score,
        pass_rule=pass_rule_to_json(rule),
        expected_facility=form.expected_facility,
        expected_seconds=form.expected_seconds,
        exposure_relaxed=list(form.exposure_relaxed),
        candidate_id=candidate_id,
        created_at=now,
    )
    session.add(record)
    session.flush()
    assert record.id is not None
    for item in form.items:
        session.add(
            FormItemRecord(
                form_id=record.id,
                position=item.position,
                item_id=item.item_id,
                version=item.version,
                learning_outcome=item.learning_outcome,
                criterion=item.criterion,
                amplification=item.amplification,
                type=item.type.value,
                marks=item.marks,
                item_set=item.item_set,
                option_order=list(item.option_order),
                premise_order=list(item.premise_order),
            )
        )
    session.flush()
    return record.id


_forms: Frozen[int, tuple[Form, PassRule]] = Frozen(20_000)


def load_form(source: Session | Connection, form_id: int) -> tuple[Form, PassRule]:
    """The frozen form; from a Session, or from a bare Connection on the answer-saving hot path."""
    cached = _forms.get(source, form_id)
    if cached is not None:
        return cached
    if isinstance(source, Connection):
        with Session(bind=source) as session:
            loaded = _read_form(session, form_id)
    else:
        loaded = _read_form(source, form_id)
    _forms.put(source, form_id, loaded)
    return loaded


def _read_form(session: Session, form_id: int) -> tuple[Form, PassRule]:
    record = session.get(FormRecord, form_id)
    if record is None:
        raise LookupError(f"no form {form_id}")
    rows = session.exec(
        select(FormItemRecord).where(FormItemRecord.form_id == form_id).order_by(col(FormItemRecord.position))
    ).all()
    form = Form(
        unit=record.unit,
        seed=record.seed,
        blueprint_digest=record.blueprint_digest,
        duration_minutes=record.duration_minutes,
        total_marks=record.total_marks,
        cut_score=record.cut_score,
        expected_facility=record.expected_facility,
        expected_seconds=record.expected_seconds,
        exposure_relaxed=tuple(record.exposure_relaxed),
        items=tuple(
            FormItem(
                position=r.position,
                item_id=r.item_id,
                version=r.version,
                learning_outcome=r.learning_outcome,
                criterion=r.criterion,
                amplification=r.amplification,
                type=ItemType(r.type),
                marks=r.marks,
                item_set=r.item_set,
                option_order=tuple(r.option_order),
                premise_order=tuple(r.premise_order),
            )
            for r in rows
        ),
    )
    return form, pass_rule_from_json(record.pass_rule)


def exposure_counts(session: Session, unit: int, window: int) -> tuple[int, Counter[str]]:
    """Of the unit's `window` most recent live (non-practice) sittings, how many there are and
    how many had each item: bounded reads (ix_sittings_unit_form, then 30 rows a form), so a
    Start costs the same after 100,000 sittings as after 100."""
    administered = (
        select(SittingRecord.form_id)
        .where(SittingRecord.unit == unit, col(SittingRecord.practice).is_(False), col(SittingRecord.form_id).is_not(None))
        .order_by(col(SittingRecord.form_id).desc())
        .limit(window)
    )
    sittings = session.exec(select(func.count()).select_from(administered.subquery())).one()
    rows = session.exec(
        select(FormItemRecord.item_id, func.count())
        .where(col(FormItemRecord.form_id).in_(administered))
        .group_by(col(FormItemRecord.item_id))
    ).all()
    return sittings, Counter({item_id: n for item_id, n in rows})


def items_seen_by(session: Session, candidate_id: int) -> set[str]:
    """Every item on any form given to the candidate, in any earlier sitting."""
    forms = select(SittingRecord.form_id).where(SittingRecord.candidate_id == candidate_id)
    return set(session.exec(select(FormItemRecord.item_id).where(col(FormItemRecord.form_id).in_(forms))).all())

"""What analysts decide about items: mark one for review, retire it, clear it, or correct its
key. Each decision is kept with who, when and why (and audited); assembly leaves out items
under review, retired, or with a corrected key the bank does not yet carry. A corrected key
re-marks every sitting that had the item version, and the change is reported, never silent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from testengine.domain.centres import Actor, Role
from testengine.services.catalogue import Catalogue, current_catalogue
from testengine.services.errors import Forbidden, InvalidInput, NotFound
from testengine.services.marking import MarkingError, remark_sitting
from testengine.storage.centres import audit
from testengine.storage.item_decisions import add_decision, decisions_in_force
from testengine.storage.results import result_history
from testengine.storage.tables import CandidateRecord, FormItemRecord, SittingRecord

DECISIONS = {"review": "marked for review", "retired": "retired", "cleared": "cleared for use"}


def decide(
    engine: Engine, actor: Actor, catalogue: Catalogue, item_id: str, decision: str, reason: str, now: datetime, client: str = ""
) -> None:
    """Mark for review, retire or clear the item (the version in the bank now)."""
    require_analyst(actor)
    if decision not in DECISIONS:
        raise InvalidInput([f"decision {decision!r}: choose one of {', '.join(DECISIONS)}"])
    if not reason.strip():
        raise InvalidInput([f"say why the item is {DECISIONS[decision]} (it goes on the record)"])
    catalogue = current_catalogue(engine, catalogue)
    unit, version = _locate(catalogue, item_id)
    with Session(engine) as session, session.begin():
        add_decision(session, unit, item_id, version, decision, reason.strip(), actor.username, now)
        audit(session, now, actor.username, f"item.{decision}", f"{item_id} v{version}", {"reason": reason.strip()}, None, client)


@dataclass(frozen=True)
class Remarked:
    sitting_id: int
    candidate_number: str
    old_total: int
    new_total: int
    old_outcome: str
    new_outcome: str

    @property
    def outcome_changed(self) -> bool:
        return self.old_outcome != self.new_outcome


@dataclass(frozen=True)
class KeyCorrection:
    item_id: str
    version: int
    key: Any
    remarked: tuple[Remarked, ...]

    @property
    def changed(self) -> tuple[Remarked, ...]:
        return tuple(r for r in self.remarked if r.old_total != r.new_total or r.outcome_changed)


def correct_key(
    engine: Engine, actor: Actor, catalogue: Catalogue, item_id: str, version: int, key: Any, reason: str, now: datetime,
    client: str = "",
) -> KeyCorrection:
    """Re-mark every marked sitting that had this item version with the corrected key; each
    re-mark is a new result that supersedes the old (nothing is overwritten)."""
    require_analyst(actor)
    if not reason.strip():
        raise InvalidInput(["say why the key is corrected (it goes on the record and on each re-mark)"])
    catalogue = current_catalogue(engine, catalogue)
    unit, _ = _locate(catalogue, item_id)
    with Session(engine) as session:
        sittings = session.exec(
            select(SittingRecord.id, CandidateRecord.candidate_number)
            .join(FormItemRecord, col(FormItemRecord.form_id) == SittingRecord.form_id)
            .join(CandidateRecord, col(CandidateRecord.id) == SittingRecord.candidate_id)
            .where(FormItemRecord.item_id == item_id, FormItemRecord.version == version)
            .order_by(col(SittingRecord.id))
        ).all()
        marked = [(s, number) for s, number in sittings if s is not None and result_history(session, s)]
        before = {s: result_history(session, s)[-1] for s, _ in marked}
        # Keys corrected earlier stay corrected: each re-mark applies every correction in force
        # for the items on that sitting's form, and this one.
        earlier = {
            (d.item_id, d.version): d.key
            for package in catalogue.units.values()
            for d in decisions_in_force(session, package.number).values()
            if d.decision == "key_corrected"
        }
        corrections = {s: _corrections_for(session, s, earlier) | {item_id: key} for s, _ in marked}
    remarked = []
    why = f"key of {item_id} v{version} corrected: {reason.strip()}"
    for sitting_id, number in marked:
        try:
            result = remark_sitting(engine, sitting_id, corrections[sitting_id], why, actor.username, now).result
        except MarkingError as exc:
            raise InvalidInput([str(exc)]) from exc
        old = before[sitting_id]
        remarked.append(Remarked(sitting_id, number, old.total, result.total, old.outcome, result.outcome.value))
    with Session(engine) as session, session.begin():
        add_decision(session, unit, item_id, version, "key_corrected", reason.strip(), actor.username, now, key)
        audit(session, now, actor.username, "item.key_corrected", f"{item_id} v{version}",
              {"key": key, "reason": reason.strip(), "remarked": len(remarked),
               "changed": [r.sitting_id for r in remarked if r.old_total != r.new_total]}, None, client)
    return KeyCorrection(item_id, version, key, tuple(remarked))


def _corrections_for(session: Session, sitting_id: int, corrected: dict[tuple[str, int], Any]) -> dict[str, Any]:
    sitting = session.get(SittingRecord, sitting_id)
    if sitting is None or sitting.form_id is None:
        return {}
    on_form = session.exec(select(FormItemRecord.item_id, FormItemRecord.version).where(FormItemRecord.form_id == sitting.form_id)).all()
    return {i: corrected[(i, v)] for i, v in on_form if (i, v) in corrected}


def require_analyst(actor: Actor) -> None:
    """Item decisions belong to the awarding body's analysts, whatever centre they sit in."""
    if actor.role is not Role.ANALYST:
        raise Forbidden(f"{actor.role.label}s cannot do this: item decisions are for psychometric analysts")


def _locate(catalogue: Catalogue, item_id: str) -> tuple[int, int]:
    for package in catalogue.units.values():
        item = package.bank.item(item_id)
        if item is not None:
            return package.number, item.version
    raise NotFound(f"no item {item_id!r} in the banks")

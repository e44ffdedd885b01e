"""Analysts' decisions feed back: items under review or retired leave live assembly; a corrected
key re-marks every sitting that had the item and says what changed; a calibration replaces the
writers' estimates in the difficulty window and the form's cut."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, col, select

from testengine.domain.centres import Actor, Role
from testengine.domain.items import ItemType
from testengine.services.assembly import Assembler, eligibility_for
from testengine.services.errors import Forbidden, InvalidInput
from testengine.services.item_review import correct_key, decide
from testengine.services.simulation import simulate_sittings
from testengine.storage.item_decisions import Calibrated, save_calibration
from testengine.storage.results import result_history
from testengine.storage.tables import FormItemRecord, SittingRecord

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ANALYST = Actor(1, "analyst", Role.ANALYST, None)


def forms_use(runtime, item_id: str, forms: int = 25) -> bool:
    package = runtime.catalogue.unit(5)
    with Session(runtime.engine) as session:
        eligibility = eligibility_for(session, package, None)
    return any(item_id in {i.item_id for i in runtime.assembler.choose(package, seed, eligibility).items} for seed in range(forms))


def popular_item(runtime) -> str:
    """An item of unit 5 that random forms use often."""
    package = runtime.catalogue.unit(5)
    counts: dict[str, int] = {}
    for seed in range(40):
        for item in runtime.assembler.choose(package, seed).items:
            counts[item.item_id] = counts.get(item.item_id, 0) + 1
    return max(counts, key=counts.__getitem__)


def test_an_item_marked_for_review_or_retired_leaves_live_assembly_until_cleared(runtime):
    item_id = popular_item(runtime)
    assert forms_use(runtime, item_id)
    decide(runtime.engine, ANALYST, runtime.catalogue, item_id, "review", "distractor C attracts the upper group", NOW)
    assert not forms_use(runtime, item_id)
    decide(runtime.engine, ANALYST, runtime.catalogue, item_id, "cleared", "reviewed: key and distractors sound", NOW)
    assert forms_use(runtime, item_id)
    decide(runtime.engine, ANALYST, runtime.catalogue, item_id, "retired", "over-exposed", NOW)
    assert not forms_use(runtime, item_id)


def test_only_analysts_decide_and_every_decision_needs_a_reason(runtime):
    item_id = popular_item(runtime)
    with pytest.raises(Forbidden):
        decide(runtime.engine, Actor(2, "inv", Role.INVIGILATOR, 1), runtime.catalogue, item_id, "review", "why", NOW)
    with pytest.raises(InvalidInput, match="say why"):
        decide(runtime.engine, ANALYST, runtime.catalogue, item_id, "review", "  ", NOW)
    with pytest.raises(InvalidInput, match="choose one of"):
        decide(runtime.engine, ANALYST, runtime.catalogue, item_id, "delete", "why", NOW)


def test_a_corrected_key_remarks_every_sitting_with_the_item_and_reports_the_changes(runtime):
    simulate_sittings(runtime.engine, runtime.assembler, 5, 40, 3, NOW)
    package = runtime.catalogue.unit(5)
    with Session(runtime.engine) as session:
        used = session.exec(select(FormItemRecord.item_id, FormItemRecord.version, FormItemRecord.form_id)).all()
        forms_with = {}
        for item_id, version, form_id in used:
            forms_with.setdefault((item_id, version), set()).add(form_id)
        (item_id, version), forms = max(
            ((ref, f) for ref, f in forms_with.items() if package.bank.item(ref[0]).type is ItemType.SINGLE), key=lambda kv: len(kv[1])
        )
        sittings = session.exec(select(SittingRecord.id).where(col(SittingRecord.form_id).in_(forms))).all()
    item = package.bank.item(item_id)
    wrong = next(o.id for o in item.options if o.id != item.key)
    report = correct_key(runtime.engine, ANALYST, runtime.catalogue, item_id, version, wrong, "the writer's key was B; the source says C", NOW)
    assert sorted(r.sitting_id for r in report.remarked) == sorted(sittings)
    assert report.changed, "someone's total must move when the key changes"
    for change in report.changed:
        assert abs(change.new_total - change.old_total) == item.marks
    with Session(runtime.engine) as session:
        history = result_history(session, report.remarked[0].sitting_id)
        assert len(history) == 2 and history[-1].supersedes_id == history[0].id
        assert "corrected" in history[-1].reason
    assert not forms_use(runtime, item_id, forms=40)  # out until the bank carries the fix in a new version


def test_a_second_correction_keeps_the_first(runtime):
    simulate_sittings(runtime.engine, runtime.assembler, 5, 1, 5, NOW)
    with Session(runtime.engine) as session:
        sitting = session.exec(select(SittingRecord)).one()
        on_form = session.exec(select(FormItemRecord.item_id, FormItemRecord.version).where(FormItemRecord.form_id == sitting.form_id)).all()
    package = runtime.catalogue.unit(5)
    singles = [(i, v) for i, v in on_form if package.bank.item(i).type is ItemType.SINGLE][:2]
    totals = []
    for item_id, version in singles:
        item = package.bank.item(item_id)
        other = next(o.id for o in item.options if o.id != item.key)
        totals.append(correct_key(runtime.engine, ANALYST, runtime.catalogue, item_id, version, other, "test", NOW).remarked[0].new_total)
    with Session(runtime.engine) as session:
        last = result_history(session, sitting.id)[-1]
    scored = {s["item_id"]: s["score"] for s in last.item_scores}
    first = package.bank.item(singles[0][0])
    # Still marked with the first correction: scored against the corrected key, not the original.
    with Session(runtime.engine) as session:
        from testengine.storage.sittings import load_responses

        position = next(s["position"] for s in last.item_scores if s["item_id"] == first.id)
        chose = load_responses(session, sitting.id).get(position)
    corrected = next(o.id for o in first.options if o.id != first.key)
    assert scored[first.id] == (first.marks if chose == corrected else 0)
    assert last.total == totals[-1]


def test_a_calibration_replaces_the_writers_estimates_in_assembly(runtime):
    package = runtime.catalogue.unit(5)
    assembler = Assembler(runtime.catalogue)
    items = package.bank.with_status(package.blueprint.eligible_statuses)
    with Session(runtime.engine) as session, session.begin():
        run = save_calibration(session, 5, [Calibrated(i.id, i.version, 500, 0.65, 0.0) for i in items], NOW)
    with Session(runtime.engine) as session:
        current = assembler.current(session, package)
    assert current.calibration_run == run and current is not package
    calibrated = current.bank.item(items[0].id)
    assert calibrated.facility == 0.65
    # Every item at b = 0: the standard theta_c makes P equal to the mean writer rating.
    mean_rating = sum(i.angoff for i in items) / len(items)
    assert calibrated.angoff == pytest.approx(mean_rating, abs=1e-4)
    form = assembler.choose(current, 7)
    assert form.expected_facility == 0.65

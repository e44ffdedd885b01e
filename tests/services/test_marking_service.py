from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from testengine.services.assembly import store_form
from testengine.services.marking import MarkingError, mark_sitting, remark_sitting
from testengine.storage.results import result_history
from testengine.storage.sittings import add_candidate, add_sitting, save_response

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@pytest.fixture
def answered_sitting(engine, small_assembler):
    """A sitting whose candidate answered every item with option b (the key of every item)."""
    package = small_assembler.catalogue.unit(9)
    form = small_assembler.choose(package, 3)
    with Session(engine) as session, session.begin():
        candidate = add_candidate(session, "C0100", "Ada Candidate", NOW)
        form_id = store_form(session, package, form, NOW, candidate.id)
        sitting = add_sitting(session, candidate.id, form_id, 9, NOW)
        for item in form.items[:-1]:
            save_response(session, sitting.id, item.position, "b", NOW)
        save_response(session, sitting.id, form.items[-1].position, "a", NOW)
        sitting_id = sitting.id
    return sitting_id, form


def test_marking_scores_the_stored_answers_against_the_frozen_form(engine, answered_sitting):
    sitting_id, form = answered_sitting
    marked = mark_sitting(engine, sitting_id, NOW)
    assert marked.result.total == 5 and marked.result.maximum == 6
    assert marked.result.cut_score == form.cut_score
    assert marked.result.outcome.value == "Pass"
    with pytest.raises(MarkingError, match="already marked"):
        mark_sitting(engine, sitting_id, NOW)


def test_a_remark_after_a_key_correction_is_recorded_and_supersedes(engine, answered_sitting):
    sitting_id, form = answered_sitting
    first = mark_sitting(engine, sitting_id, NOW)
    last_item = form.items[-1].item_id
    second = remark_sitting(engine, sitting_id, {last_item: "a"}, "key of the last item corrected to a", "analyst", NOW)
    assert second.result.total == 6
    with Session(engine) as session:
        history = result_history(session, sitting_id)
    assert [r.total for r in history] == [5, 6]
    assert history[1].supersedes_id == first.result_id
    assert history[1].reason == "key of the last item corrected to a" and history[1].marked_by == "analyst"


def test_a_remark_needs_a_reason_and_a_valid_key_for_an_item_on_the_form(engine, answered_sitting):
    sitting_id, form = answered_sitting
    mark_sitting(engine, sitting_id, NOW)
    item = form.items[0].item_id
    with pytest.raises(MarkingError, match="needs a reason"):
        remark_sitting(engine, sitting_id, {item: "a"}, " ", "analyst", NOW)
    with pytest.raises(MarkingError, match="no option z"):
        remark_sitting(engine, sitting_id, {item: "z"}, "typo", "analyst", NOW)
    with pytest.raises(MarkingError, match="not on sitting"):
        remark_sitting(engine, sitting_id, {"U9-9999": "a"}, "typo", "analyst", NOW)

"""Item writers on the bank in the database: the shipped bank seeded once, drafts checked like
`bank validate`, the review workflow and its permissions, lint before live, and versions that
never change once candidates may have seen them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from testengine.domain.centres import Actor, Role
from testengine.domain.items import ItemStatus
from testengine.services import authoring
from testengine.services.assembly import eligibility_for
from testengine.services.errors import Forbidden, InvalidInput
from testengine.services.lint import lint_policy
from testengine.services.runtime import open_runtime, seed_banks
from testengine.settings import PROJECT_ROOT
from testengine.storage.bank_items import bank_revision, versions_of
from testengine.storage.item_records import item_to_json
from testengine.storage.item_versions import keep_versions
from testengine.storage.tables import AuditRecord, ItemVersionRecord

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ANNA = Actor(11, "anna", Role.ITEM_WRITER, None)
BEN = Actor(12, "ben", Role.ITEM_WRITER, None)

MATCHING = {
    "learning_outcome": 1,
    "criterion": "1.1",
    "amplification": "customer-experience",
    "type": "matching",
    "stem": "Match each comment from a hotel guest to the quality of experience it shows.",
    "premises": [{"id": "p1", "text": "The room booking page answered every question I had."},
                 {"id": "p2", "text": "Checking in at the kiosk took under a minute."},
                 {"id": "p3", "text": "The evening quiz in the bar was great fun."}],
    "options": [{"id": "a", "text": "Useful"}, {"id": "b", "text": "Usable"}, {"id": "c", "text": "Enjoyable"},
                {"id": "d", "text": "Affordable"}],
    "key": {"p1": "a", "p2": "b", "p3": "c"},
    "marks": 2,
    "scoring": "partial",
    "expected_seconds": 90,
    "facility": 0.66,
    "angoff": 0.55,
    "cognitive_level": "application",
    "author": "Anna Writer",
    "rationale": "The customer experience is judged by whether it is useful, usable and enjoyable: answers found (a), "
                 "a quick check-in (b) and a fun evening (c). Affordable (d) is not one of the three qualities.",
}


@pytest.fixture
def policy():
    return lint_policy(PROJECT_ROOT / "item_banks")


def through_review(runtime, policy, item_id: str, now: datetime = NOW) -> None:
    authoring.move(runtime.engine, ANNA, runtime.catalogue, policy, item_id, ItemStatus.IN_REVIEW, "", now)
    authoring.move(runtime.engine, BEN, runtime.catalogue, policy, item_id, ItemStatus.APPROVED, "key and options checked", now)
    authoring.move(runtime.engine, BEN, runtime.catalogue, policy, item_id, ItemStatus.LIVE, "", now)


def assembled_with(runtime, item_id: str, forms: int = 60) -> bool:
    package = runtime.catalogue.unit(5)
    with Session(runtime.engine) as session:
        current = runtime.assembler.current(session, package)
        eligibility = eligibility_for(session, current, None)
    return any(item_id in {i.item_id for i in runtime.assembler.choose(current, seed, eligibility).items} for seed in range(forms))


def test_the_shipped_bank_is_seeded_once_and_the_database_wins_after_a_change(runtime, shipped):
    with Session(runtime.engine) as session:
        assert bank_revision(session, 5) == 0
        assert len(versions_of(session, "U5-0085")) == 1
    assert seed_banks(runtime.engine, shipped, NOW) == []  # the same files: nothing to do
    authoring.create_item(runtime.engine, ANNA, runtime.catalogue, 5, MATCHING, NOW)
    with Session(runtime.engine) as session:
        assert bank_revision(session, 5) == 1
    assert seed_banks(runtime.engine, shipped, NOW) == []  # changed in the engine: files no longer replace it


def test_a_new_draft_gets_the_next_id_and_a_bad_one_is_refused_with_every_reason(runtime):
    highest = max(int(i.id.split("-")[1]) for i in runtime.catalogue.unit(5).bank.items)
    item = authoring.create_item(runtime.engine, ANNA, runtime.catalogue, 5, MATCHING, NOW)
    assert item.id == f"U5-{highest + 1:04d}" and item.version == 1 and item.status is ItemStatus.DRAFT
    bad = {**MATCHING, "criterion": "9.9", "key": {"p1": "a", "p2": "z", "p3": "c"}, "marks": 0}
    with pytest.raises(InvalidInput) as error:
        authoring.create_item(runtime.engine, ANNA, runtime.catalogue, 5, bad, NOW)
    text = " | ".join(error.value.messages)
    assert "AC '9.9' is not an assessment criterion" in text and "z" in text and "marks" in text
    with pytest.raises(InvalidInput, match="stem"):
        authoring.create_item(runtime.engine, ANNA, runtime.catalogue, 5, {k: v for k, v in MATCHING.items() if k != "stem"}, NOW)
    with pytest.raises(Forbidden):
        authoring.create_item(runtime.engine, Actor(3, "an", Role.ANALYST, None), runtime.catalogue, 5, MATCHING, NOW)


def test_review_approve_and_go_live_puts_the_item_into_assembly(runtime, policy):
    item = authoring.create_item(runtime.engine, ANNA, runtime.catalogue, 5, MATCHING, NOW)
    assert not assembled_with(runtime, item.id, forms=10)
    authoring.move(runtime.engine, ANNA, runtime.catalogue, policy, item.id, ItemStatus.IN_REVIEW, "", NOW)
    with pytest.raises(Forbidden, match=f"anna wrote {item.id} v1: another writer must approve it"):
        authoring.move(runtime.engine, ANNA, runtime.catalogue, policy, item.id, ItemStatus.APPROVED, "", NOW)
    with pytest.raises(InvalidInput, match="it can move to draft, approved, not live"):
        authoring.move(runtime.engine, BEN, runtime.catalogue, policy, item.id, ItemStatus.LIVE, "", NOW)
    authoring.move(runtime.engine, BEN, runtime.catalogue, policy, item.id, ItemStatus.APPROVED, "fine", NOW)
    authoring.move(runtime.engine, ANNA, runtime.catalogue, policy, item.id, ItemStatus.LIVE, "", NOW)
    assert assembled_with(runtime, item.id)
    history = authoring.history(runtime.engine, ANNA, item.id)
    assert [(t[1], t[2], t[4]) for t in history.trail] == [
        ("draft", "draft", "anna"), ("draft", "in_review", "anna"), ("in_review", "approved", "ben"), ("approved", "live", "anna"),
    ]
    with Session(runtime.engine) as session:
        actions = [a.action for a in session.exec(select(AuditRecord).where(AuditRecord.subject == item.id))]
    assert actions == ["item.created", "item.in_review", "item.approved", "item.live"]


def test_sending_back_and_retiring_need_a_comment(runtime, policy):
    item = authoring.create_item(runtime.engine, ANNA, runtime.catalogue, 5, MATCHING, NOW)
    authoring.move(runtime.engine, ANNA, runtime.catalogue, policy, item.id, ItemStatus.IN_REVIEW, "", NOW)
    with pytest.raises(InvalidInput, match="say why in a comment"):
        authoring.move(runtime.engine, BEN, runtime.catalogue, policy, item.id, ItemStatus.DRAFT, " ", NOW)
    authoring.move(runtime.engine, BEN, runtime.catalogue, policy, item.id, ItemStatus.DRAFT, "option d is too obviously wrong", NOW)
    authoring.comment_on(runtime.engine, ANNA, item.id, "changed d to Affordable", NOW)
    trail = authoring.history(runtime.engine, ANNA, item.id).trail
    assert trail[-2][3] == "option d is too obviously wrong" and trail[-1][1:4] == ("draft", "draft", "changed d to Affordable")


def test_an_item_failing_lint_cannot_go_live(runtime, policy):
    vague = {**MATCHING, "rationale": "Each comment shows one quality; the last option is spare."}
    item = authoring.create_item(runtime.engine, ANNA, runtime.catalogue, 5, vague, NOW)
    authoring.move(runtime.engine, ANNA, runtime.catalogue, policy, item.id, ItemStatus.IN_REVIEW, "", NOW)
    authoring.move(runtime.engine, BEN, runtime.catalogue, policy, item.id, ItemStatus.APPROVED, "", NOW)
    with pytest.raises(InvalidInput, match="lint checks must pass before going live: the rationale does not name"):
        authoring.move(runtime.engine, BEN, runtime.catalogue, policy, item.id, ItemStatus.LIVE, "", NOW)


def test_editing_a_version_candidates_saw_makes_the_next_version_and_keeps_the_old_exactly(runtime, policy):
    package = runtime.catalogue.unit(5)
    shown = package.bank.item("U5-0085")
    with Session(runtime.engine) as session, session.begin():
        keep_versions(session, [shown], NOW)  # as assembly does when it puts the item on a form
        frozen = session.get(ItemVersionRecord, ("U5-0085", 1)).content
    changed = {k: v for k, v in item_to_json(shown).items() if k in authoring.FIELDS}
    changed["stem"] = "Match each customer comment to the quality of experience it describes."
    later = NOW + timedelta(days=1)
    revised = authoring.edit_item(runtime.engine, ANNA, runtime.catalogue, "U5-0085", changed, later)
    assert (revised.version, revised.status) == (2, ItemStatus.DRAFT)
    history = authoring.history(runtime.engine, ANNA, "U5-0085")
    assert [(v.item.version, v.item.status, v.presented) for v in history.versions] == [
        (1, ItemStatus.LIVE, True), (2, ItemStatus.DRAFT, False)]
    assert authoring.version_diff(history.versions[0].item, history.versions[1].item) == [
        ("stem", shown.stem, changed["stem"])]
    # Until version 2 is live, assembly keeps using version 1; then version 1 is retired.
    with Session(runtime.engine) as session:
        assert runtime.assembler.current(session, package).bank.item("U5-0085").version == 1
    authoring.move(runtime.engine, ANNA, runtime.catalogue, policy, "U5-0085", ItemStatus.IN_REVIEW, "", later)
    authoring.move(runtime.engine, BEN, runtime.catalogue, policy, "U5-0085", ItemStatus.APPROVED, "", later)
    authoring.move(runtime.engine, BEN, runtime.catalogue, policy, "U5-0085", ItemStatus.LIVE, "", later)
    with Session(runtime.engine) as session:
        assert runtime.assembler.current(session, package).bank.item("U5-0085").version == 2
        assert [r.status for r in versions_of(session, "U5-0085")] == ["retired", "live"]
        assert session.get(ItemVersionRecord, ("U5-0085", 1)).content == frozen
    # A draft nobody has seen is edited in place: no third version.
    again = authoring.create_item(runtime.engine, ANNA, runtime.catalogue, 5, MATCHING, later)
    edited = authoring.edit_item(runtime.engine, ANNA, runtime.catalogue, again.id, {**MATCHING, "marks": 3}, later)
    assert edited.version == 1 and edited.marks == 3
    with pytest.raises(InvalidInput, match="nothing changed"):
        authoring.edit_item(runtime.engine, ANNA, runtime.catalogue, again.id, {**MATCHING, "marks": 3}, later)


def test_the_browser_filters_by_the_analysts_decisions_and_searches_the_text(runtime):
    from testengine.services.item_review import decide

    decide(runtime.engine, Actor(3, "analyst", Role.ANALYST, None), runtime.catalogue, "U5-0085", "review", "distractor d too weak", NOW)
    flagged = authoring.browse(runtime.engine, ANNA, runtime.catalogue, 5, {"analysts": "review"})
    assert [(r.item.id, r.analysts) for r in flagged] == [("U5-0085", "review")]
    assert [r.item.id for r in authoring.browse(runtime.engine, ANNA, runtime.catalogue, 5, {"analysts": "any"})] == ["U5-0085"]
    found = authoring.browse(runtime.engine, ANNA, runtime.catalogue, 5, {"text": "ENJOYABLE", "type": "matching"})
    assert "U5-0085" in [r.item.id for r in found] and all(r.item.type.value == "matching" for r in found)
    narrowed = authoring.browse(runtime.engine, ANNA, runtime.catalogue, 5, {"criterion": "1.1", "status": "retired"})
    assert all((r.item.criterion, r.item.status) == ("1.1", ItemStatus.RETIRED) for r in narrowed)


def test_item_sets_are_created_edited_with_their_items_and_a_seen_scenario_never_changes(runtime):
    from testengine.services import item_sets

    scenario = "A hotel group asks guests to rate each stay. " * 8
    highest = max(int(s.id.rsplit("-", 1)[1]) for s in runtime.catalogue.unit(5).bank.item_sets)
    made = item_sets.save(runtime.engine, ANNA, runtime.catalogue, 5, None, "Hotel guest ratings", scenario, NOW)
    assert made.id == f"U5-SET-{highest + 1:02d}"
    member = authoring.create_item(runtime.engine, ANNA, runtime.catalogue, 5, {**MATCHING, "item_set": made.id}, NOW)
    view = item_sets.view(runtime.engine, ANNA, made.id)
    assert [i.id for i in view.items] == [member.id] and view.locked == ""
    item_sets.save(runtime.engine, BEN, runtime.catalogue, 5, made.id, "Hotel guest ratings", scenario + "More detail.", NOW)
    assert item_sets.view(runtime.engine, ANNA, made.id).item_set.scenario.endswith("More detail.")
    with pytest.raises(InvalidInput, match="title: give the set a title"):
        item_sets.save(runtime.engine, ANNA, runtime.catalogue, 5, None, " ", scenario, NOW)
    # The shipped gym set is live: its scenario stays as candidates read it; the title may change.
    gym = item_sets.view(runtime.engine, ANNA, "U5-SET-01")
    assert gym.locked.endswith("is live")
    with pytest.raises(InvalidInput, match="the scenario cannot change: .* is live; write a new set instead"):
        item_sets.save(runtime.engine, ANNA, runtime.catalogue, 5, "U5-SET-01", gym.item_set.title, "Something else.", NOW)
    item_sets.save(runtime.engine, ANNA, runtime.catalogue, 5, "U5-SET-01", "Gym renewals", gym.item_set.scenario, NOW)


def test_the_analysts_see_items_written_in_the_engine_and_their_status_now(runtime, policy):
    from testengine.services import analyst
    from testengine.services.analysis import analysis_settings
    from testengine.services.item_review import decide

    item = authoring.create_item(runtime.engine, ANNA, runtime.catalogue, 5, MATCHING, NOW)
    through_review(runtime, policy, item.id)
    analyst_actor = Actor(3, "analyst", Role.ANALYST, None)
    page = analyst.item_page(runtime.engine, analyst_actor, runtime.catalogue, analysis_settings(PROJECT_ROOT / "reports"), item.id)
    assert (page.unit, page.item.status) == (5, ItemStatus.LIVE)
    decide(runtime.engine, analyst_actor, runtime.catalogue, item.id, "review", "wording of p2", NOW)
    assert not assembled_with(runtime, item.id, forms=30)


@pytest.mark.parametrize("start", list(ItemStatus))
def test_every_move_not_in_the_workflow_is_refused_and_every_one_in_it_is_allowed(runtime, policy, start):
    """From each status, the moves the workflow lists work (with a comment where one is needed,
    by another writer where approval needs it) and every other target is refused."""
    from testengine.storage.bank_items import latest_version, set_status

    item = authoring.create_item(runtime.engine, ANNA, runtime.catalogue, 5, MATCHING, NOW)
    for target in ItemStatus:
        with Session(runtime.engine) as session, session.begin():
            set_status(session, latest_version(session, item.id), start, NOW)
        allowed = (start, target) in authoring.MOVES
        if not allowed:
            with pytest.raises(InvalidInput, match=f"is {start.value}: it can move to"):
                authoring.move(runtime.engine, BEN, runtime.catalogue, policy, item.id, target, "a reason", NOW)
            continue
        if authoring.MOVES[(start, target)]:
            with pytest.raises(InvalidInput, match="say why in a comment"):
                authoring.move(runtime.engine, BEN, runtime.catalogue, policy, item.id, target, "", NOW)
        moved = authoring.move(runtime.engine, BEN, runtime.catalogue, policy, item.id, target, "a reason", NOW)
        assert moved.status is target


def test_forms_and_statistics_keep_to_the_version_candidates_were_shown(runtime, policy):
    from testengine.services.simulation import simulate_sittings
    from testengine.storage.response_data import read_response_data
    from testengine.storage.tables import FormItemRecord, SittingRecord

    shown = runtime.catalogue.unit(5).bank.item("U5-0085")
    before = simulate_sittings(runtime.engine, runtime.assembler, 5, 40, 3, NOW).sittings
    changed = {k: v for k, v in item_to_json(shown).items() if k in authoring.FIELDS}
    changed["stem"] = "Match each guest comment to the quality of experience it describes."
    authoring.edit_item(runtime.engine, ANNA, runtime.catalogue, "U5-0085", changed, NOW)
    through_review(runtime, policy, "U5-0085")
    after = simulate_sittings(runtime.engine, runtime.assembler, 5, 40, 4, NOW + timedelta(hours=1)).sittings
    with Session(runtime.engine) as session:
        def versions(sittings):
            return set(session.exec(
                select(FormItemRecord.version).join(SittingRecord, SittingRecord.form_id == FormItemRecord.form_id)
                .where(FormItemRecord.item_id == "U5-0085", SittingRecord.id.in_(sittings))))
        assert versions(before) == {1} and versions(after) == {2}
        assert session.get(ItemVersionRecord, ("U5-0085", 2)).content["stem"] == changed["stem"]
    data = read_response_data(runtime.engine, 5)
    assert {"U5-0085@v1", "U5-0085@v2"} <= set(data.scores.columns)  # statistics start again for the new version


def test_a_near_duplicate_of_a_bank_item_cannot_go_live_unless_they_are_enemies(runtime, policy):
    copied = {**MATCHING, "stem": runtime.catalogue.unit(5).bank.item("U5-0085").stem}
    item = authoring.create_item(runtime.engine, ANNA, runtime.catalogue, 5, copied, NOW)
    authoring.move(runtime.engine, ANNA, runtime.catalogue, policy, item.id, ItemStatus.IN_REVIEW, "", NOW)
    authoring.move(runtime.engine, BEN, runtime.catalogue, policy, item.id, ItemStatus.APPROVED, "", NOW)
    with pytest.raises(InvalidInput, match="lint checks must pass before going live: .*U5-0085"):
        authoring.move(runtime.engine, BEN, runtime.catalogue, policy, item.id, ItemStatus.LIVE, "", NOW)
    authoring.edit_item(runtime.engine, ANNA, runtime.catalogue, item.id, {**copied, "enemies": ["U5-0085"]}, NOW)
    through_review(runtime, policy, item.id)

"""Practice tests (A15): the same player, released items only, feedback on wrong answers."""

from __future__ import annotations

import random

from testengine.domain.items import ItemStatus
from testengine.services.demo import create_ready_session
from tests.web.conftest import csrf_of, player_token, sign_in, start, to_waiting_room, unlock_all
from tests.web.keys import form_items, right_answer, wrong_answer


def practice_session(site, unit=5):
    return create_ready_session(
        site.runtime.engine, site.runtime.catalogue, site.runtime.policy, "DEMO01", unit, 1, [], True, site.clock(), random.Random(3)
    )


def test_a_practice_test_uses_only_released_items_and_gives_feedback_on_wrong_answers(site):
    ready = practice_session(site)
    candidate, staff = site.client(), site.client()
    to_waiting_room(candidate, ready.candidates[0].keycode)
    sign_in(staff, ready.invigilator, ready.password)
    unlock_all(staff, ready.session_id)
    page = start(candidate)
    token = player_token(page.text)
    items = form_items(site.runtime.engine, ready.candidates[0].keycode)
    bank = site.runtime.catalogue.unit(5).bank
    assert all(bank.item(i.id).status is ItemStatus.RETIRED for _, i in items), "never a live item in practice"
    assert sum(i.marks for _, i in items) == 25
    wrong_position, wrong_item = next((p, i) for p, i in items if i.type.value == "single")
    for position, item in items:
        answer = wrong_answer(item) if position == wrong_position else right_answer(item)
        reply = candidate.post("/candidate/answers", json={"position": position, "response": answer, "sequence": 1},
                               headers={"X-CSRF-Token": token})
        assert reply.status_code == 200
    confirm = candidate.get("/candidate/finish")
    result = candidate.post("/candidate/finish", data={"csrf_token": csrf_of(confirm.text)}, follow_redirects=True)
    assert "Questions to look at again (practice feedback)" in result.text
    assert f"Question {wrong_position}" in result.text
    assert wrong_item.option_text(wrong_item.key[0]) in result.text.replace("&#39;", "'")
    assert result.text.count('class="feedback"') == 1


def test_live_results_never_carry_feedback(site):
    ready = site.ready_session()
    candidate, staff = site.client(), site.client()
    to_waiting_room(candidate, ready.candidates[0].keycode)
    sign_in(staff, ready.invigilator, ready.password)
    unlock_all(staff, ready.session_id)
    start(candidate)
    confirm = candidate.get("/candidate/finish")
    result = candidate.post("/candidate/finish", data={"csrf_token": csrf_of(confirm.text)}, follow_redirects=True)
    assert "Result: Not yet passed" in result.text and "practice feedback" not in result.text

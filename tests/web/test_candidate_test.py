"""A candidate sits a test through the web app: keycode to result, and the rules on the way."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from testengine.storage.sitting_events import load_events
from testengine.storage.tables import ResponseRecord
from tests.web.conftest import csrf_of, log_in, player_token, sign_in, start, to_waiting_room, unlock_all
from tests.web.keys import form_items, right_answer, sitting_of, wrong_answer


def ready_and_started(site, unit=5, extra_time=None):
    ready = site.ready_session(unit=unit, candidates=2, extra_time=extra_time)
    staff, candidate = site.client(), site.client()
    sign_in(staff, ready.invigilator, ready.password)
    keycode = ready.candidates[0].keycode
    to_waiting_room(candidate, keycode)
    unlock_all(staff, ready.session_id)
    page = start(candidate)
    return ready, staff, candidate, keycode, page


def save(client, token, position, response, sequence):
    return client.post("/candidate/answers", json={"position": position, "response": response, "sequence": sequence},
                       headers={"X-CSRF-Token": token})


def test_a_candidate_sits_a_whole_test_and_sees_the_result_by_learning_outcome(site):
    ready, _, candidate, keycode, page = ready_and_started(site)
    assert page.url.path == "/candidate/question/1"
    token = player_token(page.text)
    items = form_items(site.runtime.engine, keycode)
    assert {item.type.value for _, item in items} >= {"single", "multiple"}
    for position, item in items:
        reply = save(candidate, token, position, right_answer(item), position)
        assert reply.status_code == 200, reply.text
        assert reply.json()["sequence"] == position
    review = candidate.get("/candidate/review")
    assert "Every question has an answer" in review.text
    confirm = candidate.get("/candidate/finish")
    assert "cannot go back" in confirm.text
    result = candidate.post("/candidate/finish", data={"csrf_token": csrf_of(confirm.text)}, follow_redirects=True)
    assert result.url.path == "/candidate/result"
    assert "Result: Pass" in result.text and "You scored 25 out of 25" in result.text
    assert "Marks by learning outcome" in result.text and "Understand customer retention" in result.text
    # After submission no question is shown again, by Back or reload (F6).
    assert candidate.get("/candidate/question/1").url.path == "/candidate/result"
    assert save(candidate, token, 1, right_answer(items[0][1]), 99).status_code == 409


def test_no_key_rationale_or_estimate_ever_reaches_the_candidates_browser(site):
    ready, _, candidate, keycode, page = ready_and_started(site)
    items = form_items(site.runtime.engine, keycode)
    seen = [page.text]
    for position, item in items:
        html = candidate.get(f"/candidate/question/{position}").text
        seen.append(html)
        assert item.stem.replace("'", "&#39;") in html or item.stem in html
        assert item.rationale[:60] not in html
        # Options appear in the form's shuffled order, never marked.
        shown = re.findall(r'id="o-(\w+)"', html) or re.findall(r'<option value="(\w+)"', html)
        assert shown
    seen += [candidate.get(url).text for url in ("/candidate/review", "/candidate/clock", "/candidate/finish")]
    for html in seen:
        for secret in ("rationale", '"key"', "angoff", "facility", "data-key", "correct"):
            assert secret not in html.lower().replace("incorrect", "")


def test_answers_are_idempotent_and_an_older_save_never_overwrites_a_newer_one(site):
    _, _, candidate, keycode, page = ready_and_started(site)
    token = player_token(page.text)
    position, item = form_items(site.runtime.engine, keycode)[0]
    first, second = right_answer(item), wrong_answer(item)
    assert save(candidate, token, position, second, 5).json()["sequence"] == 5
    late = save(candidate, token, position, first, 4)  # arrived after the newer one
    assert late.status_code == 200 and late.json()["sequence"] == 5
    assert save(candidate, token, position, second, 5).status_code == 200  # a resend
    with Session(site.runtime.engine) as session:
        stored = session.exec(select(ResponseRecord).where(ResponseRecord.position == position)).one()
    assert stored.response == second and stored.sequence == 5


def test_malformed_answers_and_answers_for_questions_not_on_the_form_are_refused(site):
    _, _, candidate, keycode, page = ready_and_started(site)
    token = player_token(page.text)
    items = form_items(site.runtime.engine, keycode)
    assert save(candidate, token, len(items) + 1, "a", 1).status_code == 409
    assert save(candidate, token, 1, {"nonsense": True}, 1).status_code == 409
    assert candidate.post("/candidate/answers", content=b"not json", headers={"X-CSRF-Token": token}).status_code == 400
    assert save(candidate, "forged-token", 1, "a", 1).status_code == 403
    with Session(site.runtime.engine) as session:
        assert session.exec(select(ResponseRecord)).all() == []


def test_the_deadline_submits_the_sitting_with_the_browser_closed(site):
    from testengine.services.delivery import submit_overdue

    ready, _, candidate, keycode, page = ready_and_started(site, extra_time=[25])
    token = player_token(page.text)
    position, item = form_items(site.runtime.engine, keycode)[0]
    assert save(candidate, token, position, right_answer(item), 1).status_code == 200
    # 35 minutes + 25% = 43:45. At 43:44 it is still running.
    site.clock.advance(minutes=43, seconds=44)
    assert submit_overdue(site.runtime.engine, site.clock()) == []
    site.clock.advance(seconds=1)
    submitted = submit_overdue(site.runtime.engine, site.clock())
    assert submitted == [sitting_of(site.runtime.engine, keycode).id]
    with Session(site.runtime.engine) as session:
        events = load_events(session, submitted[0])
    assert events[-1].kind.value == "submitted" and events[-1].actor == "system"
    assert candidate.get("/candidate/question/1").url.path == "/candidate/result"


def test_an_answer_in_flight_at_the_deadline_is_accepted_within_the_grace_and_refused_after(site):
    _, _, candidate, keycode, page = ready_and_started(site)
    token = player_token(page.text)
    position, item = form_items(site.runtime.engine, keycode)[0]
    site.clock.advance(minutes=35, seconds=3)  # 3 s past the deadline, before the sweep
    assert save(candidate, token, position, right_answer(item), 1).status_code == 200
    site.clock.advance(seconds=3)  # 6 s past: beyond the 5 s grace
    late = save(candidate, token, position, wrong_answer(item), 2)
    assert late.status_code == 409 and "too late" in late.json()["message"]


def test_without_javascript_the_buttons_save_the_answer_and_move_on(site):
    _, _, candidate, keycode, page = ready_and_started(site)
    items = form_items(site.runtime.engine, keycode)
    position, item = next((p, i) for p, i in items if i.type.value == "single")
    html = candidate.get(f"/candidate/question/{position}").text
    moved = candidate.post(
        f"/candidate/question/{position}", data={"csrf_token": csrf_of(html), "answer": right_answer(item), "go": "next"},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    flagged = candidate.post(f"/candidate/question/{position}", data={"csrf_token": csrf_of(html), "answer": right_answer(item), "go": "flag"})
    assert flagged.status_code == 200 and 'aria-pressed="true"' in flagged.text
    with Session(site.runtime.engine) as session:
        stored = session.exec(select(ResponseRecord).where(ResponseRecord.position == position)).one()
    assert stored.response == right_answer(item) and stored.flagged


def test_the_test_stays_locked_until_the_invigilator_unlocks_it(site):
    ready = site.ready_session()
    candidate = site.client()
    waiting = to_waiting_room(candidate, ready.candidates[0].keycode)
    assert "Please wait" in candidate.get("/candidate/wait").text
    refused = candidate.post("/candidate/start", data={"csrf_token": csrf_of(waiting.text)}, follow_redirects=True)
    assert refused.status_code == 409 and "locked until the invigilator unlocks it" in refused.text


def test_a_candidate_can_cancel_at_the_confirmation_with_no_attempt_recorded(site):
    ready = site.ready_session()
    candidate = site.client()
    page = log_in(candidate, ready.candidates[0].keycode)
    assert ready.candidates[0].name in page.text and "Unit 5" in page.text
    out = candidate.post("/candidate/cancel", data={"csrf_token": csrf_of(page.text)})
    assert "no test has been started" in out.text
    sitting = sitting_of(site.runtime.engine, ready.candidates[0].keycode)
    assert sitting.status == "booked" and sitting.form_id is None and sitting.device is None
    again = log_in(site.client(), ready.candidates[0].keycode)
    assert again.url.path == "/candidate/confirm"


def test_a_keycode_in_use_on_a_second_browser_is_blocked_until_staff_approve_a_new_log_in(site):
    ready, staff, first, keycode, page = ready_and_started(site)
    token = player_token(page.text)
    position, item = form_items(site.runtime.engine, keycode)[0]
    save(first, token, position, right_answer(item), 1)
    site.clock.advance(minutes=10)
    second = site.client()
    blocked = log_in(second, keycode)
    assert blocked.status_code == 400 and "already open on another computer" in blocked.text
    sitting = sitting_of(site.runtime.engine, keycode)
    room = staff.get(f"/staff/sessions/{ready.session_id}")
    staff.post(f"/staff/sessions/{ready.session_id}",
               data={"csrf_token": csrf_of(room.text), "action": "approve_login", "sitting_id": sitting.id, "reason": "workstation froze"})
    resumed = log_in(second, keycode)
    assert resumed.url.path == "/candidate/question/1"
    assert 'id="timer"' in resumed.text and "25:00" in resumed.text  # the same remaining time
    assert f'value="{right_answer(item)}" checked' in second.get(f"/candidate/question/{position}").text or item.type.value != "single"
    # The first browser has lost the sitting.
    assert first.get("/candidate/question/1").status_code == 409
    with Session(site.runtime.engine) as session:
        kinds = [e.kind.value for e in load_events(session, sitting.id)]
    assert kinds.count("login_blocked") == 1 and "relogin_approved" in kinds and "relogged_in" in kinds


def test_a_keycode_cannot_be_used_again_after_the_test_has_ended(site):
    _, _, candidate, keycode, page = ready_and_started(site)
    confirm = candidate.get("/candidate/finish")
    candidate.post("/candidate/finish", data={"csrf_token": csrf_of(confirm.text)})
    again = log_in(site.client(), keycode)
    assert again.status_code == 400 and "already been used" in again.text


def test_an_unknown_keycode_is_refused_and_repeated_guesses_are_rate_limited(site):
    site.ready_session()
    client = site.client()
    for _ in range(10):
        reply = log_in(client, "ABCD-EFGH")
        assert "not recognised" in reply.text
    assert "Too many keycodes" in log_in(client, "ABCD-EFGH").text


def test_extra_time_from_the_access_arrangements_is_on_the_candidates_clock(site):
    _, _, candidate, _, page = ready_and_started(site, extra_time=[25])
    assert re.search(r'data-remaining="(\d+)"', page.text).group(1) == str(35 * 60 * 125 // 100)
    clock = candidate.get("/candidate/clock").json()
    assert clock == {"status": "in_progress", "remaining_seconds": 2625, "go": "/candidate/question/1"}


def test_focus_losses_are_logged_for_the_invigilator(site):
    _, _, candidate, keycode, page = ready_and_started(site)
    token = player_token(page.text)
    assert candidate.post("/candidate/focus", json={"lost": True}, headers={"X-CSRF-Token": token}).status_code == 204
    sitting = sitting_of(site.runtime.engine, keycode)
    with Session(site.runtime.engine) as session:
        kinds = [e.kind.value for e in load_events(session, sitting.id)]
    assert "focus_lost" in kinds


def test_candidate_pages_are_never_cached_and_carry_a_strict_content_security_policy(site):
    _, _, candidate, _, page = ready_and_started(site)
    assert page.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "<script>" not in page.text and "onclick" not in page.text
    assert page.headers["x-frame-options"] == "DENY"


def test_each_save_carries_the_seconds_the_question_was_on_screen(site):
    _, _, candidate, keycode, page = ready_and_started(site)
    token = player_token(page.text)
    position, item = form_items(site.runtime.engine, keycode)[0]
    reply = candidate.post("/candidate/answers", json={"position": position, "response": right_answer(item), "sequence": 1, "seconds": 42},
                           headers={"X-CSRF-Token": token})
    assert reply.status_code == 200
    other, item2 = form_items(site.runtime.engine, keycode)[1]
    candidate.post("/candidate/answers", json={"position": other, "response": right_answer(item2), "sequence": 2, "seconds": -5},
                   headers={"X-CSRF-Token": token})
    with Session(site.runtime.engine) as session:
        stored = {r.position: r.seconds for r in session.exec(select(ResponseRecord))}
    assert stored == {position: 42, other: None}  # a count that makes no sense is not kept

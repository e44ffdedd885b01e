"""The invigilator's live console through the web app: actions, what it shows and never shows,
the room display, the printable records, and sign-off."""

from __future__ import annotations

import re

from testengine.domain.centres import Role
from testengine.services.accounts import add_staff
from testengine.services.demo import ensure_centre
from tests.web.conftest import csrf_of, player_token, sign_in, start, to_waiting_room
from tests.web.keys import form_items, right_answer


def room(site, candidates=3, extra_time=None):
    """A session with candidates in the waiting room, and the invigilator on the console."""
    ready = site.ready_session(unit=5, candidates=candidates, extra_time=extra_time)
    staff = site.client()
    sign_in(staff, ready.invigilator, ready.password)
    players = []
    for booked in ready.candidates:
        player = site.client()
        to_waiting_room(player, booked.keycode)
        players.append(player)
    return ready, staff, players


def console_url(ready) -> str:
    return f"/staff/sessions/{ready.session_id}/console"


def post(staff, ready, **data):
    page = staff.get(console_url(ready))
    return staff.post(console_url(ready), data={"csrf_token": csrf_of(page.text), **data}, headers={"HX-Request": "true"})


def sitting_ids(staff, ready) -> dict[str, int]:
    html = staff.get(console_url(ready)).text
    return {number: int(sid) for sid, number in re.findall(r'value="(\d+)" form="selected" hx-preserve="true" aria-label="Select ([\w-]+)"', html)}


def row(html: str, number: str) -> str:
    match = re.search(rf'<tr aria-label="{number}".*?</tr>', html, re.S)
    assert match, f"no row for {number}"
    return match.group(0)


def test_the_console_shows_states_and_counts_but_never_a_question_or_key(site):
    ready, staff, players = room(site)
    post(staff, ready, action="unlock", scope="all")
    for player in players:
        start(player)
    keycode = ready.candidates[0].keycode
    items = form_items(site.runtime.engine, keycode)
    token = player_token(players[0].get("/candidate/question/1").text)
    players[0].post("/candidate/answers", json={"position": items[0][0], "response": right_answer(items[0][1]), "sequence": 1},
                    headers={"X-CSRF-Token": token})
    html = staff.get(console_url(ready)).text
    first = row(html, ready.candidates[0].candidate_number)
    assert "in progress" in first and "1 / 0" in first and "35:00" in first and "(projected)" in first
    assert "3</strong> present of 3 booked" in html
    for _, item in items:
        assert item.stem[:40] not in html and item.rationale[:40] not in html
    assert keycode not in html


def test_pause_hides_the_question_and_stops_the_clock_and_resume_gives_back_the_same_time(site):
    ready, staff, players = room(site, candidates=1)
    post(staff, ready, action="unlock", scope="all")
    start(players[0])
    site.clock.advance(minutes=5)
    [sid] = sitting_ids(staff, ready).values()
    reply = post(staff, ready, action="pause", sitting_id=sid)
    assert "Paused: 1 candidate." in reply.text and "paused" in row(reply.text, ready.candidates[0].candidate_number)
    assert players[0].get("/candidate/clock").json()["status"] == "paused"
    assert players[0].get("/candidate/question/1").url.path == "/candidate/paused"
    site.clock.advance(minutes=7)
    assert players[0].get("/candidate/clock").json()["remaining_seconds"] == 30 * 60
    post(staff, ready, action="resume", sitting_id=sid)
    assert players[0].get("/candidate/clock").json() == {"status": "in_progress", "remaining_seconds": 30 * 60, "go": "/candidate/question/1"}


def test_add_time_needs_a_reason_and_changes_the_candidates_clock(site):
    ready, staff, players = room(site, candidates=1)
    post(staff, ready, action="unlock", scope="all")
    start(players[0])
    [sid] = sitting_ids(staff, ready).values()
    panel = staff.get(f"{console_url(ready)}/{sid}/add_time", headers={"HX-Request": "true"})
    assert 'name="minutes"' in panel.text and "<html" not in panel.text
    refused = post(staff, ready, action="add_time", sitting_id=sid, minutes="10", reason=" ")
    assert refused.status_code == 400 and "say why the time is added" in refused.text
    post(staff, ready, action="add_time", sitting_id=sid, minutes="10", reason="fire drill next door")
    assert players[0].get("/candidate/clock").json()["remaining_seconds"] == 45 * 60


def test_emergency_pause_all_freezes_everyone_lists_the_room_and_resume_all_logs_its_length(site):
    ready, staff, players = room(site, candidates=3)
    post(staff, ready, action="unlock", scope="all")
    for player in players[:2]:
        start(player)
    site.clock.advance(minutes=3)
    reply = post(staff, ready, action="pause_all", category="emergency evacuation", description="Fire alarm")
    assert "Paused all: 2 clocks stopped" in reply.text
    assert "Room paused for an emergency" in reply.text
    for booked in ready.candidates:
        assert booked.candidate_number in reply.text.split("In the room at that instant")[1].split("</ul>")[0]
    site.clock.advance(minutes=12, seconds=30)
    for player in players[:2]:
        assert player.get("/candidate/clock").json()["remaining_seconds"] == 32 * 60
    post(staff, ready, action="resume_all")
    for player in players[:2]:
        assert player.get("/candidate/clock").json()["remaining_seconds"] == 32 * 60
    report = staff.get(f"/staff/sessions/{ready.session_id}/record/incident-report").text
    assert "Fire alarm" in report and "the interruption lasted 12 min 30 s" in report
    assert report.count("paused (emergency, whole room)") == 2


def test_incidents_are_logged_and_the_timeline_shows_who_did_what(site):
    ready, staff, players = room(site, candidates=2)
    ids = sitting_ids(staff, ready)
    first = ready.candidates[0].candidate_number
    reply = post(staff, ready, action="incident", about=str(ids[first]), category="illness", description="Felt faint",
                 taken="Given water; carried on")
    assert reply.status_code == 200
    bad = post(staff, ready, action="incident", about="", category="gossip", description="", taken="")
    assert bad.status_code == 400 and "choose one of" in bad.text and "describe what happened" in bad.text
    page = staff.get(console_url(ready)).text
    assert "Felt faint" in page and "Given water" in page
    report = staff.get(f"/staff/sessions/{ready.session_id}/record/incident-report").text
    assert "incident: illness" in report and "logged in" in report and ready.invigilator in report
    assert "Keep this record until at least" in report


def test_a_late_arrival_is_recorded_with_its_reason_and_the_very_late_record_lists_it(site):
    ready, staff, players = room(site, candidates=2)
    number = ready.candidates[1].candidate_number
    sid = sitting_ids(staff, ready)[number]
    site.clock.advance(minutes=50)  # past the published finish of a 35-minute test
    refused = post(staff, ready, action="late", sitting_id=sid, arrived="", reason="")
    assert refused.status_code == 400 and "reason for the late arrival" in refused.text
    reply = post(staff, ready, action="late", sitting_id=sid, arrived="", reason="bus broke down")
    assert "very late, logged" in reply.text
    record = staff.get(f"/staff/sessions/{ready.session_id}/record/very-late").text
    assert number in record and "bus broke down" in record and "<td>yes</td>" in record


def test_checkins_show_connection_and_unsent_answers_and_sign_off_waits_for_everyone(site):
    ready, staff, players = room(site, candidates=2)
    post(staff, ready, action="unlock", scope="all")
    start(players[0])
    players[0].get("/candidate/clock?unsent=2")
    html = staff.get(console_url(ready)).text
    assert "2 unsent" in row(html, ready.candidates[0].candidate_number)
    refused = post(staff, ready, action="sign_off", note="")
    assert refused.status_code == 400 and "not yet finished, absent or voided" in refused.text
    site.clock.advance(seconds=60)
    assert "connection lost" in row(staff.get(console_url(ready)).text, ready.candidates[0].candidate_number)
    players[0].get("/candidate/clock?unsent=0")
    page = players[0].get("/candidate/finish")
    players[0].post("/candidate/finish", data={"csrf_token": csrf_of(page.text)})
    post(staff, ready, action="void", sitting_id=sitting_ids(staff, ready)[ready.candidates[1].candidate_number],
         reason="taken ill before starting; will resit")
    signed = post(staff, ready, action="sign_off", note="All well")
    assert signed.status_code == 200 and "Session signed off." in signed.text, signed.text[:3000]
    after = post(staff, ready, action="incident", about="", category="illness", description="x", taken="y")
    assert after.status_code == 400 and "signed off" in after.text


def test_the_session_pin_unlocks_a_candidate_and_a_new_pin_replaces_it(site):
    ready, staff, players = room(site, candidates=1)
    assert "Session PIN" not in players[0].get("/candidate/wait").text
    page = staff.get(console_url(ready))
    staff.post(console_url(ready), data={"csrf_token": csrf_of(page.text), "action": "new_pin"})
    pin = re.search(r'class="pin">(\d{6})<', staff.get(console_url(ready)).text).group(1)
    wait = players[0].get("/candidate/wait")
    assert "Session PIN" in wait.text and pin not in wait.text
    wrong = players[0].post("/candidate/pin", data={"csrf_token": csrf_of(wait.text), "pin": "000000" if pin != "000000" else "111111"})
    assert wrong.status_code == 409 and "not the session PIN" in wrong.text
    right = players[0].post("/candidate/pin", data={"csrf_token": csrf_of(wait.text), "pin": pin}, follow_redirects=True)
    assert "Start test" in right.text


def test_the_room_display_shows_times_without_names(site):
    ready, staff, players = room(site, candidates=2)
    post(staff, ready, action="unlock", scope="all")
    start(players[0])
    board = staff.get(f"/staff/sessions/{ready.session_id}/display").text
    assert ready.candidates[0].candidate_number in board and "10:05" in board  # started 09:30 (UTC is GMT in November), 35 minutes
    for booked in ready.candidates:
        assert booked.name not in board


def test_another_centres_invigilator_cannot_open_the_console(site):
    ready, _, _ = room(site, candidates=1)
    other = ensure_centre(site.runtime.engine, "OTHER1", "Other centre", site.clock())
    add_staff(site.runtime.engine, "other-invigilator", "Other", Role.INVIGILATOR, "other-password-long", site.clock(), other)
    outsider = site.client()
    sign_in(outsider, "other-invigilator", "other-password-long")
    assert outsider.get(console_url(ready)).status_code == 404
    assert outsider.get(f"/staff/sessions/{ready.session_id}/display").status_code == 404
    assert outsider.get(f"/staff/sessions/{ready.session_id}/record/incident-report").status_code == 404

"""Staff through the web: signing in and out, cookies, CSRF, roles and centre isolation."""

from __future__ import annotations

from itsdangerous import URLSafeTimedSerializer

from testengine.domain.centres import Role
from testengine.services.accounts import add_staff
from testengine.services.demo import DEMO_LOGINS, ensure_centre, ensure_demo_centre
from tests.web.conftest import csrf_of, sign_in


def test_a_failed_sign_in_never_says_whether_the_account_exists(site):
    ensure_demo_centre(site.runtime.engine, site.clock())
    client = site.client()
    wrong_password = sign_in(client, "admin", "not the password")
    no_such_user = sign_in(client, "nobody-here", "not the password")
    for reply in (wrong_password, no_such_user):
        assert reply.status_code == 400 and "Sign-in failed. Check the username and password." in reply.text


def test_repeated_failures_lock_the_account_for_a_while_even_with_the_right_password(site):
    ensure_demo_centre(site.runtime.engine, site.clock())
    client = site.client()
    for _ in range(5):
        sign_in(client, "admin", "guess")
    locked = sign_in(client, "admin", "demo-admin-password")
    assert locked.status_code == 400 and "Too many failed sign-ins. Try again in 15 minutes." in locked.text
    site.clock.advance(minutes=16)
    assert sign_in(client, "admin", "demo-admin-password").url.path == "/staff"


def test_signing_out_makes_the_old_cookie_useless_even_if_replayed(site):
    ensure_demo_centre(site.runtime.engine, site.clock())
    client = site.client()
    page = sign_in(client, "admin", "demo-admin-password")
    stolen = client.cookies.get("te_staff")
    client.post("/staff/sign-out", data={"csrf_token": csrf_of(page.text)})
    thief = site.client()
    thief.cookies.set("te_staff", stolen)
    assert thief.get("/staff").url.path == "/staff/sign-in"


def test_a_tampered_cookie_is_ignored_and_a_rotated_key_still_verifies(site):
    ensure_demo_centre(site.runtime.engine, site.clock())
    client = site.client()
    sign_in(client, "admin", "demo-admin-password")
    good = client.cookies.get("te_staff")
    forged = site.client()
    forged.cookies.set("te_staff", good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"))
    assert forged.get("/staff").url.path == "/staff/sign-in"
    # A cookie signed with the older key (settings list newest first) is still accepted.
    signed_old = URLSafeTimedSerializer("test-key-old", salt="staff-session").loads(
        URLSafeTimedSerializer("test-key-old", salt="staff-session").dumps({"id": 1, "v": 1, "csrf": "x"})
    )
    old = site.client()
    old.cookies.set("te_staff", URLSafeTimedSerializer("test-key-old", salt="staff-session").dumps(signed_old))
    assert old.get("/staff").url.path == "/staff"


def test_state_changing_requests_without_the_csrf_token_are_refused(site):
    ensure_demo_centre(site.runtime.engine, site.clock())
    client = site.client()
    sign_in(client, "admin", "demo-admin-password")
    refused = client.post("/staff/candidates", data={"candidate_number": "C9", "name": "No Token"})
    assert refused.status_code == 403 and "did not come from this site" in refused.text
    page = client.get("/staff/candidates")
    assert "C9" not in page.text
    added = client.post("/staff/candidates", data={"candidate_number": "C9", "name": "With Token", "csrf_token": csrf_of(page.text)})
    assert "With Token" in client.get("/staff/candidates").text and added.status_code == 200


def test_each_role_reaches_only_its_own_pages(site):
    import random

    from testengine.services.demo import demo_session_today

    ready = demo_session_today(site.runtime.engine, site.runtime.catalogue, site.runtime.policy, site.clock(), random.Random(1))
    expected = {
        "admin": {"/staff/candidates": 200, "/staff/sessions": 200, f"/staff/sessions/{ready.session_id}": 200},
        "invigilator": {"/staff/candidates": 403, "/staff/sessions": 200, f"/staff/sessions/{ready.session_id}": 200},
        "writer": {"/staff/candidates": 403, "/staff/sessions": 403, f"/staff/sessions/{ready.session_id}": 403},
        "analyst": {"/staff/candidates": 403, "/staff/sessions": 403, f"/staff/sessions/{ready.session_id}": 403},
    }
    passwords = {username: password for username, _, _, password in DEMO_LOGINS}
    for username, pages in expected.items():
        client = site.client()
        sign_in(client, username, passwords[username])
        for url, status in pages.items():
            assert client.get(url).status_code == status, (username, url)
    anonymous = site.client()
    assert anonymous.get("/staff/candidates").url.path == "/staff/sign-in"


def test_staff_of_another_centre_get_not_found_for_this_centres_session_and_candidates(site):
    ready = site.ready_session()
    other = ensure_centre(site.runtime.engine, "OTHER1", "Other centre", site.clock())
    add_staff(site.runtime.engine, "other-admin", "Other admin", Role.CENTRE_ADMIN, "other-password-long", site.clock(), other)
    client = site.client()
    sign_in(client, "other-admin", "other-password-long")
    for suffix in ("", "/slips", "/register", "/seating"):
        assert client.get(f"/staff/sessions/{ready.session_id}{suffix}").status_code == 404
    page = client.get("/staff/candidates")
    assert ready.candidates[0].name not in page.text
    assert client.get("/staff/candidates/1").status_code == 404


def test_an_invigilator_not_named_on_a_session_cannot_open_it(site):
    ready = site.ready_session()
    staff = site.client()
    sign_in(staff, "invigilator", "demo-invigilator-password")
    assert staff.get(f"/staff/sessions/{ready.session_id}").status_code == 404


def test_keycodes_are_on_the_slips_but_never_on_the_room_page(site):
    ready = site.ready_session(candidates=3, extra_time=[25])
    staff = site.client()
    sign_in(staff, ready.invigilator, ready.password)
    room = staff.get(f"/staff/sessions/{ready.session_id}").text
    slips = staff.get(f"/staff/sessions/{ready.session_id}/slips").text
    register = staff.get(f"/staff/sessions/{ready.session_id}/register").text
    seating = staff.get(f"/staff/sessions/{ready.session_id}/seating").text
    for booked in ready.candidates:
        assert booked.keycode in slips
        assert booked.keycode not in room and booked.keycode not in register and booked.keycode not in seating
        assert booked.name in register and booked.name in seating
    assert "25% extra time" in register and "Workstation" in seating


def test_an_admin_creates_a_session_books_a_candidate_and_sets_arrangements_through_the_pages(site):
    ensure_demo_centre(site.runtime.engine, site.clock())
    client = site.client()
    sign_in(client, "admin", "demo-admin-password")
    page = client.get("/staff/candidates")
    client.post("/staff/candidates", data={"candidate_number": "W001", "name": "Web Person", "gender": "female",
                                           "csrf_token": csrf_of(page.text)})
    listing = client.get("/staff/candidates").text
    candidate_url = listing.split('href="/staff/candidates/')[1].split('"')[0]
    edit = client.get(f"/staff/candidates/{candidate_url}")
    assert '<option value="female" selected>' in edit.text
    refused = client.post(f"/staff/candidates/{candidate_url}", data={
        "csrf_token": csrf_of(edit.text), "action": "arrangements", "extra_time_percent": "35", "extra_time_reference": ""})
    assert refused.status_code == 400 and "give the approval reference" in refused.text
    client.post(f"/staff/candidates/{candidate_url}", data={
        "csrf_token": csrf_of(edit.text), "action": "arrangements", "extra_time_percent": "35", "extra_time_reference": "AA-1", "reader": "yes"})
    assert "35% extra time, reader" in client.get("/staff/candidates").text
    sessions = client.get("/staff/sessions")
    invigilator_id = sessions.text.split('name="invigilators" value="')[1].split('"')[0]
    created = client.post("/staff/sessions", data={
        "csrf_token": csrf_of(sessions.text), "unit": "2", "date": site.clock().date().isoformat(), "start_time": "14:00",
        "room": "Hall", "capacity": "30", "invigilators": invigilator_id}, follow_redirects=True)
    assert created.url.path.startswith("/staff/sessions/") and "Understand the Customer Service Environment" in created.text
    booked = client.post(str(created.url.path), data={"csrf_token": csrf_of(created.text), "action": "book", "candidate_id": candidate_url, "seat": "A1"})
    assert "Candidate booked." in booked.text and "Web Person" in booked.text
    bad = client.post("/staff/sessions", data={
        "csrf_token": csrf_of(sessions.text), "unit": "2", "date": "2020-01-01", "start_time": "25:00", "room": "", "capacity": "0"})
    assert bad.status_code == 400
    for message in ("is in the past", "use HH:MM", "say where the session is held", "capacity must be 1-500", "name at least one invigilator"):
        assert message in bad.text


def test_held_results_are_not_shown_to_the_candidate_but_are_on_the_centres_results_page(site):
    from tests.web.conftest import start, to_waiting_room, unlock_all

    ensure_demo_centre(site.runtime.engine, site.clock())
    admin = site.client()
    page = sign_in(admin, "admin", "demo-admin-password")
    admin.post("/staff", data={"csrf_token": csrf_of(page.text), "results_release": "held"})
    assert 'value="held" checked' in admin.get("/staff").text
    ready = site.ready_session()
    candidate = site.client()
    to_waiting_room(candidate, ready.candidates[0].keycode)
    staff = site.client()
    sign_in(staff, ready.invigilator, ready.password)
    unlock_all(staff, ready.session_id)
    start(candidate)
    confirm = candidate.get("/candidate/finish")
    result = candidate.post("/candidate/finish", data={"csrf_token": csrf_of(confirm.text)}, follow_redirects=True)
    assert "Your centre will give you your result." in result.text and "Not yet passed" not in result.text
    results = admin.get(f"/staff/sessions/{ready.session_id}/results")
    assert "Not yet passed" in results.text and "0 of 25" in results.text and "No result yet" in results.text
    assert staff.get(f"/staff/sessions/{ready.session_id}/results").status_code == 403

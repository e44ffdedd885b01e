"""Who reaches what: every page of the app, for every role, at its own centre and at another.

The matrix below is the access policy, written out: for each route the roles that may use it,
and whether it belongs to a centre (then staff of another centre get 404, as if it did not
exist). Everyone else signed in gets 403; nobody signed in is sent to sign in. A test checks
that the matrix names every route the app has, so a new page cannot be added without a row.
"""

from __future__ import annotations

import random
import pytest
from starlette.routing import Mount, Route

from testengine.domain.centres import Role
from testengine.services.accounts import add_staff
from testengine.services.demo import create_ready_session, ensure_centre, ensure_demo_centre
from testengine.services.runtime import Runtime
from tests.web.conftest import sign_in, to_waiting_room

ADMIN, INVIGILATOR, WRITER, ANALYST = Role.CENTRE_ADMIN, Role.INVIGILATOR, Role.ITEM_WRITER, Role.ANALYST
CENTRE_STAFF = {ADMIN, INVIGILATOR}
ANY_STAFF = {ADMIN, INVIGILATOR, WRITER, ANALYST}

# path with the ids filled in by `urls` -> (roles allowed, belongs to a centre)
STAFF_PAGES: dict[str, tuple[set[Role], bool]] = {
    "/staff": (ANY_STAFF, False),
    "/staff/candidates": ({ADMIN}, False),
    "/staff/security": ({ADMIN}, False),
    "/staff/password": (ANY_STAFF, False),
    "/staff/accounts": ({ADMIN}, False),
    "/staff/api-tokens": ({ADMIN}, False),
    "/staff/candidates/{candidate_id}": ({ADMIN}, True),
    "/staff/sessions": (CENTRE_STAFF, False),
    "/staff/sessions/{session_id}": (CENTRE_STAFF, True),
    "/staff/sessions/{session_id}/results": ({ADMIN}, True),
    "/staff/sessions/{session_id}/slips": (CENTRE_STAFF, True),  # A4: slips printed for the invigilator
    "/staff/sessions/{session_id}/register": (CENTRE_STAFF, True),
    "/staff/sessions/{session_id}/seating": (CENTRE_STAFF, True),
    "/staff/sessions/{session_id}/console": (CENTRE_STAFF, True),
    "/staff/sessions/{session_id}/console/{sitting_id}/more": (CENTRE_STAFF, True),
    "/staff/sessions/{session_id}/display": (CENTRE_STAFF, True),
    "/staff/sessions/{session_id}/record/incident-report": (CENTRE_STAFF, True),
    "/staff/sessions/{session_id}/record/very-late": (CENTRE_STAFF, True),
    "/analysis": ({ANALYST}, False),
    "/analysis/units/5": ({ANALYST}, False),
    "/analysis/units/5/dif": ({ANALYST}, False),
    "/analysis/units/5/items.csv": ({ANALYST}, False),
    "/analysis/items/U5-0001": ({ANALYST}, False),
    "/bank": ({WRITER}, False),
    "/bank/units/5": ({WRITER}, False),
    "/bank/units/5/new": ({WRITER}, False),
    "/bank/units/5/coverage": ({WRITER}, False),
    "/bank/units/5/sets": ({WRITER}, False),
    "/bank/units/5/import": ({WRITER}, False),
    "/bank/units/5/export.yaml": ({WRITER}, False),
    "/bank/sets/U5-SET-01": ({WRITER}, False),
    "/bank/items/U5-0001": ({WRITER}, False),
    "/bank/items/U5-0001/edit": ({WRITER}, False),
}
# Pages for candidates in a test: without a candidate's cookie, back to the keycode page.
CANDIDATE_PAGES = ("/candidate/confirm", "/candidate/declaration", "/candidate/instructions", "/candidate/wait",
                   "/candidate/question/1", "/candidate/review", "/candidate/finish", "/candidate/paused", "/candidate/result")
CANDIDATE_API = ("/candidate/clock",)  # the player's calls answer 401, not a page
OPEN_PAGES = ("/", "/candidate", "/staff/sign-in", "/api/v1/openapi.json")
# The JSON API answers by token, not by cookie: tests/web/test_api.py.
API = ("/api/v1/candidates", "/api/v1/candidates/1", "/api/v1/sessions", "/api/v1/sessions/1/bookings", "/api/v1/sessions/1/results")
# Routes that only take POST (forms and the player's calls), covered by the tampering tests.
POST_ONLY = {"/candidate/cancel", "/candidate/pin", "/candidate/start", "/candidate/answers", "/candidate/flag",
             "/candidate/focus", "/candidate/break", "/candidate/display", "/bank/check", "/staff/sign-out", "/staff/sign-in/code",
             "/staff/candidates/import"}

STAFF = {  # username -> (role, centre): "own" is DEMO01 (invigilators: assigned to the session), "other" is C2
    "admin": (ADMIN, "own"), "assigned": (INVIGILATOR, "own"), "invigilator": (INVIGILATOR, "own, not assigned"),
    "writer": (WRITER, None), "analyst": (ANALYST, None), "admin2": (ADMIN, "other"), "invigilator2": (INVIGILATOR, "other"),
}
PASSWORD = {"admin": "demo-admin-password", "assigned": "assigned-invigilator-password", "invigilator": "demo-invigilator-password",
            "writer": "demo-writer-password", "analyst": "demo-analyst-password", "admin2": "other-centre-password",
            "invigilator2": "other-centre-password"}


def test_the_matrix_names_every_route_of_the_app(site):
    client = site.client()
    sample = {"session_id": 1, "sitting_id": 1, "candidate_id": 1}
    concrete = [p.format(**sample) for p in [*STAFF_PAGES, *CANDIDATE_PAGES, *CANDIDATE_API, *OPEN_PAGES, *POST_ONLY, *API]]
    routes = [r for r in client.app.routes if isinstance(r, Route)]
    missing = sorted(r.path for r in routes if not any(r.path_regex.match(path) for path in concrete))
    assert missing == [], f"routes with no row in the access matrix: {missing}"
    assert all(isinstance(r, (Route, Mount)) for r in client.app.routes)  # the one Mount is /static: files only


def build(site) -> dict[str, int]:
    runtime: Runtime = site.runtime
    now = site.clock()
    ensure_demo_centre(runtime.engine, now)
    other = ensure_centre(runtime.engine, "C2", "Another centre", now)
    add_staff(runtime.engine, "admin2", "Other admin", ADMIN, PASSWORD["admin2"], now, other)
    add_staff(runtime.engine, "invigilator2", "Other invigilator", INVIGILATOR, PASSWORD["invigilator2"], now, other)
    own = ensure_demo_centre(runtime.engine, now)
    assigned = add_staff(runtime.engine, "assigned", "Session invigilator", INVIGILATOR, PASSWORD["assigned"], now, own)
    ready = create_ready_session(runtime.engine, runtime.catalogue, runtime.policy, "DEMO01", 5, 1, [], False, now,
                                 random.Random(1), invigilator=assigned)
    # A sitting exists once the candidate has logged in.
    to_waiting_room(site.client(), ready.candidates[0].keycode)
    from sqlmodel import Session, select

    from testengine.storage.tables import BookingRecord, SittingRecord

    with Session(runtime.engine) as session:
        booking = session.exec(select(BookingRecord).where(BookingRecord.keycode == ready.candidates[0].keycode)).one()
        sitting = session.exec(select(SittingRecord).where(SittingRecord.booking_id == booking.id)).one()
    return {"session_id": ready.session_id, "sitting_id": sitting.id, "candidate_id": sitting.candidate_id}


def expected_status(path: str, username: str | None) -> int:
    if username is None:
        return 303
    roles, centred = STAFF_PAGES[path]
    role, centre = STAFF[username]
    if role not in roles:
        return 403
    if centred and centre != "own":  # another centre's, or a session the invigilator is not assigned to
        return 404
    return 200


def test_every_staff_page_answers_each_role_at_its_own_centre_and_another(site):
    ids = build(site)
    clients = {None: site.client()}
    for username in STAFF:
        clients[username] = site.client()
        signed = sign_in(clients[username], username, PASSWORD[username])
        assert signed.status_code == 200 and "Sign out" in signed.text, username
    wrong = []
    for path in STAFF_PAGES:
        url = path.format(**ids)
        for username, client in clients.items():
            reply = client.get(url, follow_redirects=False)
            want = expected_status(path, username)
            got = reply.status_code
            if username is None and got in (302, 303, 307):
                got = 303 if reply.headers["location"].endswith("/staff/sign-in") else got
            if got != want:
                wrong.append(f"{url} as {username or 'nobody'}: {got}, expected {want}")
    assert wrong == [], "\n".join(wrong)


def test_candidate_pages_need_a_candidates_cookie_and_staff_cookies_do_not_open_them(site):
    build(site)
    staff = site.client()
    sign_in(staff, "admin", PASSWORD["admin"])
    for client in (site.client(), staff):
        for path in CANDIDATE_PAGES:
            reply = client.get(path, follow_redirects=False)
            assert reply.status_code in (302, 303) and reply.headers["location"].endswith("/candidate"), path
        for path in CANDIDATE_API:
            assert client.get(path).status_code == 401, path
    for path in OPEN_PAGES:
        assert site.client().get(path).status_code == 200, path

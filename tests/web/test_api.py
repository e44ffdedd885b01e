"""The JSON API for centres' systems: a token per centre, each centre seeing only its own data,
and the whole API fuzzed against its OpenAPI description (schemathesis): no 500s, and every
response matches the schema."""

from __future__ import annotations

import os
import random

import schemathesis
from hypothesis import HealthCheck, given, settings

from testengine.domain.centres import Actor, Role
from testengine.services import api_tokens
from testengine.services.demo import create_ready_session, ensure_centre, ensure_demo_centre
from testengine.web.app import create_app


def token_for(site, centre_code: str = "DEMO01") -> str:
    centre = ensure_centre(site.runtime.engine, centre_code, centre_code, site.clock()) if centre_code != "DEMO01" else \
        ensure_demo_centre(site.runtime.engine, site.clock())
    return api_tokens.create_token(site.runtime.engine, Actor(0, "admin", Role.CENTRE_ADMIN, centre), "MIS", site.clock())


def open_session(site) -> int:
    """A session at DEMO01 this afternoon with room for ten."""
    from testengine.services import centres
    from testengine.services.accounts import add_staff

    centre = ensure_demo_centre(site.runtime.engine, site.clock())
    admin = Actor(0, "admin", Role.CENTRE_ADMIN, centre)
    invigilator = add_staff(site.runtime.engine, "api-invigilator", "Invigilator", Role.INVIGILATOR, "long-enough-password", site.clock(), centre)
    return centres.create_session(site.runtime.engine, admin, site.runtime.catalogue, "5", site.clock().date(), "15:00", "Hall", 10,
                                  [invigilator.staff_id], site.clock())


def test_a_centres_system_registers_books_and_reads_results_with_its_token(site):
    token = token_for(site)
    session_id = open_session(site)
    api = site.client()
    auth = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/candidates").status_code == 401
    assert api.get("/api/v1/candidates", headers={"Authorization": "Bearer te_not-a-token"}).status_code == 401
    made = api.post("/api/v1/candidates", json={"candidate_number": "MIS-001", "name": "Mia Systems", "gender": "female"}, headers=auth)
    assert made.status_code == 201 and made.json()["gender"] == "female"
    again = api.post("/api/v1/candidates", json={"candidate_number": "MIS-001", "name": "Twice"}, headers=auth)
    assert again.status_code == 409 and "already registered" in again.json()["errors"][0]
    wrong = api.post("/api/v1/candidates", json={"candidate_number": 7, "name": "", "shoe": 9}, headers=auth)
    assert wrong.status_code == 422 and "shoe: this field is not known" in wrong.json()["errors"]
    numbers = [c["candidate_number"] for c in api.get("/api/v1/candidates", headers=auth).json()["candidates"]]
    assert numbers == ["MIS-001"]
    [session] = api.get("/api/v1/sessions", headers=auth).json()["sessions"]
    assert (session["session_id"], session["capacity"], session["booked"]) == (session_id, 10, 0)
    booked = api.post(f"/api/v1/sessions/{session_id}/bookings", json={"candidate_id": made.json()["candidate_id"]}, headers=auth)
    assert booked.status_code == 201 and "keycode" not in booked.text
    twice = api.post(f"/api/v1/sessions/{session_id}/bookings", json={"candidate_id": made.json()["candidate_id"]}, headers=auth)
    assert twice.status_code == 409 and "already booked" in twice.json()["errors"][0]
    results = api.get(f"/api/v1/sessions/{session_id}/results", headers=auth).json()["results"]
    assert {r["candidate_number"] for r in results} >= {"MIS-001"}
    assert all(r["outcome"] == "No result yet" for r in results)


def test_a_token_sees_only_its_centre_and_a_revoked_token_nothing(site):
    own = token_for(site)
    other = token_for(site, "C2")
    ready = site.ready_session(candidates=1)
    api = site.client()
    mine = api.get("/api/v1/sessions", headers={"Authorization": f"Bearer {own}"}).json()["sessions"]
    assert [s["session_id"] for s in mine] == [ready.session_id]
    theirs = {"Authorization": f"Bearer {other}"}
    assert api.get("/api/v1/sessions", headers=theirs).json()["sessions"] == []
    assert api.get(f"/api/v1/sessions/{ready.session_id}/results", headers=theirs).status_code == 404
    candidate_id = api.get("/api/v1/candidates", headers={"Authorization": f"Bearer {own}"}).json()["candidates"][0]["candidate_id"]
    assert api.get(f"/api/v1/candidates/{candidate_id}", headers=theirs).status_code == 404
    [listed] = api_tokens.list_tokens(site.runtime.engine, Actor(0, "admin", Role.CENTRE_ADMIN, ensure_demo_centre(site.runtime.engine, site.clock())))
    api_tokens.revoke_token(site.runtime.engine, Actor(0, "admin", Role.CENTRE_ADMIN, ensure_demo_centre(site.runtime.engine, site.clock())),
                            listed.token_id, site.clock())
    assert api.get("/api/v1/sessions", headers={"Authorization": f"Bearer {own}"}).status_code == 401


def test_the_api_never_fails_and_always_answers_as_described(site):
    """Every operation of the OpenAPI description, with schemathesis' generated requests (40
    each): no 500s, responses as described, declared status codes only, and the checks for
    undeclared methods and rejected valid data."""
    token = token_for(site)
    create_ready_session(site.runtime.engine, site.runtime.catalogue, site.runtime.policy, "DEMO01", 5, 2, [], False, site.clock(),
                         random.Random(4))
    app = create_app(site.settings, clock=site.clock, rng=random.Random(3), sweep_seconds=0, runtime=site.runtime)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} == {
        "GET /api/v1/candidates", "POST /api/v1/candidates", "GET /api/v1/candidates/{candidate_id}", "GET /api/v1/sessions",
        "POST /api/v1/sessions/{session_id}/bookings", "GET /api/v1/sessions/{session_id}/results",
    }
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=int(os.environ.get("TESTENGINE_FUZZ_EXAMPLES", "40")), deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"})

        check()

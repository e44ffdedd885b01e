"""Requests a browser would never send: forged or altered cookies, another candidate's token,
oversized and malformed bodies, numbers past what the database holds. Each is refused with
its status and nothing is stored."""

from __future__ import annotations

from sqlmodel import Session, select

from testengine.storage.tables import ResponseRecord, SittingEventRecord
from tests.web.conftest import csrf_of, player_token, sign_in
from tests.web.test_candidate_test import ready_and_started, save


def stored_answers(site) -> list:
    with Session(site.runtime.engine) as session:
        return session.exec(select(ResponseRecord)).all()


def test_oversized_and_malformed_player_calls_are_refused_and_store_nothing(site):
    _, _, candidate, _, page = ready_and_started(site)
    token = player_token(page.text)
    headers = {"X-CSRF-Token": token, "Content-Type": "application/json"}
    huge = b'{"position": 1, "sequence": 1, "response": "' + b"a" * 200_000 + b'"}'
    assert candidate.post("/candidate/answers", content=huge, headers=headers).status_code == 413

    def chunks():  # no Content-Length: the size is counted as it arrives
        yield b'{"position": 1, "sequence": 1, "response": "'
        for _ in range(40):
            yield b"b" * 4096
        yield b'"}'

    assert candidate.post("/candidate/answers", content=chunks(), headers=headers).status_code == 413
    for body in (b"[1, 2]", b'"text"', b"{", b'{"position": "one", "sequence": 1}', b'{"position": 1}',
                 b'{"position": 1, "sequence": 99999999999999, "response": "a"}', b'{"position": -4, "sequence": 1, "response": "a"}'):
        assert candidate.post("/candidate/answers", content=body, headers=headers).status_code == 400, body
    assert candidate.post("/candidate/focus", content=b"[true]", headers=headers).status_code == 204  # best effort, ignored
    assert candidate.post("/candidate/flag", content=b'{"position": 1}', headers=headers).status_code == 400
    assert candidate.get("/candidate/clock?unsent=99999999999999999999").status_code == 200
    assert stored_answers(site) == []


def test_a_tampered_candidate_cookie_is_refused(site):
    _, _, first, _, first_page = ready_and_started(site)
    value = first.cookies["te_candidate"]
    first.cookies.clear()
    first.cookies.set("te_candidate", value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))  # the signature no longer fits
    assert first.post("/candidate/answers", json={"position": 1, "sequence": 1, "response": "a"},
                      headers={"X-CSRF-Token": player_token(first_page.text)}).status_code == 401
    assert stored_answers(site) == []


def test_a_token_from_one_candidate_does_not_work_for_another(site):
    _, _, candidate, _, page = ready_and_started(site)
    other_site_client = site.client()
    page_other = other_site_client.get("/candidate")
    forged = csrf_of(page_other.text)
    assert save(candidate, forged, 1, "a", 1).status_code == 403
    assert stored_answers(site) == []


def test_oversized_staff_forms_are_refused_before_they_are_read(site):
    from testengine.services.demo import ensure_demo_centre

    ensure_demo_centre(site.runtime.engine, site.clock())
    staff = site.client()
    sign_in(staff, "admin", "demo-admin-password")
    page = staff.get("/staff/candidates")
    reply = staff.post("/staff/candidates", data={"csrf_token": csrf_of(page.text), "candidate_number": "X1",
                                                  "name": "n" * (3 * 1024 * 1024)})
    assert reply.status_code == 413
    assert "X1" not in staff.get("/staff/candidates").text
    with Session(site.runtime.engine) as session:
        assert session.exec(select(SittingEventRecord)).all() == []


def test_control_characters_are_refused_where_text_comes_in_and_nothing_is_stored(site):
    """A NUL cannot be stored in PostgreSQL and no person types one: forms, the player's calls,
    the API and CSV imports each refuse it, naming the field, and store nothing (found by the
    API fuzzer, which once sent {"name": "\\u0000"})."""
    from testengine.domain.centres import Actor, Role
    from testengine.services import api_tokens
    from testengine.services.demo import ensure_demo_centre
    from testengine.storage.tables import CandidateRecord

    centre = ensure_demo_centre(site.runtime.engine, site.clock())
    staff = site.client()
    sign_in(staff, "admin", "demo-admin-password")
    csrf = csrf_of(staff.get("/staff/candidates").text)
    reply = staff.post("/staff/candidates", data={"csrf_token": csrf, "candidate_number": "X1", "name": "Ann\x00Lee"})
    assert reply.status_code == 400 and "name: contains the control character U+0000" in reply.text
    reply = staff.post("/staff/candidates/import", data={"csrf_token": csrf},
                       files={"file": ("c.csv", b"candidate_number,name\nX2,Bo\x07b\n", "text/csv")})
    assert reply.status_code == 400 and "row 2: name: contains the control character U+0007" in reply.text

    token = api_tokens.create_token(site.runtime.engine, Actor(0, "admin", Role.CENTRE_ADMIN, centre), "MIS", site.clock())
    reply = site.client().post("/api/v1/candidates", json={"candidate_number": "X3", "name": "\x00"},
                               headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 400 and "name: contains the control character U+0000" in reply.json()["message"]

    _, _, candidate, _, page = ready_and_started(site)
    reply = candidate.post("/candidate/answers", json={"position": 1, "sequence": 1, "response": "a\x00"},
                           headers={"X-CSRF-Token": player_token(page.text)})
    assert reply.status_code == 400
    assert stored_answers(site) == []
    with Session(site.runtime.engine) as session:
        assert not {"X1", "X2", "X3"} & {c.candidate_number for c in session.exec(select(CandidateRecord)).all()}

"""An administrator's second factor: set up with an authenticator app's code, then asked for at
every sign-in; a wrong or reused code is refused and counts towards the sign-in limit."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp

from testengine.services.demo import ensure_demo_centre
from tests.web.conftest import csrf_of, sign_in


def code_at(secret: str, moment) -> str:
    return pyotp.TOTP(secret).at(moment)


def test_an_administrator_turns_on_the_second_factor_and_is_asked_for_a_code(site):
    ensure_demo_centre(site.runtime.engine, site.clock())
    admin = site.client()
    sign_in(admin, "admin", "demo-admin-password")
    page = admin.get("/staff/security")
    assert "The second factor is <strong>off</strong>" in page.text
    started = admin.post("/staff/security", data={"csrf_token": csrf_of(page.text), "action": "start"})
    secret = re.search(r"Key: <code>([A-Z2-7]+)</code>", started.text).group(1)
    assert "otpauth://totp/testengine:admin?secret=" in started.text
    wrong = admin.post("/staff/security", data={"csrf_token": csrf_of(page.text), "action": "confirm", "code": "000000"})
    assert wrong.status_code == 400 and "that code does not match" in wrong.text
    on = admin.post("/staff/security", data={"csrf_token": csrf_of(page.text), "action": "confirm", "code": code_at(secret, site.clock())})
    assert "The second factor is on" in on.text

    site.clock.advance(minutes=2)
    fresh = site.client()
    asked = sign_in(fresh, "admin", "demo-admin-password")
    assert "Enter your code" in asked.text and "Sign out" not in asked.text
    assert fresh.get("/staff", follow_redirects=False).status_code in (302, 303)  # not signed in yet
    refused = fresh.post("/staff/sign-in/code", data={"csrf_token": csrf_of(asked.text), "code": "123456"})
    assert refused.status_code == 400 and "That code is not right" in refused.text
    code = code_at(secret, site.clock())
    signed = fresh.post("/staff/sign-in/code", data={"csrf_token": csrf_of(asked.text), "code": code}, follow_redirects=True)
    assert signed.status_code == 200 and "Sign out" in signed.text
    # The same code a second time (a shoulder-surfer, within its 30 seconds) does not work.
    other = site.client()
    again = sign_in(other, "admin", "demo-admin-password")
    replayed = other.post("/staff/sign-in/code", data={"csrf_token": csrf_of(again.text), "code": code})
    assert replayed.status_code == 400


def test_the_code_step_needs_the_password_step_first_and_is_for_administrators_only(site):
    ensure_demo_centre(site.runtime.engine, site.clock())
    stranger = site.client()
    page = stranger.get("/staff/sign-in")
    skipped = stranger.post("/staff/sign-in/code", data={"csrf_token": csrf_of(page.text), "code": "123456"}, follow_redirects=False)
    assert skipped.status_code in (302, 303) and skipped.headers["location"].endswith("/staff/sign-in")
    invigilator = site.client()
    sign_in(invigilator, "invigilator", "demo-invigilator-password")
    assert invigilator.get("/staff/security").status_code == 403


def test_five_wrong_codes_lock_the_account_for_a_while(site):
    ensure_demo_centre(site.runtime.engine, site.clock())
    admin = site.client()
    sign_in(admin, "admin", "demo-admin-password")
    page = admin.get("/staff/security")
    started = admin.post("/staff/security", data={"csrf_token": csrf_of(page.text), "action": "start"})
    secret = re.search(r"Key: <code>([A-Z2-7]+)</code>", started.text).group(1)
    admin.post("/staff/security", data={"csrf_token": csrf_of(page.text), "action": "confirm", "code": code_at(secret, site.clock())})
    site.clock.advance(minutes=1)
    guesser = site.client()
    asked = sign_in(guesser, "admin", "demo-admin-password")
    for guess in ("111111", "222222", "333333", "444444", "555555"):
        guesser.post("/staff/sign-in/code", data={"csrf_token": csrf_of(asked.text), "code": guess})
    locked = guesser.post("/staff/sign-in/code", data={"csrf_token": csrf_of(asked.text), "code": code_at(secret, site.clock())})
    assert locked.status_code == 400 and "Too many failed sign-ins" in locked.text
    site.clock.advance(minutes=16)
    assert "Enter your code" in sign_in(site.client(), "admin", "demo-admin-password").text

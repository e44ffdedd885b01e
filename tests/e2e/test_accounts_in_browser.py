"""Staff accounts in Chromium: a centre administrator adds an invigilator (a common password is
refused with the reason, and the form keeps what was typed); the invigilator signs in on their
own browser and changes the password; the administrator closes the account, and the
invigilator's open browser is signed out at its next click."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from testengine.services.demo import ensure_demo_centre
from tests.e2e.conftest import Server
from tests.e2e.test_candidate_in_browser import no_serious_violations

pytestmark = pytest.mark.e2e


def sign_in(browser: Browser, base: str, username: str, password: str) -> Page:
    page = browser.new_context(bypass_csp=True).new_page()  # axe is injected into the page
    page.goto(f"{base}/staff/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return page


def test_an_administrator_adds_an_invigilator_who_changes_their_password_and_is_later_closed(server: Server, browser: Browser):
    ensure_demo_centre(server.runtime.engine, server.clock())
    admin = sign_in(browser, server.base, "admin", "demo-admin-password")
    admin.get_by_role("navigation", name="Staff").get_by_role("link", name="Staff accounts").click()
    expect(admin.get_by_role("heading", name="Staff accounts")).to_be_visible()
    assert no_serious_violations(admin) == []

    admin.get_by_label("Username").fill("sbrown")
    admin.get_by_label("Name", exact=True).fill("Sam Brown")
    admin.get_by_label("Role").select_option("invigilator")
    admin.get_by_label("First password").fill("sunshine2026")
    admin.get_by_role("button", name="Add the account").click()
    expect(admin.get_by_role("alert")).to_contain_text("password: the password is too easy to guess")
    expect(admin.get_by_label("Username")).to_have_value("sbrown")
    expect(admin.get_by_label("Name", exact=True)).to_have_value("Sam Brown")
    admin.get_by_label("First password").fill("pebble-mango-lighthouse")
    admin.get_by_role("button", name="Add the account").click()
    expect(admin.get_by_role("status")).to_contain_text("Added sbrown")
    expect(admin.get_by_role("row", name="sbrown")).to_contain_text("Invigilator")

    invigilator = sign_in(browser, server.base, "sbrown", "pebble-mango-lighthouse")
    invigilator.get_by_role("link", name="Password").click()
    invigilator.get_by_label("Current password").fill("pebble-mango-lighthouse")
    invigilator.get_by_label("New password", exact=True).fill("walnut-breeze-saddle")
    invigilator.get_by_label("New password again").fill("walnut-breeze-sadle")
    invigilator.get_by_role("button", name="Change password").click()
    expect(invigilator.get_by_role("alert")).to_contain_text("the two new passwords are not the same")
    assert no_serious_violations(invigilator) == []
    invigilator.get_by_label("Current password").fill("pebble-mango-lighthouse")
    invigilator.get_by_label("New password", exact=True).fill("walnut-breeze-saddle")
    invigilator.get_by_label("New password again").fill("walnut-breeze-saddle")
    invigilator.get_by_role("button", name="Change password").click()
    expect(invigilator.get_by_role("status")).to_contain_text("Your password is changed")
    invigilator.get_by_role("link", name="Sessions").click()
    expect(invigilator.get_by_role("heading", name="Sessions")).to_be_visible()  # still signed in here

    admin.get_by_role("button", name="Close sbrown").click()
    expect(admin.get_by_role("status")).to_contain_text("The account is closed")
    expect(admin.get_by_role("row", name="sbrown")).to_contain_text("closed")
    invigilator.get_by_role("link", name="Sessions").click()
    expect(invigilator.get_by_role("button", name="Sign in")).to_be_visible()

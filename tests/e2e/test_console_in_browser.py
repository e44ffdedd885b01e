"""Two browsers: the invigilator's console and a candidate's player, in the same room.

The invigilator unlocks, pauses (the candidate's question disappears and the clock stops),
resumes, adds time (the candidate's timer changes without a reload), runs an emergency pause-all
and resume, records an incident and signs off; the incident report shows the whole timeline."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Server
from tests.e2e.test_candidate_in_browser import no_serious_violations, staff_on_session, to_waiting_room

pytestmark = pytest.mark.e2e

SYNC = 10_000  # the player checks with the server every 5 s; the console refreshes every 5 s


def console(browser: Browser, base: str, username: str, password: str, session_id: int) -> Page:
    staff = staff_on_session(browser, base, username, password, session_id)
    staff.goto(f"{base}/staff/sessions/{session_id}/console")
    expect(staff.get_by_role("heading", name=re.compile("^Live console"))).to_be_visible()
    return staff


def test_the_invigilator_runs_the_room_from_the_console_while_the_candidate_sits_the_test(server: Server, browser: Browser):
    ready = server.session(unit=5, candidates=1)
    number = ready.candidates[0].candidate_number
    staff = console(browser, server.base, ready.invigilator, ready.password, ready.session_id)
    candidate = browser.new_context().new_page()
    to_waiting_room(candidate, server.base, ready.candidates[0].keycode)
    row = staff.get_by_role("row", name=number)
    expect(row).to_contain_text("locked", timeout=SYNC)  # the console refreshed by itself

    row.get_by_role("button", name="Unlock").click()
    expect(staff.get_by_role("status")).to_have_text("Unlocked: 1 candidate.")
    candidate.get_by_role("button", name="Start test").click(timeout=SYNC)
    expect(candidate.get_by_role("heading", name="Question 1 of")).to_be_visible()
    expect(row).to_contain_text("in progress", timeout=SYNC)

    # Pause: the question disappears and the clock stops.
    row.get_by_role("button", name="Pause").click()
    expect(staff.get_by_role("status")).to_have_text("Paused: 1 candidate.")
    expect(candidate.get_by_role("heading", name="Your test is paused")).to_be_visible(timeout=SYNC)
    expect(candidate.get_by_role("heading", name="Question 1 of")).to_have_count(0)
    expect(candidate.get_by_role("status")).to_contain_text("You still have 35 minutes 0 seconds")
    row.get_by_role("button", name="Resume").click()
    expect(candidate.get_by_role("heading", name="Question 1 of")).to_be_visible(timeout=SYNC)

    # Add time: the candidate's timer changes without a reload.
    row.get_by_role("button", name="Add time").click()
    staff.get_by_label("Minutes").fill("10")
    staff.get_by_label("Reason").fill("disruption: fire alarm test next door")
    staff.get_by_role("button", name="Add the time").click()
    expect(staff.get_by_role("status")).to_have_text("Added 10 minutes.")
    expect(candidate.get_by_role("timer")).to_have_text(re.compile(r"^4[45]:\d\d$"), timeout=SYNC)

    # Emergency pause-all, then resume all.
    staff.get_by_role("button", name="Pause all").click()
    expect(staff.get_by_role("heading", name=re.compile("^Room paused for an emergency"))).to_be_visible()
    expect(staff.locator(".in-room")).to_contain_text(number)
    expect(candidate.get_by_role("heading", name="Your test is paused")).to_be_visible(timeout=SYNC)
    staff.get_by_role("button", name="Resume all").click()
    expect(staff.get_by_role("heading", name=re.compile("^Room paused"))).to_have_count(0)
    expect(candidate.get_by_role("heading", name="Question 1 of")).to_be_visible(timeout=SYNC)

    # An incident, then the candidate finishes and the invigilator signs off.
    staff.get_by_label("About").select_option(label=f"{number} {ready.candidates[0].name}")
    staff.get_by_label("Category").select_option("illness")
    staff.get_by_label("What happened").fill("Candidate felt faint for a minute")
    staff.get_by_label("Action taken").fill("Given water; carried on")
    staff.get_by_role("button", name="Record incident").click()
    expect(staff.get_by_role("table").filter(has_text="Candidate felt faint")).to_be_visible()
    assert no_serious_violations(staff) == []

    candidate.get_by_role("button", name="Review answers").click()
    candidate.get_by_role("link", name="Finish test").click()
    candidate.get_by_role("button", name="Yes, finish").click()
    expect(candidate.get_by_role("heading", name=re.compile("^Result: "))).to_be_visible()
    staff.reload()
    staff.get_by_role("button", name="Sign off session").click()
    expect(staff.get_by_text("Signed off by", exact=False).first).to_be_visible()

    staff.goto(f"{server.base}/staff/sessions/{ready.session_id}/record/incident-report")
    timeline = staff.locator("table.timeline")
    for step in ("test unlocked", "started the test", "paused", "resumed", "time added (10 min)",
                 "paused (emergency, whole room)", "incident: illness", "test submitted"):
        expect(timeline).to_contain_text(step)
    expect(staff.locator("body")).to_contain_text("the interruption lasted")

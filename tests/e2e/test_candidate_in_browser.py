"""A person at a workstation: sitting whole tests in Chromium, by mouse and by keyboard alone,
losing the browser mid-test, losing the network, and leaving before the deadline."""

from __future__ import annotations

import random
import re
import time

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlmodel import Session

from testengine.storage.results import result_history
from testengine.storage.sittings import load_responses
from testengine.services.demo import ReadySession
from tests.e2e.conftest import Server, serve
from tests.web.keys import form_items, sitting_of

pytestmark = pytest.mark.e2e


def to_waiting_room(page: Page, base: str, keycode: str) -> None:
    page.goto(f"{base}/candidate")
    page.get_by_label("Keycode").fill(keycode)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Check your details")).to_be_visible()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("I confirm this declaration").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Instructions")).to_be_visible()
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_role("heading", name="Ready to start")).to_be_visible()


def staff_on_session(browser: Browser, base: str, username: str, password: str, session_id: int) -> Page:
    """An invigilator, signed in on their own browser, looking at the session's page."""
    staff = browser.new_context().new_page()
    staff.goto(f"{base}/staff/sign-in")
    staff.get_by_label("Username").fill(username)
    staff.get_by_label("Password").fill(password)
    staff.get_by_role("button", name="Sign in").click()
    staff.goto(f"{base}/staff/sessions/{session_id}")
    return staff


def unlock_room(browser: Browser, base: str, username: str, password: str, session_id: int) -> None:
    staff = staff_on_session(browser, base, username, password, session_id)
    context = staff.context
    staff.get_by_role("button", name="Unlock all").click()
    expect(staff.get_by_role("status").filter(has_text="Unlocked")).to_have_text(re.compile(r"^Unlocked \d+ candidates?\.$"))
    context.close()


def start_when_unlocked(page: Page) -> None:
    # The waiting page checks with the server every 3 seconds.
    page.get_by_role("button", name="Start test").click(timeout=10_000)
    expect(page.get_by_role("heading", name="Question 1 of")).to_be_visible()


def started(server: Server, browser: Browser, **context_options) -> tuple[ReadySession, str, BrowserContext, Page]:
    """A Unit 5 session with a candidate who has logged in on their own browser, been unlocked
    by the invigilator, and pressed Start."""
    ready = server.session(unit=5)
    keycode = ready.candidates[0].keycode
    context = browser.new_context(**context_options)
    page = context.new_page()
    to_waiting_room(page, server.base, keycode)
    unlock_room(browser, server.base, ready.invigilator, ready.password or "", ready.session_id)
    start_when_unlocked(page)
    return ready, keycode, context, page


def answer_with_mouse(page: Page, item) -> None:
    kind = item.type.value
    if kind == "single":
        page.get_by_label(item.option_text(item.key[0]), exact=True).check()
    elif kind == "multiple":
        for key in item.key:
            page.get_by_label(item.option_text(key), exact=True).check()
    elif kind == "ordering":
        for position, key in enumerate(item.key, start=1):
            page.get_by_label(f"Position {position}", exact=True).select_option(key)
    else:
        for premise, key in zip(item.premises, item.key):
            page.get_by_label(premise.text, exact=True).select_option(key)
    expect(page.locator("#save-status")).to_have_text("Saved")


def test_a_candidate_sits_a_whole_unit_5_test_and_gets_the_result(server: Server, browser: Browser, page: Page):
    ready = server.session(unit=5)
    keycode = ready.candidates[0].keycode
    to_waiting_room(page, server.base, keycode)
    unlock_room(browser, server.base, ready.invigilator, ready.password or "", ready.session_id)
    start_when_unlocked(page)
    expect(page.get_by_role("timer")).to_have_text("35:00")
    items = form_items(server.runtime.engine, keycode)
    kinds = {item.type.value for _, item in items}
    assert {"single", "multiple"} <= kinds
    for position, item in items:
        expect(page.get_by_role("heading", name=f"Question {position} of {len(items)}")).to_be_visible()
        if item.item_set:
            expect(page.get_by_role("heading", name="Read this, then answer the question")).to_be_visible()
        answer_with_mouse(page, item)
        if position == 2:
            page.get_by_role("button", name="Flag for review").click()
            expect(page.get_by_role("button", name="Flag for review")).to_have_attribute("aria-pressed", "true")
        page.get_by_role("button", name="Next question").click()
    expect(page.get_by_role("heading", name="Review your answers")).to_be_visible()
    expect(page.get_by_role("heading", name="Flagged for review")).to_be_visible()
    page.get_by_role("link", name="Finish test").click()
    page.get_by_role("button", name="Yes, finish").click()
    expect(page.get_by_role("heading", name="Result: Pass")).to_be_visible()
    expect(page.get_by_text("You scored 25 out of 25.")).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", name="Your test has finished")).to_be_visible()


def tab_to(page: Page, target) -> None:
    """Press Tab until `target` has the focus, as a keyboard user would."""
    for _ in range(120):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError("the control cannot be reached with Tab")


def choose_with_keyboard(page: Page, select, value: str) -> None:
    tab_to(page, select)
    values = select.evaluate("element => Array.from(element.options).map(option => option.value)")
    page.keyboard.press("Home")
    for _ in range(values.index(value)):
        page.keyboard.press("ArrowDown")
    expect(select).to_have_value(value)


def answer_with_keyboard(page: Page, item) -> None:
    kind = item.type.value
    if kind == "single":
        # A radio group is one Tab stop (its first button when none is chosen); arrows move
        # through it, choosing as they go.
        box = page.get_by_label(item.option_text(item.key[0]), exact=True)
        tab_to(page, page.locator('input[name="answer"]').first)
        page.keyboard.press("Space")
        for _ in range(8):
            if box.is_checked():
                break
            page.keyboard.press("ArrowDown")
        expect(box).to_be_checked()
    elif kind == "multiple":
        for key in item.key:
            box = page.get_by_label(item.option_text(key), exact=True)
            tab_to(page, box)
            page.keyboard.press("Space")
            expect(box).to_be_checked()
    elif kind == "ordering":
        for position, key in enumerate(item.key, start=1):
            choose_with_keyboard(page, page.get_by_label(f"Position {position}", exact=True), key)
    else:
        for premise, key in zip(item.premises, item.key):
            choose_with_keyboard(page, page.get_by_label(premise.text, exact=True), key)
    expect(page.locator("#save-status")).to_have_text("Saved")


def every_type_seed(server: Server) -> int:
    """An app seed whose first Unit 4 form has every interaction type on it."""
    package = server.runtime.catalogue.unit(4)
    for seed in range(200):
        form_seed = random.Random(seed).randint(0, 2**31 - 1)
        kinds = {i.type.value for i in server.runtime.assembler.choose(package, form_seed).items}
        if kinds == {"single", "multiple", "ordering", "matching"}:
            return seed
    raise AssertionError("no seed under 200 gives a Unit 4 form with every type")


def test_a_unit_4_test_with_every_item_type_can_be_completed_with_the_keyboard_alone(tmp_path, shipped, browser: Browser, page: Page):
    probe = serve(f"sqlite:///{tmp_path / 'probe.db'}", shipped)
    seed = every_type_seed(next(probe))
    probe.close()
    served = serve(f"sqlite:///{tmp_path / 'run.db'}", shipped, app_seed=seed)
    server = next(served)
    try:
        ready = server.session(unit=4)
        keycode = ready.candidates[0].keycode
        page.goto(f"{server.base}/candidate")
        tab_to(page, page.get_by_label("Keycode"))
        page.keyboard.type(keycode)
        page.keyboard.press("Enter")
        tab_to(page, page.get_by_role("button", name="Continue"))
        page.keyboard.press("Enter")
        tab_to(page, page.get_by_label("I confirm this declaration"))
        page.keyboard.press("Space")
        tab_to(page, page.get_by_role("button", name="Continue"))
        page.keyboard.press("Enter")
        tab_to(page, page.get_by_role("link", name="Continue"))
        page.keyboard.press("Enter")
        unlock_room(browser, server.base, ready.invigilator, ready.password or "", ready.session_id)
        start = page.get_by_role("button", name="Start test")
        start.wait_for(timeout=10_000)
        tab_to(page, start)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Question 1 of")).to_be_visible()
        items = form_items(server.runtime.engine, keycode)
        assert {i.type.value for _, i in items} == {"single", "multiple", "ordering", "matching"}
        for position, item in items:
            expect(page.get_by_role("heading", name=f"Question {position} of {len(items)}")).to_be_visible()
            answer_with_keyboard(page, item)
            tab_to(page, page.get_by_role("button", name="Next question"))
            page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Review your answers")).to_be_visible()
        tab_to(page, page.get_by_role("link", name="Finish test"))
        page.keyboard.press("Enter")
        tab_to(page, page.get_by_role("button", name="Yes, finish"))
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Result: Pass")).to_be_visible()
        expect(page.get_by_text("You scored 30 out of 30.")).to_be_visible()
    finally:
        served.close()


def test_the_browser_closed_mid_test_the_candidate_resumes_elsewhere_with_answers_and_time(server: Server, browser: Browser):
    ready, keycode, first, page = started(server, browser)
    items = form_items(server.runtime.engine, keycode)
    for position, item in items[:3]:
        answer_with_mouse(page, item)
        page.get_by_role("button", name="Next question").click()
        expect(page.get_by_role("heading", name=f"Question {position + 1} of")).to_be_visible()
    server.clock.advance(minutes=5)
    first.close()  # the workstation crashes

    second = browser.new_context()
    spare = second.new_page()
    spare.goto(f"{server.base}/candidate")
    spare.get_by_label("Keycode").fill(keycode)
    spare.get_by_role("button", name="Continue").click()
    expect(spare.get_by_text("already open on another computer")).to_be_visible()

    staff = staff_on_session(browser, server.base, ready.invigilator, ready.password or "", ready.session_id)
    staff.get_by_label(f"Reason for a new log-in for {ready.candidates[0].name}").fill("workstation crashed")
    staff.get_by_role("button", name=f"Allow new log-in for {ready.candidates[0].name}").click()
    expect(staff.get_by_text("may now log in again")).to_be_visible()
    staff.context.close()

    spare.get_by_label("Keycode").fill(keycode)
    spare.get_by_role("button", name="Continue").click()
    expect(spare.get_by_role("heading", name="Question 1 of")).to_be_visible()
    expect(spare.get_by_role("timer")).to_have_text("30:00")
    for position, item in items[:3]:
        spare.goto(f"{server.base}/candidate/question/{position}")
        expect(spare.locator("#save-status")).to_have_text("Saved")
        if item.type.value == "single":
            expect(spare.get_by_label(item.option_text(item.key[0]), exact=True)).to_be_checked()
    second.close()


def test_the_deadline_passes_with_the_browser_closed_and_the_sitting_is_submitted(server: Server, browser: Browser):
    ready, keycode, context, page = started(server, browser)
    position, item = form_items(server.runtime.engine, keycode)[0]
    answer_with_mouse(page, item)
    context.close()
    server.clock.advance(minutes=35, seconds=1)
    sitting_id = sitting_of(server.runtime.engine, keycode).id
    for _ in range(50):  # the sweep runs every 0.2 s
        with Session(server.runtime.engine) as session:
            marked = result_history(session, sitting_id)
        if marked:
            break
        time.sleep(0.1)
    assert marked, "the sweep submitted and marked the sitting"
    assert sitting_of(server.runtime.engine, keycode).status == "submitted"
    assert [s["score"] for s in marked[0].item_scores if s["position"] == position] == [item.marks]


def test_answers_made_while_the_network_is_down_are_kept_and_sent_when_it_returns(server: Server, browser: Browser):
    ready, keycode, context, page = started(server, browser)
    position, item = next((p, i) for p, i in form_items(server.runtime.engine, keycode) if i.type.value == "single")
    page.goto(f"{server.base}/candidate/question/{position}")
    context.set_offline(True)
    page.get_by_label(item.option_text(item.key[0]), exact=True).check()
    expect(page.locator("#save-status")).to_contain_text("Not saved, retrying")
    context.set_offline(False)
    expect(page.locator("#save-status")).to_have_text("Saved", timeout=15_000)
    with Session(server.runtime.engine) as session:
        stored = load_responses(session, sitting_of(server.runtime.engine, keycode).id)
    assert stored[position] == item.key[0]
    context.close()


def no_serious_violations(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_candidate_pages_have_no_serious_or_critical_accessibility_violations(server: Server, browser: Browser):
    ready = server.session(unit=5)
    keycode = ready.candidates[0].keycode
    context = browser.new_context(bypass_csp=True)  # axe is injected into the page to run
    page = context.new_page()
    found: dict[str, list[str]] = {}
    page.goto(f"{server.base}/candidate")
    found["keycode"] = no_serious_violations(page)
    page.get_by_label("Keycode").fill(keycode)
    page.get_by_role("button", name="Continue").click()
    found["confirm"] = no_serious_violations(page)
    page.get_by_role("button", name="Continue").click()
    found["declaration"] = no_serious_violations(page)
    page.get_by_label("I confirm this declaration").check()
    page.get_by_role("button", name="Continue").click()
    found["instructions"] = no_serious_violations(page)
    page.get_by_role("link", name="Continue").click()
    found["waiting"] = no_serious_violations(page)
    unlock_room(browser, server.base, ready.invigilator, ready.password or "", ready.session_id)
    start_when_unlocked(page)
    items = form_items(server.runtime.engine, keycode)
    seen_types = set()
    for position, item in items:
        if item.type.value not in seen_types or item.item_set:
            page.goto(f"{server.base}/candidate/question/{position}")
            found[f"question {position} ({item.type.value})"] = no_serious_violations(page)
            seen_types.add(item.type.value)
    for scheme in ("cream", "yellow", "lilac", "dark"):
        page.get_by_text("Display settings").click()
        page.get_by_label("Colours").select_option(scheme)
        page.get_by_label("Text size").select_option("200")
        page.get_by_role("button", name="Apply").click()
        found[f"question 1 in {scheme} at 200%"] = no_serious_violations(page)
    page.goto(f"{server.base}/candidate/review")
    found["review"] = no_serious_violations(page)
    page.get_by_role("link", name="Finish test").click()
    found["finish"] = no_serious_violations(page)
    page.get_by_role("button", name="Yes, finish").click()
    found["result"] = no_serious_violations(page)
    context.close()
    assert {name: issues for name, issues in found.items() if issues} == {}

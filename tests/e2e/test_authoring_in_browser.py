"""Item writers at work in Chromium: a writer writes a matching item, watching the live check
(the lint findings and the candidate's view) change as they type without a reload, saves it and
submits it for review; they may not approve it themselves; a second writer, in their own
browser, approves it and makes it live; and the next assembled forms of the unit can use it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session

from testengine.domain.centres import Role
from testengine.domain.items import ItemStatus
from testengine.services.accounts import add_staff
from testengine.services.assembly import eligibility_for
from testengine.services.demo import ensure_demo_centre
from tests.e2e.conftest import Server
from tests.e2e.test_candidate_in_browser import no_serious_violations

pytestmark = pytest.mark.e2e

CHECK = 10_000  # the live check posts 600 ms after the last keystroke, then renders
NOT_CITED = "the rationale does not name the amplification point 'customer-experience'"
OPTIONS = (("a", "Useful"), ("b", "Usable"), ("c", "Enjoyable"), ("d", "Affordable"))
TERMS = (
    ("p1", "The booking page answered every question I had."),
    ("p2", "Checking in at the kiosk took under a minute."),
    ("p3", "The evening quiz in the bar was great fun."),
)
UNCITED_RATIONALE = "Useful (a), usable (b) and enjoyable (c) are the three qualities; affordable (d) is about price, not one of them."
CITED_RATIONALE = ("The customer experience is judged by whether it is useful, usable and enjoyable: (a), (b) and (c); "
                   "affordable (d) is not one of the three.")


def signed_in(browser: Browser, base: str, username: str, password: str) -> Page:
    """A writer on their own browser (axe is injected into the page, so the CSP is bypassed)."""
    page = browser.new_context(bypass_csp=True).new_page()
    page.goto(f"{base}/staff/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Staff").get_by_role("link", name="Item banks")).to_be_visible()
    return page


def trail_of(page: Page) -> list[list[str]]:
    """The item's trail: [from, to, who, comment] per row."""
    rows = page.get_by_role("table", name="Trail").locator("tbody tr")
    return [row.locator("td").all_inner_texts()[2:6] for row in rows.all()]


def test_a_writer_writes_a_matching_item_another_approves_it_and_it_goes_on_forms(server: Server, browser: Browser):
    engine = server.runtime.engine
    ensure_demo_centre(engine, server.clock())
    add_staff(engine, "reviewer", "Second Writer", Role.ITEM_WRITER, "another-long-password", server.clock())

    # 1. The writer finds the unit 5 bank and starts a new item.
    writer = signed_in(browser, server.base, "writer", "demo-writer-password")
    writer.get_by_role("navigation", name="Staff").get_by_role("link", name="Item banks").click()
    expect(writer.get_by_role("heading", name="Item banks", exact=True)).to_be_visible()
    writer.get_by_role("link", name=re.compile(r"^Unit 5: ")).click()
    expect(writer.get_by_role("heading", name=re.compile(r"^Unit 5: "))).to_be_visible()
    writer.get_by_role("link", name="Write a new item").click()
    expect(writer.get_by_role("heading", name="New item for unit 5")).to_be_visible()
    writer.evaluate("window.sameDocument = true")  # gone if the page reloads

    # 2. The item, first with a rationale that does not cite its amplification point.
    writer.get_by_label("Type").select_option("matching")
    writer.get_by_label("Learning outcome").select_option("1")
    writer.get_by_label("Assessment criterion").select_option("1.1")
    writer.get_by_label("Amplification point").select_option("customer-experience")
    writer.get_by_label("Stem").fill("Match each comment from a hotel guest to the quality of experience it shows.")
    for n, (option_id, text) in enumerate(OPTIONS, start=1):
        writer.get_by_label(f"Option {n} id").fill(option_id)
        writer.locator(f"#option-text-{n}").fill(text)
    for n, (term_id, text) in enumerate(TERMS, start=1):
        writer.get_by_label(f"Term {n} id").fill(term_id)
        writer.locator(f"#premise-text-{n}").fill(text)
    writer.get_by_label("Key", exact=True).fill("p1=a, p2=b, p3=c")
    writer.get_by_label("Marks").fill("2")
    writer.get_by_label("Scoring").select_option("partial")
    writer.get_by_label("Expected seconds").fill("90")
    writer.get_by_label("Estimated facility").fill("0.66")
    writer.get_by_label("Angoff rating").fill("0.55")
    writer.get_by_label("Author (as credited)").fill("Wren Writer")
    writer.get_by_label("Rationale").fill(UNCITED_RATIONALE)

    check = writer.locator("#check")
    findings = check.locator("ul.findings")
    expect(check.get_by_text("Valid: the checks of")).to_be_visible(timeout=CHECK)
    expect(findings.locator("li").filter(has_text=NOT_CITED)).to_have_text(f"error: {NOT_CITED}", timeout=CHECK)
    expect(findings).to_contain_text("warning: no cognitive_level")  # a warning: shown, and accepted later
    expect(check.get_by_role("heading", name="As the candidate sees it")).to_be_visible()
    expect(check.locator("legend.stem")).to_have_text("Match each comment from a hotel guest to the quality of experience it shows.")
    for term_id, text in TERMS:
        select = check.locator(f"select#match-{term_id}")
        expect(select).to_be_visible()
        expect(check.get_by_label(text, exact=True)).to_have_id(f"match-{term_id}")
        expect(select.locator("option")).to_have_text(["Choose a description", *(t for _, t in OPTIONS)])
    expect(check).not_to_contain_text("p1=a")  # the preview carries no key

    writer.get_by_label("Rationale").fill(CITED_RATIONALE)
    expect(findings.locator("li").filter(has_text=NOT_CITED)).to_have_count(0, timeout=CHECK)
    expect(findings).to_contain_text("warning: no cognitive_level")
    expect(check.get_by_role("heading", name="As the candidate sees it")).to_be_visible()
    assert writer.evaluate("window.sameDocument === true"), "the live check reloaded the page"
    editor_violations = no_serious_violations(writer)

    # 3. Saved as a draft, then submitted for review.
    writer.get_by_role("button", name="Save draft").click()
    expect(writer.get_by_role("heading", name=re.compile(r"^U5-\d{4} version 1: draft$"))).to_be_visible()
    expect(writer.get_by_role("status")).to_have_text("Saved.")
    found = re.search(r"/bank/items/(U5-\d{4})\?saved=1$", writer.url)
    assert found, writer.url
    item_id = found.group(1)
    item_url = f"{server.base}/bank/items/{item_id}"
    item_violations = no_serious_violations(writer)
    writer.get_by_role("button", name="Submit for review").click()
    expect(writer.get_by_role("status")).to_have_text(f"{item_id} v1 is now in review.")
    expect(writer.get_by_role("heading", name=f"{item_id} version 1: in review")).to_be_visible()

    # 4. The writer may not approve their own item.
    writer.get_by_role("button", name="Approve").click()
    expect(writer.get_by_role("alert")).to_contain_text(f"writer wrote {item_id} v1: another writer must approve it")
    expect(writer.get_by_role("heading", name=f"{item_id} version 1: in review")).to_be_visible()

    # 5. A second writer approves it and makes it live.
    reviewer = signed_in(browser, server.base, "reviewer", "another-long-password")
    reviewer.goto(item_url)
    expect(reviewer.get_by_role("heading", name=f"{item_id} version 1: in review")).to_be_visible()
    reviewer.get_by_label("Comment").fill("checked")
    reviewer.get_by_role("button", name="Approve").click()
    expect(reviewer.get_by_role("status")).to_have_text(f"{item_id} v1 is now approved.")
    reviewer.get_by_role("button", name="Make live").click()
    expect(reviewer.get_by_role("status")).to_have_text(f"{item_id} v1 is now live.")
    expect(reviewer.get_by_role("heading", name=f"{item_id} version 1: live")).to_be_visible()
    expect(reviewer.get_by_role("table", name="Trail").locator("tbody tr")).to_have_count(4)
    assert trail_of(reviewer)[1:] == [
        ["draft", "in review", "writer", ""],
        ["in review", "approved", "reviewer", "checked"],
        ["approved", "live", "reviewer", ""],
    ]
    item_violations += no_serious_violations(reviewer)

    # 6. The next assembled forms of unit 5 can use it.
    runtime = server.runtime
    with Session(engine) as session:
        package = runtime.assembler.current(session, runtime.catalogue.unit(5))
        eligibility = eligibility_for(session, package, None)
    banked = package.bank.item(item_id)
    assert banked is not None and banked.status is ItemStatus.LIVE and banked.version == 1
    forms = [runtime.assembler.choose(package, seed, eligibility) for seed in range(60)]
    with_it = [form.seed for form in forms if (item_id, 1) in form.refs]
    assert with_it, f"{item_id} was on none of 60 assembled forms"

    # 7. No serious or critical accessibility violations on the editor (with its live check) or the item page.
    assert editor_violations == []
    assert item_violations == []
    writer.context.close()
    reviewer.context.close()

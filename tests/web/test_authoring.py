"""The item writers' screens through the web app: the bank browser and its filters, the live
check with the candidate's view, writing a matching item, and taking it through review to live
(where another writer must approve it)."""

from __future__ import annotations

import re

from testengine.domain.centres import Role
from testengine.services.accounts import add_staff
from testengine.services.demo import ensure_demo_centre
from tests.web.conftest import csrf_of, sign_in

FORM = {
    "type": "matching", "learning_outcome": "1", "criterion": "1.1", "amplification": "customer-experience",
    "stem": "Match each comment from a hotel guest to the quality of experience it shows.",
    "option-id-1": "a", "option-text-1": "Useful", "option-id-2": "b", "option-text-2": "Usable",
    "option-id-3": "c", "option-text-3": "Enjoyable", "option-id-4": "d", "option-text-4": "Affordable",
    "premise-id-1": "p1", "premise-text-1": "The booking page answered every question I had.",
    "premise-id-2": "p2", "premise-text-2": "Checking in at the kiosk took under a minute.",
    "premise-id-3": "p3", "premise-text-3": "The evening quiz in the bar was great fun.",
    "key": "p1=a, p2=b, p3=c", "marks": "2", "scoring": "partial", "expected_seconds": "90", "facility": "0.66",
    "angoff": "0.55", "cognitive_level": "application", "author": "Web Writer",
    "rationale": "The customer experience is judged by whether it is useful, usable and enjoyable: (a), (b) and (c); "
                 "affordable (d) is not one of the three.",
}


def writer(site, username="writer", password="demo-writer-password"):
    client = site.client()
    sign_in(client, username, password)
    return client


def test_the_bank_browser_filters_and_searches_the_units_items(site):
    ensure_demo_centre(site.runtime.engine, site.clock())
    client = writer(site)
    everything = client.get("/bank/units/5")
    assert everything.status_code == 200 and "U5-0085" in everything.text
    matching = client.get("/bank/units/5?type=matching&criterion=1.1")
    assert "U5-0085" in matching.text and "U5-0001" not in matching.text
    found = client.get("/bank/units/5?text=enjoyable")
    assert "U5-0085" in found.text
    assert "No item matches." in client.get("/bank/units/5?text=zebra crossing").text


def test_the_live_check_lists_problems_lint_findings_and_the_candidates_view(site):
    ensure_demo_centre(site.runtime.engine, site.clock())
    client = writer(site)
    page = client.get("/bank/units/5/new")
    assert page.status_code == 200 and "The amplification, to write from" in page.text
    good = client.post("/bank/check", data={**FORM, "unit": "5", "csrf_token": csrf_of(page.text)})
    assert "Valid: the checks of" in good.text and "As the candidate sees it" in good.text
    assert 'id="match-p1"' in good.text and "Checking in at the kiosk" in good.text  # the player's own controls
    assert "p1=a" not in good.text  # the preview carries no key
    bad = client.post("/bank/check", data={**FORM, "unit": "5", "key": "p1=a, p2=z", "csrf_token": csrf_of(page.text)})
    assert "Not valid yet" in bad.text and "z" in bad.text


def test_a_writer_writes_a_matching_item_and_another_approves_it_before_it_goes_live(site):
    ensure_demo_centre(site.runtime.engine, site.clock())
    add_staff(site.runtime.engine, "reviewer", "Second Writer", Role.ITEM_WRITER, "another-long-password", site.clock())
    client = writer(site)
    page = client.get("/bank/units/5/new")
    refused = client.post("/bank/units/5/new", data={**FORM, "stem": "", "csrf_token": csrf_of(page.text)})
    assert refused.status_code == 400 and "stem" in refused.text
    saved = client.post("/bank/units/5/new", data={**FORM, "csrf_token": csrf_of(page.text)}, follow_redirects=True)
    assert saved.status_code == 200
    item_id = re.search(r"/bank/items/(U5-[0-9]{4})", str(saved.url)).group(1)
    assert f"{item_id} version 1: draft" in saved.text
    submitted = client.post(f"/bank/items/{item_id}", data={"csrf_token": csrf_of(saved.text), "action": "in_review", "comment": ""})
    assert "is now in review" in submitted.text
    own = client.post(f"/bank/items/{item_id}", data={"csrf_token": csrf_of(saved.text), "action": "approved", "comment": ""})
    assert own.status_code == 403 and "another writer must approve it" in own.text
    other = writer(site, "reviewer", "another-long-password")
    item_page = other.get(f"/bank/items/{item_id}")
    approved = other.post(f"/bank/items/{item_id}", data={"csrf_token": csrf_of(item_page.text), "action": "approved", "comment": "checked"})
    assert "is now approved" in approved.text
    live = other.post(f"/bank/items/{item_id}", data={"csrf_token": csrf_of(item_page.text), "action": "live", "comment": ""})
    assert "is now live" in live.text
    for step in ("in review", "approved", "live"):
        assert f"<td>{step}</td>" in live.text
    assert item_id in client.get("/bank/units/5?status=live&type=matching").text


def test_only_item_writers_reach_the_bank(site):
    ensure_demo_centre(site.runtime.engine, site.clock())
    client = site.client()
    sign_in(client, "analyst", "demo-analyst-password")
    assert client.get("/bank/units/5").status_code == 403


def test_the_coverage_page_counts_live_items_per_point_and_works_out_disjoint_forms(site):
    ensure_demo_centre(site.runtime.engine, site.clock())
    client = writer(site)
    page = client.get("/bank/units/5/coverage")
    assert page.status_code == 200
    assert "Live items per amplification point" in page.text and "Work out the disjoint-form figure" in page.text
    bank = site.runtime.catalogue.unit(5).bank
    live = [i for i in bank.items if i.status.value == "live"]
    assert f"{len(live)} live items, {sum(i.marks for i in live)} live marks" in page.text
    depth = client.get("/bank/units/5/coverage?depth=1")
    assert "forms with no item in common" in depth.text and "proven optimal" in depth.text


def test_a_set_page_shows_its_scenario_and_each_item_as_candidates_see_it(site):
    ensure_demo_centre(site.runtime.engine, site.clock())
    client = writer(site)
    listing = client.get("/bank/units/5/sets")
    assert listing.status_code == 200 and "U5-SET-01" in listing.text
    created = client.post("/bank/units/5/sets", data={"csrf_token": csrf_of(listing.text), "title": "Hotel ratings",
                                                      "scenario": "A hotel group asks guests to rate each stay."}, follow_redirects=True)
    assert created.status_code == 200 and re.search(r"U5-SET-[0-9]+: Hotel ratings", created.text)
    gym = client.get("/bank/sets/U5-SET-01")
    assert "The scenario is fixed" in gym.text and gym.text.count("Read this, then answer the question") >= 2
    ids = re.findall(r'id="([^"]+)"', gym.text)
    assert len(ids) == len(set(ids))  # several questions on one page, no id twice
    assert "/bank/units/5/new?item_set=U5-SET-01" in gym.text
    new = client.get("/bank/units/5/new?item_set=U5-SET-01")
    assert 'name="item_set" value="U5-SET-01"' in new.text


def test_writers_export_the_bank_and_import_a_package_and_a_spreadsheet_through_the_pages(site):
    ensure_demo_centre(site.runtime.engine, site.clock())
    client = writer(site)
    package = client.get("/bank/units/5/export.zip")
    assert package.headers["content-type"] == "application/zip" and package.content[:2] == b"PK"
    exported = client.get("/bank/units/5/export.yaml")
    assert exported.text.startswith("format: testengine-bank-export/1")
    page = client.get("/bank/units/5/import")
    landed = client.post("/bank/units/5/import", data={"csrf_token": csrf_of(page.text)},
                         files={"file": ("unit-5-qti.zip", package.content, "application/zip")})
    assert landed.status_code == 200 and "Imported as drafts" in landed.text
    sheet = ("type,learning_outcome,criterion,amplification,stem,option_a,option_b,option_c,key,marks,expected_seconds,"
             "facility,angoff,rationale,author\n"
             "single,1,1.1,customer-experience,Which is the customer experience?,One sale,Every contact,One call,b,1,40,0.7,0.6,"
             "The customer experience is every contact (b).,Sheet\n"
             "single,1,1.1,customer-experience,Which?,A,B,C,b,one,40,0.7,0.6,Because.,Sheet\n")
    mixed = client.post("/bank/units/5/import", data={"csrf_token": csrf_of(page.text)},
                        files={"file": ("items.csv", sheet.encode(), "text/csv")})
    assert "1 imported, 1 not mapped" in mixed.text and "column marks: &#39;one&#39; is not a whole number" in mixed.text
    wrong = client.post("/bank/units/5/import", data={"csrf_token": csrf_of(page.text)},
                        files={"file": ("notes.txt", b"hello", "text/plain")})
    assert wrong.status_code == 400 and "notes.txt: cannot import .txt" in wrong.text

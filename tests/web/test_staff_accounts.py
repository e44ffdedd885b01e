"""Staff accounts as a centre administrator and their staff use them: adding an invigilator,
setting a forgotten password, closing and reopening an account, and changing one's own
password, each held to the password policy and each signing the account out elsewhere."""

from __future__ import annotations

from sqlmodel import Session, select

from testengine.services.demo import ensure_demo_centre
from testengine.storage.tables import AuditRecord, StaffRecord
from tests.web.conftest import csrf_of, sign_in

ADMIN_PASSWORD = "demo-admin-password"


def admin_on_accounts(site):
    ensure_demo_centre(site.runtime.engine, site.clock())
    admin = site.client()
    sign_in(admin, "admin", ADMIN_PASSWORD)
    return admin, admin.get("/staff/accounts")


def staff_id(site, username: str) -> int:
    with Session(site.runtime.engine) as session:
        record = session.exec(select(StaffRecord).where(StaffRecord.username == username)).one()
        assert record.id is not None
        return record.id


def signed_in(client) -> bool:
    return client.get("/staff", follow_redirects=False).status_code == 200


def test_an_administrator_adds_an_invigilator_who_can_then_sign_in(site):
    admin, page = admin_on_accounts(site)
    assert page.status_code == 200 and "demo-invigilator" not in page.text and "invigilator" in page.text
    form = {"csrf_token": csrf_of(page.text), "action": "add", "username": "RPatel", "display_name": "Ravi  Patel", "role": "invigilator"}
    weak = admin.post("/staff/accounts", data={**form, "password": "password123"})
    assert weak.status_code == 400
    assert "password: the password is too easy to guess. This is a very common password." in weak.text
    assert 'value="RPatel"' in weak.text and 'value="Ravi  Patel"' in weak.text  # what was typed is kept, bar the password
    assert "password123" not in weak.text
    added = admin.post("/staff/accounts", data={**form, "password": "kettle-orchard-violin"})
    assert added.status_code == 200 and "Added rpatel" in added.text and "Ravi Patel" in added.text
    taken = admin.post("/staff/accounts", data={**form, "password": "kettle-orchard-violin"})
    assert taken.status_code == 400 and "username &#39;rpatel&#39; is taken" in taken.text
    no_role = admin.post("/staff/accounts", data={**form, "username": "x2", "role": "analyst", "password": "kettle-orchard-violin"})
    assert no_role.status_code == 400 and "role: choose invigilator or centre administrator" in no_role.text

    invigilator = site.client()
    assert "Sessions" in sign_in(invigilator, "rpatel", "kettle-orchard-violin").text and signed_in(invigilator)
    with Session(site.runtime.engine) as session:
        added_audit = session.exec(select(AuditRecord).where(AuditRecord.action == "staff_added", AuditRecord.subject == "rpatel")).one()
        assert added_audit.actor == "admin"


def test_a_reset_or_a_closed_account_signs_the_person_out_everywhere(site):
    admin, page = admin_on_accounts(site)
    invigilator = site.client()
    sign_in(invigilator, "invigilator", "demo-invigilator-password")
    assert signed_in(invigilator)
    target = staff_id(site, "invigilator")
    csrf = csrf_of(page.text)

    weak = admin.post("/staff/accounts", data={"csrf_token": csrf, "action": "reset", "staff_id": target, "password": "1234567890"})
    assert weak.status_code == 400 and "top-100 common password" in weak.text and signed_in(invigilator)
    reset = admin.post("/staff/accounts", data={"csrf_token": csrf, "action": "reset", "staff_id": target, "password": "maple-quartz-harbour"})
    assert reset.status_code == 200 and "signed out everywhere" in reset.text
    assert not signed_in(invigilator)
    assert "Sign-in failed" in sign_in(site.client(), "invigilator", "demo-invigilator-password").text
    sign_in(invigilator, "invigilator", "maple-quartz-harbour")
    assert signed_in(invigilator)

    closed = admin.post("/staff/accounts", data={"csrf_token": csrf, "action": "close", "staff_id": target})
    assert closed.status_code == 200 and "The account is closed" in closed.text and "Reopen invigilator" in closed.text
    assert not signed_in(invigilator)
    assert "Sign-in failed" in sign_in(invigilator, "invigilator", "maple-quartz-harbour").text
    sessions = admin.get("/staff/sessions")
    assert "Ivy Invigilator (demo) (invigilator)" not in sessions.text  # not offered for new sessions
    admin.post("/staff/accounts", data={"csrf_token": csrf, "action": "reopen", "staff_id": target})
    sign_in(invigilator, "invigilator", "maple-quartz-harbour")
    assert signed_in(invigilator)

    own = staff_id(site, "admin")
    assert "cannot close your own account" in admin.post("/staff/accounts", data={"csrf_token": csrf, "action": "close", "staff_id": own}).text
    assert "Password page" in admin.post("/staff/accounts", data={"csrf_token": csrf, "action": "reset", "staff_id": own,
                                                                     "password": "maple-quartz-harbour"}).text
    elsewhere = admin.post("/staff/accounts", data={"csrf_token": csrf, "action": "close", "staff_id": 999999})
    assert elsewhere.status_code == 404


def test_changing_ones_own_password_keeps_this_browser_and_signs_out_the_others(site):
    ensure_demo_centre(site.runtime.engine, site.clock())
    here, there = site.client(), site.client()
    for browser in (here, there):
        sign_in(browser, "writer", "demo-writer-password")
    page = here.get("/staff/password")
    assert page.status_code == 200 and "Password" in page.text
    form = {"csrf_token": csrf_of(page.text), "current_password": "demo-writer-password"}

    cases = [
        ({"current_password": "not-my-password", "new_password": "linen-cobalt-falcon", "confirm_password": "linen-cobalt-falcon"},
         "current password: that is not the account&#39;s current password"),
        ({"new_password": "linen-cobalt-falcon", "confirm_password": "linen-cobalt-falcom"}, "the two new passwords are not the same"),
        ({"new_password": "iloveyou12", "confirm_password": "iloveyou12"}, "new password: the password is too easy to guess"),
        ({"new_password": "demo-writer-password", "confirm_password": "demo-writer-password"}, "different from the current password"),
    ]
    for change, message in cases:
        refused = here.post("/staff/password", data={**form, **change})
        assert refused.status_code == 400 and message in refused.text, message
    assert signed_in(here) and signed_in(there)

    changed = here.post("/staff/password", data={**form, "new_password": "linen-cobalt-falcon", "confirm_password": "linen-cobalt-falcon"})
    assert changed.status_code == 200 and "Your password is changed" in changed.text
    assert signed_in(here) and not signed_in(there)
    assert here.get("/bank").status_code == 200
    assert "Sign-in failed" in sign_in(site.client(), "writer", "demo-writer-password").text
    assert signed_in(there) is False and sign_in(there, "writer", "linen-cobalt-falcon") and signed_in(there)


def test_wrong_current_passwords_count_towards_the_sign_in_limit(site):
    ensure_demo_centre(site.runtime.engine, site.clock())
    browser = site.client()
    sign_in(browser, "analyst", "demo-analyst-password")
    csrf = csrf_of(browser.get("/staff/password").text)
    attempt = {"csrf_token": csrf, "current_password": "guess", "new_password": "linen-cobalt-falcon", "confirm_password": "linen-cobalt-falcon"}
    for _ in range(5):
        assert "not the account&#39;s current password" in browser.post("/staff/password", data=attempt).text
    limited = browser.post("/staff/password", data={**attempt, "current_password": "demo-analyst-password"})
    assert limited.status_code == 400 and "Too many failed sign-ins" in limited.text

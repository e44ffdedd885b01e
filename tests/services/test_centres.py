"""Centre administration rules: bookings and the resit policy, imports, access arrangements."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from testengine.domain.centres import Actor, Arrangements, Role
from testengine.services import centres, delivery
from testengine.services.errors import Forbidden, InvalidInput, NotFound
from testengine.storage.tables import AuditRecord, CandidateRecord

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def admin(runtime):
    from testengine.services.demo import ensure_centre

    centre = ensure_centre(runtime.engine, "C1", "Centre One", NOW)
    from testengine.services.accounts import add_staff

    add_staff(runtime.engine, "inv1", "Invigilator", Role.INVIGILATOR, "long-enough-password", NOW, centre)
    return add_staff(runtime.engine, "adm1", "Admin", Role.CENTRE_ADMIN, "long-enough-password", NOW, centre)


def a_session(runtime, admin, on: date, unit="5") -> int:
    return centres.create_session(runtime.engine, admin, runtime.catalogue, unit, on, "09:30", "Room 2", 10, [admin.staff_id], NOW)


def sit_and_fail(runtime, admin, candidate_id: int, session_id: int) -> None:
    """The candidate sits the session's test, answers nothing, and so has not yet passed."""
    keycode = centres.book_candidate(runtime.engine, admin, runtime.policy, runtime.catalogue, session_id, candidate_id, NOW, random.Random(1))
    who = delivery.keycode_login(runtime.engine, keycode, NOW, "127.0.0.1", "device")
    delivery.confirm_details(runtime.engine, who, NOW, "")
    delivery.make_declaration(runtime.engine, who, NOW, "")
    from testengine.services.invigilation import unlock

    unlock(runtime.engine, admin, session_id, None, NOW)
    delivery.start_test(runtime.engine, runtime.assembler, who, NOW, "", random.Random(2))
    delivery.finish_test(runtime.engine, who, NOW + timedelta(minutes=5), "")


def test_a_resit_is_refused_during_the_enforced_break_with_the_date_it_becomes_possible(runtime, admin):
    candidate = centres.add_candidate(runtime.engine, admin, "R001", "Rita Resit", NOW)
    sit_and_fail(runtime, admin, candidate, a_session(runtime, admin, NOW.date()))
    soon = a_session(runtime, admin, NOW.date() + timedelta(days=3))
    with pytest.raises(InvalidInput, match=r"not yet passed on 2026-11-23.*break of 7 days; a booking is possible from 2026-11-30"):
        centres.book_candidate(runtime.engine, admin, runtime.policy, runtime.catalogue, soon, candidate, NOW, random.Random(3))
    later = a_session(runtime, admin, NOW.date() + timedelta(days=7))
    assert centres.book_candidate(runtime.engine, admin, runtime.policy, runtime.catalogue, later, candidate, NOW, random.Random(3))
    # Another unit is not affected by this unit's history.
    other = a_session(runtime, admin, NOW.date() + timedelta(days=1), unit="4")
    assert centres.book_candidate(runtime.engine, admin, runtime.policy, runtime.catalogue, other, candidate, NOW, random.Random(4))


def test_a_second_booking_while_one_has_no_outcome_is_refused(runtime, admin):
    candidate = centres.add_candidate(runtime.engine, admin, "R002", "Sam Second", NOW)
    centres.book_candidate(runtime.engine, admin, runtime.policy, runtime.catalogue, a_session(runtime, admin, NOW.date()), candidate, NOW, random.Random(1))
    with pytest.raises(InvalidInput, match="already has a booking for Unit 5 on 2026-11-23 with no outcome yet"):
        centres.book_candidate(runtime.engine, admin, runtime.policy, runtime.catalogue, a_session(runtime, admin, NOW.date() + timedelta(days=10)),
                               candidate, NOW, random.Random(2))


def test_a_full_session_and_a_double_booking_are_refused(runtime, admin):
    session_id = centres.create_session(runtime.engine, admin, runtime.catalogue, "5", NOW.date(), "13:00", "Small room", 1, [admin.staff_id], NOW)
    first = centres.add_candidate(runtime.engine, admin, "F001", "First", NOW)
    second = centres.add_candidate(runtime.engine, admin, "F002", "Second", NOW)
    centres.book_candidate(runtime.engine, admin, runtime.policy, runtime.catalogue, session_id, first, NOW, random.Random(1))
    with pytest.raises(InvalidInput, match="already booked"):
        centres.book_candidate(runtime.engine, admin, runtime.policy, runtime.catalogue, session_id, first, NOW, random.Random(1))
    with pytest.raises(InvalidInput, match=r"the session is full \(1 candidates\)"):
        centres.book_candidate(runtime.engine, admin, runtime.policy, runtime.catalogue, session_id, second, NOW, random.Random(1))


def test_a_csv_import_with_any_bad_row_imports_nothing_and_names_every_bad_row(runtime, admin):
    centres.add_candidate(runtime.engine, admin, "X100", "Existing", NOW)
    text = (
        "candidate_number,name,extra_time_percent,extra_time_reference\n"
        "A001,Ann Able,25,\n"
        "A002,,0,\n"
        "A001,Dup Licate,0,\n"
        "A004,Ben Big,40,\n"
        "X100,Clash,0,\n"
        "A006,Nan Numeric,ten,\n"
    )
    with pytest.raises(InvalidInput) as error:
        centres.import_candidates(runtime.engine, admin, runtime.policy, text, NOW)
    assert error.value.messages == [
        "row 3: name: give the candidate's name (at most 200 characters)",
        "row 4: candidate number 'A001' is also on row 2",
        "row 5: extra time above 25% is exceptional: give the approval reference",
        "row 7: extra_time_percent 'ten' is not a whole number",
        "row 6: candidate number 'X100' is already registered",
    ]
    with Session(runtime.engine) as session:
        assert [c.candidate_number for c in session.exec(select(CandidateRecord))] == ["X100"]
    good = "candidate_number,name,extra_time_percent,extra_time_reference\nA001,Ann Able,25,\nA004,Ben Big,40,AA-77\n"
    assert centres.import_candidates(runtime.engine, admin, runtime.policy, good, NOW).added == 2
    listed = {c.candidate_number: c for c in centres.list_candidates(runtime.engine, admin)}
    assert listed["A004"].arrangements == Arrangements(extra_time_percent=40, extra_time_reference="AA-77")


def test_gender_is_optional_checked_and_kept_from_the_form_the_edit_and_the_import(runtime, admin):
    added = centres.add_candidate(runtime.engine, admin, "G001", "Gail Given", NOW, gender="Female")
    blank = centres.add_candidate(runtime.engine, admin, "G002", "Nat Notgiven", NOW)
    with pytest.raises(InvalidInput, match="gender 'f': use female, male, other, or leave it blank"):
        centres.add_candidate(runtime.engine, admin, "G003", "Fay Short", NOW, gender="F")
    centres.update_candidate(runtime.engine, admin, blank, "G002", "Nat Notgiven", NOW, gender="other")
    with pytest.raises(InvalidInput) as error:
        centres.import_candidates(runtime.engine, admin, runtime.policy, "candidate_number,name,gender\nG004,Mo,male\nG005,Jo,woman\n", NOW)
    assert error.value.messages == ["row 3: gender 'woman': use female, male, other, or leave it blank"]
    centres.import_candidates(runtime.engine, admin, runtime.policy, "candidate_number,name,gender\nG004,Mo,male\nG005,Jo,\n", NOW)
    listed = {c.candidate_number: c.gender for c in centres.list_candidates(runtime.engine, admin)}
    assert listed == {"G001": "female", "G002": "other", "G004": "male", "G005": ""}
    assert centres.get_candidate(runtime.engine, admin, added).gender == "female"
    with Session(runtime.engine) as session:
        edited = session.exec(select(AuditRecord).where(AuditRecord.action == "candidate_edited")).one()
    assert edited.details["before"]["gender"] == ""  # the audit keeps what it was


def test_a_csv_without_the_required_columns_is_refused(runtime, admin):
    with pytest.raises(InvalidInput, match="needs the columns candidate_number and name"):
        centres.import_candidates(runtime.engine, admin, runtime.policy, "number,full name\n1,A\n", NOW)


def test_access_arrangements_are_checked_against_the_policy_and_audited(runtime, admin):
    candidate = centres.add_candidate(runtime.engine, admin, "E001", "Eve Extra", NOW)
    with pytest.raises(InvalidInput, match="give the approval reference"):
        centres.set_arrangements(runtime.engine, admin, runtime.policy, candidate, Arrangements(extra_time_percent=30), NOW)
    with pytest.raises(InvalidInput, match="between 0% and 50%"):
        centres.set_arrangements(runtime.engine, admin, runtime.policy, candidate, Arrangements(extra_time_percent=60, extra_time_reference="X"), NOW)
    centres.set_arrangements(runtime.engine, admin, runtime.policy, candidate, Arrangements(extra_time_percent=30, extra_time_reference="JCQ-123", rest_breaks=True), NOW)
    with Session(runtime.engine) as session:
        audit = session.exec(select(AuditRecord).where(AuditRecord.action == "arrangements_set")).one()
    assert audit.actor == "adm1" and audit.details["after"] == "30% extra time, rest breaks" and audit.details["reference"] == "JCQ-123"


def test_staff_of_another_centre_cannot_see_or_touch_this_centres_data(runtime, admin):
    from testengine.services.accounts import add_staff
    from testengine.services.demo import ensure_centre

    session_id = a_session(runtime, admin, NOW.date())
    candidate = centres.add_candidate(runtime.engine, admin, "I001", "Ida Isolated", NOW)
    other_centre = ensure_centre(runtime.engine, "C2", "Centre Two", NOW)
    outsider = add_staff(runtime.engine, "adm2", "Other admin", Role.CENTRE_ADMIN, "long-enough-password", NOW, other_centre)
    with pytest.raises(NotFound):
        centres.get_candidate(runtime.engine, outsider, candidate)
    with pytest.raises(NotFound):
        centres.book_candidate(runtime.engine, outsider, runtime.policy, runtime.catalogue, session_id, candidate, NOW, random.Random(1))
    assert centres.list_candidates(runtime.engine, outsider) == []
    assert centres.list_sessions(runtime.engine, outsider, runtime.catalogue) == []


def test_roles_limit_what_staff_may_do(runtime, admin):
    invigilator = Actor(99, "inv", Role.INVIGILATOR, admin.centre_id)
    writer = Actor(98, "writer", Role.ITEM_WRITER, None)
    with pytest.raises(Forbidden):
        centres.add_candidate(runtime.engine, invigilator, "Z1", "Zed", NOW)
    with pytest.raises(Forbidden):
        centres.list_sessions(runtime.engine, writer, runtime.catalogue)
    # An invigilator sees only the sessions they are named on.
    assert centres.list_sessions(runtime.engine, invigilator, runtime.catalogue) == []

"""What the awarding body's operators do from the command line: register a centre, open a
staff account of any role, set a new password for any account, and list the accounts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from testengine.domain.centres import Actor, Role
from testengine.domain.text import control_character_problem
from testengine.services.accounts import add_staff, set_password
from testengine.services.errors import InvalidInput, NotFound
from testengine.storage.centres import audit, find_centre, find_staff
from testengine.storage.tables import CentreRecord, StaffRecord

OPERATOR = "command line"
_CENTRE_CODE = re.compile(r"^[A-Z0-9]{2,16}$")


def add_centre(engine: Engine, code: str, name: str, now: datetime) -> int:
    code, name = code.strip().upper(), " ".join(name.split())
    problems = []
    if not _CENTRE_CODE.match(code):
        problems.append(f"centre code {code!r}: use 2-16 capital letters or digits, as the awarding body issued it")
    if not name or len(name) > 200 or control_character_problem("name", name):
        problems.append("name: give the centre's name (at most 200 characters)")
    if problems:
        raise InvalidInput(problems)
    with Session(engine) as session, session.begin():
        if find_centre(session, code) is not None:
            raise InvalidInput([f"centre code {code!r} is registered already"])
        record = CentreRecord(code=code, name=name, created_at=now)
        session.add(record)
        session.flush()
        assert record.id is not None
        audit(session, now, OPERATOR, "centre_added", code, {"name": name}, record.id)
        return record.id


def add_account(engine: Engine, username: str, display_name: str, role: str, password: str, centre_code: str | None,
                now: datetime) -> Actor:
    """Any role; centre staff at the centre with that code, writers and analysts at none."""
    if role not in {r.value for r in Role}:
        raise InvalidInput([f"role {role!r}: choose one of {', '.join(r.value for r in Role)}"])
    centre_id = None
    if centre_code:
        with Session(engine) as session:
            centre = find_centre(session, centre_code.strip().upper())
        if centre is None:
            raise NotFound(f"no centre with code {centre_code!r}: register it first with `testengine centre add`")
        centre_id = centre.id
    return add_staff(engine, username, display_name, Role(role), password, now, centre_id, OPERATOR)


def reset_password(engine: Engine, username: str, password: str, now: datetime) -> None:
    with Session(engine) as session, session.begin():
        record = find_staff(session, username.strip().lower())
        if record is None:
            raise NotFound(f"no staff account {username!r}")
        set_password(session, record, password, OPERATOR, now, "")


@dataclass(frozen=True)
class AccountLine:
    username: str
    display_name: str
    role: str
    centre: str
    active: bool


def list_accounts(engine: Engine) -> list[AccountLine]:
    with Session(engine) as session:
        centres = {c.id: c.code for c in session.exec(select(CentreRecord)).all()}
        records = session.exec(select(StaffRecord).order_by(col(StaffRecord.username))).all()
        return [AccountLine(r.username, r.display_name, r.role, centres.get(r.centre_id, "") if r.centre_id else "", r.active)
                for r in records]

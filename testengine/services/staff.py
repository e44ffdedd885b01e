"""A centre's staff accounts, kept by its administrators: who can sign in (administrators and
invigilators), adding one, setting a new password for one, closing and reopening one. Closing
an account or setting its password signs it out everywhere. An administrator cannot close
their own account (a centre is never left without one by accident) nor reset their own
password here (changing it asks for the current one: accounts.change_password). The
awarding body's operators do the same from the command line (services.operators)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from testengine.domain.centres import Actor, Role
from testengine.services.accounts import add_staff, set_password
from testengine.services.centres import require
from testengine.services.errors import InvalidInput, NotFound
from testengine.storage.centres import audit
from testengine.storage.tables import StaffRecord

CENTRE_ROLES = (Role.INVIGILATOR, Role.CENTRE_ADMIN)


@dataclass(frozen=True)
class StaffAccount:
    staff_id: int
    username: str
    display_name: str
    role: Role
    active: bool
    second_factor: bool
    created_at: datetime


def centre_staff(engine: Engine, actor: Actor) -> list[StaffAccount]:
    centre = require(actor, Role.CENTRE_ADMIN)
    with Session(engine) as session:
        records = session.exec(select(StaffRecord).where(StaffRecord.centre_id == centre).order_by(col(StaffRecord.username))).all()
        return [StaffAccount(r.id or 0, r.username, r.display_name, Role(r.role), r.active, r.totp_enabled, r.created_at)
                for r in records]


def add_centre_staff(
    engine: Engine, actor: Actor, username: str, display_name: str, role: str, password: str, now: datetime, client: str = ""
) -> Actor:
    """An invigilator or administrator account at the actor's centre."""
    centre = require(actor, Role.CENTRE_ADMIN)
    if role not in {r.value for r in CENTRE_ROLES}:
        raise InvalidInput([f"role: choose {' or '.join(r.label.lower() for r in CENTRE_ROLES)}"])
    return add_staff(engine, username, display_name, Role(role), password, now, centre, actor.username, client)


def set_active(engine: Engine, actor: Actor, staff_id: int, active: bool, now: datetime, client: str = "") -> None:
    require(actor, Role.CENTRE_ADMIN)
    if staff_id == actor.staff_id and not active:
        raise InvalidInput(["you cannot close your own account: another administrator of the centre can"])
    with Session(engine) as session, session.begin():
        record = _own_staff(session, actor, staff_id)
        if record.active != active:
            record.active = active
            record.session_version += 1
            audit(session, now, actor.username, "staff_reopened" if active else "staff_closed", record.username, {}, record.centre_id, client)


def reset_password(engine: Engine, actor: Actor, staff_id: int, password: str, now: datetime, client: str = "") -> None:
    """A new password for another account at the centre (one who has forgotten theirs)."""
    require(actor, Role.CENTRE_ADMIN)
    if staff_id == actor.staff_id:
        raise InvalidInput(["change your own password on the Password page: it asks for your current one"])
    with Session(engine) as session, session.begin():
        set_password(session, _own_staff(session, actor, staff_id), password, actor.username, now, client)


def _own_staff(session: Session, actor: Actor, staff_id: int) -> StaffRecord:
    record = session.get(StaffRecord, staff_id)
    if record is None or record.centre_id != actor.centre_id:
        raise NotFound("no such staff account")
    return record

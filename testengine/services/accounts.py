"""Staff accounts: passwords hashed with Argon2, sign-in rate-limited, sign-out made real.

A failed sign-in never says whether the account exists. Sign-out and revocation raise the
account's session version, which every signed cookie carries, so old cookies stop working.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from testengine.domain.centres import Actor, Role
from testengine.storage.centres import audit, failed_logins_since, find_staff, record_failed_login
from testengine.storage.sitting_events import aware
from testengine.storage.tables import StaffRecord

_hasher = PasswordHasher()
# Verified against when the username is unknown, so that the answer takes as long either way.
_UNKNOWN = _hasher.hash("no such account")

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_CLIENT = 30
MIN_PASSWORD_LENGTH = 10


class SignInRefused(Exception):
    pass


@dataclass(frozen=True)
class SignedIn:
    actor: Actor
    session_version: int


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def actor_of(record: StaffRecord) -> Actor:
    assert record.id is not None
    return Actor(record.id, record.username, Role(record.role), record.centre_id)


def add_staff(
    engine: Engine, username: str, display_name: str, role: Role, password: str, now: datetime, centre_id: int | None = None
) -> Actor:
    username = username.strip().lower()
    if not username or len(username) > 64:
        raise ValueError("a username is 1-64 characters")
    if role.belongs_to_centre and centre_id is None:
        raise ValueError(f"{role.label} accounts belong to a centre")
    with Session(engine) as session, session.begin():
        if find_staff(session, username) is not None:
            raise ValueError(f"the username {username!r} is taken")
        record = StaffRecord(
            username=username, display_name=display_name, role=role.value, centre_id=centre_id,
            password_hash=hash_password(password), created_at=now,
        )
        session.add(record)
        session.flush()
        audit(session, now, "system", "staff_added", username, {"role": role.value}, centre_id)
        return actor_of(record)


def sign_in(engine: Engine, username: str, password: str, now: datetime, client: str) -> SignedIn:
    """A refusal is raised after the transaction commits, so the failed attempt is counted."""
    with Session(engine) as session, session.begin():
        outcome = _sign_in(session, username.strip().lower(), password, now, client)
    if isinstance(outcome, SignInRefused):
        raise outcome
    return outcome


def _sign_in(session: Session, username: str, password: str, now: datetime, client: str) -> SignedIn | SignInRefused:
    keys = [f"staff:{username}", f"client:{client}"]
    since = now - WINDOW
    by_account = failed_logins_since(session, keys[0], since)
    by_client = failed_logins_since(session, keys[1], since)
    if len(by_account) >= MAX_FAILURES_PER_ACCOUNT or len(by_client) >= MAX_FAILURES_PER_CLIENT:
        recent = by_account if len(by_account) >= MAX_FAILURES_PER_ACCOUNT else by_client
        wait = max(1, math.ceil((min(aware(t) for t in recent) + WINDOW - now).total_seconds() / 60))
        return SignInRefused(f"Too many failed sign-ins. Try again in {wait} minute{'s' if wait > 1 else ''}.")
    record = find_staff(session, username)
    try:
        _hasher.verify(record.password_hash if record else _UNKNOWN, password)
        ok = record is not None and record.active
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or record is None:
        record_failed_login(session, keys, now)
        return SignInRefused("Sign-in failed. Check the username and password.")
    if _hasher.check_needs_rehash(record.password_hash):
        record.password_hash = _hasher.hash(password)
    audit(session, now, record.username, "signed_in", record.username, {}, record.centre_id, client)
    return SignedIn(actor_of(record), record.session_version)


def current_actor(engine: Engine, staff_id: int, session_version: int) -> Actor | None:
    """The actor a cookie names, if the account is active and the cookie not signed out."""
    with Session(engine) as session:
        record = session.get(StaffRecord, staff_id)
        if record is None or not record.active or record.session_version != session_version:
            return None
        return actor_of(record)


def sign_out(engine: Engine, staff_id: int, now: datetime, client: str) -> None:
    """End every session of the account: cookies signed with the old version no longer work."""
    with Session(engine) as session, session.begin():
        record = session.get(StaffRecord, staff_id)
        if record is not None:
            record.session_version += 1
            audit(session, now, record.username, "signed_out", record.username, {}, record.centre_id, client)

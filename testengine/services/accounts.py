"""Staff accounts: passwords hashed with Argon2, sign-in rate-limited, sign-out made real, and
an optional second factor for administrators.

A failed sign-in never says whether the account exists. Sign-out and revocation raise the
account's session version, which every signed cookie carries, so old cookies stop working.

Second factor: an administrator may add time-based codes (RFC 6238, any authenticator app).
Then a right password only asks for the code; the code is checked with one 30-second step of
clock drift either way, failures count towards the same rate limit, and no code works twice.
"""

from __future__ import annotations

import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from testengine.domain.centres import Actor, Role
from testengine.services.errors import Forbidden, InvalidInput
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


@dataclass(frozen=True)
class CodeNeeded:
    """The password was right; the account's second factor is asked for next."""

    staff_id: int
    session_version: int


ISSUER = "testengine"


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


def sign_in(engine: Engine, username: str, password: str, now: datetime, client: str) -> SignedIn | CodeNeeded:
    """A refusal is raised after the transaction commits, so the failed attempt is counted."""
    with Session(engine) as session, session.begin():
        outcome = _sign_in(session, username.strip().lower(), password, now, client)
    if isinstance(outcome, SignInRefused):
        raise outcome
    return outcome


def _throttled(session: Session, keys: list[str], now: datetime) -> SignInRefused | None:
    since = now - WINDOW
    by_account = failed_logins_since(session, keys[0], since)
    by_client = failed_logins_since(session, keys[1], since)
    if len(by_account) >= MAX_FAILURES_PER_ACCOUNT or len(by_client) >= MAX_FAILURES_PER_CLIENT:
        recent = by_account if len(by_account) >= MAX_FAILURES_PER_ACCOUNT else by_client
        wait = max(1, math.ceil((min(aware(t) for t in recent) + WINDOW - now).total_seconds() / 60))
        return SignInRefused(f"Too many failed sign-ins. Try again in {wait} minute{'s' if wait > 1 else ''}.")
    return None


def _sign_in(session: Session, username: str, password: str, now: datetime, client: str) -> SignedIn | CodeNeeded | SignInRefused:
    keys = [f"staff:{username}", f"client:{client}"]
    throttled = _throttled(session, keys, now)
    if throttled is not None:
        return throttled
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
    if record.totp_enabled:
        assert record.id is not None
        return CodeNeeded(record.id, record.session_version)
    audit(session, now, record.username, "signed_in", record.username, {}, record.centre_id, client)
    return SignedIn(actor_of(record), record.session_version)


def sign_in_with_code(engine: Engine, pending: CodeNeeded, code: str, now: datetime, client: str) -> SignedIn:
    """The second step: the code from the account's authenticator, after the right password."""
    with Session(engine) as session, session.begin():
        outcome = _check_code(session, pending, code, now, client)
    if isinstance(outcome, SignInRefused):
        raise outcome
    return outcome


def _check_code(session: Session, pending: CodeNeeded, code: str, now: datetime, client: str) -> SignedIn | SignInRefused:
    record = session.get(StaffRecord, pending.staff_id)
    if record is None or not record.active or record.session_version != pending.session_version or not record.totp_enabled:
        return SignInRefused("Sign in again with your username and password.")
    keys = [f"staff:{record.username}", f"client:{client}"]
    throttled = _throttled(session, keys, now)
    if throttled is not None:
        return throttled
    step = _matching_step(record.totp_secret or "", code, now)
    if step is None or (record.totp_last_step is not None and step <= record.totp_last_step):
        record_failed_login(session, keys, now)
        return SignInRefused("That code is not right, or has been used. Enter the current code from your authenticator app.")
    record.totp_last_step = step
    audit(session, now, record.username, "signed_in", record.username, {"second_factor": True}, record.centre_id, client)
    return SignedIn(actor_of(record), record.session_version)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The 30-second step the code belongs to, allowing one step of drift either way."""
    code = "".join(code.split())
    if not secret or not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    step = int(now.timestamp()) // totp.interval
    for candidate in (step, step - 1, step + 1):
        if hmac.compare_digest(totp.at(candidate * totp.interval), code):
            return candidate
    return None


def start_second_factor(engine: Engine, actor: Actor, now: datetime) -> str:
    """A new secret for the administrator's authenticator app; returns its otpauth:// URI. It
    is not in force until a code from it is confirmed."""
    if actor.role is not Role.CENTRE_ADMIN:
        raise Forbidden("the second factor is for administrators' accounts")
    secret = pyotp.random_base32()
    with Session(engine) as session, session.begin():
        record = session.get(StaffRecord, actor.staff_id)
        assert record is not None
        if record.totp_enabled:
            raise InvalidInput(["the second factor is already on: turn it off first to set up a new one"])
        record.totp_secret, record.totp_last_step = secret, None
        audit(session, now, actor.username, "second_factor_started", actor.username, {}, actor.centre_id)
    return pyotp.TOTP(secret).provisioning_uri(name=actor.username, issuer_name=ISSUER)


def confirm_second_factor(engine: Engine, actor: Actor, code: str, now: datetime) -> None:
    with Session(engine) as session, session.begin():
        record = session.get(StaffRecord, actor.staff_id)
        assert record is not None
        step = _matching_step(record.totp_secret or "", code, now)
        if record.totp_enabled or step is None:
            raise InvalidInput(["that code does not match: enter the 6 digits your authenticator app shows now"])
        record.totp_enabled, record.totp_last_step = True, step
        audit(session, now, actor.username, "second_factor_on", actor.username, {}, actor.centre_id)


def turn_off_second_factor(engine: Engine, actor: Actor, code: str, now: datetime) -> None:
    with Session(engine) as session, session.begin():
        record = session.get(StaffRecord, actor.staff_id)
        assert record is not None
        step = _matching_step(record.totp_secret or "", code, now)
        if not record.totp_enabled or step is None or (record.totp_last_step is not None and step <= record.totp_last_step):
            raise InvalidInput(["that code does not match: enter the 6 digits your authenticator app shows now"])
        record.totp_enabled, record.totp_secret, record.totp_last_step = False, None, None
        audit(session, now, actor.username, "second_factor_off", actor.username, {}, actor.centre_id)


def second_factor_on(engine: Engine, actor: Actor) -> bool:
    with Session(engine) as session:
        record = session.get(StaffRecord, actor.staff_id)
        return bool(record and record.totp_enabled)


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

"""Staff accounts: passwords hashed with Argon2 and held to services.passwords, sign-in
rate-limited, sign-out made real, and an optional second factor for administrators.

Changing or resetting a password signs the account out everywhere else.

A failed sign-in never says whether the account exists. Sign-out and revocation raise the
account's session version, which every signed cookie carries, so old cookies stop working.

Second factor: an administrator may add time-based codes (RFC 6238, any authenticator app).
Then a right password only asks for the code; the code is checked with one 30-second step of
clock drift either way, failures count towards the same rate limit, and no code works twice.
"""

from __future__ import annotations

import hmac
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from testengine.domain.centres import Actor, Role
from testengine.domain.text import control_character_problem
from testengine.services.errors import Forbidden, InvalidInput
from testengine.services.passwords import password_problems
from testengine.storage.centres import audit, failed_logins_since, find_staff, record_failed_login
from testengine.storage.sitting_events import aware
from testengine.storage.tables import StaffRecord

_hasher = PasswordHasher()
# Verified against when the username is unknown, so that the answer takes as long either way.
_UNKNOWN = _hasher.hash("no such account")

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_CLIENT = 30


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


def actor_of(record: StaffRecord) -> Actor:
    assert record.id is not None
    return Actor(record.id, record.username, Role(record.role), record.centre_id)


_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def add_staff(
    engine: Engine, username: str, display_name: str, role: Role, password: str, now: datetime, centre_id: int | None = None,
    by: str = "system", client: str = "",
) -> Actor:
    """A new account; InvalidInput with every reason it cannot be made."""
    username, display_name = username.strip().lower(), " ".join(display_name.split())
    problems = []
    if not _USERNAME.match(username):
        problems.append(f"username {username!r}: use 1-64 lower-case letters, digits, dots, dashes or underscores")
    if not display_name or len(display_name) > 200 or control_character_problem("name", display_name):
        problems.append("name: give the person's name (at most 200 characters)")
    if role.belongs_to_centre != (centre_id is not None):
        problems.append(f"{role.label} accounts {'belong to a centre' if role.belongs_to_centre else 'do not belong to a centre'}")
    problems += [f"password: {p}" for p in password_problems(password, username, display_name)]
    if problems:
        raise InvalidInput(problems)
    with Session(engine) as session, session.begin():
        if find_staff(session, username) is not None:
            raise InvalidInput([f"username {username!r} is taken: choose another"])
        record = StaffRecord(
            username=username, display_name=display_name, role=role.value, centre_id=centre_id,
            password_hash=_hasher.hash(password), created_at=now,
        )
        session.add(record)
        session.flush()
        audit(session, now, by, "staff_added", username, {"role": role.value}, centre_id, client)
        return actor_of(record)


def change_password(engine: Engine, actor: Actor, current: str, new: str, now: datetime, client: str) -> SignedIn:
    """The account's own change: the current password first (a wrong one counts towards the
    sign-in limit), then the new one against the policy. Every other session is signed out;
    the returned version is for this browser's new cookie. InvalidInput, raised after the
    commit so that a wrong current password is counted, says what is wrong."""
    with Session(engine) as session, session.begin():
        record = session.get(StaffRecord, actor.staff_id)
        assert record is not None
        keys = [f"staff:{record.username}", f"client:{client}"]
        throttled = _throttled(session, keys, now)
        problems = [str(throttled)] if throttled else []
        if not problems:
            try:
                _hasher.verify(record.password_hash, current)
            except (VerificationError, InvalidHashError):
                record_failed_login(session, keys, now)
                problems = ["current password: that is not the account's current password"]
        if not problems:
            problems = [f"new password: {p}" for p in password_problems(new, record.username, record.display_name)]
            if new == current:
                problems.append("new password: choose one different from the current password")
        if not problems:
            record.password_hash = _hasher.hash(new)
            record.session_version += 1
            audit(session, now, record.username, "password_changed", record.username, {}, record.centre_id, client)
        version = record.session_version
    if problems:
        raise InvalidInput(problems)
    return SignedIn(actor, version)


def set_password(session: Session, record: StaffRecord, password: str, by: str, now: datetime, client: str) -> None:
    """Someone else sets the account's password (an administrator, an operator): held to the
    policy, and the account signed out everywhere."""
    problems = password_problems(password, record.username, record.display_name)
    if problems:
        raise InvalidInput([f"password: {p}" for p in problems])
    record.password_hash = _hasher.hash(password)
    record.session_version += 1
    audit(session, now, by, "password_reset", record.username, {}, record.centre_id, client)


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

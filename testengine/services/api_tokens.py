"""Centres' tokens for the JSON API: made and revoked by the centre's administrators, each
acting for its centre with an administrator's rights (every change it makes is audited under
"api:<token name>"). Only a SHA-256 of a token is kept: tokens are 256 random bits, so a slow
hash would add nothing."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from testengine.domain.centres import Actor, Role
from testengine.services.centres import require
from testengine.services.errors import InvalidInput, NotFound
from testengine.storage.centres import audit
from testengine.storage.tables import ApiTokenRecord

PREFIX = "te_"


@dataclass(frozen=True)
class TokenSummary:
    token_id: int
    name: str
    prefix: str
    created_by: str
    created_at: datetime
    revoked: bool


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(engine: Engine, actor: Actor, name: str, now: datetime) -> str:
    """A new token for the actor's centre; returned once, never stored."""
    centre = require(actor, Role.CENTRE_ADMIN)
    name = " ".join(name.split())
    if not 1 <= len(name) <= 100:
        raise InvalidInput(["name: say what the token is for (at most 100 characters), e.g. the MIS's name"])
    token = PREFIX + secrets.token_urlsafe(32)
    with Session(engine) as session, session.begin():
        session.add(ApiTokenRecord(centre_id=centre, name=name, token_hash=_digest(token), prefix=token[:10], created_by=actor.username,
                                   created_at=now))
        audit(session, now, actor.username, "api_token_made", name, {"prefix": token[:10]}, centre)
    return token


def list_tokens(engine: Engine, actor: Actor) -> list[TokenSummary]:
    centre = require(actor, Role.CENTRE_ADMIN)
    with Session(engine) as session:
        records = session.exec(select(ApiTokenRecord).where(ApiTokenRecord.centre_id == centre).order_by(col(ApiTokenRecord.id)))
        return [TokenSummary(r.id or 0, r.name, r.prefix, r.created_by, r.created_at, r.revoked_at is not None) for r in records]


def revoke_token(engine: Engine, actor: Actor, token_id: int, now: datetime) -> None:
    centre = require(actor, Role.CENTRE_ADMIN)
    with Session(engine) as session, session.begin():
        record = session.get(ApiTokenRecord, token_id)
        if record is None or record.centre_id != centre:
            raise NotFound("no such token")
        if record.revoked_at is None:
            record.revoked_at = now
            session.add(record)
            audit(session, now, actor.username, "api_token_revoked", record.name, {"prefix": record.prefix}, centre)


def actor_for_token(engine: Engine, token: str) -> Actor | None:
    """Who a request with this token acts as, or None for an unknown or revoked token."""
    if not token.startswith(PREFIX) or len(token) > 100:
        return None
    with Session(engine) as session:
        record = session.exec(select(ApiTokenRecord).where(ApiTokenRecord.token_hash == _digest(token))).first()
        if record is None or record.revoked_at is not None:
            return None
        return Actor(0, f"api:{record.name}"[:64], Role.CENTRE_ADMIN, record.centre_id)

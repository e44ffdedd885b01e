"""Item sets: a scenario and the items written on it, edited together. A set is delivered whole,
so its items move through review together; a scenario candidates have read never changes (the
frozen versions keep it), so a set with a live item, or one candidates may have seen, keeps its
scenario: write a new set instead."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from testengine.domain.centres import Actor
from testengine.domain.items import Item, ItemSet, ItemStatus
from testengine.services.authoring import require_writer
from testengine.services.catalogue import Catalogue
from testengine.services.errors import InvalidInput, NotFound
from testengine.storage import bank_items as store
from testengine.storage.centres import audit

_SET_ID = re.compile(r"^U[0-9]+-SET-[0-9]{2,3}$")


@dataclass(frozen=True)
class SetView:
    item_set: ItemSet
    items: tuple[Item, ...]  # the latest version of each member
    locked: str  # why the scenario may not change ("" if it may)


def view(engine: Engine, actor: Actor, set_id: str) -> SetView:
    require_writer(actor)
    with Session(engine) as session:
        found = store.item_set(session, set_id)
        if found is None:
            raise NotFound(f"no item set {set_id!r}")
        members = _members(session, found)
        return SetView(found, members, _locked(session, members))


def sets_of(engine: Engine, actor: Actor, catalogue: Catalogue, unit: int) -> list[SetView]:
    require_writer(actor)
    number = catalogue.unit(unit).number
    with Session(engine) as session:
        return [SetView(s, members, _locked(session, members)) for s in store.item_sets_of(session, number)
                for members in [_members(session, s)]]


def save(
    engine: Engine, actor: Actor, catalogue: Catalogue, unit: int, set_id: str | None, title: str, scenario: str, now: datetime
) -> ItemSet:
    """Create a set (set_id None: the unit's next set id) or change its title and scenario."""
    by = require_writer(actor)
    number = catalogue.unit(unit).number
    title, scenario = " ".join(title.split()), scenario.strip()
    problems = []
    if not title:
        problems.append("title: give the set a title")
    if not scenario:
        problems.append("scenario: write the scenario the items are about")
    with Session(engine) as session, session.begin():
        if set_id is None:
            set_id = store.next_set_id(session, number)
        elif not _SET_ID.match(set_id):
            problems.append(f"set id {set_id!r}: use U<unit>-SET-<number>, e.g. U{number}-SET-04")
        held = store.item_set(session, set_id)
        if held is not None:
            locked = _locked(session, _members(session, held))
            if locked and scenario != held.scenario:
                problems.append(f"the scenario cannot change: {locked}; write a new set instead")
        if problems:
            raise InvalidInput(problems)
        saved = ItemSet(set_id, title, scenario, number)
        store.save_item_set(session, saved, by, now)
        store.bump_revision(session, number)
        audit(session, now, by, "item_set.saved", set_id, {"new": held is None})
    return saved


def _members(session: Session, item_set: ItemSet) -> tuple[Item, ...]:
    latest: dict[str, Item] = {}
    for record in store.unit_records(session, item_set.unit):
        if record.content.get("item_set") == item_set.id:
            latest[record.item_id] = store.item_of(record)
    return tuple(latest[i] for i in sorted(latest))


def _locked(session: Session, members: tuple[Item, ...]) -> str:
    for item in members:
        for record in store.versions_of(session, item.id):
            if record.status == ItemStatus.LIVE.value:
                return f"{item.id} v{record.version} is live"
            if store.was_presented(session, item.id, record.version):
                return f"candidates may have seen {item.id} v{record.version}"
    return ""

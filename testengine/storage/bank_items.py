"""The item bank in the database: item versions as written, item sets, the review trail, and
each unit's bank revision (see tables.BankItemRecord)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from datetime import datetime

from sqlmodel import Session, col, select

from testengine.domain.banks import Bank
from testengine.domain.items import Item, ItemSet, ItemStatus
from testengine.storage.item_records import item_from_json, item_to_json
from testengine.storage.tables import (
    BankItemRecord,
    BankItemSetRecord,
    BankRevisionRecord,
    ItemTransitionRecord,
    ItemVersionRecord,
)

SEEDED_BY = "shipped bank"


def files_digest(bank: Bank) -> str:
    """What the shipped files held: every item and item set, in order."""
    document = {
        "items": [item_to_json(i) for i in bank.items],
        "sets": [{"id": s.id, "title": s.title, "scenario": s.scenario} for s in bank.item_sets],
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def bank_revision(session: Session, unit: int) -> int:
    """0 while the database holds exactly the shipped files (or nothing yet)."""
    record = session.get(BankRevisionRecord, unit)
    return record.revision if record else 0


def bump_revision(session: Session, unit: int) -> int:
    record = session.get(BankRevisionRecord, unit)
    if record is None:
        raise LookupError(f"unit {unit}'s bank is not in the database yet")
    record.revision += 1
    session.add(record)
    return record.revision


def seed_bank(session: Session, bank: Bank, now: datetime) -> bool:
    """Put the shipped bank in the database, unless the database's bank has been changed since.

    The first time, every item and item set goes in, as revision 0. While the revision is
    still 0 (nothing changed in the engine), changed files replace what is there: they are
    still the source. Returns whether anything was written."""
    unit = bank.unit.number
    digest = files_digest(bank)
    record = session.get(BankRevisionRecord, unit)
    if record is not None and (record.revision > 0 or record.files_digest == digest):
        return False
    if record is not None:
        for old in session.exec(select(BankItemRecord).where(BankItemRecord.unit == unit)):
            session.delete(old)
        for old_set in session.exec(select(BankItemSetRecord).where(BankItemSetRecord.unit == unit)):
            session.delete(old_set)
        session.flush()
    for item in bank.items:
        session.add(_record(item, SEEDED_BY, now))
    for item_set in bank.item_sets:
        session.add(BankItemSetRecord(set_id=item_set.id, unit=unit, title=item_set.title, scenario=item_set.scenario,
                                      updated_by=SEEDED_BY, updated_at=now))
    if record is None:
        record = BankRevisionRecord(unit=unit, revision=0, files_digest=digest, seeded_at=now)
    record.files_digest, record.seeded_at = digest, now
    session.add(record)
    return True


def _record(item: Item, by: str, now: datetime) -> BankItemRecord:
    return BankItemRecord(item_id=item.id, version=item.version, unit=item.unit, status=item.status.value,
                          content=item_to_json(item), created_by=by, updated_at=now)


def versions_of(session: Session, item_id: str) -> list[BankItemRecord]:
    """Every version of the item, oldest first."""
    return list(session.exec(select(BankItemRecord).where(BankItemRecord.item_id == item_id).order_by(col(BankItemRecord.version))))


def latest_version(session: Session, item_id: str) -> BankItemRecord | None:
    found = versions_of(session, item_id)
    return found[-1] if found else None


def add_version(session: Session, item: Item, by: str, now: datetime) -> BankItemRecord:
    record = _record(item, by, now)
    session.add(record)
    return record


def rewrite_version(record: BankItemRecord, item: Item, now: datetime) -> None:
    """A version never put on a form, changed in place (its writer stays its author)."""
    record.content, record.status, record.updated_at = item_to_json(item), item.status.value, now


def set_status(session: Session, record: BankItemRecord, status: ItemStatus, now: datetime) -> None:
    record.status = status.value
    record.content = {**record.content, "status": status.value}
    record.updated_at = now
    session.add(record)


def item_of(record: BankItemRecord) -> Item:
    return item_from_json(record.content)


def was_presented(session: Session, item_id: str, version: int) -> bool:
    """Whether candidates may have seen this version: it has been put on a form."""
    return session.get(ItemVersionRecord, (item_id, version)) is not None


def add_transition(
    session: Session, item_id: str, version: int, before: ItemStatus, after: ItemStatus, comment: str, by: str, now: datetime
) -> None:
    session.add(ItemTransitionRecord(item_id=item_id, version=version, from_status=before.value, to_status=after.value,
                                     comment=comment, by=by, at=now))


def transitions_of(session: Session, item_id: str) -> list[ItemTransitionRecord]:
    return list(session.exec(
        select(ItemTransitionRecord).where(ItemTransitionRecord.item_id == item_id).order_by(col(ItemTransitionRecord.id))
    ))


def next_item_id(session: Session, unit: int) -> str:
    """The next free id of the unit: U<unit>-<4 digits>, one above the highest in use."""
    ids = session.exec(select(BankItemRecord.item_id).where(BankItemRecord.unit == unit)).all()
    pattern = re.compile(rf"^U{unit}-([0-9]{{4}})$")
    numbers = [int(m.group(1)) for m in (pattern.match(i) for i in ids) if m]
    return f"U{unit}-{max(numbers, default=0) + 1:04d}"


def item_sets_of(session: Session, unit: int) -> list[ItemSet]:
    records = session.exec(select(BankItemSetRecord).where(BankItemSetRecord.unit == unit).order_by(col(BankItemSetRecord.set_id)))
    return [ItemSet(r.set_id, r.title, r.scenario, r.unit) for r in records]


def save_item_set(session: Session, item_set: ItemSet, by: str, now: datetime) -> None:
    record = session.get(BankItemSetRecord, item_set.id)
    if record is None:
        record = BankItemSetRecord(set_id=item_set.id, unit=item_set.unit, title=item_set.title, scenario=item_set.scenario,
                                   updated_by=by, updated_at=now)
    else:
        record.title, record.scenario, record.updated_by, record.updated_at = item_set.title, item_set.scenario, by, now
    session.add(record)


def bank_from_database(session: Session, bank: Bank) -> Bank:
    """The unit's bank as the database holds it, on the specification of `bank`: for each item,
    its live version if it has one (what assembly uses), else its latest version."""
    unit = bank.unit.number
    chosen: dict[str, BankItemRecord] = {}
    for record in session.exec(select(BankItemRecord).where(BankItemRecord.unit == unit).order_by(col(BankItemRecord.version))):
        held = chosen.get(record.item_id)
        if held is None or held.status != ItemStatus.LIVE.value or record.status == ItemStatus.LIVE.value:
            chosen[record.item_id] = record
    items = tuple(item_of(chosen[item_id]) for item_id in sorted(chosen))
    return replace(bank, items=items, item_sets=tuple(item_sets_of(session, unit)))


def unit_records(session: Session, unit: int) -> list[BankItemRecord]:
    """Every version of every item of the unit, by item and then version."""
    return list(session.exec(
        select(BankItemRecord).where(BankItemRecord.unit == unit).order_by(col(BankItemRecord.item_id), col(BankItemRecord.version))
    ))


def item_set(session: Session, set_id: str) -> ItemSet | None:
    record = session.get(BankItemSetRecord, set_id)
    return ItemSet(record.set_id, record.title, record.scenario, record.unit) if record else None


def next_set_id(session: Session, unit: int) -> str:
    """The unit's next set id: U<unit>-SET-<two digits or more>, one above the highest."""
    ids = session.exec(select(BankItemSetRecord.set_id).where(BankItemSetRecord.unit == unit)).all()
    pattern = re.compile(rf"^U{unit}-SET-([0-9]+)$")
    numbers = [int(m.group(1)) for m in (pattern.match(i) for i in ids) if m]
    return f"U{unit}-SET-{max(numbers, default=0) + 1:02d}"

"""The frozen copy of every item version that has been put on a form."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from testengine.domain.items import Item
from testengine.domain.problems import DataError, Problem
from testengine.storage.frozen import Frozen
from testengine.storage.item_records import content_digest, item_from_json, item_to_json
from testengine.storage.tables import ItemVersionRecord


def keep_versions(session: Session, items: Iterable[Item], now: datetime, scenarios: dict[str, str] | None = None) -> None:
    """Store each version once; refuse a version whose content changed without a new number.

    Candidates were shown the stored text (with its item set's scenario) and are marked
    against the stored key, so the same id and version must always mean the same content.
    """
    scenarios = scenarios or {}
    items = list(items)
    ids = [i.id for i in items]
    stored = {
        (r.item_id, r.version): r
        for r in session.exec(select(ItemVersionRecord).where(col(ItemVersionRecord.item_id).in_(ids)))
    }
    problems = []
    # In one order everywhere: two Starts storing the same new versions in their forms' orders
    # deadlocked on PostgreSQL (each waiting for the other's insert), found by the scale benchmark.
    for item in sorted(items, key=lambda i: i.ref):
        data = item_to_json(item)
        if item.item_set:
            data["scenario"] = scenarios.get(item.item_set, "")
        digest = content_digest(data)
        record = stored.get(item.ref)
        if record is None:
            # Another server process may be storing the same version for another candidate at
            # this moment: insert unless it is there, then compare with what is there.
            table = ItemVersionRecord.__table__  # type: ignore[attr-defined]
            insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
            session.execute(insert(table).values(
                item_id=item.id, version=item.version, unit=item.unit, digest=digest, content=data, stored_at=now,
            ).on_conflict_do_nothing(index_elements=[table.c.item_id, table.c.version]))
            record = session.get(ItemVersionRecord, item.ref, populate_existing=True)
            assert record is not None
        if record.digest != digest:
            problems.append(
                Problem.at(
                    item.source,
                    f"version {item.version} has already been put on a form with different content: "
                    f"give the changed item version {item.version + 1}",
                    item.id,
                )
            )
    if problems:
        raise DataError(problems)


def load_scenarios(session: Session, refs: Iterable[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """The item-set scenario each stored version was shown with ("" for items outside a set)."""
    wanted = set(refs)
    ids = {item_id for item_id, _ in wanted}
    records = session.exec(select(ItemVersionRecord).where(col(ItemVersionRecord.item_id).in_(ids)))
    return {(r.item_id, r.version): r.content.get("scenario", "") for r in records if (r.item_id, r.version) in wanted}


_versions: Frozen[tuple[str, int], Item] = Frozen(50_000)


def load_versions(source: Session | Connection, refs: Iterable[tuple[str, int]]) -> dict[tuple[str, int], Item]:
    wanted = set(refs)
    found: dict[tuple[str, int], Item] = {}
    for ref in wanted:
        cached = _versions.get(source, ref)
        if cached is not None:
            found[ref] = cached
    ids = {item_id for item_id, _ in wanted - found.keys()}
    if ids:
        session = source if isinstance(source, Session) else Session(bind=source)
        for r in session.exec(select(ItemVersionRecord).where(col(ItemVersionRecord.item_id).in_(ids))):
            ref = (r.item_id, r.version)
            if ref in wanted:
                found[ref] = item_from_json(r.content)
                _versions.put(source, ref, found[ref])
    missing = wanted - found.keys()
    if missing:
        raise LookupError(f"item versions not stored: {sorted(missing)}")
    return found

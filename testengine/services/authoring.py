"""Item writers at work on the bank in the database: drafting and revising items, the review
workflow, and the versions candidates saw.

Workflow: draft -> in review -> approved -> live -> retired, with comments at each step; a
reviewer may send an item in review back to draft, and an approved one may go back to draft.
An author cannot approve their own version. Going live needs the lint checks to pass (no
errors; warnings are shown and accepted). Every change of status is in the item's trail and the
audit log, with who and when.

Versioning: a version that has been put on a form is never changed. Editing it (or a live or
retired version) makes the next version, a draft; the old one stays exactly as candidates saw
it, and responses, statistics and re-marking keep pointing to it. When a new version goes live,
the version live before it is retired.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from testengine.domain.banks import Bank, bank_problems
from testengine.domain.centres import Actor, Role
from testengine.domain.item_writing import LintPolicy, Severity
from testengine.domain.items import Item, ItemStatus
from testengine.services.catalogue import Catalogue
from testengine.services.errors import Forbidden, InvalidInput, NotFound
from testengine.services.lint import lint_bank
from testengine.storage import bank_items as store
from testengine.storage.bank_files import item_from_raw
from testengine.storage.centres import audit
from testengine.storage.item_decisions import decisions_in_force
from testengine.storage.item_records import item_to_json
from testengine.storage.tables import BankItemRecord

# Allowed moves, and whether the move needs a comment.
MOVES: dict[tuple[ItemStatus, ItemStatus], bool] = {
    (ItemStatus.DRAFT, ItemStatus.IN_REVIEW): False,
    (ItemStatus.IN_REVIEW, ItemStatus.DRAFT): True,  # sent back: say what to change
    (ItemStatus.IN_REVIEW, ItemStatus.APPROVED): False,
    (ItemStatus.APPROVED, ItemStatus.DRAFT): True,
    (ItemStatus.APPROVED, ItemStatus.LIVE): False,
    (ItemStatus.LIVE, ItemStatus.RETIRED): True,
}
FIELDS = (
    "learning_outcome", "criterion", "amplification", "type", "stem", "options", "premises", "key", "marks", "scoring",
    "expected_seconds", "facility", "angoff", "enemies", "item_set", "fixed_option_order", "cognitive_level", "author", "rationale",
)


def require_writer(actor: Actor) -> str:
    if actor.role is not Role.ITEM_WRITER:
        raise Forbidden("only item writers work on the bank")
    return actor.username


@dataclass(frozen=True)
class VersionView:
    item: Item
    created_by: str
    presented: bool  # put on a form: candidates may have seen it, it never changes


@dataclass(frozen=True)
class ItemHistory:
    versions: tuple[VersionView, ...]  # oldest first
    trail: tuple[tuple[int, str, str, str, str, datetime], ...]  # version, from, to, comment, by, at

    @property
    def latest(self) -> VersionView:
        return self.versions[-1]


def _trial_bank(session: Session, catalogue: Catalogue, item: Item) -> Bank:
    """The unit's bank as the database holds it, with this item in place of its other versions."""
    bank = store.bank_from_database(session, catalogue.unit(item.unit).bank)
    return replace(bank, items=tuple(i for i in bank.items if i.id != item.id) + (item,))


def check_draft(session: Session, catalogue: Catalogue, item: Item) -> list[str]:
    """Every rule the item breaks on its own and in its unit's bank (as `bank validate`)."""
    return [p.reason for p in bank_problems(_trial_bank(session, catalogue, item)) if p.item_id == item.id]


def lint_findings(session: Session, catalogue: Catalogue, policy: LintPolicy, item: Item) -> list[tuple[str, str]]:
    """The `bank lint` checks that concern this item, in its unit's bank as the database holds
    it (so near-duplicate stems among the other items count): (severity, message)."""
    found = []
    for f in lint_bank(_trial_bank(session, catalogue, item), policy).findings:
        if f.item_id == item.id:
            found.append((f.severity.value, f.message))
        elif f.rule == "near-duplicate" and f"{item.id}'s" in f.message:  # reported on the other item of the pair
            found.append((f.severity.value, f"{f.item_id}: {f.message}"))
    return found


def lint_in_bank(engine: Engine, catalogue: Catalogue, policy: LintPolicy, item: Item) -> list[tuple[str, str]]:
    with Session(engine) as session:
        return lint_findings(session, catalogue, policy, item)


def key_from_text(kind: str, text: str) -> tuple[Any, list[str]]:
    """The key as writers type it (editor and spreadsheets) in the file's shape: single "b";
    multiple "a, c"; ordering "c, a, d, b"; matching "p1=a, p2=c"."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if kind == "matching":
        problems = [] if all("=" in p for p in parts) else [
            f"key: a matching key pairs each term with an option, e.g. p1=a, p2=c (got {text.strip()!r})"]
        return {p.split("=", 1)[0].strip(): p.split("=", 1)[1].strip() for p in parts if "=" in p}, problems
    if kind in ("multiple", "ordering"):
        return parts, []
    return text.strip(), []


def parse_item(data: dict[str, Any], item_id: str, version: int, unit: int, status: ItemStatus) -> Item:
    """An item from the authoring form's fields (the YAML file's shape), or InvalidInput naming each field."""
    raw = {name: data[name] for name in FIELDS if name in data}
    raw.update(id=item_id, version=version, unit=unit, status=status.value)
    raw.setdefault("premises", [])
    raw.setdefault("enemies", [])
    item, problems = item_from_raw(raw, "the item form")
    if item is None:
        raise InvalidInput([p.reason for p in problems])
    return replace(item, source=None)


def create_item(engine: Engine, actor: Actor, catalogue: Catalogue, unit: int, data: dict[str, Any], now: datetime) -> Item:
    """A new draft with the next free id of the unit; refused with every problem it has."""
    by = require_writer(actor)
    package = catalogue.unit(unit)
    with Session(engine) as session, session.begin():
        item_id = store.next_item_id(session, package.number)
        item = parse_item(data, item_id, 1, package.number, ItemStatus.DRAFT)
        problems = check_draft(session, catalogue, item)
        if problems:
            raise InvalidInput(problems)
        store.add_version(session, item, by, now)
        store.add_transition(session, item_id, 1, ItemStatus.DRAFT, ItemStatus.DRAFT, "created", by, now)
        store.bump_revision(session, package.number)
        audit(session, now, by, "item.created", item_id, {"version": 1})
    return item


def edit_item(engine: Engine, actor: Actor, catalogue: Catalogue, item_id: str, data: dict[str, Any], now: datetime, comment: str = "") -> Item:
    """Change the item's latest version: in place while it is a draft no candidate has seen,
    else as the next version (a draft). An item in review or approved goes back to draft."""
    by = require_writer(actor)
    with Session(engine) as session, session.begin():
        record = _latest(session, item_id)
        current = store.item_of(record)
        in_place = record.status in (ItemStatus.DRAFT.value, ItemStatus.IN_REVIEW.value, ItemStatus.APPROVED.value) and not store.was_presented(
            session, item_id, record.version
        )
        version = record.version if in_place else record.version + 1
        item = parse_item(data, item_id, version, current.unit, ItemStatus.DRAFT)
        if item_to_json(replace(item, version=current.version, status=current.status)) == item_to_json(current):
            raise InvalidInput(["nothing changed"])
        problems = check_draft(session, catalogue, item)
        if problems:
            raise InvalidInput(problems)
        before = ItemStatus(record.status)
        if in_place:
            store.rewrite_version(record, item, now)
            session.add(record)
        else:
            store.add_version(session, item, by, now)
        note = comment or ("edited" if in_place else f"version {version} started from version {record.version}")
        store.add_transition(session, item_id, version, before, ItemStatus.DRAFT, note, by, now)
        store.bump_revision(session, current.unit)
        audit(session, now, by, "item.edited", item_id, {"version": version, "new_version": not in_place})
    return item


def move(
    engine: Engine, actor: Actor, catalogue: Catalogue, policy: LintPolicy, item_id: str, to: ItemStatus, comment: str, now: datetime
) -> Item:
    """Move the item's latest version along the workflow."""
    by = require_writer(actor)
    comment = comment.strip()
    with Session(engine) as session, session.begin():
        record = _latest(session, item_id)
        before = ItemStatus(record.status)
        if (before, to) not in MOVES:
            allowed = ", ".join(t.value for (f, t) in MOVES if f is before) or "none"
            raise InvalidInput([f"{item_id} v{record.version} is {before.value}: it can move to {allowed}, not {to.value}"])
        if MOVES[(before, to)] and not comment:
            raise InvalidInput([f"say why in a comment when moving {before.value} to {to.value}"])
        item = store.item_of(record)
        if to is ItemStatus.IN_REVIEW:
            problems = check_draft(session, catalogue, item)
            if problems:
                raise InvalidInput(problems)
        if to is ItemStatus.APPROVED and record.created_by == by:
            raise Forbidden(f"{by} wrote {item_id} v{record.version}: another writer must approve it")
        if to is ItemStatus.LIVE:
            errors = [m for severity, m in lint_findings(session, catalogue, policy, item) if severity == Severity.ERROR.value]
            if errors:
                raise InvalidInput([f"the lint checks must pass before going live: {m}" for m in errors])
            for older in store.versions_of(session, item_id):
                if older.version != record.version and older.status == ItemStatus.LIVE.value:
                    store.set_status(session, older, ItemStatus.RETIRED, now)
                    store.add_transition(session, item_id, older.version, ItemStatus.LIVE, ItemStatus.RETIRED,
                                         f"superseded by version {record.version}", by, now)
        store.set_status(session, record, to, now)
        store.add_transition(session, item_id, record.version, before, to, comment, by, now)
        store.bump_revision(session, item.unit)
        audit(session, now, by, f"item.{to.value}", item_id, {"version": record.version, "from": before.value, "comment": comment})
        return replace(item, status=to)


def comment_on(engine: Engine, actor: Actor, item_id: str, comment: str, now: datetime) -> None:
    by = require_writer(actor)
    if not comment.strip():
        raise InvalidInput(["write a comment"])
    with Session(engine) as session, session.begin():
        record = _latest(session, item_id)
        status = ItemStatus(record.status)
        store.add_transition(session, item_id, record.version, status, status, comment.strip(), by, now)


def history(engine: Engine, actor: Actor, item_id: str) -> ItemHistory:
    require_writer(actor)
    with Session(engine) as session:
        records = store.versions_of(session, item_id)
        if not records:
            raise NotFound(f"no item {item_id!r} in the bank")
        versions = tuple(VersionView(store.item_of(r), r.created_by, store.was_presented(session, item_id, r.version)) for r in records)
        trail = tuple((t.version, t.from_status, t.to_status, t.comment, t.by, t.at) for t in store.transitions_of(session, item_id))
    return ItemHistory(versions, trail)


def item_fields(item: Item) -> dict[str, Any]:
    """The item in the file's shape: what the editor starts from."""
    return item_to_json(item)


def version_diff(before: Item, after: Item) -> list[tuple[str, Any, Any]]:
    """The fields that differ between two versions: (field, before, after)."""
    a, b = item_to_json(before), item_to_json(after)
    return [(name, a[name], b[name]) for name in a if name not in ("version", "status") and a[name] != b[name]]


def _latest(session: Session, item_id: str) -> BankItemRecord:
    record = store.latest_version(session, item_id)
    if record is None:
        raise NotFound(f"no item {item_id!r} in the bank")
    return record


BROWSE_FILTERS = ("learning_outcome", "criterion", "amplification", "type", "status", "author", "analysts", "text")


@dataclass(frozen=True)
class BankRow:
    item: Item  # the latest version
    live_version: int | None  # the version assembly uses, if any
    created_by: str
    analysts: str = ""  # the analysts' decision in force on the item (review, retired, key_corrected, cleared)


def browse(engine: Engine, actor: Actor, catalogue: Catalogue, unit: int, filters: dict[str, str]) -> list[BankRow]:
    """The unit's items (latest versions), narrowed by the filters; `text` searches the stem,
    options, premises, rationale and id, ignoring case; `analysts` is the analysts' decision in
    force ("any" for any decision)."""
    require_writer(actor)
    number = catalogue.unit(unit).number
    latest: dict[str, BankItemRecord] = {}
    live: dict[str, int] = {}
    with Session(engine) as session:
        for record in store.unit_records(session, number):
            latest[record.item_id] = record
            if record.status == ItemStatus.LIVE.value:
                live[record.item_id] = record.version
        decided = {item_id: d.decision for item_id, d in decisions_in_force(session, number).items()}
    wanted = {k: v.strip() for k, v in filters.items() if k in BROWSE_FILTERS and v and v.strip()}
    rows = []
    for item_id in sorted(latest):
        item = store.item_of(latest[item_id])
        values = {"learning_outcome": str(item.learning_outcome), "criterion": item.criterion, "amplification": item.amplification,
                  "type": item.type.value, "status": item.status.value, "author": latest[item_id].created_by,
                  "analysts": decided.get(item_id, "")}
        if any(values[k] != v for k, v in wanted.items() if k not in ("text", "analysts")):
            continue
        if "analysts" in wanted and not (values["analysts"] if wanted["analysts"] == "any" else values["analysts"] == wanted["analysts"]):
            continue
        if "text" in wanted:
            haystack = " ".join([item.id, item.stem, item.rationale, *(c.text for c in item.options + item.premises)]).lower()
            if wanted["text"].lower() not in haystack:
                continue
        rows.append(BankRow(item, live.get(item_id), latest[item_id].created_by, values["analysts"]))
    return rows

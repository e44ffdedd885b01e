"""What the tests know that a candidate must not: the keys of the form a sitting was given."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from testengine.storage.forms import load_form
from testengine.storage.item_records import item_to_json
from testengine.storage.item_versions import load_versions
from testengine.storage.tables import BookingRecord, SittingRecord


def form_items(engine, keycode: str) -> list[tuple[int, Any]]:
    """(position, item) for the sitting the keycode opened, in form order."""
    with Session(engine) as session:
        booking = session.exec(select(BookingRecord).where(BookingRecord.keycode == keycode)).one()
        sitting = session.exec(select(SittingRecord).where(SittingRecord.booking_id == booking.id)).one()
        form, _ = load_form(session, sitting.form_id)
        items = load_versions(session, form.refs)
        return [(f.position, items[f.ref]) for f in form.items]


def right_answer(item) -> Any:
    return item_to_json(item)["key"]


def wrong_answer(item) -> Any:
    key = item_to_json(item)["key"]
    if isinstance(key, str):
        return next(o.id for o in item.options if o.id != key)
    if isinstance(key, dict):
        return {}
    others = [o.id for o in item.options if o.id not in key]
    if item.type.value == "multiple":
        return others[:2] if len(others) >= 2 else [others[0], key[0]]
    return list(reversed(key))


def sitting_of(engine, keycode: str) -> SittingRecord:
    with Session(engine) as session:
        booking = session.exec(select(BookingRecord).where(BookingRecord.keycode == keycode)).one()
        return session.exec(select(SittingRecord).where(SittingRecord.booking_id == booking.id)).one()

"""Items as plain JSON: the snapshot kept of every version put on a form, and the export."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from testengine.domain.banks import Bank
from testengine.domain.items import Choice, CognitiveLevel, Item, ItemStatus, ItemType, ScoringRule
from testengine.domain.specification import Unit


def item_to_json(item: Item) -> dict[str, Any]:
    """Every field of the item, with the key in the file format's natural shape."""
    key: Any
    if item.type is ItemType.SINGLE:
        key = item.key[0]
    elif item.type is ItemType.MATCHING:
        key = dict(zip(item.premise_ids, item.key))
    else:
        key = list(item.key)
    return {
        "id": item.id,
        "version": item.version,
        "unit": item.unit,
        "learning_outcome": item.learning_outcome,
        "criterion": item.criterion,
        "amplification": item.amplification,
        "type": item.type.value,
        "stem": item.stem,
        "options": [{"id": o.id, "text": o.text} for o in item.options],
        "premises": [{"id": p.id, "text": p.text} for p in item.premises],
        "key": key,
        "marks": item.marks,
        "scoring": item.scoring.value,
        "expected_seconds": item.expected_seconds,
        "facility": item.facility,
        "angoff": item.angoff,
        "enemies": sorted(item.enemies),
        "item_set": item.item_set,
        "fixed_option_order": item.fixed_option_order,
        "cognitive_level": item.cognitive_level.value if item.cognitive_level else None,
        "status": item.status.value,
        "author": item.author,
        "rationale": item.rationale,
    }


def item_from_json(data: dict[str, Any]) -> Item:
    kind = ItemType(data["type"])
    raw_key = data["key"]
    if kind is ItemType.SINGLE:
        key: tuple[str, ...] = (raw_key,)
    elif kind is ItemType.MATCHING:
        key = tuple(raw_key[p["id"]] for p in data["premises"])
    else:
        key = tuple(raw_key)
    return Item(
        id=data["id"],
        version=data["version"],
        unit=data["unit"],
        learning_outcome=data["learning_outcome"],
        criterion=data["criterion"],
        amplification=data["amplification"],
        type=kind,
        stem=data["stem"],
        options=tuple(Choice(o["id"], o["text"]) for o in data["options"]),
        premises=tuple(Choice(p["id"], p["text"]) for p in data["premises"]),
        key=key,
        marks=data["marks"],
        scoring=ScoringRule(data["scoring"]),
        expected_seconds=data["expected_seconds"],
        facility=data["facility"],
        angoff=data["angoff"],
        enemies=frozenset(data["enemies"]),
        item_set=data["item_set"],
        fixed_option_order=data["fixed_option_order"],
        cognitive_level=CognitiveLevel(data["cognitive_level"]) if data.get("cognitive_level") else None,
        status=ItemStatus(data["status"]),
        author=data["author"],
        rationale=data["rationale"],
    )


def unit_to_json(unit: Unit) -> dict[str, Any]:
    return {
        "unit": unit.number,
        "reference": unit.reference,
        "title": unit.title,
        "level": unit.level,
        "credit_value": unit.credit_value,
        "guided_learning_hours": unit.guided_learning_hours,
        "learning_outcomes": [
            {
                "number": lo.number,
                "title": lo.title,
                "criteria": [
                    {
                        "number": c.number,
                        "text": c.text,
                        "amplification": [{"id": p.id, "title": p.title, "detail": p.detail} for p in c.amplification],
                    }
                    for c in lo.criteria
                ],
            }
            for lo in unit.learning_outcomes
        ],
    }


def bank_to_json(bank: Bank) -> dict[str, Any]:
    """The whole bank: the unit's specification, its item sets and every item with all its fields."""
    return {
        "format": "testengine-bank/1",
        "specification": unit_to_json(bank.unit),
        "item_sets": [
            {"id": s.id, "title": s.title, "scenario": s.scenario, "items": [i.id for i in bank.items if i.item_set == s.id]}
            for s in bank.item_sets
        ],
        "items": [item_to_json(i) for i in sorted(bank.items, key=lambda i: i.id)],
    }


def content_digest(data: dict[str, Any]) -> str:
    """What the candidate sees and how it is scored; status and estimates may change freely."""
    shown = {k: data[k] for k in ("stem", "options", "premises", "key", "marks", "scoring", "type", "item_set")}
    if data.get("scenario"):
        shown["scenario"] = data["scenario"]
    return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()

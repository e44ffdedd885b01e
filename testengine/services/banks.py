"""Item writers' views of a bank: is every file valid, and what does the bank hold."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from testengine.domain.banks import Bank
from testengine.domain.items import ItemStatus
from testengine.domain.problems import DataError, Problem
from testengine.services.catalogue import load_catalogue, unit_folders
from testengine.storage.bank_files import SPECIFICATION_FILE, read_bank
from testengine.storage.item_records import bank_to_json
from testengine.storage.yaml_documents import display_path


def validate_banks(path: Path, blueprints: Path) -> list[Problem]:
    """Every problem under `path`: the item_banks folder (with the blueprints), one unit folder, or a file in one."""
    try:
        if path.is_dir() and unit_folders(path):
            load_catalogue(path, blueprints)
        elif path.is_dir():
            read_bank(path)
        elif path.is_file():
            read_bank(path.parent)
        else:
            return [Problem(reason="no such file or folder", file=str(path))]
    except DataError as exc:
        if path.is_file() and path.name != SPECIFICATION_FILE:
            # Only this file's problems, and the specification's, which the file depends on.
            wanted = {display_path(path), display_path(path.parent / SPECIFICATION_FILE)}
            return [p for p in exc.problems if p.file in wanted]
        return exc.problems
    return []


def export_bank(bank: Bank) -> dict[str, Any]:
    """The whole bank as JSON-ready data: specification, item sets, every item with every field."""
    return bank_to_json(bank)


def bank_stats(bank: Bank) -> dict[str, Any]:
    """Items and marks per criterion, per amplification point, per status and per type."""
    unit = bank.unit
    by_status = Counter(i.status.value for i in bank.items)
    live = [i for i in bank.items if i.status is ItemStatus.LIVE]
    by_type: dict[str, dict[str, int]] = {}
    for item in live:
        row = by_type.setdefault(item.type.value, {"items": 0, "marks": 0})
        row["items"] += 1
        row["marks"] += item.marks
    criteria = []
    for criterion in unit.criteria:
        items = [i for i in bank.items if i.criterion == criterion.number]
        criterion_live = [i for i in items if i.status is ItemStatus.LIVE]
        points = []
        for point in criterion.amplification:
            on_point = [i for i in items if i.amplification == point.id]
            points.append(
                {
                    "id": point.id,
                    "title": point.title,
                    "items": len(on_point),
                    "live_items": sum(1 for i in on_point if i.status is ItemStatus.LIVE),
                    "live_marks": sum(i.marks for i in on_point if i.status is ItemStatus.LIVE),
                }
            )
        criteria.append(
            {
                "criterion": criterion.number,
                "learning_outcome": criterion.learning_outcome,
                "text": criterion.text,
                "items": len(items),
                "live_items": len(criterion_live),
                "live_marks": sum(i.marks for i in criterion_live),
                "amplification": points,
            }
        )
    return {
        "unit": unit.number,
        "reference": unit.reference,
        "title": unit.title,
        "items": len(bank.items),
        "live_items": len(live),
        "live_marks": sum(i.marks for i in live),
        "item_sets": len(bank.item_sets),
        "by_status": {s.value: by_status.get(s.value, 0) for s in ItemStatus},
        "by_type": by_type,
        "criteria": criteria,
    }

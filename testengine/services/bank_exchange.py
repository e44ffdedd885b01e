"""Items in and out of the bank in the database: YAML (the shipped format, and an export of
every version with its status that restores without loss), IMS QTI 2.1 (an item file or a
content package), and spreadsheets (storage.item_sheets).

Importing lands items as drafts with the unit's next free ids, whatever their status was
elsewhere: they go through review here. Each item lands whole or not at all, and the report
says, item by item, what landed (with what the writer must still see to) and what could not be
mapped. A restore (`exact`) of this engine's own YAML export keeps ids, versions, statuses and
writers instead; a version already there with the same content is skipped, one with other
content is refused.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import Engine
from sqlmodel import Session

from testengine.domain.banks import Bank
from testengine.domain.items import Item, ItemSet, ItemStatus
from testengine.domain.problems import DataError, Problem
from testengine.domain.centres import Actor
from testengine.services.authoring import check_draft, key_from_text, require_writer
from testengine.services.errors import InvalidInput
from testengine.services.catalogue import Catalogue
from testengine.storage import bank_items as store
from testengine.storage.bank_files import item_from_raw
from testengine.storage.item_records import item_to_json
from testengine.storage.item_sheets import OPTION_COLUMNS, PREMISE_COLUMNS, read_item_sheet
from testengine.storage.qti_items import ImportedItem
from testengine.storage.qti_packages import read_qti, write_package
from testengine.storage.yaml_documents import display_path, read_yaml

EXPORT_FORMAT = "testengine-bank-export/1"
FORMATS = {".yaml": "yaml", ".yml": "yaml", ".xml": "qti", ".zip": "qti", ".xlsx": "sheet", ".csv": "sheet"}


@dataclass(frozen=True)
class Landed:
    source: str  # where in the file: "row 4", "items/choice.xml", "U5-0003 v2"
    item_id: str
    version: int
    notes: tuple[str, ...] = ()  # what the writer must still see to


@dataclass(frozen=True)
class Refused:
    source: str
    reasons: tuple[str, ...]


@dataclass
class ImportReport:
    unit: int
    file: str
    landed: list[Landed] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # restore: versions already there, unchanged
    refused: list[Refused] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "unit": self.unit, "file": self.file,
            "imported": [{"source": x.source, "item_id": x.item_id, "version": x.version, "notes": list(x.notes)} for x in self.landed],
            "skipped": self.skipped,
            "not_mapped": [{"source": x.source, "reasons": list(x.reasons)} for x in self.refused],
        }


def export_yaml(engine: Engine, catalogue: Catalogue, unit: int) -> str:
    """Every version of every item of the unit, with its status and writer, and the item sets."""
    number = catalogue.unit(unit).number
    with Session(engine) as session:
        records = store.unit_records(session, number)
        sets = store.item_sets_of(session, number)
    document = {
        "format": EXPORT_FORMAT,
        "unit": number,
        "item_sets": [{"id": s.id, "title": s.title, "scenario": s.scenario} for s in sets],
        "items": [{**r.content, "created_by": r.created_by} for r in records],
    }
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def current_bank(engine: Engine, catalogue: Catalogue, unit: int) -> Bank:
    """The unit's bank as the database holds it (each item's live version, else its latest)."""
    with Session(engine) as session:
        return store.bank_from_database(session, catalogue.unit(unit).bank)


def export_qti(engine: Engine, catalogue: Catalogue, unit: int) -> bytes:
    """A QTI 2.1 content package of the unit's bank: for each item the version assembly uses
    (live) or else its latest, with the item sets' scenarios."""
    bank = current_bank(engine, catalogue, unit)
    return write_package(list(bank.items), list(bank.item_sets))


def import_file(engine: Engine, catalogue: Catalogue, unit: int, path: Path, by: str, now: datetime, exact: bool = False) -> ImportReport:
    """Land the file's items in the unit's bank (see the module's description)."""
    number = catalogue.unit(unit).number
    kind = FORMATS.get(path.suffix.lower())
    name = display_path(path)
    if kind is None:
        raise DataError([Problem(reason=f"cannot import {path.suffix or 'a file without an extension'}: give a "
                                        ".yaml, .xml, .zip, .xlsx or .csv file", file=name)])
    if not path.is_file():
        raise DataError([Problem(reason="no such file", file=name)])
    report = ImportReport(number, name)
    if kind == "yaml":
        data = read_yaml(path)
        if exact:
            return _restore(engine, catalogue, number, data, name, by, now, report)
        candidates = _yaml_items(data, name, number, report)
    elif kind == "qti":
        found = read_qti(path.read_bytes(), path.name, number)
        for missing in found.not_mapped:
            report.refused.append(Refused(f"{missing.file}: {missing.identifier}", tuple(missing.reasons)))
        candidates = [(f"{name}: {i.identifier}", i.item, i.scenario, list(i.notes)) for i in found.items]
    else:
        candidates = _sheet_items(path, number, report)
    if exact:
        raise DataError([Problem(reason="--exact restores this engine's own YAML export only", file=name)])
    _land(engine, catalogue, number, candidates, by, now, report)
    return report


def import_upload(
    engine: Engine, actor: Actor, catalogue: Catalogue, unit: int, filename: str, data: bytes, now: datetime
) -> ImportReport:
    """A file an item writer uploaded, imported as import_file does; what is wrong with the
    file as a whole comes back as InvalidInput."""
    by = require_writer(actor)
    suffix = Path(filename).suffix.lower()
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", Path(filename).stem)[:80] or "upload"
    with tempfile.TemporaryDirectory(prefix="testengine-import-") as folder:
        path = Path(folder) / f"{stem}{suffix}"
        path.write_bytes(data)
        try:
            report = import_file(engine, catalogue, unit, path, by, now)
        except DataError as exc:
            raise InvalidInput([f"{filename}: {p.reason}" + (f" (line {p.line})" if p.line else "") for p in exc.problems]) from exc
    report.file = filename
    return report


Candidate = tuple[str, Item, str, list[str]]  # source, item (placeholder id), scenario, notes


def _land(engine: Engine, catalogue: Catalogue, unit: int, candidates: list[Candidate], by: str, now: datetime, report: ImportReport) -> None:
    if not candidates:
        return
    with Session(engine) as session, session.begin():
        known = {i.id for i in store.bank_from_database(session, catalogue.unit(unit).bank).items}
        sets = {s.id: s for s in store.item_sets_of(session, unit)}
        for source, item, scenario, notes in candidates:
            item_id = store.next_item_id(session, unit)
            dropped = sorted(item.enemies - known)
            if dropped:
                notes.append(f"enemies not in this bank left out: {', '.join(dropped)}")
            item_set = item.item_set
            if item_set and item_set not in sets:
                if scenario:
                    sets[item_set] = ItemSet(item_set, item_set, scenario, unit)
                    store.save_item_set(session, sets[item_set], by, now)
                    notes.append(f"item set {item_set} created with its scenario")
                else:
                    notes.append(f"item set {item_set} does not exist here: left out")
                    item_set = None
            draft = replace(item, id=item_id, version=1, unit=unit, status=ItemStatus.DRAFT, enemies=item.enemies & known,
                            item_set=item_set, source=None)
            store.add_version(session, draft, by, now)
            session.flush()
            notes.extend(f"to fix before review: {p}" for p in check_draft(session, catalogue, draft))
            store.add_transition(session, item_id, 1, ItemStatus.DRAFT, ItemStatus.DRAFT, f"imported from {source}", by, now)
            report.landed.append(Landed(source, item_id, 1, tuple(notes)))
        store.bump_revision(session, unit)


def _yaml_items(data: Any, name: str, unit: int, report: ImportReport) -> list[Candidate]:
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise DataError([Problem(reason="a YAML item file has a list of items under `items:`", file=name)])
    scenarios = {s.get("id"): s.get("scenario", "") for s in data.get("item_sets") or [] if isinstance(s, dict)}
    found: list[Candidate] = []
    for raw in data["items"]:
        fields = {k: v for k, v in raw.items() if k != "created_by"} if isinstance(raw, dict) else raw
        if isinstance(fields, dict):
            fields = {**fields, "unit": unit}
        label = f"{raw.get('id', '?')} v{raw.get('version', '?')}" if isinstance(raw, dict) else "an item"
        item, problems = item_from_raw(fields, name)
        if item is None:
            report.refused.append(Refused(label, tuple(p.reason for p in problems)))
            continue
        found.append((label, item, scenarios.get(item.item_set, "") if item.item_set else "", []))
    return found


def _sheet_items(path: Path, unit: int, report: ImportReport) -> list[Candidate]:
    found: list[Candidate] = []
    for row, cells in read_item_sheet(path):
        raw, problems = _sheet_row(cells, unit)
        item, shape = item_from_raw(raw, display_path(path)) if not problems else (None, [])
        problems += [f"{p.reason}" for p in shape]
        if item is None:
            report.refused.append(Refused(f"row {row}", tuple(problems)))
            continue
        found.append((f"row {row}", item, "", []))
    return found


def _sheet_row(cells: dict[str, str], unit: int) -> tuple[dict[str, Any], list[str]]:
    """A sheet row in the item file's shape; problems name the column."""
    problems: list[str] = []
    kind = cells.get("type", "").lower()
    options = [{"id": c.split("_")[1], "text": cells[c]} for c in OPTION_COLUMNS if cells.get(c)]
    premises = [{"id": f"p{c.split('_')[1]}", "text": cells[c]} for c in PREMISE_COLUMNS if cells.get(c)]
    key, key_problems = key_from_text(kind, cells.get("key", ""))
    problems += [f"column {p}" for p in key_problems]
    raw: dict[str, Any] = {
        "id": f"U{unit}-0000", "version": 1, "unit": unit, "type": kind, "criterion": cells.get("criterion", ""),
        "amplification": cells.get("amplification", ""), "stem": cells.get("stem", ""), "options": options, "premises": premises,
        "key": key, "scoring": cells.get("scoring") or "all_or_nothing", "rationale": cells.get("rationale", ""),
        "author": cells.get("author", ""), "status": "draft",
        "enemies": [e.strip() for e in cells.get("enemies", "").split(",") if e.strip()],
        "item_set": cells.get("item_set") or None, "cognitive_level": cells.get("cognitive_level") or None,
        "fixed_option_order": cells.get("fixed_option_order", "").lower() in ("yes", "true", "1"),
    }
    for column, kind_of in (("learning_outcome", int), ("marks", int), ("expected_seconds", int), ("facility", float), ("angoff", float)):
        text = cells.get(column, "")
        try:
            raw[column] = kind_of(text)
        except ValueError:
            problems.append(f"column {column}: {text!r} is not a {'whole ' if kind_of is int else ''}number")
    return raw, problems


def _restore(
    engine: Engine, catalogue: Catalogue, unit: int, data: Any, name: str, by: str, now: datetime, report: ImportReport
) -> ImportReport:
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise DataError([Problem(reason=f"--exact restores a file written by `bank export --format yaml` (format: {EXPORT_FORMAT})", file=name)])
    if data.get("unit") != unit:
        raise DataError([Problem(reason=f"the file is unit {data.get('unit')}'s bank, not unit {unit}'s", file=name)])
    with Session(engine) as session, session.begin():
        for raw in data.get("item_sets") or []:
            store.save_item_set(session, ItemSet(str(raw["id"]), str(raw["title"]), str(raw["scenario"]), unit), by, now)
        for raw in data["items"]:
            label = f"{raw.get('id', '?')} v{raw.get('version', '?')}"
            item, problems = item_from_raw({k: v for k, v in raw.items() if k != "created_by"}, name)
            if item is None:
                report.refused.append(Refused(label, tuple(p.reason for p in problems)))
                continue
            held = next((r for r in store.versions_of(session, item.id) if r.version == item.version), None)
            if held is not None:
                if held.content == item_to_json(item):
                    report.skipped.append(label)
                else:
                    report.refused.append(Refused(label, ("this version is already in the bank with other content",)))
                continue
            store.add_version(session, replace(item, source=None), str(raw.get("created_by") or by), now)
            report.landed.append(Landed(label, item.id, item.version))
        if report.landed:
            store.bump_revision(session, unit)
    return report

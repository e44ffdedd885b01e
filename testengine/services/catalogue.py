"""The units on offer: each unit's bank and blueprint, loaded and checked together."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

from testengine.domain.banks import Bank, duplicate_id_problems
from testengine.domain.blueprints import Blueprint, Purpose
from testengine.domain.problems import DataError, Problem
from sqlalchemy.engine import Engine
from sqlmodel import Session

from testengine.storage.bank_files import read_bank
from testengine.storage.bank_items import bank_from_database, bank_revision
from testengine.storage.blueprint_files import blueprint_path, file_digest, read_blueprint
from testengine.storage.yaml_documents import display_path

_UNIT_FOLDER = re.compile(r"^unit-([0-9]+)$")


@dataclass(frozen=True)
class UnitPackage:
    bank: Bank
    blueprint: Blueprint
    blueprint_digest: str
    # The item calibration its facilities and ratings come from (0: the writers' estimates).
    calibration_run: int = 0
    # The bank revision in the database its items come from (0: the shipped files).
    bank_revision: int = 0

    @property
    def number(self) -> int:
        return self.bank.unit.number


class UnknownUnit(LookupError):
    pass


@dataclass(frozen=True)
class Catalogue:
    units: dict[int, UnitPackage]
    # Practice tests (A15): the same bank under a practice blueprint, where a unit has one.
    practice: dict[int, UnitPackage] = field(default_factory=dict)

    def for_purpose(self, ref: str | int, purpose: Purpose) -> UnitPackage:
        live = self.unit(ref)
        if purpose is Purpose.LIVE:
            return live
        package = self.practice.get(live.number)
        if package is None:
            raise UnknownUnit(f"{live.bank.unit.label} has no practice test (blueprints/unit-{live.number}-practice.yaml)")
        return package

    def unit(self, ref: str | int) -> UnitPackage:
        """A unit by number ("2", "unit-2") or by reference code ("Y/506/2152")."""
        text = str(ref).strip()
        for package in self.units.values():
            unit = package.bank.unit
            if text in (str(unit.number), f"unit-{unit.number}", unit.reference):
                return package
        known = ", ".join(f"{p.number} ({p.bank.unit.reference})" for p in self.units.values())
        raise UnknownUnit(f"no unit {text!r}: the units are {known}")


def unit_folders(item_banks: Path) -> list[Path]:
    folders = [p for p in item_banks.iterdir() if p.is_dir() and _UNIT_FOLDER.match(p.name)] if item_banks.is_dir() else []
    return sorted(folders, key=lambda p: int(p.name.split("-")[1]))


def load_catalogue(item_banks: Path, blueprints: Path) -> Catalogue:
    """Every unit with its blueprint, or DataError listing every problem in every file."""
    problems: list[Problem] = []
    banks: list[Bank] = []
    folders = unit_folders(item_banks)
    if not folders:
        raise DataError([Problem(reason="no unit folders (unit-<n>/) found", file=display_path(item_banks))])
    for folder in folders:
        try:
            bank = read_bank(folder)
        except DataError as exc:
            problems.extend(exc.problems)
            continue
        expected = int(folder.name.split("-")[1])
        if bank.unit.number != expected:
            problems.append(
                Problem(reason=f"specification is for unit {bank.unit.number} but the folder is {folder.name}", file=display_path(folder))
            )
            continue
        banks.append(bank)
    problems.extend(duplicate_id_problems(banks))
    units: dict[int, UnitPackage] = {}
    practice: dict[int, UnitPackage] = {}
    for bank in banks:
        for purpose, found in ((Purpose.LIVE, units), (Purpose.PRACTICE, practice)):
            path = blueprint_path(blueprints, bank.unit.number, purpose)
            if not path.exists():
                if purpose is Purpose.LIVE:
                    problems.append(Problem(reason=f"{bank.unit.label} has no blueprint", file=display_path(path)))
                continue
            try:
                blueprint = read_blueprint(path, bank.unit)
            except DataError as exc:
                problems.extend(exc.problems)
                continue
            if blueprint.purpose is not purpose:
                problems.append(Problem(reason=f"the file name says {purpose.value} but the blueprint says purpose: {blueprint.purpose.value}", file=display_path(path)))
                continue
            found[bank.unit.number] = UnitPackage(bank, blueprint, file_digest(path))
    if problems:
        raise DataError(problems)
    return Catalogue(units, practice)


_current: dict[tuple[str, int, tuple[int, ...]], Catalogue] = {}
_current_lock = threading.Lock()


def current_catalogue(engine: Engine, catalogue: Catalogue) -> Catalogue:
    """The catalogue with each unit's bank as the database holds it now (items written, revised
    or retired in the engine); the same object while no bank has changed."""
    with Session(engine) as session:
        revisions = tuple(bank_revision(session, number) for number in sorted(catalogue.units))
        if not any(revisions):
            return catalogue
        key = (str(engine.url), id(catalogue), revisions)
        with _current_lock:
            found = _current.get(key)
        if found is None:
            units = {number: replace(p, bank=bank_from_database(session, p.bank), bank_revision=r) if r else p
                     for (number, p), r in zip(sorted(catalogue.units.items()), revisions, strict=True)}
            practice = {number: replace(p, bank=units[number].bank) for number, p in catalogue.practice.items()}
            found = Catalogue(units, practice)
            with _current_lock:
                _current[key] = found
        return found

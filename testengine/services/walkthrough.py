"""The first-run walk-through: the engine end to end on the shipped banks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlmodel import Session

from testengine.services.assembly import Assembler, assemble_form
from testengine.services.catalogue import load_catalogue
from testengine.services.simulation import simulate_sittings
from testengine.settings import Settings
from testengine.storage.database import open_database
from testengine.storage.results import result_history


def walkthrough(settings: Settings, seed: int, now: datetime) -> Iterator[str]:
    """Validate the banks, assemble one form per unit, sit and mark one simulated candidate each."""
    catalogue = load_catalogue(settings.item_banks, settings.blueprints)
    items = sum(len(p.bank.items) for p in catalogue.units.values())
    yield f"1. Item banks and blueprints valid: {items} items in {len(catalogue.units)} units ({settings.item_banks})"
    engine = open_database(settings.database_url)
    yield f"2. Database ready: {settings.database_url}"
    assembler = Assembler(catalogue)
    yield "3. One form per unit, assembled on demand to the blueprint:"
    for package in catalogue.units.values():
        stored = assemble_form(engine, assembler, package.number, seed, now)
        form = stored.form
        criteria = len({i.criterion for i in form.items})
        outcomes = len({i.learning_outcome for i in form.items})
        yield (
            f"   Unit {package.number} {package.bank.unit.title}: form {stored.form_id}, {len(form.items)} items, "
            f"{form.total_marks} marks, {criteria} criteria in {outcomes} learning outcomes, "
            f"{form.duration_minutes} minutes, expected facility {form.expected_facility:.2f}, cut score {form.cut_score}"
        )
    yield "4. A simulated candidate sits each unit and is marked:"
    for package in catalogue.units.values():
        summary = simulate_sittings(engine, assembler, package.number, 1, seed, now)
        with Session(engine) as session:
            result = result_history(session, summary.sittings[0])[-1]
        by_outcome = ", ".join(
            f"LO{lo} {v['score']}/{v['maximum']}" for lo, v in sorted(result.by_learning_outcome.items())
        )
        yield (
            f"   Unit {package.number}: {result.total}/{result.maximum} (cut {result.cut_score}) -> {result.outcome}"
            f"   [{by_outcome}]"
        )
    yield "Next: testengine bank stats --unit 2, testengine blueprint check --unit 4, testengine assemble --unit 5 --json"

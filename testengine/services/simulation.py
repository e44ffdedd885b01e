"""Simulated sittings: assembled, answered by a simple ability model, marked and stored.

Demo data for the player, the console and the analysts, made through the same services a
real sitting goes through (assembly with exposure control and resits, marking).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session

from testengine.domain.marking import Outcome
from testengine.psychometrics.simulation import simulated_response
from testengine.services.assembly import MAX_SEED, Assembler, eligibility_for, store_form
from testengine.services.marking import mark_sitting
from testengine.storage.results import result_history
from testengine.storage.sittings import add_candidate, add_sitting, find_candidate, save_response
from testengine.storage.tables import SittingRecord


@dataclass(frozen=True)
class SimulationSummary:
    unit: int
    candidates: int
    sittings: tuple[int, ...]
    mean_score: float
    pass_rate: float
    outcomes: dict[str, int]
    exposure_relaxed_forms: int


def simulate_sittings(
    engine: Engine, assembler: Assembler, unit: str | int, candidates: int, seed: int, now: datetime
) -> SimulationSummary:
    """`candidates` simulated candidates each sit one form of the unit, submitted at `now`."""
    if candidates < 1:
        raise ValueError("simulate at least one candidate")
    with Session(engine) as session:  # the bank as the database holds it, with the calibration in force
        package = assembler.current(session, assembler.catalogue.unit(unit))
    rng = np.random.default_rng(seed)
    abilities = rng.normal(0.0, 1.0, size=candidates)
    started = now - timedelta(minutes=package.blueprint.duration_minutes)
    sitting_ids: list[int] = []
    relaxed = 0
    for k, theta in enumerate(abilities):
        number = f"SIM-{package.number}-{seed}-{k + 1:04d}"
        with Session(engine) as session, session.begin():
            candidate = find_candidate(session, number) or add_candidate(session, number, f"Simulated candidate {k + 1}", now)
            assert candidate.id is not None
            # A candidate simulated before is resitting: their new form avoids what they saw.
            eligibility = eligibility_for(session, package, number)
            form = assembler.choose(package, int(rng.integers(0, MAX_SEED)), eligibility)
            relaxed += bool(form.exposure_relaxed)
            form_id = store_form(session, package, form, now, candidate.id)
            sitting = add_sitting(session, candidate.id, form_id, package.number, now, simulated=True)
            assert sitting.id is not None
            for form_item in form.items:
                item = package.bank.item(form_item.item_id)
                assert item is not None
                response = simulated_response(item, float(theta), rng)
                if response is not None:
                    save_response(session, sitting.id, form_item.position, response, now)
            _submit(sitting, started, now)
            session.add(sitting)
            sitting_id = sitting.id
        sitting_ids.append(sitting_id)
        mark_sitting(engine, sitting_id, now)
    return _summary(engine, package.number, sitting_ids, relaxed)


def _submit(sitting: SittingRecord, started: datetime, now: datetime) -> None:
    sitting.status = "submitted"
    sitting.started_at = started
    sitting.submitted_at = now


def _summary(engine: Engine, unit: int, sitting_ids: list[int], relaxed: int) -> SimulationSummary:
    with Session(engine) as session:
        results = [result_history(session, s)[-1] for s in sitting_ids]
    outcomes = Counter(r.outcome for r in results)
    return SimulationSummary(
        unit=unit,
        candidates=len(sitting_ids),
        sittings=tuple(sitting_ids),
        mean_score=round(sum(r.total for r in results) / len(results), 2),
        pass_rate=round(outcomes[Outcome.PASS.value] / len(results), 3),
        outcomes={o.value: outcomes.get(o.value, 0) for o in Outcome},
        exposure_relaxed_forms=relaxed,
    )

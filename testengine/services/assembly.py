"""Assembling a form on demand: the blueprint met exactly, for this candidate, now."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Set
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session

from testengine.domain.conformance import form_violations
from testengine.domain.cut_scores import cut_score
from testengine.domain.forms import Form, arrange
from testengine.psychometrics.assembly import AssemblyModel, RuleGroup
from testengine.psychometrics.standard_setting import cut_ability, rasch_probability
from testengine.services.catalogue import Catalogue, UnitPackage
from testengine.storage.bank_items import bank_from_database, bank_revision
from testengine.storage.forms import exposure_counts, items_seen_by, save_form
from testengine.storage.item_decisions import WITHDRAWING, Calibrated, calibration_in_force, decisions_in_force
from testengine.storage.item_versions import keep_versions
from testengine.storage.sittings import find_candidate

# Over-cap items cost this much more per mark than any random weight can repay, so the
# relaxed solve uses as few of them as the blueprint allows.
_OVER_CAP_COST = 10.0
MAX_SEED = 2**31 - 1


class AssemblyError(Exception):
    """The blueprint cannot be met: each reason names a rule and the unit."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(reasons))


@dataclass(frozen=True)
class Eligibility:
    """Why items are out for this assembly, and how often each has been used."""

    seen: Set[str] = frozenset()
    usage: Mapping[str, float] | None = None  # share of the unit's sittings that had the item
    over_cap: Set[str] = frozenset()
    candidate: str | None = None
    withdrawn: Set[str] = frozenset()  # by the analysts: under review, retired, key corrected


@dataclass(frozen=True)
class AssembledForm:
    form_id: int
    form: Form


class Assembler:
    """Builds each unit's solver model once: the pool and the blueprint do not change."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self._models: dict[tuple[int, str, int, int, int], AssemblyModel] = {}
        self._calibrated: dict[tuple[str, int, str, int, int], UnitPackage] = {}
        self._banked: dict[tuple[str, int, str, int], UnitPackage] = {}

    def current(self, session: Session, package: UnitPackage) -> UnitPackage:
        """The package as the database has it now: the bank with the writers' changes made in
        the engine (revision 0: still the shipped files), then the unit's latest calibration
        applied: empirical facilities (the difficulty window) and ratings carried onto
        calibrated items (the form's cut)."""
        revision = bank_revision(session, package.number)
        where = str(session.get_bind().engine.url)
        if revision:
            banked = (where, package.number, package.blueprint.purpose.value, revision)
            if banked not in self._banked:
                bank = bank_from_database(session, package.bank)
                self._banked[banked] = replace(package, bank=bank, bank_revision=revision)
            package = self._banked[banked]
        run, values = calibration_in_force(session, package.number)
        if run == 0:
            return package
        key = (where, package.number, package.blueprint.purpose.value, revision, run)
        if key not in self._calibrated:
            self._calibrated[key] = calibrated_package(package, run, values)
        return self._calibrated[key]

    def model(self, package: UnitPackage) -> AssemblyModel:
        # A bank revision or calibration run changes the pool; the database is in the package's
        # bank itself, so revisions of two databases never share a model by accident.
        key = (package.number, package.blueprint.purpose.value, package.calibration_run, package.bank_revision, id(package.bank))
        model = self._models.get(key)
        if model is None:
            model = AssemblyModel.build(package.bank, package.blueprint)
            self._models[key] = model
        return model

    def choose(self, package: UnitPackage, seed: int, eligibility: Eligibility = Eligibility()) -> Form:
        """The form for `seed`: same seed and same eligibility, same form."""
        if not 0 <= seed <= MAX_SEED:
            raise ValueError(f"seed must be between 0 and {MAX_SEED}")
        model = self.model(package)
        pool = model.pool
        usage = eligibility.usage or {}
        allowed = np.array([i.id not in eligibility.seen and i.id not in eligibility.withdrawn for i in pool], dtype=bool)
        over = np.array([i.id in eligibility.over_cap for i in pool], dtype=bool)
        rng = np.random.default_rng(seed)
        weights = rng.random(len(pool))
        penalty = package.blueprint.exposure.usage_penalty
        cost = -model.marks * (weights - penalty * np.array([usage.get(i.id, 0.0) for i in pool]))

        chosen = model.solve(allowed & ~over, cost)
        relaxed: tuple[str, ...] = ()
        if chosen is None and over.any():
            chosen = model.solve(allowed, cost + _OVER_CAP_COST * model.marks * over)
            if chosen is not None:
                relaxed = tuple(sorted(i.id for i, x, o in zip(pool, chosen, over) if x and o))
        if chosen is None:
            raise AssemblyError(_reasons(package, model, allowed, eligibility))

        items = [i for i, x in zip(pool, chosen) if x]
        violations = form_violations(items, package.blueprint, package.bank)
        if violations:
            raise RuntimeError(f"solver returned a form that breaks the blueprint: {violations}")
        total = package.blueprint.total_marks
        return Form(
            unit=package.number,
            seed=seed,
            blueprint_digest=package.blueprint_digest,
            duration_minutes=package.blueprint.duration_minutes,
            total_marks=total,
            cut_score=cut_score(package.blueprint.pass_rule, items),
            expected_facility=round(sum(i.facility * i.marks for i in items) / total, 4),
            expected_seconds=sum(i.expected_seconds for i in items),
            items=arrange(items, package.blueprint.presentation, random.Random(seed)),
            exposure_relaxed=relaxed,
        )


def calibrated_package(package: UnitPackage, run: int, values: Mapping[tuple[str, int], Calibrated]) -> UnitPackage:
    """The package with each calibrated item's empirical facility, and its Angoff rating
    carried onto the Rasch scale (psychometrics.standard_setting); other items keep the
    writers' estimates."""
    calibrated = [(i, values[(i.id, i.version)]) for i in package.bank.items if (i.id, i.version) in values]
    rasch = [(i, c.difficulty) for i, c in calibrated if c.difficulty is not None and math.isfinite(c.difficulty)]
    theta = None
    if rasch:
        ratings = [i.angoff for i, _ in rasch]
        if 0 < sum(ratings) < len(ratings):
            theta = cut_ability([float(b) for _, b in rasch], ratings)
    changed = {}
    for item, c in calibrated:
        angoff = item.angoff
        if theta is not None and c.difficulty is not None and math.isfinite(c.difficulty):
            angoff = round(rasch_probability(c.difficulty, theta), 4)
        changed[item.id] = replace(item, facility=round(c.facility, 4), angoff=angoff)
    bank = replace(package.bank, items=tuple(changed.get(i.id, i) for i in package.bank.items))
    return replace(package, bank=bank, calibration_run=run)


def eligibility_for(session: Session, package: UnitPackage, candidate_number: str | None) -> Eligibility:
    """Items the candidate has seen in earlier sittings, and items over the exposure cap."""
    seen: set[str] = set()
    if candidate_number is not None:
        candidate = find_candidate(session, candidate_number)
        if candidate is None or candidate.id is None:
            raise LookupError(f"no candidate with candidate number {candidate_number!r}")
        seen = items_seen_by(session, candidate.id)
    rule = package.blueprint.exposure
    sittings, counts = exposure_counts(session, package.number, rule.window)
    usage = {item_id: n / sittings for item_id, n in counts.items()} if sittings else {}
    over_cap: set[str] = set()
    if sittings >= rule.minimum_forms:
        # Out if one more use would take the item past the cap.
        over_cap = {item_id for item_id, n in counts.items() if (n + 1) / (sittings + 1) > rule.cap}
    withdrawn = {
        item_id for item_id, d in decisions_in_force(session, package.number).items()
        if d.decision in WITHDRAWING and not (d.decision == "key_corrected" and _bank_version(package, item_id) > d.version)
    }
    return Eligibility(seen=frozenset(seen), usage=usage, over_cap=frozenset(over_cap), candidate=candidate_number,
                       withdrawn=frozenset(withdrawn))


def _bank_version(package: UnitPackage, item_id: str) -> int:
    item = package.bank.item(item_id)
    return item.version if item else 0


def assemble_form(
    engine: Engine,
    assembler: Assembler,
    unit: str | int,
    seed: int,
    now: datetime,
    exclude_seen: str | None = None,
) -> AssembledForm:
    """Assemble, freeze and store a form (its item versions are kept with it)."""
    with Session(engine) as session, session.begin():
        package = assembler.current(session, assembler.catalogue.unit(unit))
        eligibility = eligibility_for(session, package, exclude_seen)
        form = assembler.choose(package, seed, eligibility)
        form_id = store_form(session, package, form, now)
    return AssembledForm(form_id, form)


def store_form(session: Session, package: UnitPackage, form: Form, now: datetime, candidate_id: int | None = None) -> int:
    chosen = [package.bank.item(i.item_id) for i in form.items]
    scenarios = {s.id: s.scenario for s in package.bank.item_sets}
    keep_versions(session, [i for i in chosen if i is not None], now, scenarios)
    return save_form(session, form, package.blueprint.pass_rule, now, candidate_id)


def _reasons(package: UnitPackage, model: AssemblyModel, allowed: np.ndarray, eligibility: Eligibility) -> list[str]:
    """Name the rules that cannot be met, most specific first."""
    label = package.bank.unit.label
    reasons = []
    # A criterion with too few eligible items says so plainly, with why the others are out.
    for number, counts in package.blueprint.criterion_items.items():
        in_bank = [i for i in package.bank.items if i.criterion == number]
        eligible = [n for n, i in enumerate(model.pool) if i.criterion == number and allowed[n]]
        if len(eligible) < counts.minimum:
            why = []
            pool_ids = {i.id for i in model.pool}
            not_status = sum(1 for i in in_bank if i.id not in pool_ids)
            seen = sum(1 for i in in_bank if i.id in eligibility.seen and i.id in pool_ids)
            if seen:
                who = f" by candidate {eligibility.candidate}" if eligibility.candidate else ""
                why.append(f"{seen} already seen{who}")
            if not_status:
                statuses = ", ".join(sorted(s.value for s in package.blueprint.eligible_statuses))
                why.append(f"{not_status} not {statuses}")
            detail = f" ({len(in_bank)} in the bank: {'; '.join(why)})" if why else f" ({len(in_bank)} in the bank)"
            have = "no eligible items" if not eligible else f"only {len(eligible)} eligible items, needs {counts.minimum}"
            reasons.append(f"{label} AC {number}: {have}{detail}")
    if reasons:
        return reasons
    clash: list[RuleGroup] = model.explain(allowed)
    rules = "; ".join(g.description for g in clash)
    return [f"{label}: these blueprint rules cannot all be met by the eligible items: {rules}"]

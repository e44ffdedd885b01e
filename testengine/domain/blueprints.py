"""Blueprints: what every form of a unit's test must contain, and how it is passed."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from testengine.domain.items import ItemStatus, ItemType
from testengine.domain.problems import Problem, Source
from testengine.domain.specification import Unit


class Purpose(StrEnum):
    """Live tests count; practice tests (A15) use released items and give feedback."""

    LIVE = "live"
    PRACTICE = "practice"


class CutMethod(StrEnum):
    FIXED = "fixed"
    ANGOFF = "angoff"


class Rounding(StrEnum):
    NEAREST = "nearest"  # halves round up: 17.5 -> 18
    UP = "up"
    DOWN = "down"


@dataclass(frozen=True)
class MarkRange:
    minimum: int
    maximum: int


@dataclass(frozen=True)
class ItemCountRange:
    minimum: int
    maximum: int


@dataclass(frozen=True)
class DifficultyWindow:
    """The form's mark-weighted mean facility must lie within target +/- tolerance."""

    target: float
    tolerance: float

    @property
    def low(self) -> float:
        return self.target - self.tolerance

    @property
    def high(self) -> float:
        return self.target + self.tolerance


MAX_EXPOSURE_WINDOW = 20_000  # the forms a Start counts exposure over: its cost grows with them


@dataclass(frozen=True)
class ExposureRule:
    """Items used on more than `cap` of the unit's recent forms are left out while others will do.

    Exposure is counted over the unit's `window` most recent live forms: what candidates are
    seeing now (a pool that has changed is not judged by its past), and the cost of a Start
    stays the same however many sittings there have been. The cap only means something once
    enough forms exist: before `minimum_forms` every item would be over it.
    """

    cap: float
    minimum_forms: int
    usage_penalty: float
    window: int = 2000


@dataclass(frozen=True)
class Presentation:
    group_by_learning_outcome: bool = True
    shuffle_items: bool = True
    shuffle_options: bool = True


@dataclass(frozen=True)
class Hurdle:
    """A candidate must also score at least this share of one learning outcome's marks."""

    learning_outcome: int
    minimum_share: float


@dataclass(frozen=True)
class PassRule:
    method: CutMethod
    rounding: Rounding = Rounding.NEAREST
    fixed_cut: int | None = None
    hurdles: tuple[Hurdle, ...] = ()

    def describe(self) -> str:
        if self.method is CutMethod.FIXED:
            text = f"fixed cut score {self.fixed_cut}"
        else:
            text = f"form-specific Angoff cut (sum of rating x marks, rounded {self.rounding.value})"
        for hurdle in self.hurdles:
            text += f"; at least {hurdle.minimum_share:.0%} of learning outcome {hurdle.learning_outcome} marks"
        return text


@dataclass(frozen=True)
class Blueprint:
    unit: int
    duration_minutes: int
    total_marks: int
    outcome_marks: dict[int, MarkRange]
    criterion_items: dict[str, ItemCountRange]
    eligible_statuses: frozenset[ItemStatus]
    difficulty: DifficultyWindow
    exposure: ExposureRule
    pass_rule: PassRule
    max_expected_minutes: int | None = None
    purpose: Purpose = Purpose.LIVE
    type_marks: dict[ItemType, MarkRange] = field(default_factory=dict)
    presentation: Presentation = Presentation()
    source: Source | None = field(default=None, compare=False)

    @property
    def time_budget_seconds(self) -> int:
        return 60 * (self.max_expected_minutes or self.duration_minutes)


def blueprint_problems(blueprint: Blueprint, unit: Unit) -> list[Problem]:
    """Inconsistencies that make a blueprint wrong before any item is looked at."""
    problems: list[Problem] = []

    def problem(reason: str) -> None:
        problems.append(Problem.at(blueprint.source, f"{unit.label} blueprint: {reason}"))

    if blueprint.unit != unit.number:
        problem(f"is for unit {blueprint.unit}")
    if blueprint.duration_minutes <= 0:
        problem("duration must be positive")
    if blueprint.total_marks <= 0:
        problem("total marks must be positive")
    outcomes = {lo.number for lo in unit.learning_outcomes}
    for number in sorted(outcomes - blueprint.outcome_marks.keys()):
        problem(f"learning outcome {number} has no mark range: every outcome must be assessed")
    for number, marks in sorted(blueprint.outcome_marks.items()):
        if number not in outcomes:
            problem(f"learning outcome {number} is not in the unit")
        if not 1 <= marks.minimum <= marks.maximum:
            problem(f"learning outcome {number}: mark range {marks.minimum}-{marks.maximum} is not 1 or more, low to high")
    minimum = sum(r.minimum for r in blueprint.outcome_marks.values())
    maximum = sum(r.maximum for r in blueprint.outcome_marks.values())
    if not minimum <= blueprint.total_marks <= maximum:
        problem(
            f"learning outcome ranges allow {minimum}-{maximum} marks in all, "
            f"which cannot make {blueprint.total_marks}"
        )
    criteria = {c.number for c in unit.criteria}
    for missing in sorted(criteria - blueprint.criterion_items.keys()):
        problem(f"AC {missing} has no item range: every criterion must be covered")
    for criterion, counts in sorted(blueprint.criterion_items.items()):
        if criterion not in criteria:
            problem(f"AC {criterion} is not in the unit")
        if not 1 <= counts.minimum <= counts.maximum:
            problem(f"AC {criterion}: item range {counts.minimum}-{counts.maximum} must be at least 1, low to high")
    if not blueprint.eligible_statuses:
        problem("no eligible statuses")
    if blueprint.purpose is Purpose.LIVE and ItemStatus.RETIRED in blueprint.eligible_statuses:
        problem("retired items are never assembled into live tests")
    if blueprint.purpose is Purpose.PRACTICE and ItemStatus.LIVE in blueprint.eligible_statuses:
        problem("practice tests never show live items: use retired (released) items")
    window = blueprint.difficulty
    if not (0 < window.low <= window.high < 1) or window.tolerance < 0:
        problem(f"difficulty window {window.target} +/- {window.tolerance} must lie within 0-1")
    exposure = blueprint.exposure
    if not 0 < exposure.cap <= 1:
        problem(f"exposure cap {exposure.cap} must be more than 0 and at most 1")
    if exposure.minimum_forms < 1 or exposure.usage_penalty < 0:
        problem("exposure minimum_forms must be at least 1 and usage_penalty not negative")
    if not 1 <= exposure.window <= MAX_EXPOSURE_WINDOW:
        problem(f"exposure window {exposure.window} must be 1-{MAX_EXPOSURE_WINDOW} recent forms")
    rule = blueprint.pass_rule
    if rule.method is CutMethod.FIXED:
        if rule.fixed_cut is None or not 0 < rule.fixed_cut <= blueprint.total_marks:
            problem(f"a fixed cut must be between 1 and {blueprint.total_marks}")
    elif rule.fixed_cut is not None:
        problem("fixed_cut is only for the fixed method")
    for hurdle in rule.hurdles:
        if hurdle.learning_outcome not in outcomes:
            problem(f"hurdle on learning outcome {hurdle.learning_outcome}, which is not in the unit")
        if not 0 < hurdle.minimum_share <= 1:
            problem(f"hurdle share {hurdle.minimum_share} must be more than 0 and at most 1")
    for kind, marks in blueprint.type_marks.items():
        if not 0 <= marks.minimum <= marks.maximum:
            problem(f"{kind} marks range {marks.minimum}-{marks.maximum} is not low to high")
    return problems

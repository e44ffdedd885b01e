"""Small hand-made units, items and blueprints for tests (the shipped banks are tested separately)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from testengine.domain.banks import Bank
from testengine.domain.blueprints import (
    Blueprint,
    CutMethod,
    DifficultyWindow,
    ExposureRule,
    ItemCountRange,
    MarkRange,
    PassRule,
    Presentation,
    Rounding,
)
from testengine.domain.items import Choice, Item, ItemSet, ItemStatus, ItemType, ScoringRule
from testengine.domain.specification import AmplificationPoint, Criterion, LearningOutcome, Unit


def make_unit(criteria_per_outcome: tuple[int, ...] = (2, 2), number: int = 9) -> Unit:
    outcomes = []
    for lo, count in enumerate(criteria_per_outcome, start=1):
        criteria = tuple(
            Criterion(
                number=f"{lo}.{n}",
                text=f"Explain thing {lo}.{n}",
                amplification=(
                    AmplificationPoint("first-point", "First point", "detail of the first point"),
                    AmplificationPoint("second-point", "Second point", "detail of the second point"),
                ),
            )
            for n in range(1, count + 1)
        )
        outcomes.append(LearningOutcome(lo, f"Understand area {lo}", criteria))
    return Unit(number, "X/000/0000", "A test unit", 3, 5, 40, tuple(outcomes))


def make_item(n: int, criterion: str = "1.1", unit: int = 9, **changes: Any) -> Item:
    item = Item(
        id=f"U{unit}-{n:04d}",
        version=1,
        unit=unit,
        learning_outcome=int(criterion.split(".")[0]),
        criterion=criterion,
        amplification="first-point",
        type=ItemType.SINGLE,
        stem=f"Which statement explains point {n}?",
        options=(Choice("a", "First answer"), Choice("b", "Second answer"), Choice("c", "Third answer"), Choice("d", "Fourth answer")),
        key=("b",),
        marks=1,
        scoring=ScoringRule.ALL_OR_NOTHING,
        expected_seconds=60,
        facility=0.65,
        angoff=0.5,
        status=ItemStatus.LIVE,
        rationale="First point: the detail says so.",
        author="Test writer",
    )
    return replace(item, **changes)


def multiple_item(n: int, criterion: str = "1.1", **changes: Any) -> Item:
    defaults: dict[str, Any] = dict(
        type=ItemType.MULTIPLE,
        stem="Which TWO of these are right? Select TWO.",
        options=tuple(Choice(c, f"Option {c}") for c in "abcde"),
        key=("a", "c"),
    )
    return make_item(n, criterion, **{**defaults, **changes})


def ordering_item(n: int, criterion: str = "1.1", **changes: Any) -> Item:
    defaults: dict[str, Any] = dict(
        type=ItemType.ORDERING,
        stem="Put these steps in order.",
        options=tuple(Choice(c, f"Step {c}") for c in "abcd"),
        key=("c", "a", "d", "b"),
    )
    return make_item(n, criterion, **{**defaults, **changes})


def matching_item(n: int, criterion: str = "1.1", **changes: Any) -> Item:
    defaults: dict[str, Any] = dict(
        type=ItemType.MATCHING,
        stem="Match each term to its description.",
        premises=(Choice("p1", "Term one"), Choice("p2", "Term two"), Choice("p3", "Term three")),
        options=tuple(Choice(c, f"Description {c}") for c in "abcd"),
        key=("b", "d", "a"),
    )
    return make_item(n, criterion, **{**defaults, **changes})


def make_bank(unit: Unit, items: list[Item], item_sets: tuple[ItemSet, ...] = ()) -> Bank:
    return Bank(unit=unit, items=tuple(items), item_sets=item_sets)


def simple_bank(per_criterion: int = 3, unit: Unit | None = None) -> Bank:
    """Every criterion with `per_criterion` one-mark live items of varied facility."""
    unit = unit or make_unit()
    items = []
    n = 1
    for criterion in unit.criteria:
        for k in range(per_criterion):
            items.append(make_item(n, criterion.number, facility=0.5 + 0.1 * (k % 4), angoff=0.4 + 0.05 * (k % 4)))
            n += 1
    return make_bank(unit, items)


def make_blueprint(unit: Unit, total_marks: int = 6, **changes: Any) -> Blueprint:
    per_outcome = {lo.number: MarkRange(1, total_marks) for lo in unit.learning_outcomes}
    blueprint = Blueprint(
        unit=unit.number,
        duration_minutes=30,
        total_marks=total_marks,
        outcome_marks=per_outcome,
        criterion_items={c.number: ItemCountRange(1, 3) for c in unit.criteria},
        eligible_statuses=frozenset({ItemStatus.LIVE}),
        difficulty=DifficultyWindow(0.65, 0.2),
        exposure=ExposureRule(cap=0.25, minimum_forms=20, usage_penalty=0.5),
        pass_rule=PassRule(CutMethod.ANGOFF, Rounding.NEAREST),
        presentation=Presentation(),
    )
    return replace(blueprint, **changes)

"""A unit as the qualification specification states it: outcomes, criteria, amplification."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from testengine.domain.problems import Problem, Source

_CRITERION_NUMBER = re.compile(r"^([1-9][0-9]*)\.([1-9][0-9]*)$")
_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class AmplificationPoint:
    """One top-level point of a criterion's amplification: any of it may be tested."""

    id: str
    title: str
    detail: str


@dataclass(frozen=True)
class Criterion:
    number: str
    text: str
    amplification: tuple[AmplificationPoint, ...]

    @property
    def learning_outcome(self) -> int:
        return int(self.number.split(".")[0])

    def point(self, point_id: str) -> AmplificationPoint | None:
        return next((p for p in self.amplification if p.id == point_id), None)


@dataclass(frozen=True)
class LearningOutcome:
    number: int
    title: str
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True)
class Unit:
    number: int
    reference: str
    title: str
    level: int
    credit_value: int
    guided_learning_hours: int
    learning_outcomes: tuple[LearningOutcome, ...]
    source: Source | None = field(default=None, compare=False)

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        return tuple(c for lo in self.learning_outcomes for c in lo.criteria)

    def criterion(self, number: str) -> Criterion | None:
        return next((c for c in self.criteria if c.number == number), None)

    def outcome(self, number: int) -> LearningOutcome | None:
        return next((lo for lo in self.learning_outcomes if lo.number == number), None)

    @property
    def label(self) -> str:
        return f"Unit {self.number}"


def criterion_sort_key(number: str) -> tuple[int, int]:
    """Sort "1.10" after "1.9", which a string sort would not."""
    match = _CRITERION_NUMBER.match(number)
    if match is None:
        return (10**6, 10**6)
    return (int(match.group(1)), int(match.group(2)))


def specification_problems(unit: Unit) -> list[Problem]:
    """Everything that makes a transcribed unit unusable as the base for questions."""
    problems: list[Problem] = []

    def problem(reason: str) -> None:
        problems.append(Problem.at(unit.source, f"{unit.label}: {reason}"))

    if not unit.learning_outcomes:
        problem("has no learning outcomes")
    expected_outcome = 1
    for outcome in unit.learning_outcomes:
        if outcome.number != expected_outcome:
            problem(f"learning outcome {outcome.number} is out of sequence (expected {expected_outcome})")
        expected_outcome = outcome.number + 1
        if not outcome.criteria:
            problem(f"learning outcome {outcome.number} has no assessment criteria")
        for position, criterion in enumerate(outcome.criteria, start=1):
            expected = f"{outcome.number}.{position}"
            if criterion.number != expected:
                problem(
                    f"learning outcome {outcome.number}: criterion {criterion.number!r} "
                    f"is out of sequence (expected {expected})"
                )
            if not criterion.text.strip():
                problem(f"AC {criterion.number} has no wording")
            if not criterion.amplification:
                problem(f"AC {criterion.number} has no amplification points")
            seen: set[str] = set()
            for point in criterion.amplification:
                if not _SLUG.match(point.id):
                    problem(f"AC {criterion.number}: amplification id {point.id!r} is not a lower-case slug")
                if point.id in seen:
                    problem(f"AC {criterion.number}: amplification id {point.id!r} is used twice")
                seen.add(point.id)
                if not point.title.strip() or not point.detail.strip():
                    problem(f"AC {criterion.number}: amplification point {point.id!r} needs a title and detail")
    return problems

"""Marking a sitting: item scores, totals per criterion and outcome, and the pass decision."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from testengine.domain.blueprints import PassRule
from testengine.domain.forms import Form
from testengine.domain.items import Item, Key
from testengine.domain.scoring import score


_K = TypeVar("_K", int, str)


class Outcome(StrEnum):
    PASS = "Pass"
    NOT_YET_PASSED = "Not yet passed"


@dataclass(frozen=True)
class ItemScore:
    position: int
    item_id: str
    version: int
    criterion: str
    learning_outcome: int
    marks: int
    score: int
    answered: bool


@dataclass(frozen=True)
class Subtotal:
    score: int
    maximum: int

    @property
    def share(self) -> float:
        return self.score / self.maximum if self.maximum else 0.0


@dataclass(frozen=True)
class Result:
    total: int
    maximum: int
    cut_score: int
    outcome: Outcome
    by_learning_outcome: dict[int, Subtotal]
    by_criterion: dict[str, Subtotal]
    item_scores: tuple[ItemScore, ...]
    failed_hurdles: tuple[int, ...]
    rule: str


def mark(
    form: Form,
    items: Mapping[tuple[str, int], Item],
    responses: Mapping[int, Key | None],
    rule: PassRule,
) -> Result:
    """Mark normalised responses (by form position) to the item versions the form froze."""
    scores: list[ItemScore] = []
    for form_item in form.items:
        item = items[form_item.ref]
        response = responses.get(form_item.position)
        scores.append(
            ItemScore(
                position=form_item.position,
                item_id=item.id,
                version=item.version,
                criterion=item.criterion,
                learning_outcome=item.learning_outcome,
                marks=item.marks,
                score=score(item, response),
                answered=response is not None,
            )
        )
    by_outcome = _subtotals(scores, lambda s: s.learning_outcome)
    by_criterion = _subtotals(scores, lambda s: s.criterion)
    total = sum(s.score for s in scores)
    failed = tuple(
        h.learning_outcome
        for h in rule.hurdles
        if h.learning_outcome in by_outcome
        and by_outcome[h.learning_outcome].score < math.ceil(round(h.minimum_share * by_outcome[h.learning_outcome].maximum, 6))
    )
    passed = total >= form.cut_score and not failed
    return Result(
        total=total,
        maximum=sum(s.marks for s in scores),
        cut_score=form.cut_score,
        outcome=Outcome.PASS if passed else Outcome.NOT_YET_PASSED,
        by_learning_outcome=by_outcome,
        by_criterion=by_criterion,
        item_scores=tuple(scores),
        failed_hurdles=failed,
        rule=rule.describe(),
    )


def _subtotals(scores: list[ItemScore], key: Callable[[ItemScore], _K]) -> dict[_K, Subtotal]:
    totals: dict[_K, list[int]] = {}
    for s in scores:
        pair = totals.setdefault(key(s), [0, 0])
        pair[0] += s.score
        pair[1] += s.marks
    return {k: Subtotal(score=v[0], maximum=v[1]) for k, v in sorted(totals.items())}

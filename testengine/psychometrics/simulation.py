"""Simulated candidates: responses from a Rasch-type ability model, for demo and load data.

P(right) = 1 / (1 + exp(-(theta + logit(p_i)))), where p_i is the item's facility estimate: a
candidate of average ability (theta = 0) answers with the writer's expected facility. An
all-or-nothing item is right or wrong as a whole (a wrong multi-part answer is a near miss);
a partial-credit item's parts are each right with that probability, so its expected share of
marks is the facility too. Wrong answers choose distractors at random, so distractor analysis
has something to show; a small share of items is left unanswered.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from testengine.domain.items import Item, ItemType, ScoringRule


def p_right(theta: float, facility: float) -> float:
    return 1.0 / (1.0 + math.exp(-(theta + math.log(facility / (1.0 - facility)))))


def simulated_response(item: Item, theta: float, rng: np.random.Generator, omit_rate: float = 0.02) -> Any:
    """A raw response as a player would send it (option ids), or None for an omission."""
    if rng.random() < omit_rate:
        return None
    p = p_right(theta, item.facility)
    if item.scoring is ScoringRule.PARTIAL:
        right = [bool(rng.random() < p) for _ in item.key]
    elif rng.random() < p:
        right = [True] * len(item.key)
    else:
        # A near miss: one part wrong, at random.
        right = [True] * len(item.key)
        right[int(rng.integers(0, len(item.key)))] = False
    return _answer(item, right, rng)


def _answer(item: Item, right: list[bool], rng: np.random.Generator) -> Any:
    options = list(item.option_ids)
    if item.type is ItemType.SINGLE:
        return item.key[0] if right[0] else str(rng.choice([o for o in options if o != item.key[0]]))
    if item.type is ItemType.MULTIPLE:
        distractors = [o for o in options if o not in item.key]
        chosen = []
        for key, ok in zip(item.key, right):
            if ok or not distractors:
                chosen.append(key)
            else:
                wrong = str(rng.choice(distractors))
                distractors.remove(wrong)
                chosen.append(wrong)
        return chosen
    if item.type is ItemType.ORDERING:
        order = list(item.key)
        for k, ok in enumerate(right):
            if not ok:
                # The step swapped with a neighbour, as a candidate unsure of the order would.
                other = k + 1 if k + 1 < len(order) else k - 1
                order[k], order[other] = order[other], order[k]
        return order
    matches: dict[str, str] = {}
    for premise, key, ok in zip(item.premise_ids, item.key, right):
        matches[premise] = key if ok else str(rng.choice([o for o in options if o != key]))
    return matches

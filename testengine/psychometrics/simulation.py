"""Simulated candidates: responses from a Rasch-type ability model, for demo and load data.

P(a part is right) = 1 / (1 + exp(-(theta + logit(p_i)))), where p_i is the item's facility
estimate: a candidate of average ability (theta = 0) gets each part right with the writer's
expected facility. Wrong answers choose distractors at random, so distractor analysis has
something to show; a small share of items is left unanswered.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from testengine.domain.items import Item, ItemType


def p_right(theta: float, facility: float) -> float:
    return 1.0 / (1.0 + math.exp(-(theta + math.log(facility / (1.0 - facility)))))


def simulated_response(item: Item, theta: float, rng: np.random.Generator, omit_rate: float = 0.02) -> Any:
    """A raw response as a player would send it (option ids), or None for an omission."""
    if rng.random() < omit_rate:
        return None
    p = p_right(theta, item.facility)
    options = list(item.option_ids)
    if item.type is ItemType.SINGLE:
        if rng.random() < p:
            return item.key[0]
        return str(rng.choice([o for o in options if o != item.key[0]]))
    if item.type is ItemType.MULTIPLE:
        distractors = [o for o in options if o not in item.key]
        chosen = []
        for key in item.key:
            if rng.random() < p or not distractors:
                chosen.append(key)
            else:
                wrong = str(rng.choice(distractors))
                distractors.remove(wrong)
                chosen.append(wrong)
        return chosen
    if item.type is ItemType.ORDERING:
        order = list(item.key)
        if rng.random() >= p:
            # A near miss: two neighbouring steps swapped, once or twice.
            for _ in range(int(rng.integers(1, 3))):
                k = int(rng.integers(0, len(order) - 1))
                order[k], order[k + 1] = order[k + 1], order[k]
        return order
    matches: dict[str, str] = {}
    for premise, key in zip(item.premise_ids, item.key):
        if rng.random() < p:
            matches[premise] = key
        else:
            matches[premise] = str(rng.choice([o for o in options if o != key]))
    return matches

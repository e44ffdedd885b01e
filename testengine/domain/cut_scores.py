"""Cut scores: fixed, or set per form from the items' Angoff ratings.

On-demand forms differ in difficulty, so a fixed raw cut would be kinder to some candidates
than others. The Angoff cut is the score a minimally competent candidate is expected to get
on this form: sum over items of (rating x marks), rounded as the blueprint says.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from testengine.domain.blueprints import CutMethod, PassRule, Rounding
from testengine.domain.items import Item


def angoff_expectation(items: Sequence[Item]) -> float:
    return sum(i.angoff * i.marks for i in items)


def cut_score(rule: PassRule, items: Sequence[Item]) -> int:
    if rule.method is CutMethod.FIXED:
        assert rule.fixed_cut is not None, "validated with the blueprint"
        return rule.fixed_cut
    return round_cut(rule.rounding, angoff_expectation(items))


def round_cut(rounding: Rounding, expected: float) -> int:
    """A whole-mark cut from an expected score, never below 1."""
    # Round away float noise first so that 17.5 does not arrive as 17.4999999.
    expected = round(expected, 6)
    if rounding is Rounding.UP:
        cut = math.ceil(expected)
    elif rounding is Rounding.DOWN:
        cut = math.floor(expected)
    else:
        cut = math.floor(expected + 0.5)
    return max(cut, 1)

"""The Angoff standard carried onto calibrated items (Rasch).

Writers rate each item: the chance a minimally competent candidate gets it right. Once items
are calibrated, the standard is the ability theta_c at which the Rasch expected score on the
calibrated items equals the sum of their ratings; each calibrated item's empirical rating is
then its Rasch probability at theta_c, P = 1 / (1 + exp(b - theta_c)). Form-specific cuts on
on-demand forms then follow the items' observed difficulty, not the writers' guesses, while the
standard itself stays the one the writers set (Kane 1987; the item-mapping logic of Wang 2003).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy.optimize import brentq


def rasch_probability(difficulty: float, ability: float) -> float:
    return 1.0 / (1.0 + math.exp(difficulty - ability))


def cut_ability(difficulties: Sequence[float], ratings: Sequence[float]) -> float:
    """theta_c: sum of P(theta_c; b_i) = sum of ratings. Ratings must lie strictly between 0
    and the number of items in total, so that theta_c is finite."""
    if len(difficulties) != len(ratings) or not difficulties:
        raise ValueError("one rating per calibrated item, and at least one item")
    target = sum(ratings)
    if not 0 < target < len(ratings):
        raise ValueError(f"the ratings sum to {target}: theta_c would be infinite")

    def gap(theta: float) -> float:
        return sum(rasch_probability(b, theta) for b in difficulties) - target

    low, high = min(difficulties) - 20.0, max(difficulties) + 20.0
    return float(brentq(gap, low, high, xtol=1e-10))

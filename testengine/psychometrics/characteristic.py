"""The empirical item characteristic curve: how often candidates of each ability got the item
right, to set against the Rasch curve P(theta) = 1 / (1 + exp(b - theta)).

Abilities are maximum-likelihood Rasch estimates from each candidate's own items and the
calibrated difficulties (Newton-Raphson, all candidates at once); candidates with a zero or
perfect score have no finite estimate and are left out. Candidates presented the item are cut
into groups of equal size by ability; each group gives its mean ability, its proportion
correct on the item and its size.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def abilities(responses: FloatArray, difficulties: FloatArray, iterations: int = 50) -> FloatArray:
    """ML ability per candidate (rows: candidates, columns: items; NaN = not presented or not
    calibrated). NaN for a zero or perfect score."""
    presented = ~np.isnan(responses) & ~np.isnan(difficulties)[None, :]
    b = np.where(np.isnan(difficulties), 0.0, difficulties)[None, :]
    raw = np.where(presented, np.nan_to_num(responses), 0.0).sum(axis=1)
    count = presented.sum(axis=1)
    finite = (raw > 0) & (raw < count)
    theta = np.zeros(responses.shape[0])
    for _ in range(iterations):
        p = np.where(presented, 1.0 / (1.0 + np.exp(b - theta[:, None])), 0.0)
        expected = p.sum(axis=1)
        information = (p * (1 - p)).sum(axis=1)
        step = np.where(finite, (raw - expected) / np.maximum(information, 1e-12), 0.0)
        theta = theta + np.clip(step, -1.0, 1.0)
        if np.max(np.abs(step), initial=0.0) < 1e-8:
            break
    return np.where(finite, theta, np.nan)


def empirical_curve(responses: FloatArray, difficulties: FloatArray, item: int, groups: int = 8) -> list[tuple[float, float, int]]:
    """(mean ability, proportion correct, candidates) for each ability group of the candidates
    presented `item` (a column index)."""
    theta = abilities(responses, difficulties)
    score = responses[:, item]
    usable = ~np.isnan(theta) & ~np.isnan(score)
    if not usable.any():
        return []
    order = np.argsort(theta[usable], kind="stable")
    thetas, scores = theta[usable][order], score[usable][order]
    return [
        (float(chunk_t.mean()), float(chunk_s.mean()), int(len(chunk_t)))
        for chunk_t, chunk_s in zip(np.array_split(thetas, groups), np.array_split(scores, groups), strict=True)
        if len(chunk_t)
    ]

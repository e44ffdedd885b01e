"""Measures of item text that need a library: readability and near-duplicate stems.

Readability is the Flesch-Kincaid grade (0.39 words/sentence + 11.8 syllables/word - 15.59;
Kincaid et al. 1975) of the stem and options read as sentences, from textstat with British
English hyphenation. Similarity is rapidfuzz's token_sort_ratio (0-100: the Levenshtein
similarity of the two stems with their words sorted, so reordered wording still matches).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
from rapidfuzz import fuzz, process

from testengine.domain.items import Item


@cache
def _readability() -> object:
    import textstat

    measure = textstat.textstat
    measure.set_lang("en_GB")
    return measure


def reading_grade(item: Item) -> float:
    """Flesch-Kincaid grade of what the candidate reads: the stem and each option as a sentence."""
    parts = [item.stem] + [p.text for p in item.premises] + [o.text for o in item.options]
    text = " ".join(part.rstrip(".?!") + "." for part in parts)
    grade: float = _readability().flesch_kincaid_grade(text)  # type: ignore[attr-defined]
    return float(grade)


def similar_stems(items: Sequence[Item], threshold: float) -> list[tuple[Item, Item, float]]:
    """Pairs of items whose stems score at least `threshold` (0-100), most similar first."""
    if len(items) < 2:
        return []
    stems = [i.stem.lower() for i in items]
    scores = process.cdist(stems, stems, scorer=fuzz.token_sort_ratio, workers=1)
    pairs = np.argwhere(np.triu(scores, k=1) >= threshold)
    found = [(items[a], items[b], float(scores[a, b])) for a, b in pairs]
    return sorted(found, key=lambda pair: -pair[2])

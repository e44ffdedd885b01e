"""Scoring one response to one item by the item's rule.

Partial credit, where an item asks for it: floor(marks x parts right / parts). The parts are
the keys of a multiple-response item (each key selected is right, each non-key selected
cancels one right; selecting more options than the item asks for scores 0), the positions of
an ordering item, and the premises of a matching item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from testengine.domain.items import Item, ItemType, Key, ScoringRule

# A response as it arrives from a player or a file: an option id (single), a list of option
# ids (multiple; ordering, one per position, "" for a position not filled) or a mapping
# premise id -> option id (matching, a premise may be left out). None: omitted.
RawResponse = str | Sequence[str] | Mapping[str, str] | None


class ResponseError(ValueError):
    """A response that does not fit its item: wrong shape, or an option it does not have."""


def normalise(item: Item, raw: RawResponse) -> Key | None:
    """The response in the key's shape, or None when nothing was answered."""
    if raw is None or raw == "" or raw == [] or raw == {}:
        return None
    options = set(item.option_ids)
    if item.type is ItemType.SINGLE:
        if not isinstance(raw, str):
            raise ResponseError(f"{item.id}: a single-response answer is one option id")
        _known(item, [raw], options)
        return (raw,)
    if item.type is ItemType.MATCHING:
        if not isinstance(raw, Mapping):
            raise ResponseError(f"{item.id}: a matching answer maps each term to an option")
        unknown = set(raw) - set(item.premise_ids)
        if unknown:
            raise ResponseError(f"{item.id}: no term {', '.join(sorted(unknown))}")
        chosen = [raw.get(p) or "" for p in item.premise_ids]
        _known(item, [c for c in chosen if c], options)
        if not any(chosen):
            return None
        return tuple(chosen)
    if isinstance(raw, (str, Mapping)):
        raise ResponseError(f"{item.id}: a {item.type} answer is a list of option ids")
    chosen = list(raw)
    if item.type is ItemType.ORDERING:
        # One entry per position; "" is a position not filled yet.
        if len(chosen) != len(item.option_ids):
            raise ResponseError(f"{item.id}: an ordering answer has one entry for each of the {len(item.option_ids)} positions")
        placed = [c for c in chosen if c]
        _known(item, placed, options)
        if len(set(placed)) != len(placed):
            raise ResponseError(f"{item.id}: a step is placed twice in the answer")
        return tuple(chosen) if placed else None
    _known(item, chosen, options)
    if len(set(chosen)) != len(chosen):
        raise ResponseError(f"{item.id}: an option appears twice in the answer")
    return tuple(sorted(chosen))


def score(item: Item, response: Key | None) -> int:
    """Marks earned by a normalised response (see `normalise`)."""
    if response is None:
        return 0
    if item.scoring is ScoringRule.ALL_OR_NOTHING or item.type is ItemType.SINGLE:
        return item.marks if response == item.key else 0
    if item.type is ItemType.MULTIPLE:
        if len(response) > item.select_count:
            return 0
        selected = set(response)
        right = len(selected & set(item.key)) - len(selected - set(item.key))
    else:
        right = sum(1 for given, keyed in zip(response, item.key) if given == keyed)
    return (item.marks * max(right, 0)) // item.parts


def _known(item: Item, chosen: Sequence[str], options: set[str]) -> None:
    unknown = [c for c in chosen if c not in options]
    if unknown:
        raise ResponseError(f"{item.id}: no option {', '.join(unknown)}")

"""A form: the frozen list of item versions, in order, that one candidate is given."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from testengine.domain.blueprints import Presentation
from testengine.domain.items import Item, ItemType


@dataclass(frozen=True)
class FormItem:
    position: int
    item_id: str
    version: int
    learning_outcome: int
    criterion: str
    amplification: str
    type: ItemType
    marks: int
    item_set: str | None
    option_order: tuple[str, ...]
    premise_order: tuple[str, ...] = ()

    @property
    def ref(self) -> tuple[str, int]:
        return (self.item_id, self.version)


@dataclass(frozen=True)
class Form:
    unit: int
    seed: int
    blueprint_digest: str
    duration_minutes: int
    total_marks: int
    cut_score: int
    expected_facility: float
    expected_seconds: int
    items: tuple[FormItem, ...]
    # Items taken although over the exposure cap, because the blueprint needed them.
    exposure_relaxed: tuple[str, ...] = ()

    @property
    def refs(self) -> tuple[tuple[str, int], ...]:
        return tuple(i.ref for i in self.items)


def arrange(items: Sequence[Item], presentation: Presentation, rng: random.Random) -> tuple[FormItem, ...]:
    """Put the chosen items in the order and option order the candidate will see.

    Item sets stay together in id order. With grouping, learning outcomes come in order and
    items (or sets) are shuffled within each; without shuffling, they follow criterion order.
    """
    blocks: dict[str, list[Item]] = {}
    for item in sorted(items, key=lambda i: i.id):
        blocks.setdefault(item.item_set or item.id, []).append(item)
    ordered = list(blocks.values())
    if presentation.shuffle_items:
        rng.shuffle(ordered)
    else:
        ordered.sort(key=lambda block: (_criterion_key(block[0].criterion), block[0].id))
    if presentation.group_by_learning_outcome:
        # A stable sort keeps the shuffled (or criterion) order inside each outcome.
        ordered.sort(key=lambda block: min(i.learning_outcome for i in block))
    arranged: list[FormItem] = []
    for block in ordered:
        for item in block:
            arranged.append(
                FormItem(
                    position=len(arranged) + 1,
                    item_id=item.id,
                    version=item.version,
                    learning_outcome=item.learning_outcome,
                    criterion=item.criterion,
                    amplification=item.amplification,
                    type=item.type,
                    marks=item.marks,
                    item_set=item.item_set,
                    option_order=_option_order(item, presentation, rng),
                    premise_order=item.premise_ids,
                )
            )
    return tuple(arranged)


def _option_order(item: Item, presentation: Presentation, rng: random.Random) -> tuple[str, ...]:
    order = list(item.option_ids)
    if item.type is ItemType.ORDERING:
        # Steps shown in their keyed order would give the answer away, whatever the flags say.
        rng.shuffle(order)
        if tuple(order) == item.key:
            order = order[1:] + order[:1]
        return tuple(order)
    if presentation.shuffle_options and not item.fixed_option_order:
        rng.shuffle(order)
    return tuple(order)


def _criterion_key(number: str) -> tuple[int, ...]:
    return tuple(int(part) for part in number.split("."))

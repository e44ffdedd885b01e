"""A unit's bank: its specification, its items and item sets, and the rules between them."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cached_property

from testengine.domain.items import Item, ItemSet, ItemStatus, item_problems
from testengine.domain.problems import Problem
from testengine.domain.specification import Unit, criterion_sort_key
from testengine.domain.text import control_character_problem

ITEM_SET_SIZE = (2, 4)


@dataclass(frozen=True)
class Bank:
    unit: Unit
    items: tuple[Item, ...]
    item_sets: tuple[ItemSet, ...] = ()

    @cached_property
    def _by_id(self) -> dict[str, Item]:
        return {i.id: i for i in self.items}

    def item(self, item_id: str) -> Item | None:
        return self._by_id.get(item_id)

    def item_set(self, set_id: str) -> ItemSet | None:
        return next((s for s in self.item_sets if s.id == set_id), None)

    def with_status(self, statuses: frozenset[ItemStatus]) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.status in statuses)

    def items_by_criterion(self) -> dict[str, list[Item]]:
        grouped: dict[str, list[Item]] = {c.number: [] for c in self.unit.criteria}
        for item in self.items:
            grouped.setdefault(item.criterion, []).append(item)
        return dict(sorted(grouped.items(), key=lambda kv: criterion_sort_key(kv[0])))


def bank_problems(bank: Bank) -> list[Problem]:
    """Every problem in the bank: each item's own, and those between items and the unit."""
    problems: list[Problem] = []
    unit = bank.unit
    ids = Counter(i.id for i in bank.items)
    set_ids = Counter(s.id for s in bank.item_sets)
    set_members: dict[str, list[Item]] = defaultdict(list)

    for item_set in bank.item_sets:
        if set_ids[item_set.id] > 1:
            problems.append(Problem.at(item_set.source, f"item set id {item_set.id!r} is used twice"))
        if item_set.unit != unit.number:
            problems.append(
                Problem.at(item_set.source, f"item set {item_set.id} is in the bank of {unit.label}, not unit {item_set.unit}")
            )
        if not item_set.scenario.strip():
            problems.append(Problem.at(item_set.source, f"item set {item_set.id} has no scenario"))
        unstorable = control_character_problem("scenario", item_set.scenario)
        if unstorable:
            problems.append(Problem.at(item_set.source, f"item set {item_set.id}: {unstorable}"))

    for item in bank.items:
        problems.extend(item_problems(item))

        def problem(reason: str, item: Item = item) -> None:
            problems.append(Problem.at(item.source, reason, item.id))

        if ids[item.id] > 1:
            problem(f"id {item.id} is used by {ids[item.id]} items")
        if item.unit != unit.number:
            problem(f"item is in the bank of {unit.label} but says unit {item.unit}")
        criterion = unit.criterion(item.criterion)
        if criterion is None:
            known = ", ".join(c.number for c in unit.criteria)
            problem(f"AC {item.criterion!r} is not an assessment criterion of {unit.label} ({known})")
        else:
            if item.learning_outcome != criterion.learning_outcome:
                problem(
                    f"learning outcome {item.learning_outcome} does not match AC {criterion.number}, "
                    f"which belongs to learning outcome {criterion.learning_outcome}"
                )
            if criterion.point(item.amplification) is None:
                known = ", ".join(p.id for p in criterion.amplification)
                problem(
                    f"amplification point {item.amplification!r} is not in AC {criterion.number} ({known})"
                )
        for enemy in sorted(item.enemies):
            if enemy not in ids:
                problem(f"enemy {enemy} is not an item of {unit.label}")
        if item.item_set is not None:
            if item.item_set not in set_ids:
                problem(f"item set {item.item_set} does not exist")
            else:
                set_members[item.item_set].append(item)

    low, high = ITEM_SET_SIZE
    for item_set in bank.item_sets:
        members = set_members.get(item_set.id, [])
        if not low <= len(members) <= high:
            problems.append(
                Problem.at(item_set.source, f"item set {item_set.id} has {len(members)} items; a set needs {low}-{high}")
            )
        statuses = {m.status for m in members}
        if len(statuses) > 1:
            problems.append(
                Problem.at(
                    item_set.source,
                    f"item set {item_set.id} mixes statuses ({', '.join(sorted(statuses))}): "
                    "a set is delivered whole, so its items move through review together",
                )
            )
        enemies_inside = [m.id for m in members if m.enemies & {o.id for o in members}]
        if enemies_inside:
            problems.append(
                Problem.at(item_set.source, f"item set {item_set.id}: {', '.join(enemies_inside)} are enemies of items in the same set")
            )
    return problems


def duplicate_id_problems(banks: list[Bank]) -> list[Problem]:
    """Item ids are unique across every bank, not only within one."""
    seen: dict[str, Item] = {}
    problems: list[Problem] = []
    for bank in banks:
        for item in bank.items:
            first = seen.get(item.id)
            if first is not None and first.unit != bank.unit.number:
                where = f" (first at {first.source})" if first.source else ""
                problems.append(Problem.at(item.source, f"id {item.id} is also used in another unit's bank{where}", item.id))
            seen.setdefault(item.id, item)
    return problems

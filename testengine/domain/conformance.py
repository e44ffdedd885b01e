"""Does a set of items meet a blueprint? Checked independently of how it was chosen.

The solver is trusted to honour its model; this checker is what proves it, in the tests and
after every assembly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from testengine.domain.banks import Bank
from testengine.domain.blueprints import Blueprint
from testengine.domain.items import Item


def form_violations(
    items: Sequence[Item],
    blueprint: Blueprint,
    bank: Bank,
    facility: Mapping[str, float] | None = None,
) -> list[str]:
    """Every way the chosen items break the blueprint (empty when the form is good)."""
    facility = facility or {}
    unit = bank.unit
    violations: list[str] = []
    ids = [i.id for i in items]
    for item_id, count in Counter(ids).items():
        if count > 1:
            violations.append(f"{item_id} appears {count} times")

    total = sum(i.marks for i in items)
    if total != blueprint.total_marks:
        violations.append(f"total marks {total}, blueprint needs exactly {blueprint.total_marks}")

    per_criterion = Counter(i.criterion for i in items)
    for number, counts in blueprint.criterion_items.items():
        n = per_criterion.get(number, 0)
        if not counts.minimum <= n <= counts.maximum:
            violations.append(f"AC {number}: {n} items, blueprint needs {counts.minimum}-{counts.maximum}")
    for number in per_criterion.keys() - blueprint.criterion_items.keys():
        violations.append(f"AC {number} is not in the blueprint")

    per_outcome: Counter[int] = Counter()
    for item in items:
        per_outcome[item.learning_outcome] += item.marks
    for outcome, marks in blueprint.outcome_marks.items():
        got = per_outcome.get(outcome, 0)
        if not marks.minimum <= got <= marks.maximum:
            violations.append(
                f"learning outcome {outcome}: {got} marks, blueprint needs {marks.minimum}-{marks.maximum}"
            )

    seconds = sum(i.expected_seconds for i in items)
    if seconds > blueprint.time_budget_seconds:
        violations.append(f"expected time {seconds} s exceeds {blueprint.time_budget_seconds} s")

    if total:
        mean = sum(facility.get(i.id, i.facility) * i.marks for i in items) / total
        window = blueprint.difficulty
        if not window.low - 1e-9 <= mean <= window.high + 1e-9:
            violations.append(f"mark-weighted facility {mean:.3f} outside {window.low:.3f}-{window.high:.3f}")

    chosen = set(ids)
    # Enmity counts whichever of the two items declares it.
    pairs = {tuple(sorted((item.id, enemy))) for item in items for enemy in item.enemies & chosen}
    violations.extend(f"enemies {a} and {b} are on the same form" for a, b in sorted(pairs))
    for item in items:
        if item.status not in blueprint.eligible_statuses:
            violations.append(f"{item.id} has status {item.status}, not eligible")
        if bank.unit.criterion(item.criterion) is None or item.unit != unit.number:
            violations.append(f"{item.id} is not an item of {unit.label}")

    members = Counter(i.item_set for i in bank.items if i.item_set)
    present = Counter(i.item_set for i in items if i.item_set)
    for set_id, n in present.items():
        if n != members[set_id]:
            violations.append(f"item set {set_id}: {n} of its {members[set_id]} items, all or none")

    per_type: Counter[str] = Counter()
    for item in items:
        per_type[item.type] += item.marks
    for kind, marks in blueprint.type_marks.items():
        got = per_type.get(kind, 0)
        if not marks.minimum <= got <= marks.maximum:
            violations.append(f"{kind} items: {got} marks, blueprint needs {marks.minimum}-{marks.maximum}")
    return violations

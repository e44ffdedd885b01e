"""On-demand test assembly as a 0-1 linear programme (van der Linden, *Linear Models for
Optimal Test Design*, 2005), solved with HiGHS through scipy.optimize.milp.

Variables x_i in {0, 1}: item i is on the form. Every blueprint rule is a group of linear
rows, so that an infeasible blueprint can be explained by the groups that clash:

    total marks      sum m_i x_i = T
    criterion c      min_c <= sum_{i in c} x_i <= max_c
    outcome o        min_o <= sum_{i in o} m_i x_i <= max_o
    time             sum t_i x_i <= budget
    difficulty       (target - tol) T <= sum p_i m_i x_i <= (target + tol) T
    item type k      min_k <= sum_{i of k} m_i x_i <= max_k
    enemies i, j     x_i + x_j <= 1
    item set s       x_i = x_j for consecutive members (all or none)

Eligibility (status, items already seen, exposure cap) is not a row: it is the variable's
upper bound, so one built model serves every candidate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix, csr_matrix

from testengine.domain.banks import Bank
from testengine.domain.blueprints import Blueprint
from testengine.domain.items import Item

SOLVER_SECONDS = 10.0
# The objective is random weights for variety, so any form within 5% of the best is as good;
# not proving optimality keeps the slowest solves near the typical ones.
FORM_GAP = 0.05
EXACT_GAP = 1e-4


@dataclass(frozen=True)
class RuleGroup:
    """One blueprint rule: its rows in the matrix and what to call it when it cannot be met."""

    kind: str  # total, criterion, outcome, time, difficulty, type, enemies, item_set
    subject: str  # the criterion number, outcome number, item ids...
    description: str
    rows: tuple[int, ...]


class SolverLimit(RuntimeError):
    """HiGHS stopped at its time limit before it could say yes or no."""


@dataclass
class AssemblyModel:
    """The blueprint's rows over a pool of items, built once and solved many times."""

    pool: tuple[Item, ...]
    blueprint: Blueprint
    matrix: csr_matrix
    lower: np.ndarray
    upper: np.ndarray
    groups: tuple[RuleGroup, ...]
    marks: np.ndarray
    facility: np.ndarray
    angoff: np.ndarray
    index: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(cls, bank: Bank, blueprint: Blueprint, facility: Mapping[str, float] | None = None) -> AssemblyModel:
        """Rows for every rule; the pool is the bank's items in an eligible status."""
        facility = facility or {}
        pool = tuple(sorted(bank.with_status(blueprint.eligible_statuses), key=lambda i: i.id))
        index = {item.id: n for n, item in enumerate(pool)}
        marks = np.array([i.marks for i in pool], dtype=float)
        seconds = np.array([i.expected_seconds for i in pool], dtype=float)
        p = np.array([facility.get(i.id, i.facility) for i in pool], dtype=float)
        rows: list[tuple[dict[int, float], float, float]] = []
        groups: list[RuleGroup] = []

        def group(kind: str, subject: str, description: str, new_rows: list[tuple[dict[int, float], float, float]]) -> None:
            start = len(rows)
            rows.extend(new_rows)
            groups.append(RuleGroup(kind, subject, description, tuple(range(start, len(rows)))))

        # Cheap-to-blame rules first: the deletion filter in `explain` drops from the front,
        # so what remains is phrased in the blueprint's main terms where it can be.
        for a, b in _enemy_pairs(pool, index):
            group("enemies", f"{pool[a].id} {pool[b].id}", f"enemies {pool[a].id} and {pool[b].id}: not both on one form",
                  [({a: 1.0, b: 1.0}, -math.inf, 1.0)])
        for set_id, members in sorted(_sets(pool).items()):
            group("item_set", set_id, f"item set {set_id}: all {len(members)} items or none",
                  [({a: 1.0, b: -1.0}, 0.0, 0.0) for a, b in zip(members, members[1:])])
        budget = blueprint.time_budget_seconds
        group("time", "", f"expected time at most {budget // 60} minutes",
              [(dict(enumerate(seconds)), -math.inf, float(budget))])
        window = blueprint.difficulty
        total = blueprint.total_marks
        group("difficulty", "",
              f"mark-weighted facility {window.low:.2f}-{window.high:.2f}",
              [(dict(enumerate(p * marks)), window.low * total - 1e-9, window.high * total + 1e-9)])
        for kind, marks_range in sorted(blueprint.type_marks.items()):
            cols = {n: float(i.marks) for n, i in enumerate(pool) if i.type == kind}
            group("type", str(kind), f"{kind} items: {marks_range.minimum}-{marks_range.maximum} marks",
                  [(cols, float(marks_range.minimum), float(marks_range.maximum))])
        for outcome, marks_range in sorted(blueprint.outcome_marks.items()):
            cols = {n: float(i.marks) for n, i in enumerate(pool) if i.learning_outcome == outcome}
            group("outcome", str(outcome),
                  f"learning outcome {outcome}: {marks_range.minimum}-{marks_range.maximum} marks",
                  [(cols, float(marks_range.minimum), float(marks_range.maximum))])
        for number, counts in blueprint.criterion_items.items():
            cols = {n: 1.0 for n, i in enumerate(pool) if i.criterion == number}
            group("criterion", number, f"AC {number}: {counts.minimum}-{counts.maximum} items",
                  [(cols, float(counts.minimum), float(counts.maximum))])
        group("total", "", f"exactly {total} marks", [(dict(enumerate(marks)), float(total), float(total))])

        r, c, v = [], [], []
        for row, (coeffs, _, _) in enumerate(rows):
            for col, value in coeffs.items():
                r.append(row)
                c.append(col)
                v.append(value)
        matrix = coo_matrix((v, (r, c)), shape=(len(rows), len(pool))).tocsr()
        return cls(
            pool=pool,
            blueprint=blueprint,
            matrix=matrix,
            lower=np.array([row[1] for row in rows]),
            upper=np.array([row[2] for row in rows]),
            groups=tuple(groups),
            marks=marks,
            facility=p,
            angoff=np.array([i.angoff for i in pool], dtype=float),
            index=index,
        )

    def solve(
        self, allowed: np.ndarray, cost: np.ndarray, rows: Sequence[int] | None = None, gap: float = FORM_GAP
    ) -> np.ndarray | None:
        """The chosen items as a 0/1 vector minimising `cost`, or None if nothing is feasible.

        `allowed` is the eligibility bound per item; `rows` restricts the rules in force
        (used only by `explain`).
        """
        matrix, lower, upper = self.matrix, self.lower, self.upper
        if rows is not None:
            keep = np.asarray(rows, dtype=int)
            matrix, lower, upper = matrix[keep], lower[keep], upper[keep]
        if not self.pool:
            # No variables: only the empty form, which meets the rules if zero is within them.
            return np.zeros(0, dtype=bool) if bool(np.all(lower <= 0) and np.all(upper >= 0)) else None
        constraints = [LinearConstraint(matrix, lower, upper)] if matrix.shape[0] else []
        result = milp(
            c=cost,
            integrality=np.ones(len(self.pool)),
            bounds=Bounds(np.zeros(len(self.pool)), allowed.astype(float)),
            constraints=constraints,
            options={"time_limit": SOLVER_SECONDS, "mip_rel_gap": gap},
        )
        if result.status == 2:
            return None
        if result.x is None:
            raise SolverLimit(f"the solver stopped without an answer: {result.message}")
        chosen: np.ndarray = np.round(result.x).astype(bool)
        return chosen

    def explain(self, allowed: np.ndarray) -> list[RuleGroup]:
        """An irreducible set of rules that cannot all be met (a deletion filter over groups).

        Each group is dropped in turn; if the rest is still infeasible it stays dropped. What
        is left clashes, and dropping any one of it would make the form possible.
        """
        kept = list(self.groups)
        zero = np.zeros(len(self.pool))
        for candidate in list(self.groups):
            trial = [g for g in kept if g is not candidate]
            rows = [r for g in trial for r in g.rows]
            if self.solve(allowed, zero, rows) is None:
                kept = trial
        return kept

    def value_range(self, allowed: np.ndarray, weights: np.ndarray) -> tuple[float, float] | None:
        """Smallest and largest sum(weights x) over every form the blueprint allows."""
        low = self.solve(allowed, weights, gap=EXACT_GAP)
        high = self.solve(allowed, -weights, gap=EXACT_GAP)
        if low is None or high is None:
            return None
        return float(weights @ low), float(weights @ high)


def _enemy_pairs(pool: Sequence[Item], index: Mapping[str, int]) -> list[tuple[int, int]]:
    pairs = set()
    for n, item in enumerate(pool):
        for enemy in item.enemies:
            if enemy in index:
                pairs.add((min(n, index[enemy]), max(n, index[enemy])))
    return sorted(pairs)


def _sets(pool: Sequence[Item]) -> dict[str, list[int]]:
    # A set's items share one status (the bank checks it), so a set is wholly in the pool or out.
    members: dict[str, list[int]] = {}
    for n, item in enumerate(pool):
        if item.item_set:
            members.setdefault(item.item_set, []).append(n)
    return members

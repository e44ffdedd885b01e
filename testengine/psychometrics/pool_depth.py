"""How many forms with no item in common can a pool make? The resit capacity of a bank.

One integer programme over F copies of the assembly model (Boekkooi-Timminga's simultaneous
assembly of parallel tests): x_if says item i is on form f, y_f says form f is built.

    every rule r of form f:  lower_r y_f <= A_r x_f <= upper_r y_f
    each item on one form:   sum_f x_if <= 1
    symmetry:                y_f >= y_(f+1)
    maximise                 sum_f y_f

HiGHS proves the optimum on the shipped banks; when it stops at its time limit the answer
is given as a proven lower bound and the solver's upper bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import bmat, csr_matrix, diags, eye, hstack, kron

from testengine.psychometrics.assembly import AssemblyModel


@dataclass(frozen=True)
class PoolDepth:
    forms: int  # found and proven possible
    upper_bound: int  # no more than this can exist
    proven: bool  # forms == upper_bound, the solver proved it


def naive_upper_bound(model: AssemblyModel, allowed: np.ndarray, ceiling: int) -> int:
    """No more forms than the scarcest rule allows: marks in the pool, items per criterion..."""
    bounds = [ceiling]
    marks = model.marks * allowed
    bounds.append(int(marks.sum() // model.blueprint.total_marks))
    for group in model.groups:
        if group.kind in ("criterion", "outcome"):
            row = model.matrix[group.rows[0]].toarray().ravel() * allowed
            need = model.lower[group.rows[0]]
            if need > 0:
                bounds.append(int(math.floor(row.sum() / need + 1e-9)))
    return max(min(bounds), 0)


def disjoint_forms(model: AssemblyModel, allowed: np.ndarray, ceiling: int = 12, seconds: float = 60.0) -> PoolDepth:
    n = len(model.pool)
    forms = naive_upper_bound(model, allowed, ceiling)
    if forms == 0:
        return PoolDepth(0, 0, True)
    a = model.matrix
    lower, upper = model.lower, model.upper
    finite_low = np.isfinite(lower)
    finite_high = np.isfinite(upper)
    # Per form: rows with a finite lower bound as A x - lower y >= 0, finite upper as A x - upper y <= 0.
    low_rows = a[finite_low]
    high_rows = a[finite_high]
    blocks_x = kron(eye(forms, format="csr"), bmat([[low_rows], [high_rows]]), format="csr")
    y_cols = bmat([[csr_matrix(-lower[finite_low]).T], [csr_matrix(-upper[finite_high]).T]])
    blocks_y = kron(eye(forms, format="csr"), y_cols, format="csr")
    rule_rows = hstack([blocks_x, blocks_y], format="csr")
    rows_per_form = low_rows.shape[0] + high_rows.shape[0]
    rule_low = np.tile(np.concatenate([np.zeros(low_rows.shape[0]), np.full(high_rows.shape[0], -np.inf)]), forms)
    rule_high = np.tile(np.concatenate([np.full(low_rows.shape[0], np.inf), np.zeros(high_rows.shape[0])]), forms)
    assert rule_rows.shape[0] == rows_per_form * forms
    once = hstack([kron(np.ones((1, forms)), eye(n), format="csr"), csr_matrix((n, forms))], format="csr")
    order = hstack([csr_matrix((forms - 1, n * forms)), diags([1.0, -1.0], [0, 1], shape=(forms - 1, forms))], format="csr")
    constraints = [
        LinearConstraint(rule_rows, rule_low, rule_high),
        LinearConstraint(once, -np.inf, 1.0),
    ]
    if forms > 1:
        constraints.append(LinearConstraint(order, 0.0, np.inf))
    cost = np.concatenate([np.zeros(n * forms), -np.ones(forms)])
    item_bounds = np.tile(allowed.astype(float), forms)
    result = milp(
        c=cost,
        integrality=np.ones(n * forms + forms),
        bounds=Bounds(np.zeros(n * forms + forms), np.concatenate([item_bounds, np.ones(forms)])),
        constraints=constraints,
        options={"time_limit": seconds},
    )
    if result.status == 2:
        return PoolDepth(0, 0, True)
    found = int(round(-result.fun)) if result.x is not None else 0
    bound = getattr(result, "mip_dual_bound", None)
    ceiling_found = forms if bound is None or not np.isfinite(bound) else int(math.floor(-bound + 1e-6))
    ceiling_found = max(min(ceiling_found, forms), found)
    return PoolDepth(found, ceiling_found, found == ceiling_found)

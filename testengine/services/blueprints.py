"""Can the pool serve the blueprint, and for how many resits? The analyst's blueprint check."""

from __future__ import annotations

from typing import Any

import numpy as np

from testengine.domain.blueprints import CutMethod
from testengine.domain.cut_scores import round_cut
from testengine.psychometrics.pool_depth import disjoint_forms
from testengine.services.assembly import Assembler, AssemblyError
from testengine.services.catalogue import UnitPackage


def check_blueprint(assembler: Assembler, package: UnitPackage, seconds: float = 60.0) -> dict[str, Any]:
    bank, blueprint = package.bank, package.blueprint
    model = assembler.model(package)
    pool = model.pool
    allowed = np.ones(len(pool), dtype=bool)
    criteria = []
    for criterion in bank.unit.criteria:
        eligible = [i for i in pool if i.criterion == criterion.number]
        counts = blueprint.criterion_items[criterion.number]
        criteria.append(
            {
                "criterion": criterion.number,
                "eligible_items": len(eligible),
                "eligible_marks": sum(i.marks for i in eligible),
                "min_items": counts.minimum,
                "max_items": counts.maximum,
            }
        )
    uncovered = [
        {"criterion": c.number, "amplification": p.id, "title": p.title}
        for c in bank.unit.criteria
        for p in c.amplification
        if not any(i.criterion == c.number and i.amplification == p.id for i in pool)
    ]
    report: dict[str, Any] = {
        "unit": bank.unit.number,
        "reference": bank.unit.reference,
        "eligible_statuses": sorted(s.value for s in blueprint.eligible_statuses),
        "pool_items": len(pool),
        "pool_marks": int(model.marks.sum()),
        "criteria": criteria,
        "uncovered_amplification": uncovered,
        "amplification_points": sum(len(c.amplification) for c in bank.unit.criteria),
    }
    try:
        assembler.choose(package, 0)
    except AssemblyError as exc:
        report.update(feasible=False, problems=exc.reasons, disjoint_forms=0)
        return report
    depth = disjoint_forms(model, allowed, seconds=seconds)
    total = blueprint.total_marks
    facility = model.value_range(allowed, model.facility * model.marks)
    angoff = model.value_range(allowed, model.angoff * model.marks)
    assert facility is not None and angoff is not None, "a form exists, so both ranges do"
    report.update(
        feasible=True,
        problems=[],
        disjoint_forms=depth.forms,
        disjoint_forms_upper_bound=depth.upper_bound,
        disjoint_forms_proven=depth.proven,
        facility_range=[round(facility[0] / total, 4), round(facility[1] / total, 4)],
        cut_score_range=_cut_range(package, angoff),
        cut_method=blueprint.pass_rule.method.value,
    )
    return report


def _cut_range(package: UnitPackage, expectation: tuple[float, float]) -> list[int]:
    rule = package.blueprint.pass_rule
    if rule.method is CutMethod.FIXED:
        assert rule.fixed_cut is not None
        return [rule.fixed_cut, rule.fixed_cut]
    return [round_cut(rule.rounding, value) for value in expectation]

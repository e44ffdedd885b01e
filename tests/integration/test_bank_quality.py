"""Production depth and item quality of the shipped banks: what on-demand testing with resits needs."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from testengine.domain.items import ItemStatus, ItemType
from testengine.psychometrics.pool_depth import disjoint_forms
from testengine.services.assembly import Assembler
from testengine.services.lint import lint_bank
from testengine.storage.lint_policy_file import read_lint_policy
from tests.conftest import SHIPPED_BANKS

UNITS = [2, 4, 5]


def live(package):
    return [i for i in package.bank.items if i.status is ItemStatus.LIVE]


@pytest.mark.parametrize("number", UNITS)
def test_the_bank_passes_lint_with_no_errors(shipped, number):
    report = lint_bank(shipped.unit(number).bank, read_lint_policy(SHIPPED_BANKS))
    assert [str(f) for f in report.errors] == []


@pytest.mark.parametrize("number", UNITS)
def test_every_criterion_has_eight_live_items_and_every_point_two(shipped, number):
    package = shipped.unit(number)
    items = live(package)
    per_criterion = Counter(i.criterion for i in items)
    per_point = Counter((i.criterion, i.amplification) for i in items)
    unit = package.bank.unit
    assert {c.number: per_criterion[c.number] for c in unit.criteria if per_criterion[c.number] < 8} == {}
    thin = {f"{c.number} {p.id}": per_point[(c.number, p.id)] for c in unit.criteria for p in c.amplification if per_point[(c.number, p.id)] < 2}
    assert thin == {}


@pytest.mark.parametrize("number", UNITS)
def test_a_real_mix_of_types_and_at_least_three_item_sets(shipped, number):
    package = shipped.unit(number)
    items = live(package)
    marks = sum(i.marks for i in items)
    beyond_single = sum(i.marks for i in items if i.type is not ItemType.SINGLE)
    assert beyond_single / marks >= 0.15
    live_sets = {i.item_set for i in items if i.item_set}
    assert len(live_sets) >= 3


@pytest.mark.parametrize("number", UNITS)
def test_every_item_has_estimates_a_rationale_and_a_cognitive_level(shipped, number):
    for item in live(shipped.unit(number)):
        assert 0 < item.angoff <= item.facility < 1
        assert item.rationale and item.cognitive_level is not None


@pytest.mark.parametrize("number", UNITS)
def test_the_pool_supports_four_disjoint_forms_so_a_candidate_can_resit_three_times(shipped, number):
    package = shipped.unit(number)
    model = Assembler(shipped).model(package)
    depth = disjoint_forms(model, np.ones(len(model.pool), dtype=bool), ceiling=4, seconds=120)
    assert depth.forms >= 4

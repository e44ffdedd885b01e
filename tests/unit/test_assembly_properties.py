"""Property-based tests of assembly: for random pools and blueprints, any form returned meets
every rule (checked by the independent domain checker), and on small pools the solver's
'infeasible' agrees with brute force over every subset."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from testengine.domain.blueprints import DifficultyWindow, ItemCountRange, MarkRange
from testengine.domain.conformance import form_violations
from testengine.domain.items import ItemSet, ItemStatus
from testengine.psychometrics.assembly import AssemblyModel
from testengine.services.assembly import Assembler, AssemblyError, Eligibility
from testengine.services.catalogue import Catalogue, UnitPackage
from tests.factories import make_bank, make_blueprint, make_item, make_unit


@st.composite
def pools_and_blueprints(draw, max_items_per_criterion=4):
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    unit = make_unit(shape)
    items = []
    n = 1
    for criterion in unit.criteria:
        for _ in range(draw(st.integers(0, max_items_per_criterion))):
            facility = draw(st.floats(0.3, 0.9))
            items.append(
                make_item(
                    n,
                    criterion.number,
                    marks=draw(st.integers(1, 2)),
                    facility=facility,
                    angoff=facility * 0.8,
                    expected_seconds=draw(st.integers(30, 120)),
                    status=draw(st.sampled_from([ItemStatus.LIVE] * 5 + [ItemStatus.DRAFT])),
                )
            )
            n += 1
    ids = [i.id for i in items]
    if len(ids) >= 2:
        for a, b in draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)), max_size=3)):
            if a != b:
                items = [replace(i, enemies=i.enemies | {b}) if i.id == a else i for i in items]
    item_sets: tuple[ItemSet, ...] = ()
    live = [i for i in items if i.status is ItemStatus.LIVE and not i.enemies]
    if len(live) >= 3 and draw(st.booleans()):
        members = {live[0].id, live[1].id}
        item_sets = (ItemSet("U9-SET-01", "Scenario", "A situation.", 9),)
        items = [replace(i, item_set="U9-SET-01") if i.id in members else i for i in items]
    total = draw(st.integers(2, 10))
    blueprint = make_blueprint(
        unit,
        total_marks=total,
        outcome_marks={lo.number: MarkRange(1, draw(st.integers(1, total))) for lo in unit.learning_outcomes},
        criterion_items={c.number: ItemCountRange(1, draw(st.integers(1, 3))) for c in unit.criteria},
        difficulty=DifficultyWindow(draw(st.floats(0.4, 0.8)), draw(st.floats(0.02, 0.3))),
        duration_minutes=draw(st.integers(2, 20)),
    )
    return make_bank(unit, items, item_sets), blueprint


def package(bank, blueprint):
    return UnitPackage(bank, blueprint, "test")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pools_and_blueprints(), st.integers(0, 2**31 - 1))
def test_any_form_returned_meets_every_rule_of_the_blueprint(case, seed):
    bank, blueprint = case
    assembler = Assembler(Catalogue({9: package(bank, blueprint)}))
    try:
        form = assembler.choose(package(bank, blueprint), seed)
    except AssemblyError as exc:
        assert exc.reasons and all("Unit 9" in r for r in exc.reasons)
        return
    chosen = [bank.item(i.item_id) for i in form.items]
    assert form_violations(chosen, blueprint, bank) == []
    assert form.total_marks == sum(i.marks for i in chosen) == blueprint.total_marks
    assert sorted(i.position for i in form.items) == list(range(1, len(form.items) + 1))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pools_and_blueprints(max_items_per_criterion=2))
def test_the_solver_says_infeasible_exactly_when_no_subset_of_the_pool_meets_the_blueprint(case):
    bank, blueprint = case
    pool = [i for i in bank.items if i.status in blueprint.eligible_statuses]
    if len(pool) > 11:
        return
    brute_force = any(
        not form_violations(list(subset), blueprint, bank)
        for size in range(1, len(pool) + 1)
        for subset in itertools.combinations(pool, size)
    )
    model = AssemblyModel.build(bank, blueprint)
    chosen = model.solve(np.ones(len(model.pool), dtype=bool), np.zeros(len(model.pool)))
    assert (chosen is not None) == brute_force


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pools_and_blueprints())
def test_the_rules_named_for_an_infeasible_blueprint_really_cannot_be_met_together(case):
    bank, blueprint = case
    model = AssemblyModel.build(bank, blueprint)
    allowed = np.ones(len(model.pool), dtype=bool)
    zero = np.zeros(len(model.pool))
    if model.solve(allowed, zero) is not None:
        return
    clash = model.explain(allowed)
    rows = [r for g in clash for r in g.rows]
    assert model.solve(allowed, zero, rows) is None
    for dropped in clash:  # irreducible: without any one of them the rest can be met
        rest = [r for g in clash if g is not dropped for r in g.rows]
        assert model.solve(allowed, zero, rest) is not None


def test_a_criterion_with_no_eligible_items_is_named_with_the_reason():
    unit = make_unit()
    items = [make_item(n, c.number) for n, c in enumerate(unit.criteria, start=1)]
    items.append(make_item(9, "2.2"))
    bank = make_bank(unit, items)
    blueprint = make_blueprint(unit, total_marks=4)
    assembler = Assembler(Catalogue({9: package(bank, blueprint)}))
    seen = Eligibility(seen=frozenset({"U9-0004", "U9-0009"}), candidate="C001")
    with pytest.raises(AssemblyError) as error:
        assembler.choose(package(bank, blueprint), 1, seen)
    assert error.value.reasons == ["Unit 9 AC 2.2: no eligible items (2 in the bank: 2 already seen by candidate C001)"]


def test_an_infeasible_mix_of_rules_is_explained_by_the_rules_that_clash():
    unit = make_unit()
    bank = make_bank(unit, [make_item(n, c.number, facility=0.9, angoff=0.7) for n, c in enumerate(unit.criteria, start=1)])
    blueprint = make_blueprint(unit, total_marks=4, difficulty=DifficultyWindow(0.5, 0.05))
    assembler = Assembler(Catalogue({9: package(bank, blueprint)}))
    with pytest.raises(AssemblyError, match="mark-weighted facility 0.45-0.55"):
        assembler.choose(package(bank, blueprint), 1)


def test_the_same_seed_gives_the_same_form_and_different_seeds_spread_the_pool():
    unit = make_unit()
    bank = make_bank(unit, [make_item(n, unit.criteria[n % 4].number) for n in range(1, 25)])
    blueprint = make_blueprint(unit, total_marks=6)
    assembler = Assembler(Catalogue({9: package(bank, blueprint)}))
    first = assembler.choose(package(bank, blueprint), 42)
    assert assembler.choose(package(bank, blueprint), 42) == first
    used = {i.item_id for seed in range(40) for i in assembler.choose(package(bank, blueprint), seed).items}
    assert len(used) >= 20


def test_over_cap_items_are_used_only_when_the_blueprint_needs_them_and_recorded():
    unit = make_unit()
    items = [make_item(n, c.number) for n, c in enumerate(unit.criteria, start=1)]
    items += [make_item(10 + n, "1.1") for n in range(4)]
    bank = make_bank(unit, items)
    blueprint = make_blueprint(unit, total_marks=4)
    assembler = Assembler(Catalogue({9: package(bank, blueprint)}))
    # Every item of 2.2 and one of 1.1 are over the cap: 2.2 must be relaxed, 1.1 need not.
    over = Eligibility(over_cap=frozenset({"U9-0004", "U9-0001"}))
    form = assembler.choose(package(bank, blueprint), 5, over)
    assert form.exposure_relaxed == ("U9-0004",)
    assert "U9-0001" not in {i.item_id for i in form.items}

"""The shipped specifications, banks and blueprints: complete, valid, and able to assemble."""

from __future__ import annotations

import pytest

from testengine.domain.conformance import form_violations
from testengine.domain.items import ItemStatus
from testengine.services.assembly import Assembler

# Transcribed from the qualification specification (Pearson BTEC Level 3 Diploma in Customer
# Service, Units 2, 4 and 5): every assessment criterion each unit has.
SPECIFIED = {
    2: {
        "reference": "Y/506/2152",
        "title": "Understand the Customer Service Environment",
        "guided_learning_hours": 40,
        "criteria": ["1.1", "1.2", "1.3", "1.4", "1.5", "2.1", "2.2", "2.3",
                     "3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "4.1", "4.2"],
        "minutes": 45,
        "marks": 30,
    },
    4: {
        "reference": "D/506/1942",
        "title": "Principles of Business",
        "guided_learning_hours": 74,
        "criteria": ["1.1", "1.2", "1.3", "1.4", "2.1", "2.2", "2.3", "2.4", "2.5",
                     "3.1", "3.2", "3.3", "4.1", "4.2", "5.1", "5.2", "5.3", "5.4", "5.5"],
        "minutes": 45,
        "marks": 30,
    },
    5: {
        "reference": "J/506/2910",
        "title": "Understand Customers and Customer Retention",
        "guided_learning_hours": 35,
        "criteria": ["1.1", "1.2", "1.3", "1.4", "1.5", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6",
                     "3.1", "3.2", "3.3"],
        "minutes": 35,
        "marks": 25,
    },
}


def test_the_three_tested_units_are_shipped(shipped):
    assert sorted(shipped.units) == [2, 4, 5]


@pytest.mark.parametrize("number", sorted(SPECIFIED))
def test_every_assessment_criterion_of_the_specification_is_transcribed(shipped, number):
    expected = SPECIFIED[number]
    unit = shipped.unit(number).bank.unit
    assert unit.reference == expected["reference"]
    assert unit.title == expected["title"]
    assert unit.guided_learning_hours == expected["guided_learning_hours"]
    assert [c.number for c in unit.criteria] == expected["criteria"]
    assert all(c.amplification for c in unit.criteria)


@pytest.mark.parametrize("number", sorted(SPECIFIED))
def test_each_blueprint_has_the_specified_duration_and_marks(shipped, number):
    blueprint = shipped.unit(number).blueprint
    assert (blueprint.duration_minutes, blueprint.total_marks) == (SPECIFIED[number]["minutes"], SPECIFIED[number]["marks"])


@pytest.mark.parametrize("number", sorted(SPECIFIED))
def test_every_criterion_has_at_least_three_live_items(shipped, number):
    bank = shipped.unit(number).bank
    thin = {c: len([i for i in items if i.status is ItemStatus.LIVE]) for c, items in bank.items_by_criterion().items()}
    assert {c: n for c, n in thin.items() if n < 3} == {}


@pytest.mark.parametrize("number", sorted(SPECIFIED))
def test_every_unit_assembles_for_a_hundred_seeds_with_every_rule_met(shipped, number):
    package = shipped.unit(number)
    assembler = Assembler(shipped)
    forms = [assembler.choose(package, seed) for seed in range(100)]
    for form in forms:
        items = [package.bank.item(i.item_id) for i in form.items]
        assert form_violations(items, package.blueprint, package.bank) == []
        assert {i.criterion for i in items} == set(SPECIFIED[number]["criteria"])
        assert 0 < form.cut_score < form.total_marks
    assert len({f.refs for f in forms}) == 100, "different seeds give different forms"

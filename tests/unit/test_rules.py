from dataclasses import replace

from testengine.domain.banks import bank_problems
from testengine.domain.blueprints import ItemCountRange, MarkRange, blueprint_problems
from testengine.domain.items import ItemSet, ItemStatus
from testengine.domain.specification import AmplificationPoint, Criterion, LearningOutcome, specification_problems
from tests.factories import make_bank, make_blueprint, make_item, make_unit


def reasons(problems):
    return [p.reason for p in problems]


def test_bank_problems_name_unknown_criteria_points_and_enemies_and_duplicates():
    unit = make_unit()
    items = [
        make_item(1, "1.1"),
        make_item(1, "1.2"),
        make_item(2, "3.1", learning_outcome=3),
        make_item(3, "1.1", amplification="no-such-point"),
        make_item(4, "1.1", enemies=frozenset({"U9-0999"})),
        make_item(5, "1.1", learning_outcome=2),
        make_item(6, "1.1", unit=9, item_set="U9-SET-09"),
    ]
    found = reasons(bank_problems(make_bank(unit, items)))
    assert "id U9-0001 is used by 2 items" in found
    assert any("AC '3.1' is not an assessment criterion of Unit 9" in r for r in found)
    assert any("amplification point 'no-such-point' is not in AC 1.1" in r for r in found)
    assert "enemy U9-0999 is not an item of Unit 9" in found
    assert any("learning outcome 2 does not match AC 1.1" in r for r in found)
    assert "item set U9-SET-09 does not exist" in found


def test_item_sets_need_two_to_four_items_of_one_status():
    unit = make_unit()
    item_set = ItemSet("U9-SET-01", "Scenario", "A customer arrives.", 9)
    lonely = make_bank(unit, [make_item(1, item_set="U9-SET-01")], (item_set,))
    assert any("has 1 items; a set needs 2-4" in r for r in reasons(bank_problems(lonely)))
    mixed = make_bank(
        unit,
        [make_item(1, item_set="U9-SET-01"), make_item(2, item_set="U9-SET-01", status=ItemStatus.DRAFT)],
        (item_set,),
    )
    assert any("mixes statuses" in r for r in reasons(bank_problems(mixed)))


def test_specification_problems_catch_gaps_in_numbering_and_missing_amplification():
    unit = make_unit()
    outcome = unit.learning_outcomes[0]
    broken = replace(
        unit,
        learning_outcomes=(
            replace(outcome, criteria=(outcome.criteria[0], replace(outcome.criteria[1], number="1.3"))),
            LearningOutcome(3, "Skipped two", (Criterion("3.1", "Explain", ()),)),
        ),
    )
    found = reasons(specification_problems(broken))
    assert any("'1.3' is out of sequence (expected 1.2)" in r for r in found)
    assert any("learning outcome 3 is out of sequence" in r for r in found)
    assert any("AC 3.1 has no amplification points" in r for r in found)
    dupe = replace(
        unit.learning_outcomes[0].criteria[0],
        amplification=(AmplificationPoint("a", "A", "x"), AmplificationPoint("a", "A", "y")),
    )
    assert any("used twice" in r for r in reasons(specification_problems(replace(unit, learning_outcomes=(replace(outcome, criteria=(dupe, outcome.criteria[1])),) + unit.learning_outcomes[1:]))))


def test_blueprint_problems_require_every_outcome_and_criterion_and_consistent_ranges():
    unit = make_unit()
    blueprint = make_blueprint(unit, total_marks=30)
    blueprint = replace(
        blueprint,
        outcome_marks={1: MarkRange(2, 5)},
        criterion_items={**{k: v for k, v in blueprint.criterion_items.items() if k != "2.2"}, "1.1": ItemCountRange(0, 2)},
    )
    found = reasons(blueprint_problems(blueprint, unit))
    assert any("learning outcome 2 has no mark range" in r for r in found)
    assert any("allow 2-5 marks in all, which cannot make 30" in r for r in found)
    assert any("AC 2.2 has no item range" in r for r in found)
    assert any("AC 1.1: item range 0-2 must be at least 1" in r for r in found)
    assert blueprint_problems(make_blueprint(unit), unit) == []


def test_blueprint_problems_bound_the_exposure_window():
    unit = make_unit()
    blueprint = make_blueprint(unit)
    for window in (0, 20_001):
        found = reasons(blueprint_problems(replace(blueprint, exposure=replace(blueprint.exposure, window=window)), unit))
        assert any(f"exposure window {window} must be 1-20000 recent forms" in r for r in found)

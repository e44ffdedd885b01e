import pytest

from testengine.domain.items import Choice, ItemType, ScoringRule, item_problems
from tests.factories import make_item, matching_item, multiple_item, ordering_item


def reasons(item):
    return [p.reason for p in item_problems(item)]


def test_a_well_formed_item_of_each_type_has_no_problems():
    for item in (make_item(1), multiple_item(2), ordering_item(3), matching_item(4)):
        assert reasons(item) == []


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"key": ("z",)}, "key z is not among the options"),
        ({"options": (Choice("a", "x"), Choice("b", "y"))}, "need 3-5 options"),
        ({"angoff": 0.9, "facility": 0.6}, "exceeds facility"),
        ({"marks": 7}, "marks 7 is outside"),
        ({"id": "ITEM-1"}, "is not of the form"),
        ({"id": "U3-0001"}, "does not start with U9-"),
        ({"enemies": frozenset({"U9-0001"})}, "lists itself as an enemy"),
        ({"scoring": ScoringRule.PARTIAL}, "partial credit is for multiple"),
        ({"rationale": " "}, "rationale is empty"),
        ({"options": (Choice("a", "Same"), Choice("b", "same"), Choice("c", "Other"))}, "same text"),
        ({"options": (Choice("A", "x"), Choice("b", "y"), Choice("c", "z"))}, "short lower-case slug"),
        ({"stem": "Which\x00 one?"}, "stem: contains the control character U+0000"),
        ({"options": (Choice("a", "x\x1b"), Choice("b", "y"), Choice("c", "z"))}, "option 'a': contains the control character U+001B"),
    ],
)
def test_item_rules_name_the_problem(changes, expected):
    assert any(expected in r for r in reasons(make_item(1, **changes))), reasons(make_item(1, **changes))


def test_multiple_response_needs_two_or_more_keys_but_not_every_option():
    assert any("at least 2" in r for r in reasons(multiple_item(1, key=("a",))))
    assert any("fewer than all" in r for r in reasons(multiple_item(1, key=tuple("abcde"))))


def test_ordering_key_lists_every_step_once():
    assert any("every option exactly once" in r for r in reasons(ordering_item(1, key=("a", "b", "c"))))


def test_matching_key_gives_one_distinct_option_per_premise():
    assert any("no option for premise p3" in r for r in reasons(matching_item(1, key=("a", "b", ""))))
    assert any("for two premises" in r for r in reasons(matching_item(1, key=("a", "a", "b"))))
    too_few = matching_item(1, options=(Choice("a", "x"), Choice("b", "y")))
    assert any("at least as many options as premises" in r for r in reasons(too_few))


def test_partial_credit_cannot_award_more_marks_than_parts():
    item = multiple_item(1, marks=3, scoring=ScoringRule.PARTIAL)
    assert any("only 2 parts" in r for r in reasons(item))


def test_only_matching_items_have_premises():
    assert any("only matching items" in r for r in reasons(make_item(1, premises=(Choice("p1", "t"),), type=ItemType.SINGLE)))

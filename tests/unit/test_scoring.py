import pytest

from testengine.domain.items import ScoringRule
from testengine.domain.scoring import ResponseError, normalise, score
from tests.factories import make_item, matching_item, multiple_item, ordering_item


def marks_for(item, raw):
    return score(item, normalise(item, raw))


def test_single_response_scores_full_marks_only_for_the_key():
    item = make_item(1)
    assert marks_for(item, "b") == 1
    assert marks_for(item, "a") == 0


def test_an_omitted_answer_scores_zero_for_every_type():
    for item in (make_item(1), multiple_item(2), ordering_item(3), matching_item(4)):
        assert normalise(item, None) is None
        assert marks_for(item, None) == 0
    assert normalise(matching_item(4), {"p1": "", "p2": ""}) is None


def test_multiple_response_all_or_nothing_ignores_selection_order():
    item = multiple_item(1, marks=2)
    assert marks_for(item, ["c", "a"]) == 2
    assert marks_for(item, ["a", "b"]) == 0


def test_multiple_response_partial_credit_counts_keys_and_cancels_wrong_picks():
    item = multiple_item(1, marks=2, scoring=ScoringRule.PARTIAL)
    assert marks_for(item, ["a", "c"]) == 2
    assert marks_for(item, ["a", "b"]) == 0  # one right, one wrong cancel
    assert marks_for(item, ["a"]) == 1
    assert marks_for(item, ["a", "c", "b"]) == 0  # more than asked for


def test_ordering_partial_credit_is_floor_of_marks_times_positions_right():
    item = ordering_item(1, marks=2, scoring=ScoringRule.PARTIAL)  # key c a d b
    assert marks_for(item, ["c", "a", "d", "b"]) == 2
    assert marks_for(item, ["c", "a", "b", "d"]) == 1  # 2 of 4 positions -> floor(2 * 2 / 4)
    assert marks_for(item, ["a", "c", "b", "d"]) == 0
    assert marks_for(ordering_item(2), ["c", "a", "b", "d"]) == 0
    assert marks_for(item, ["c", "a", "", ""]) == 1  # a partly ordered answer keeps what it placed
    assert normalise(item, ["", "", "", ""]) is None


def test_matching_partial_credit_counts_premises():
    item = matching_item(1, marks=3, scoring=ScoringRule.PARTIAL)  # p1 b, p2 d, p3 a
    assert marks_for(item, {"p1": "b", "p2": "d", "p3": "a"}) == 3
    assert marks_for(item, {"p1": "b", "p2": "a"}) == 1
    assert marks_for(matching_item(2), {"p1": "b", "p2": "d"}) == 0


@pytest.mark.parametrize(
    "factory, raw, message",
    [
        (make_item, ["b"], "one option id"),
        (make_item, "z", "no option z"),
        (multiple_item, "a", "list of option ids"),
        (multiple_item, ["a", "a"], "appears twice"),
        (ordering_item, ["a", "b"], "one entry for each of the 4 positions"),
        (ordering_item, ["a", "a", "", ""], "placed twice"),
        (matching_item, ["a"], "maps each term"),
        (matching_item, {"p9": "a"}, "no term p9"),
    ],
)
def test_malformed_responses_are_refused_with_the_reason(factory, raw, message):
    with pytest.raises(ResponseError, match=message):
        normalise(factory(1), raw)

import random
from dataclasses import replace

from testengine.domain.blueprints import CutMethod, Hurdle, PassRule, Presentation, Rounding
from testengine.domain.cut_scores import cut_score, round_cut
from testengine.domain.forms import Form, arrange
from testengine.domain.marking import Outcome, mark
from testengine.domain.scoring import normalise
from tests.factories import make_item, multiple_item


def test_angoff_cut_is_the_sum_of_ratings_times_marks_rounded_as_the_blueprint_says():
    items = [make_item(1, angoff=0.55), make_item(2, angoff=0.6), multiple_item(3, marks=2, angoff=0.65)]
    # 0.55 + 0.6 + 1.3 = 2.45
    assert cut_score(PassRule(CutMethod.ANGOFF, Rounding.NEAREST), items) == 2
    assert cut_score(PassRule(CutMethod.ANGOFF, Rounding.UP), items) == 3
    assert cut_score(PassRule(CutMethod.ANGOFF, Rounding.DOWN), items) == 2
    assert cut_score(PassRule(CutMethod.FIXED, fixed_cut=2), items) == 2


def test_nearest_rounding_takes_halves_up_despite_float_noise():
    assert round_cut(Rounding.NEAREST, 0.1 + 0.2 + 17.2) == 18  # 17.5 as 17.499999...
    assert round_cut(Rounding.NEAREST, 17.49) == 17
    assert round_cut(Rounding.DOWN, 0.3) == 1  # never below one mark


def form_of(items, cut):
    arranged = arrange(items, Presentation(shuffle_items=False, shuffle_options=False), random.Random(0))
    return Form(9, 0, "d", 30, sum(i.marks for i in items), cut, 0.6, 600, arranged)


def test_marking_totals_by_criterion_and_outcome_and_applies_the_cut():
    items = [make_item(1, "1.1"), make_item(2, "1.2"), make_item(3, "2.1"), multiple_item(4, "2.1", marks=2)]
    form = form_of(items, cut=3)
    by_ref = {i.ref: i for i in items}
    raw = {1: "b", 2: "a", 3: "b", 4: ["a", "c"]}
    responses = {fi.position: normalise(by_ref[fi.ref], raw.get(fi.position)) for fi in form.items}
    result = mark(form, by_ref, responses, PassRule(CutMethod.ANGOFF))
    assert result.total == 4 and result.maximum == 5
    assert result.outcome is Outcome.PASS
    assert result.by_criterion["1.2"].score == 0
    assert result.by_learning_outcome[2].score == 3 and result.by_learning_outcome[2].maximum == 3
    assert [s.answered for s in result.item_scores] == [True, True, True, True]

    failing = mark(form_of(items, cut=5), by_ref, responses, PassRule(CutMethod.ANGOFF))
    assert failing.outcome is Outcome.NOT_YET_PASSED
    assert failing.outcome.value == "Not yet passed"


def test_a_hurdle_fails_a_candidate_above_the_cut_who_misses_an_outcome_share():
    items = [make_item(1, "1.1"), make_item(2, "1.2"), make_item(3, "2.1"), make_item(4, "2.2")]
    form = form_of(items, cut=2)
    by_ref = {i.ref: i for i in items}
    responses = {1: ("b",), 2: ("b",), 3: ("a",), 4: ("a",)}
    rule = PassRule(CutMethod.ANGOFF, hurdles=(Hurdle(2, 0.5),))
    result = mark(form, by_ref, responses, rule)
    assert result.total == 2 and result.failed_hurdles == (2,)
    assert result.outcome is Outcome.NOT_YET_PASSED
    assert "learning outcome 2" in result.rule
    passed = mark(form, by_ref, {**responses, 3: ("b",)}, rule)
    assert passed.outcome is Outcome.PASS


def test_arrange_groups_by_outcome_keeps_sets_together_and_never_shows_steps_in_order():
    from tests.factories import ordering_item

    items = [
        make_item(1, "2.1"),
        make_item(2, "1.1", item_set="U9-SET-01"),
        make_item(3, "1.2", item_set="U9-SET-01"),
        make_item(4, "1.2"),
        ordering_item(5, "2.2"),
        make_item(6, "1.1", fixed_option_order=True),
    ]
    for seed in range(30):
        arranged = arrange(items, Presentation(), random.Random(seed))
        outcomes = [i.learning_outcome for i in arranged]
        assert outcomes == sorted(outcomes)
        positions = [i.position for i in arranged if i.item_set]
        assert positions[1] == positions[0] + 1
        ordering = next(i for i in arranged if i.item_id == "U9-0005")
        assert ordering.option_order != ("c", "a", "d", "b")
        fixed = next(i for i in arranged if i.item_id == "U9-0006")
        assert fixed.option_order == ("a", "b", "c", "d")
    assert arrange(items, Presentation(), random.Random(7)) == arrange(items, Presentation(), random.Random(7))
    shuffled = {arrange(items, Presentation(), random.Random(s))[0].option_order for s in range(10)}
    assert len(shuffled) > 1


def test_without_shuffling_items_follow_criterion_order():
    items = [make_item(1, "2.1"), make_item(2, "1.2"), make_item(3, "1.1")]
    arranged = arrange(items, Presentation(shuffle_items=False, shuffle_options=False), random.Random(0))
    assert [i.criterion for i in arranged] == ["1.1", "1.2", "2.1"]
    assert replace(arranged[0], position=1) == arranged[0]

from dataclasses import replace

import pytest

from testengine.domain.item_writing import LintPolicy, Severity, bank_findings, item_findings
from testengine.domain.items import Choice, CognitiveLevel, ItemSet
from testengine.psychometrics.item_text import reading_grade, similar_stems
from testengine.services.lint import lint_bank
from tests.factories import make_bank, make_item, make_unit, matching_item, multiple_item

POLICY = LintPolicy()
GOOD = dict(
    stem="Which statement explains how customer loyalty grows?",
    options=(
        Choice("a", "Prices are cut below rivals"),
        Choice("b", "Needs are met on each visit"),
        Choice("c", "Adverts are shown more often"),
        Choice("d", "Staff are told to sell more"),
    ),
    rationale="First point: meeting needs builds loyalty.",
    cognitive_level=CognitiveLevel.UNDERSTANDING,
)


def rules(item, title="First point"):
    return {(f.rule, f.severity) for f in item_findings(item, POLICY, title)}


def test_a_well_written_item_has_no_findings():
    assert rules(make_item(1, **GOOD)) == set()


@pytest.mark.parametrize(
    "changes, rule, severity",
    [
        ({"options": GOOD["options"][:3] + (Choice("d", "All of the above"),)}, "no-all-none-of-the-above", Severity.ERROR),
        ({"options": GOOD["options"][:3] + (Choice("d", "Both A and B"),)}, "no-all-none-of-the-above", Severity.ERROR),
        ({"stem": "The main reason customers stay loyal is"}, "complete-stem", Severity.ERROR),
        ({"stem": "Complete the sentence: loyalty grows because of."}, "complete-stem", Severity.ERROR),
        ({"stem": "Which of these does not build customer loyalty?"}, "negative-stem", Severity.ERROR),
        ({"stem": "Which of these would a loyal customer do, except complain?"}, "negative-stem", Severity.ERROR),
        ({"rationale": "Because it is right."}, "rationale-cites-point", Severity.ERROR),
        ({"cognitive_level": None}, "cognitive-level", Severity.WARNING),
        ({"options": (Choice("a", "Cut"), Choice("b", "Needs are met on each visit"), Choice("c", "Adverts"), Choice("d", "Sell"))},
         "similar-option-length", Severity.WARNING),
        ({"stem": "Which statement explains how customer loyalty grows through visits?"}, "word-repeat-cue", Severity.WARNING),
        ({"options": GOOD["options"][:3] + (Choice("d", "Staff always sell more"),)}, "absolute-words", Severity.WARNING),
    ],
)
def test_each_item_writing_rule_is_found(changes, rule, severity):
    assert (rule, severity) in rules(make_item(1, **{**GOOD, **changes}))


def test_negatives_in_capitals_and_but_not_phrases_are_fine():
    assert "negative-stem" not in {r for r, _ in rules(make_item(1, **{**GOOD, "stem": "Which of these does NOT build loyalty?"}))}
    similar = "Two products are similar but not identical. Which market is this?"
    assert "negative-stem" not in {r for r, _ in rules(make_item(1, **{**GOOD, "stem": similar}))}
    question = "What is the customer entitled to?"
    assert "complete-stem" not in {r for r, _ in rules(make_item(1, **{**GOOD, "stem": question}))}


def test_a_multiple_response_stem_says_how_many_to_select():
    assert ("say-how-many", Severity.ERROR) in rules(multiple_item(1, stem="Which of these are right?", rationale="First point."))
    assert "say-how-many" not in {r for r, _ in rules(multiple_item(1, rationale="First point."))}


def test_a_matching_item_should_have_a_spare_description():
    item = matching_item(1, options=tuple(Choice(c, f"Description {c}") for c in "abc"), rationale="First point.")
    assert ("matching-spare-option", Severity.WARNING) in rules(item)


def test_the_rationale_may_cite_the_point_by_its_id_words():
    item = make_item(1, **{**GOOD, "amplification": "second-point", "rationale": "The second point of the amplification."})
    assert "rationale-cites-point" not in {r for r, _ in rules(item, "Something else")}


def unit_bank(keys, longest_key=False, levels=CognitiveLevel.UNDERSTANDING):
    items = []
    for n, key in enumerate(keys, start=1):
        options = [Choice(c, f"Option text {c}") for c in "abcd"]
        if longest_key:
            options = [Choice(c, f"Option text {c}" + (" that is longer" if c == key else "")) for c in "abcd"]
        items.append(make_item(n, key=(key,), options=tuple(options), rationale="First point.", cognitive_level=levels))
    return make_bank(make_unit(), items)


def test_key_positions_must_be_balanced_across_the_unit():
    balanced = unit_bank(list("abcd") * 5)
    assert not [f for f in bank_findings(balanced, POLICY) if f.rule == "key-position-balance"]
    skewed = unit_bank(["b"] * 12 + list("acd") * 3)
    messages = [f.message for f in bank_findings(skewed, POLICY) if f.rule == "key-position-balance"]
    assert any("option 2 is the key of 57%" in m for m in messages)


def test_the_key_may_be_the_longest_option_in_at_most_a_third_of_items():
    findings = bank_findings(unit_bank(list("abcd") * 5, longest_key=True), POLICY)
    assert any(f.rule == "key-not-longest" and "100%" in f.message for f in findings)


def test_a_unit_needs_a_third_of_marks_beyond_recall():
    findings = bank_findings(unit_bank(list("abcd") * 5, levels=CognitiveLevel.RECALL), POLICY)
    assert any(f.rule == "beyond-recall" and f.severity is Severity.ERROR for f in findings)


def test_asymmetric_enemies_and_scenario_length_are_warned_about():
    unit = make_unit()
    items = [make_item(1, enemies=frozenset({"U9-0002"})), make_item(2)]
    bank = make_bank(unit, items, (ItemSet("U9-SET-01", "Short", "Too short to be a scenario.", 9),))
    rules_found = {f.rule for f in bank_findings(bank, POLICY)}
    assert {"symmetric-enemies", "scenario-length"} <= rules_found


def test_readability_is_the_flesch_kincaid_grade_of_stem_and_options():
    plain = make_item(1, stem="Who buys the goods?", options=(Choice("a", "The shop"), Choice("b", "The man"), Choice("c", "The cat")))
    dense = make_item(
        2,
        stem="Which organisational characteristic fundamentally differentiates monopolistic competition from oligopolistic interdependence?",
        options=(Choice("a", "Heterogeneous differentiated merchandise"), Choice("b", "Interdependent strategic consideration"), Choice("c", "Governmental regulatory intervention")),
    )
    assert reading_grade(plain) < 3 < 14 < reading_grade(dense)


def test_near_duplicate_stems_are_errors_unless_declared_enemies():
    first = make_item(1, stem="Which of these is a change to the Product element of the marketing mix?")
    second = make_item(2, stem="Which of these is a change to the Process element of the marketing mix?")
    other = make_item(3, stem="How should a budget holder respond to an unexplained variance?")
    assert [(a.id, b.id) for a, b, _ in similar_stems([first, second, other], 85)] == [("U9-0001", "U9-0002")]
    report = lint_bank(make_bank(make_unit(), [first, second, other]), POLICY)
    assert any(f.rule == "near-duplicate" for f in report.errors)
    enemies = [replace(first, enemies=frozenset({"U9-0002"})), replace(second, enemies=frozenset({"U9-0001"})), other]
    assert not any(f.rule == "near-duplicate" for f in lint_bank(make_bank(make_unit(), enemies), POLICY).findings)

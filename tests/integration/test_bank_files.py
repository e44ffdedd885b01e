"""Bad bank files: every problem is reported, each with file, line, item id and reason."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from testengine.domain.problems import DataError
from testengine.storage.bank_files import read_bank

SPEC = """\
unit: 9
reference: X/000/0000
title: A test unit
level: 3
credit_value: 5
guided_learning_hours: 40
learning_outcomes:
  - number: 1
    title: Understand things
    criteria:
      - number: "1.1"
        text: Explain a thing
        amplification:
          - {id: first-point, title: First point, detail: the detail}
"""

GOOD_ITEM = """\
  - id: U9-{n:04d}
    version: 1
    unit: 9
    learning_outcome: 1
    criterion: "1.1"
    amplification: first-point
    type: single
    stem: Which of these is right?
    options:
      - {{id: a, text: One}}
      - {{id: b, text: Two}}
      - {{id: c, text: Three}}
    key: {key}
    marks: 1
    expected_seconds: 60
    facility: 0.7
    angoff: 0.6
    status: live
    author: Writer
    rationale: First point says so.
"""


def unit_folder(tmp_path: Path, items_yaml: str) -> Path:
    folder = tmp_path / "unit-9"
    folder.mkdir()
    (folder / "specification.yaml").write_text(SPEC)
    (folder / "lo1.yaml").write_text(items_yaml)
    return folder


def problems(folder: Path) -> list:
    with pytest.raises(DataError) as error:
        read_bank(folder)
    return error.value.problems


def test_a_clean_bank_reads_into_domain_items(tmp_path):
    bank = read_bank(unit_folder(tmp_path, "items:\n" + GOOD_ITEM.format(n=1, key="b")))
    assert [i.id for i in bank.items] == ["U9-0001"]
    assert bank.items[0].key == ("b",) and bank.items[0].source.line == 2


def test_every_problem_is_reported_not_only_the_first(tmp_path):
    text = "items:\n" + GOOD_ITEM.format(n=1, key="z") + GOOD_ITEM.format(n=1, key="b") + GOOD_ITEM.format(n=2, key="b").replace(
        'criterion: "1.1"', 'criterion: "1.7"'
    )
    found = problems(unit_folder(tmp_path, text))
    reasons = {(p.item_id, p.line, p.reason) for p in found}
    assert ("U9-0001", 2, "key z is not among the options (a, b, c)") in reasons
    assert ("U9-0001", 2, "id U9-0001 is used by 2 items") in reasons
    assert any(p.item_id == "U9-0002" and "AC '1.7' is not an assessment criterion of Unit 9 (1.1)" in p.reason for p in found)
    assert all(p.file.endswith("unit-9/lo1.yaml") for p in found)


def test_schema_errors_name_the_field_and_its_line(tmp_path):
    text = "items:\n" + GOOD_ITEM.format(n=1, key="b").replace("marks: 1", "marks: one").replace('criterion: "1.1"', "criterion: 1.1")
    found = problems(unit_folder(tmp_path, text))
    by_field = {p.reason.split(":")[0]: p for p in found}
    assert by_field["marks"].line == 15 and by_field["marks"].item_id == "U9-0001"
    assert 'quote it, e.g. "1.1"' in by_field["criterion"].reason
    assert by_field["criterion"].line == 6


def test_misspelt_and_missing_fields_are_named(tmp_path):
    text = "items:\n" + GOOD_ITEM.format(n=1, key="b").replace("rationale:", "rational:")
    reasons = [p.reason for p in problems(unit_folder(tmp_path, text))]
    assert "rational: is not a field here (misspelt?)" in reasons
    assert "rationale: Field required" in reasons


def test_unknown_enemy_and_amplification_point_are_named(tmp_path):
    text = "items:\n" + GOOD_ITEM.format(n=1, key="b").replace(
        "amplification: first-point", "amplification: third-point\n    enemies: [U9-0042]"
    )
    reasons = [p.reason for p in problems(unit_folder(tmp_path, text))]
    assert "enemy U9-0042 is not an item of Unit 9" in reasons
    assert "amplification point 'third-point' is not in AC 1.1 (first-point)" in reasons


def test_wrong_option_counts_and_key_shapes_are_named(tmp_path):
    text = "items:\n" + GOOD_ITEM.format(n=1, key="[a, b]").replace("type: single", "type: single")
    text += GOOD_ITEM.format(n=2, key="b").replace("      - {id: c, text: Three}\n", "")
    reasons = [p.reason for p in problems(unit_folder(tmp_path, text))]
    assert "key: a single item's key is one option id, e.g. key: b" in reasons
    assert "single items need 3-5 options, this one has 2" in reasons


def test_yaml_syntax_errors_and_duplicate_keys_give_the_line(tmp_path):
    broken = unit_folder(tmp_path, "items:\n  - id: U9-0001\n    stem: [unclosed\n")
    found = problems(broken)
    assert found[0].line is not None and found[0].reason.startswith("not valid YAML")
    (broken / "lo1.yaml").write_text("items:\n" + GOOD_ITEM.format(n=1, key="b").replace("    marks: 1\n", "    marks: 1\n    marks: 2\n"))
    found = problems(broken)
    assert [(p.line, p.reason) for p in found] == [(16, "key 'marks' appears twice in one mapping")]


def test_a_matching_item_key_maps_premises_to_options(tmp_path):
    item = textwrap.dedent(
        """\
          - id: U9-0003
            version: 1
            unit: 9
            learning_outcome: 1
            criterion: "1.1"
            amplification: first-point
            type: matching
            stem: Match each term to its description.
            premises: [{id: p1, text: Term one}, {id: p2, text: Term two}]
            options: [{id: a, text: Desc A}, {id: b, text: Desc B}, {id: c, text: Desc C}]
            key: {p1: c, p3: a}
            marks: 1
            expected_seconds: 60
            facility: 0.7
            angoff: 0.6
            status: live
            author: Writer
            rationale: First point says so.
        """
    )
    text = "items:\n" + textwrap.indent(item, "  ")
    reasons = [p.reason for p in problems(unit_folder(tmp_path, text))]
    assert "key: p3 are not premises of this item" in reasons

"""QTI 2.1 export and import: our packages read back unchanged, foreign items map or say why not.

The IMS schemas and example items are not copied into the repository: the schemas' IMS notice
lets a developer redistribute them only after registering with IMS, and the examples come from
qti-sdk (GPL-2.0) with no licence of their own. Tests that need them read ../shared/qti beside
the checkout and skip, saying why, when it is absent.
"""

from __future__ import annotations

import io
import itertools
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from testengine.domain.items import Choice, CognitiveLevel, ItemSet, ItemStatus, ItemType, ScoringRule
from testengine.domain.problems import DataError
from testengine.domain.scoring import normalise, score
from testengine.settings import PROJECT_ROOT
from testengine.storage.bank_files import read_bank
from testengine.storage.qti_items import item_to_qti
from testengine.storage.qti_packages import SCHEMA_DIR, load_schema, read_qti, schema_problems, write_package
from tests.factories import make_item, matching_item, multiple_item, ordering_item

EXAMPLES = PROJECT_ROOT.parent / "shared" / "qti" / "ims-examples"
SCHEMAS_NOT_VENDORED = "not in the repository because the IMS notice asks redistributors to register with IMS"
EXAMPLES_NOT_VENDORED = "not in the repository: they come from qti-sdk (GPL-2.0) and carry no licence of their own"

SET = ItemSet("U9-SET-01", "A busy café", "Lena runs a café near a station.\n\nQueues are long at 8am.", 9)
VARIANTS = {
    "single": make_item(1, cognitive_level=CognitiveLevel.RECALL, enemies=frozenset({"U9-0002"})),
    "single, 2 marks, fixed order, draft": make_item(2, marks=2, fixed_option_order=True, status=ItemStatus.DRAFT, version=3),
    "multiple, all or nothing": multiple_item(3, marks=2, cognitive_level=CognitiveLevel.UNDERSTANDING),
    "multiple, partial": multiple_item(4, marks=2, scoring=ScoringRule.PARTIAL),
    "ordering, partial": ordering_item(5, marks=3, scoring=ScoringRule.PARTIAL),
    "ordering, all or nothing": ordering_item(6, marks=1),
    "matching, partial": matching_item(7, marks=2, scoring=ScoringRule.PARTIAL),
    "matching, all or nothing": matching_item(8, marks=1),
    "item set, multi-line text": make_item(9, item_set=SET.id, stem="Read the scenario.\nWhat should Lena do first?",
                                           rationale="Line one.\n\nLine three, after a blank line.",
                                           cognitive_level=CognitiveLevel.APPLICATION),
}


def package_files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return {name: package.read(name) for name in package.namelist()}


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name, text in files.items():
            package.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def schemas() -> Path:
    directory = SCHEMA_DIR
    if not (directory / "imscp_v1p1.xsd").exists():
        pytest.skip(f"IMS QTI 2.1 and CP schemas not found at {directory}, {SCHEMAS_NOT_VENDORED}")
    load_schema("item", directory)  # parsed once for the module (about half a second)
    load_schema("manifest", directory)
    return directory


@pytest.fixture(scope="module")
def examples() -> Path:
    if not EXAMPLES.exists():
        pytest.skip(f"IMS QTI example items not found at {EXAMPLES}, {EXAMPLES_NOT_VENDORED}")
    return EXAMPLES


# ---- our own packages ----

@pytest.mark.parametrize("name", VARIANTS)
def test_a_package_reads_back_every_field_of_each_item_type(name):
    item = VARIANTS[name]
    imported = read_qti(write_package([item], [SET]), "export.zip", unit=9)
    assert imported.not_mapped == []
    [back] = imported.items
    assert back.item == item
    assert back.notes == []
    assert back.identifier == f"{item.id}-v{item.version}"
    assert back.scenario == (SET.scenario if item.item_set else "")


def test_the_package_metadata_decides_the_unit_and_says_so_when_it_differs():
    [back] = read_qti(write_package([VARIANTS["single"]], []), "export.zip", unit=4).items
    assert back.item.unit == 9
    assert back.notes == ["the package's metadata puts this item in unit 9, not 4"]


def test_item_sets_come_back_with_their_scenario():
    items = [VARIANTS["item set, multi-line text"], replace(VARIANTS["item set, multi-line text"], id="U9-0010")]
    imported = read_qti(write_package(items, [SET]), "export.zip", unit=9)
    assert imported.item_sets == [SET]
    assert [i.item for i in imported.items] == items


def test_a_package_needs_the_item_sets_its_items_name():
    with pytest.raises(DataError, match="item set U9-SET-01 is not among the item sets given"):
        write_package([VARIANTS["item set, multi-line text"]], [])


def test_every_exported_item_and_the_manifest_are_schema_valid(schemas):
    files = package_files(write_package(list(VARIANTS.values()), [SET]))
    assert schema_problems(files.pop("imsmanifest.xml"), "manifest", schemas) == []
    assert len(files) == len(VARIANTS)
    for name, xml in files.items():
        assert schema_problems(xml, "item", schemas) == [], name


def test_the_schema_check_reports_what_is_wrong(schemas):
    broken = item_to_qti(VARIANTS["single"]).replace(b'adaptive="false"', b'adaptive="maybe"')
    assert any("adaptive" in p for p in schema_problems(broken, "item", schemas))


@pytest.fixture(scope="module")
def unit_5():
    return read_bank(PROJECT_ROOT / "item_banks" / "unit-5")


def test_the_whole_unit_5_bank_reads_back_unchanged(unit_5):
    imported = read_qti(write_package(unit_5.items, unit_5.item_sets), "unit-5.zip", unit=5)
    assert imported.not_mapped == []
    assert sorted((i.item for i in imported.items), key=lambda i: i.ref) == sorted(unit_5.items, key=lambda i: i.ref)
    assert all(i.notes == [] for i in imported.items)
    assert sorted(imported.item_sets, key=lambda s: s.id) == sorted(unit_5.item_sets, key=lambda s: s.id)


def test_the_whole_unit_5_bank_exports_schema_valid(unit_5, schemas):
    files = package_files(write_package(unit_5.items, unit_5.item_sets))
    assert schema_problems(files.pop("imsmanifest.xml"), "manifest", schemas) == []
    assert [n for n, xml in files.items() if schema_problems(xml, "item", schemas)] == []


def test_a_single_exported_file_keeps_the_content_and_defaults_the_rest():
    item = VARIANTS["matching, partial"]
    [back] = read_qti(item_to_qti(item), "U9-0007.xml", unit=9).items
    content = ("type", "stem", "options", "premises", "key", "marks", "scoring", "rationale", "fixed_option_order")
    assert {f: getattr(back.item, f) for f in content} == {f: getattr(item, f) for f in content}
    assert (back.item.id, back.item.status, back.item.expected_seconds, back.item.author) == ("U9-0000", ItemStatus.DRAFT, 60, "testengine")
    assert "expected_seconds defaulted to 60" in back.notes


# ---- the exported scoring is the engine's scoring ----

def qti_score(root, response):
    """SCORE after responseProcessing, for the few QTI expressions the export writes."""
    ns = {"q": "http://www.imsglobal.org/xsd/imsqti_v2p1"}
    declaration = root.find("q:responseDeclaration", ns)
    kinds = {"identifier": str, "integer": int, "float": float, "directedPair": str}
    correct = [v.text for v in declaration.findall("q:correctResponse/q:value", ns)]
    correct = correct[0] if declaration.get("cardinality") == "single" else (
        tuple(correct) if declaration.get("cardinality") == "ordered" else frozenset(correct))
    mapping = declaration.find("q:mapping", ns)
    outcomes = {"SCORE": 0.0, "PARTS_RIGHT": 0}

    def value(e):
        tag = etree.QName(e).localname
        args = [value(c) for c in e]
        if tag == "variable":
            return response if e.get("identifier") == "RESPONSE" else outcomes[e.get("identifier")]
        if tag == "correct":
            return correct
        if tag == "baseValue":
            return kinds[e.get("baseType")](e.text)
        if tag == "isNull":
            return not args[0]
        if tag == "match":
            return None if not args[0] or not args[1] else args[0] == args[1]
        if tag == "index":
            n = int(e.get("n"))
            return args[0][n - 1] if args[0] and n <= len(args[0]) else None
        if tag == "mapResponse":
            entries = {m.get("mapKey"): float(m.get("mappedValue")) for m in mapping}
            total = sum(entries.get(v, float(mapping.get("defaultValue"))) for v in set(response or ()))
            return max(total, float(mapping.get("lowerBound")))
        operations = {"containerSize": lambda a: len(a[0] or ()), "gt": lambda a: a[0] > a[1],
                      "sum": sum, "product": lambda a: a[0] * a[1], "truncate": lambda a: int(a[0]),
                      "integerDivide": lambda a: a[0] // a[1]}
        return operations[tag](args)

    def run(rule):
        tag = etree.QName(rule).localname
        if tag == "setOutcomeValue":
            outcomes[rule.get("identifier")] = value(rule[0])
        elif tag == "responseCondition":
            for branch in rule:
                if etree.QName(branch).localname == "responseElse" or value(branch[0]):
                    for inner in (branch if etree.QName(branch).localname == "responseElse" else branch[1:]):
                        run(inner)
                    break

    processing = root.find("q:responseProcessing", ns)
    if processing.get("template", "").endswith("match_correct"):
        return 1.0 if response and response == correct else 0.0
    for rule in processing:
        run(rule)
    return outcomes["SCORE"]


def every_response(item):
    """Each response a QTI player can send, as the engine's raw response and as QTI's value."""
    ids = item.option_ids
    if item.type is ItemType.SINGLE:
        yield from ((i, i) for i in ids)
    elif item.type is ItemType.MULTIPLE:
        for n in range(len(ids) + 1):
            yield from ((list(c), frozenset(c)) for c in itertools.combinations(ids, n))
    elif item.type is ItemType.ORDERING:
        yield from ((list(p), tuple(p)) for p in itertools.permutations(ids))
    else:
        for chosen in itertools.product(("",) + ids, repeat=len(item.premises)):
            raw = {p: o for p, o in zip(item.premise_ids, chosen) if o}
            yield raw, frozenset(f"{p} {o}" for p, o in raw.items())


@pytest.mark.parametrize("name", VARIANTS)
def test_the_exported_response_processing_gives_the_engine_score_for_every_response(name):
    item = VARIANTS[name]
    root = etree.fromstring(item_to_qti(item))
    normal_maximum = float(root.find("{*}outcomeDeclaration").get("normalMaximum"))
    assert normal_maximum == item.marks
    scale = item.marks if root.find("{*}responseProcessing").get("template") else 1
    for raw, qti in every_response(item):
        assert qti_score(root, qti) * scale == score(item, normalise(item, raw)), raw


# ---- the IMS examples ----

def texts(choices, ids):
    by_id = {c.id: c.text for c in choices}
    return [by_id[i] for i in ids]


def test_the_ims_single_response_example_is_refused_for_its_picture(examples):
    result = read_qti((examples / "choice.xml").read_bytes(), "choice.xml", unit=5)
    assert result.items == []
    [refused] = result.not_mapped
    assert (refused.file, refused.identifier) == ("choice.xml", "choice")
    assert refused.reasons == ["image content (img src=images/sign.png) is not supported"]


def test_the_ims_single_response_example_without_its_picture_maps(examples):
    tree = etree.fromstring((examples / "choice.xml").read_bytes())
    picture = tree.find(".//{*}img").getparent()
    picture.getparent().remove(picture)
    [imported] = read_qti(etree.tostring(tree), "choice.xml", unit=5).items
    item = imported.item
    assert (item.type, item.scoring, item.marks, item.fixed_option_order) == (ItemType.SINGLE, ScoringRule.ALL_OR_NOTHING, 1, True)
    assert item.stem == "Look at the text in the picture.\nWhat does it say?"
    assert item.option_ids == ("a", "b", "c")
    assert texts(item.options, item.key) == ["You must stay with your luggage at all times."]
    assert "identifiers renamed: ChoiceA -> a, ChoiceB -> b, ChoiceC -> c" in imported.notes


def test_the_ims_multiple_response_example_maps_to_partial_credit_with_a_note(examples):
    [imported] = read_qti((examples / "choice_multiple.xml").read_bytes(), "choice_multiple.xml", unit=5).items
    item = imported.item
    assert (item.type, item.scoring, item.marks) == (ItemType.MULTIPLE, ScoringRule.PARTIAL, 2)
    assert [o.text for o in item.options] == ["Hydrogen", "Helium", "Carbon", "Oxygen", "Nitrogen", "Chlorine"]
    assert texts(item.options, item.key) == ["Hydrogen", "Oxygen"]
    # The package's mapping (Cl -1, others -2, no limit on choices) is not the engine's rule: said so.
    assert any(n.startswith("scored by the engine's partial credit") and "Cl -1, others -2" in n for n in imported.notes)


def test_the_ims_ordering_example_maps(examples):
    [imported] = read_qti((examples / "order.xml").read_bytes(), "order.xml", unit=5).items
    item = imported.item
    assert (item.type, item.scoring, item.marks) == (ItemType.ORDERING, ScoringRule.ALL_OR_NOTHING, 1)
    assert texts(item.options, item.key) == ["Michael Schumacher", "Rubens Barrichello", "Jenson Button"]
    assert any("DriverC" in n and "shuffled" in n for n in imported.notes)
    assert "engine rule: ordering items need 4-8 options, this one has 3" in imported.notes


def test_the_ims_matching_example_maps_premises_to_options(examples):
    [imported] = read_qti((examples / "match.xml").read_bytes(), "match.xml", unit=5).items
    item = imported.item
    assert (item.type, item.scoring, item.marks) == (ItemType.MATCHING, ScoringRule.PARTIAL, 3)
    assert [p.text for p in item.premises] == ["Capulet", "Demetrius", "Lysander", "Prospero"]
    assert [o.text for o in item.options] == ["A Midsummer-Night's Dream", "Romeo and Juliet", "The Tempest"]
    assert texts(item.options, item.key) == ["Romeo and Juliet", "A Midsummer-Night's Dream",
                                             "A Midsummer-Night's Dream", "The Tempest"]
    assert any("C R 1, D M 0.5, L M 0.5, P T 1" in n for n in imported.notes)
    assert "engine rule: a matching key uses an option for two premises" in imported.notes


def test_the_ims_associate_example_is_not_mapped(examples):
    result = read_qti((examples / "associate.xml").read_bytes(), "associate.xml", unit=5)
    assert result.items == []
    assert result.not_mapped[0].reasons == [
        "associateInteraction is not one of the engine's item types (choiceInteraction, orderInteraction, matchInteraction)"]


def test_the_ims_examples_are_schema_valid_as_a_check_of_the_checker(examples, schemas):
    for path in sorted(examples.glob("*.xml")):
        assert schema_problems(path.read_bytes(), "item", schemas) == [], path.name


# ---- items written by other tools ----

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.imsglobal.org/xsd/imsqti_v2p1 '
        'http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd" identifier="{id}" title="{id}" label="{id}" '
        'xml:lang="en-US" adaptive="false" timeDependent="false" toolName="TAO" toolVersion="3.3.0">')
SCORE = ('<outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float" normalMaximum="1"/>'
         '<outcomeDeclaration identifier="MAXSCORE" cardinality="single" baseType="float">'
         '<defaultValue><value>1</value></defaultValue></outcomeDeclaration>'
         '<stylesheet href="style/custom/tao-user-styles.css" type="text/css" media="all" title=""/>')
MATCH_CORRECT = '<responseProcessing template="http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"/>'

TAO_SINGLE = HEAD.format(id="i15880001") + """
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">
    <correctResponse><value><![CDATA[choice_2]]></value></correctResponse>
  </responseDeclaration>""" + SCORE + """
  <itemBody>
    <div class="grid-row"><div class="col-12">
      <p>A customer has complained <strong>twice</strong> about the same late delivery.</p>
    </div></div>
    <div class="grid-row"><div class="col-12">
      <choiceInteraction responseIdentifier="RESPONSE" shuffle="true" maxChoices="1" minChoices="0" orientation="vertical">
        <prompt>What should the adviser do <em>first</em>?<br/><span class="hint">Choose one.</span></prompt>
        <simpleChoice identifier="choice_1" fixed="false" showHide="show">Offer a discount
          on the next order</simpleChoice>
        <simpleChoice identifier="choice_2" fixed="false" showHide="show">Apologise and <strong>acknowledge</strong> the problem</simpleChoice>
        <simpleChoice identifier="choice_3" fixed="false" showHide="show">Pass the complaint to a manager</simpleChoice>
      </choiceInteraction>
    </div></div>
  </itemBody>
  """ + MATCH_CORRECT + """
  <modalFeedback outcomeIdentifier="FEEDBACK" identifier="why" showHide="show"><p>Acknowledging comes first.</p></modalFeedback>
</assessmentItem>"""

TAO_MULTIPLE = HEAD.format(id="i15880002") + """
  <responseDeclaration identifier="RESPONSE" cardinality="multiple" baseType="identifier">
    <correctResponse><value>choice_1</value><value>choice_3</value></correctResponse>
  </responseDeclaration>""" + SCORE + """
  <itemBody><div class="grid-row"><div class="col-12">
    <choiceInteraction responseIdentifier="RESPONSE" shuffle="false" maxChoices="0" minChoices="0" orientation="vertical">
      <prompt><span>Which TWO are benefits of a CRM system?</span></prompt>
      <simpleChoice identifier="choice_1" fixed="false" showHide="show">A single view of each customer</simpleChoice>
      <simpleChoice identifier="choice_2" fixed="false" showHide="show">Lower rent</simpleChoice>
      <simpleChoice identifier="choice_3" fixed="false" showHide="show">Targeted marketing</simpleChoice>
      <simpleChoice identifier="choice_4" fixed="false" showHide="show">Fewer products</simpleChoice>
    </choiceInteraction>
  </div></div></itemBody>
  """ + MATCH_CORRECT + "\n</assessmentItem>"

TAO_PICTURE = TAO_SINGLE.replace("i15880001", "i15880003").replace(
    "<p>A customer", '<p><img src="assets/shop.png" alt="A shop counter"/></p><p>A customer')


def test_a_tao_single_response_item_imports_with_its_markup_flattened():
    result = read_qti(TAO_SINGLE.encode(), "tao-single.xml", unit=5)
    [imported] = result.items
    item = imported.item
    assert imported.identifier == "i15880001"
    assert item.stem == "A customer has complained twice about the same late delivery.\nWhat should the adviser do first?\nChoose one."
    assert [o.text for o in item.options] == ["Offer a discount on the next order", "Apologise and acknowledge the problem",
                                              "Pass the complaint to a manager"]
    assert item.key == ("b",)
    assert item.rationale == "Acknowledging comes first."
    assert (item.id, item.version, item.unit, item.status, item.author) == ("U5-0000", 1, 5, ItemStatus.DRAFT, "TAO")
    assert (item.learning_outcome, item.criterion, item.amplification) == (0, "", "")
    assert (item.expected_seconds, item.facility, item.angoff) == (60, 0.6, 0.6)
    assert "formatting flattened to plain text: em, span, strong" in imported.notes
    assert "rationale taken from the modal feedback" in imported.notes


def test_a_tao_multiple_response_item_with_match_correct_is_all_or_nothing():
    [imported] = read_qti(TAO_MULTIPLE.encode(), "tao-multiple.xml", unit=5).items
    item = imported.item
    assert (item.type, item.scoring, item.marks, item.fixed_option_order) == (ItemType.MULTIPLE, ScoringRule.ALL_OR_NOTHING, 1, True)
    assert item.stem == "Which TWO are benefits of a CRM system?"
    assert item.key == ("a", "c")
    assert "engine rule: rationale is empty: say why the key is right, citing the amplification" in imported.notes


def test_an_item_with_a_picture_is_not_mapped():
    result = read_qti(TAO_PICTURE.encode(), "tao-picture.xml", unit=5)
    assert result.items == []
    assert result.not_mapped[0].reasons == ["image content (img src=assets/shop.png) is not supported"]


def test_a_package_imports_the_good_items_and_reports_the_bad_ones():
    manifest = """<?xml version="1.0" encoding="UTF-8"?>
<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" xmlns:imsmd="http://www.imsglobal.org/xsd/imsmd_v1p2" identifier="MANIFEST-tao">
  <metadata><schema>QTIv2.1 Package</schema><schemaversion>1.0.0</schemaversion></metadata>
  <organizations/>
  <resources>
    <resource identifier="i15880001" type="imsqti_item_xmlv2p1" href="i15880001/qti.xml">
      <metadata><imsmd:lom><imsmd:general><imsmd:identifier>i15880001</imsmd:identifier></imsmd:general></imsmd:lom></metadata>
      <file href="i15880001/qti.xml"/>
    </resource>
    <resource identifier="i15880003" type="imsqti_item_xmlv2p1" href="i15880003/qti.xml">
      <file href="i15880003/qti.xml"/><file href="i15880003/assets/shop.png"/>
    </resource>
    <resource identifier="test-1" type="imsqti_test_xmlv2p1" href="tests/test.xml"><file href="tests/test.xml"/></resource>
  </resources>
</manifest>"""
    data = zipped({"imsmanifest.xml": manifest, "i15880001/qti.xml": TAO_SINGLE, "i15880003/qti.xml": TAO_PICTURE})
    result = read_qti(data, "tao-export.zip", unit=5)
    assert [i.identifier for i in result.items] == ["i15880001"]
    assert [(n.file, n.identifier) for n in result.not_mapped] == [("tao-export.zip/i15880003/qti.xml", "i15880003")]
    assert result.not_mapped[0].reasons == ["image content (img src=assets/shop.png) is not supported"]


@pytest.mark.parametrize("change, reason", [
    (lambda x: x.replace("</choiceInteraction>", '</choiceInteraction><textEntryInteraction responseIdentifier="R2"/>'),
     "2 interactions in one item (choiceInteraction, textEntryInteraction)"),
    (lambda x: x.replace("match_correct", "map_response_point"),
     "responseProcessing template http://www.imsglobal.org/question/qti_v2p1/rptemplates/map_response_point not recognised "
     "(only match_correct and map_response)"),
    (lambda x: x.replace("<correctResponse><value><![CDATA[choice_2]]></value></correctResponse>", ""), "no correctResponse"),
    (lambda x: x.replace("<p>A customer", '<p><m:math xmlns:m="http://www.w3.org/1998/Math/MathML"><m:mi>x</m:mi></m:math>A customer'),
     "MathML (math) is not supported"),
    (lambda x: x.replace(MATCH_CORRECT, ""), "no responseProcessing: the item is not scored"),
    (lambda x: x.replace('normalMaximum="1"/>', 'normalMaximum="1"/><templateDeclaration identifier="T" cardinality="single" '
                         'baseType="integer"/>'), "template variables (templateDeclaration) are not supported"),
])
def test_what_cannot_be_mapped_is_refused_with_the_reason(change, reason):
    result = read_qti(change(TAO_SINGLE).encode(), "tao.xml", unit=5)
    assert result.items == []
    assert result.not_mapped[0].reasons == [reason]


def test_a_mapping_that_credits_a_wrong_answer_is_refused():
    mapped = TAO_MULTIPLE.replace("</correctResponse>", '</correctResponse><mapping defaultValue="0"><mapEntry mapKey="choice_1" '
                                  'mappedValue="1"/><mapEntry mapKey="choice_2" mappedValue="0.5"/></mapping>').replace(
        "match_correct", "map_response")
    [refused] = read_qti(mapped.encode(), "tao.xml", unit=5).not_mapped
    assert refused.reasons == ["the mapping gives credit to choice_2, which correctResponse does not key"]


# ---- broken files ----

def test_malformed_xml_is_a_data_error_naming_file_and_line():
    with pytest.raises(DataError) as raised:
        read_qti(b'<?xml version="1.0"?>\n<assessmentItem>\n<itemBody>\n</assessmentItem>', "broken.xml", unit=5)
    [problem] = raised.value.problems
    assert (problem.file, problem.line) == ("broken.xml", 4)
    assert problem.reason.startswith("not well-formed XML")


def test_a_malformed_item_in_a_package_names_the_file_inside_it():
    data = package_files(write_package([VARIANTS["single"]], []))
    data["items/U9-0001-v1.xml"] = b"<assessmentItem"
    with pytest.raises(DataError) as raised:
        read_qti(zipped({k: v.decode() for k, v in data.items()}), "export.zip", unit=9)
    assert raised.value.problems[0].file == "export.zip/items/U9-0001-v1.xml"


def test_a_zip_without_a_manifest_or_not_a_zip_is_a_data_error():
    with pytest.raises(DataError, match="no imsmanifest.xml"):
        read_qti(zipped({"items/a.xml": TAO_SINGLE}), "loose.zip", unit=5)
    with pytest.raises(DataError, match="not a zip file"):
        read_qti(b"hello", "fake.zip", unit=5)
    with pytest.raises(DataError, match="expected an .xml assessmentItem or a .zip package"):
        read_qti(b"", "items.csv", unit=5)

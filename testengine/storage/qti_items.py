"""The engine's four item types as IMS QTI 2.1 assessmentItems, both ways.

Export: identifier "<id>-v<version>"; the stem is the interaction's prompt and each "\\n" a
<br/>; an item set's scenario a <div class="scenario"> of one <p> per line before it; the
rationale a <rubricBlock view="scorer"> after it (shown to scorers, needs no feedback rules).
single -> choiceInteraction maxChoices=1; multiple -> choiceInteraction maxChoices = every
option (the player lets candidates tick more than the key, which scores 0); ordering ->
orderInteraction; matching -> matchInteraction, premises then options, directedPair
"premise option". SCORE has normalMaximum = marks and MAXSCORE the marks; the response
declaration and responseProcessing state the engine's scoring rule (qti_scoring).

Import takes what maps faithfully and refuses the rest with reasons (`NotMapped`): items are
plain text, so inline XHTML is flattened with a note and images, objects, MathML, tables and
sub/superscripts refuse the item (qti_text); the scoring must be one qti_scoring recognises.
Fields QTI has no place for come from `EngineFields` (the package manifest) when given, else
defaults the writer must review, listed in `notes`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from lxml import etree

from testengine.domain.items import (
    Choice, CognitiveLevel, Item, ItemStatus, ItemType, ScoringRule, item_problems,
)
from testengine.domain.problems import Source
from testengine.storage.qti_scoring import Refused, declaration, declaration_of, partial, processing, scoring
from testengine.storage.qti_text import MARK, QTI_2, QTI_NS, TYPES, content_problems, lines, local, x

XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
QTI_XSD = "http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd"
TOOL_NAME = "testengine"
DEFAULT_SECONDS = 60  # foreign items: estimates the writer must replace
DEFAULT_ESTIMATE = 0.6
_SLUG = re.compile(r"^[a-z][a-z0-9]{0,3}$")


@dataclass(frozen=True)
class EngineFields:
    """What QTI has no place for; the package manifest carries it (qti_packages)."""

    id: str
    version: int
    unit: int
    learning_outcome: int
    criterion: str
    amplification: str
    expected_seconds: int
    facility: float
    angoff: float
    status: ItemStatus
    author: str
    enemies: frozenset[str] = frozenset()
    item_set: str | None = None
    cognitive_level: CognitiveLevel | None = None

    @classmethod
    def of(cls, item: Item) -> EngineFields:
        return cls(item.id, item.version, item.unit, item.learning_outcome, item.criterion,
                   item.amplification, item.expected_seconds, item.facility, item.angoff,
                   item.status, item.author, item.enemies, item.item_set, item.cognitive_level)


@dataclass(frozen=True)
class ImportedItem:
    item: Item
    identifier: str  # the QTI identifier; item.id is a placeholder "U<unit>-0000" without metadata
    scenario: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NotMapped:
    file: str
    identifier: str
    reasons: list[str]


def qti_identifier(item: Item) -> str:
    return f"{item.id}-v{item.version}"


def line_of(element: etree._Element) -> int | None:
    line = element.sourceline
    return line if isinstance(line, int) else None


def _inline(element: etree._Element, text: str) -> etree._Element:
    first, *rest = text.split("\n")
    element.text = first
    for line in rest:
        etree.SubElement(element, f"{{{QTI_NS}}}br").tail = line
    return element


def _blocks(element: etree._Element, text: str) -> etree._Element:
    element.extend(_inline(x("p"), line) for line in text.split("\n"))
    return element


def item_to_qti(item: Item, scenario: str = "") -> bytes:
    """One assessmentItem document; what QTI cannot hold goes in the manifest (write_package)."""
    root = etree.Element(f"{{{QTI_NS}}}assessmentItem", nsmap={None: QTI_NS, "xsi": XSI_NS})  # type: ignore[dict-item]
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{QTI_NS} {QTI_XSD}")
    for name, value in (("identifier", qti_identifier(item)), ("title", item.id), ("adaptive", "false"),
                        ("timeDependent", "false"), ("toolName", TOOL_NAME), ("toolVersion", "1")):
        root.set(name, value)
    root.append(declaration(item))
    marks = str(item.marks)
    root.append(x("outcomeDeclaration", x("defaultValue", x("value", text="0")), identifier="SCORE",
                  cardinality="single", baseType="float", normalMaximum=marks))
    root.append(x("outcomeDeclaration", x("defaultValue", x("value", text=marks)),
                  identifier="MAXSCORE", cardinality="single", baseType="float"))
    if partial(item) and item.type is ItemType.ORDERING:
        root.append(x("outcomeDeclaration", x("defaultValue", x("value", text="0")),
                      identifier="PARTS_RIGHT", cardinality="single", baseType="integer"))
    body = etree.SubElement(root, f"{{{QTI_NS}}}itemBody")
    if scenario:
        body.append(_blocks(x("div", **{"class": "scenario"}), scenario))
    body.append(_interaction(item))
    if item.rationale:
        body.append(_blocks(x("rubricBlock", view="scorer"), item.rationale))
    root.append(processing(item))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _interaction(item: Item) -> etree._Element:
    shuffle = "false" if item.fixed_option_order else "true"
    prompt = _inline(x("prompt"), item.stem)
    if item.type is ItemType.MATCHING:
        def match_set(choices: tuple[Choice, ...], most: int) -> etree._Element:
            return x("simpleMatchSet", *(_inline(x("simpleAssociableChoice", identifier=c.id,
                                                   matchMax=str(most)), c.text) for c in choices))
        # The player offers every option for every premise, so an option may be used again.
        return x("matchInteraction", prompt, match_set(item.premises, 1),
                 match_set(item.options, len(item.premises)), responseIdentifier="RESPONSE",
                 shuffle=shuffle, maxAssociations=str(len(item.premises)))
    choices = [_inline(x("simpleChoice", identifier=o.id), o.text) for o in item.options]
    if item.type is ItemType.ORDERING:
        return x("orderInteraction", prompt, *choices, responseIdentifier="RESPONSE", shuffle=shuffle)
    most = "1" if item.type is ItemType.SINGLE else str(len(item.options))
    return x("choiceInteraction", prompt, *choices, responseIdentifier="RESPONSE", shuffle=shuffle,
             maxChoices=most)


# ---- import ----

def qti_to_item(root: etree._Element, file: str, unit: int, engine: EngineFields | None = None) -> ImportedItem | NotMapped:
    """Map one assessmentItem, or say precisely why not; never half an item."""
    identifier = root.get("identifier") or ""
    try:
        return _map(root, file, unit, engine, identifier)
    except Refused as refused:
        return NotMapped(file, identifier, list(refused.args))
    except ValueError as error:  # float("x") in a mapping, normalMaximum
        return NotMapped(file, identifier, [f"not a number where QTI needs one: {error}"])


def _map(root: etree._Element, file: str, unit: int, engine: EngineFields | None, identifier: str) -> ImportedItem:
    if local(root) != "assessmentItem" or not QTI_2.match(etree.QName(root).namespace or ""):
        raise Refused(f"the root element is {root.tag}, not a QTI 2 assessmentItem")
    body = root.find("{*}itemBody")
    if body is None:
        raise Refused("no itemBody")
    interactions = [e for e in body.iter() if local(e).endswith("Interaction")]
    reasons = content_problems(body)
    if root.get("adaptive") == "true":
        reasons.append("adaptive items (attempts with changing feedback) are not supported")
    if root.find("{*}templateDeclaration") is not None:
        reasons.append("template variables (templateDeclaration) are not supported")
    if not interactions:
        reasons.append("no interaction")
    elif len(interactions) > 1:
        names = ", ".join(local(i) for i in interactions)
        reasons.append(f"{len(interactions)} interactions in one item ({names})")
    elif local(interactions[0]) not in TYPES:
        reasons.append(f"{local(interactions[0])} is not one of the engine's item types "
                       "(choiceInteraction, orderInteraction, matchInteraction)")
    if reasons:
        raise Refused(*dict.fromkeys(reasons))
    interaction, exact, notes = interactions[0], engine is not None, list[str]()
    draft = _draft(root, interaction, unit)
    rule, marks = scoring(root, interaction, draft, notes)
    tags: set[str] = set()
    scenarios = [e for e in body.iter() if "scenario" in (e.get("class") or "").split()]
    rubrics = [e for e in body.iter("{*}rubricBlock")]
    body_lines = lines(body, exact, tags, interaction, set(scenarios + rubrics))
    prompt = interaction.find("{*}prompt")
    at = body_lines.index(MARK) if MARK in body_lines else len(body_lines)
    if body_lines[at + 1:]:
        notes.append("text after the interaction was added to the end of the stem")
    stem_lines = body_lines[:at] + ([] if prompt is None else lines(prompt, exact, tags)) + body_lines[at + 1:]
    scenario = "\n".join(line for s in scenarios for line in lines(s, exact, tags))
    rationale = "\n".join(line for r in rubrics for line in lines(r, exact, tags))
    if not rubrics and root.findall("{*}modalFeedback"):
        rationale = "\n".join(line for f in root.findall("{*}modalFeedback") for line in lines(f, exact, tags))
        notes.append("rationale taken from the modal feedback")
    options = tuple(Choice(c.id, "\n".join(lines(e, exact, tags)))
                    for c, e in zip(draft.options, _choices(interaction, 1)))
    premises = tuple(Choice(c.id, "\n".join(lines(e, exact, tags)))
                     for c, e in zip(draft.premises, _choices(interaction, 0)))
    fixed = [c.get("identifier") or "" for c in interaction.iter() if c.get("fixed") == "true"]
    if fixed and not draft.fixed_option_order:
        notes.append(f"choices fixed in place ({', '.join(fixed)}) are shuffled with the rest: "
                     "the engine shuffles all options or none")
    flattened = sorted(tags - {"br", "p", "div", "prompt"})
    if flattened:
        notes.append(f"formatting flattened to plain text: {', '.join(flattened)}")
    item = _renamed(replace(draft, stem="\n".join(stem_lines), options=options, premises=premises,
                            scoring=rule, marks=marks, rationale=rationale), notes)
    item = _with_fields(item, root, engine, unit, notes, Source(file, line_of(root)))
    notes.extend(f"engine rule: {p.reason}" for p in item_problems(item))
    return ImportedItem(item, identifier, scenario, notes)


def _choices(interaction: etree._Element, which: int) -> list[etree._Element]:
    """simpleChoices, or a matchInteraction's premises (0) or options (1)."""
    if local(interaction) != "matchInteraction":
        return interaction.findall("{*}simpleChoice") if which else []
    sets = interaction.findall("{*}simpleMatchSet")
    if len(sets) != 2:
        raise Refused(f"matchInteraction with {len(sets)} simpleMatchSets, not 2")
    return sets[which].findall("{*}simpleAssociableChoice")


def _draft(root: etree._Element, interaction: etree._Element, unit: int) -> Item:
    """The item's shape with the package's own ids; texts, scoring and fields come later."""
    name, declaration = local(interaction), declaration_of(root, interaction)
    correct = declaration.find("{*}correctResponse")
    values = [" ".join((v.text or "").split()) for v in ([] if correct is None else correct.findall("{*}value"))]
    if not values:
        raise Refused("no correctResponse")
    options = tuple(Choice(c.get("identifier") or "", "") for c in _choices(interaction, 1))
    premises = tuple(Choice(c.get("identifier") or "", "") for c in _choices(interaction, 0))
    ids = [o.id for o in options]
    cardinality = declaration.get("cardinality")
    if name == "matchInteraction":
        if declaration.get("baseType") != "directedPair":
            raise Refused(f"matchInteraction with a {declaration.get('baseType')} response, not directedPair")
        kind, key = ItemType.MATCHING, _match_key(values, [p.id for p in premises], ids)
    elif name == "orderInteraction":
        kind, key = ItemType.ORDERING, tuple(values)
        if sorted(values) != sorted(ids):
            raise Refused(f"correctResponse orders {len(values)} of {len(ids)} choices (the engine orders every option)")
    else:
        kind = ItemType.SINGLE if cardinality == "single" else ItemType.MULTIPLE
        key = tuple(values) if kind is ItemType.SINGLE else tuple(sorted(values))
        if kind is ItemType.SINGLE and len(values) != 1:
            raise Refused(f"correctResponse of a single-response item gives {len(values)} values")
        unknown = [v for v in values if v not in ids]
        if unknown:
            raise Refused(f"correctResponse names {', '.join(unknown)}, which is not a choice")
    expected = {ItemType.SINGLE: "single", ItemType.ORDERING: "ordered"}.get(kind, "multiple")
    if cardinality != expected:
        raise Refused(f"{name} with a {cardinality} response; the engine's {kind} items need {expected}")
    return Item(id="", version=1, unit=unit, learning_outcome=0, criterion="", amplification="", type=kind,
                stem="", options=options, premises=premises, key=key, marks=1,
                scoring=ScoringRule.ALL_OR_NOTHING, expected_seconds=DEFAULT_SECONDS,
                facility=DEFAULT_ESTIMATE, angoff=DEFAULT_ESTIMATE, status=ItemStatus.DRAFT, rationale="",
                author="", fixed_option_order=interaction.get("shuffle") != "true")


def _match_key(values: list[str], premises: list[str], options: list[str]) -> tuple[str, ...]:
    pairs = [tuple(v.split(" ")) for v in values]
    if any(len(p) != 2 or p[0] not in premises or p[1] not in options for p in pairs):
        bad = [v for v, p in zip(values, pairs) if len(p) != 2 or p[0] not in premises or p[1] not in options]
        raise Refused(f"correctResponse pairs {', '.join(bad)} are not premise-option pairs")
    key = []
    for premise in premises:
        matched = [p[1] for p in pairs if p[0] == premise]
        if len(matched) != 1:
            raise Refused(f"premise {premise} has {len(matched)} matches in correctResponse "
                          "(the engine keys one option per premise)")
        key.append(matched[0])
    return tuple(key)


def _renamed(item: Item, notes: list[str]) -> Item:
    """Foreign identifiers (ChoiceA, DriverA) become the engine's slugs (a, b; p1, p2)."""
    def names(choices: tuple[Choice, ...], make: str) -> dict[str, str]:
        ids = [c.id for c in choices]
        if all(_SLUG.match(i) for i in ids) and len(set(ids)) == len(ids):
            return {i: i for i in ids}
        new = {i: (chr(ord("a") + n) if make == "letter" else f"p{n + 1}") for n, i in enumerate(ids)}
        notes.append("identifiers renamed: " + ", ".join(f"{old} -> {n}" for old, n in new.items()))
        return new
    options, premises = names(item.options, "letter"), names(item.premises, "p")
    key = tuple(options[k] for k in item.key)
    return replace(item, options=tuple(Choice(options[c.id], c.text) for c in item.options),
                   premises=tuple(Choice(premises[c.id], c.text) for c in item.premises),
                   key=tuple(sorted(key)) if item.type is ItemType.MULTIPLE else key)


def _with_fields(item: Item, root: etree._Element, engine: EngineFields | None, unit: int, notes: list[str], source: Source) -> Item:
    if engine is not None:
        e = engine
        if e.unit != unit:
            notes.append(f"the package's metadata puts this item in unit {e.unit}, not {unit}")
        return replace(item, id=e.id, version=e.version, unit=e.unit, learning_outcome=e.learning_outcome,
                       criterion=e.criterion, amplification=e.amplification, expected_seconds=e.expected_seconds,
                       facility=e.facility, angoff=e.angoff, status=e.status, author=e.author, enemies=e.enemies,
                       item_set=e.item_set, cognitive_level=e.cognitive_level, source=source)
    author = root.get("toolName") or "imported"
    notes.extend([f"id U{unit}-0000 is a placeholder to renumber",
                  "learning outcome, criterion and amplification not given: the writer must set them",
                  f"expected_seconds defaulted to {DEFAULT_SECONDS}",
                  f"facility and angoff defaulted to {DEFAULT_ESTIMATE}: the writer must estimate them",
                  f"author set to {author!r}"])
    return replace(item, id=f"U{unit}-0000", author=author, source=source)

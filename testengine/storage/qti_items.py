"""The engine's four item types as IMS QTI 2.1 assessmentItems, both ways.

Export: identifier "<id>-v<version>"; the stem is the interaction's prompt and each "\\n" a
<br/>; an item set's scenario a <div class="scenario"> of one <p> per line before it; the
rationale a <rubricBlock view="scorer"> after it (shown to scorers, needs no feedback rules).
single -> choiceInteraction maxChoices=1; multiple -> choiceInteraction maxChoices = every
option (the player lets candidates tick more than the key, which scores 0); ordering ->
orderInteraction; matching -> matchInteraction, premises then options, directedPair
"premise option". SCORE has normalMaximum = marks and MAXSCORE the marks. All or nothing for
1 mark is the match_correct template; otherwise responseProcessing states the engine's rule
(scoring.py): partial credit is floor(marks x parts right / parts), from a mapping (multiple:
key +1, other -1, 0 if more are ticked than keyed; matching: keyed pair +1) or, for ordering,
a count of the positions right.

Import takes what maps faithfully and refuses the rest with reasons (`NotMapped`): items are
plain text, so inline XHTML is flattened with a note and images, objects, MathML, tables and
sub/superscripts refuse the item. Fields QTI has no place for come from `EngineFields` (the
package manifest) when given, else defaults the writer must review, listed in `notes`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from lxml import etree

from testengine.domain.items import (
    Choice, CognitiveLevel, Item, ItemStatus, ItemType, ScoringRule, item_problems,
)
from testengine.domain.problems import Source

QTI_NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
QTI_XSD = "http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd"
MATCH_CORRECT = "http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"
TOOL_NAME = "testengine"
DEFAULT_SECONDS = 60  # foreign items: estimates the writer must replace
DEFAULT_ESTIMATE = 0.6
_QTI_2 = re.compile(r"^http://www\.imsglobal\.org/xsd/imsqti_v2p[0-2]$")
_SLUG = re.compile(r"^[a-z][a-z0-9]{0,3}$")
_BLOCKS = {"p", "div", "pre", "blockquote", "address", "h1", "h2", "h3", "h4", "h5", "h6",
           "ul", "ol", "li", "dl", "dt", "dd", "hr", "prompt"}
_INLINE = {"span", "em", "strong", "b", "i", "small", "big", "tt", "code", "abbr", "acronym",
           "cite", "dfn", "kbd", "q", "samp", "var", "a", "br"}
_QTI_PARTS = {"prompt", "simpleChoice", "simpleMatchSet", "simpleAssociableChoice", "rubricBlock"}
_REFUSED = {"img": "image content (img src={src}) is not supported",
            "object": "embedded object (object data={data}) is not supported",
            "table": "tables are not supported", "sub": "subscripts (sub) are not supported in plain text",
            "sup": "superscripts (sup) are not supported in plain text"}
_TYPES = {"choiceInteraction", "orderInteraction", "matchInteraction"}
_MARK = "\x00"  # where the interaction stands among the body's lines


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


def _x(tag: str, *children: etree._Element, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.Element(f"{{{QTI_NS}}}{tag}", attrs)
    element.text = text
    element.extend(children)
    return element


def _inline(element: etree._Element, text: str) -> etree._Element:
    first, *rest = text.split("\n")
    element.text = first
    for line in rest:
        etree.SubElement(element, f"{{{QTI_NS}}}br").tail = line
    return element


def _blocks(element: etree._Element, text: str) -> etree._Element:
    element.extend(_inline(_x("p"), line) for line in text.split("\n"))
    return element


def item_to_qti(item: Item, scenario: str = "") -> bytes:
    """One assessmentItem document; what QTI cannot hold goes in the manifest (write_package)."""
    root = etree.Element(f"{{{QTI_NS}}}assessmentItem", nsmap={None: QTI_NS, "xsi": XSI_NS})  # type: ignore[dict-item]
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{QTI_NS} {QTI_XSD}")
    for name, value in (("identifier", qti_identifier(item)), ("title", item.id), ("adaptive", "false"),
                        ("timeDependent", "false"), ("toolName", TOOL_NAME), ("toolVersion", "1")):
        root.set(name, value)
    root.append(_declaration(item))
    marks = str(item.marks)
    root.append(_x("outcomeDeclaration", _x("defaultValue", _x("value", text="0")), identifier="SCORE",
                   cardinality="single", baseType="float", normalMaximum=marks))
    root.append(_x("outcomeDeclaration", _x("defaultValue", _x("value", text=marks)),
                   identifier="MAXSCORE", cardinality="single", baseType="float"))
    if _partial(item) and item.type is ItemType.ORDERING:
        root.append(_x("outcomeDeclaration", _x("defaultValue", _x("value", text="0")),
                       identifier="PARTS_RIGHT", cardinality="single", baseType="integer"))
    body = etree.SubElement(root, f"{{{QTI_NS}}}itemBody")
    if scenario:
        body.append(_blocks(_x("div", **{"class": "scenario"}), scenario))
    body.append(_interaction(item))
    if item.rationale:
        body.append(_blocks(_x("rubricBlock", view="scorer"), item.rationale))
    root.append(_processing(item))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _partial(item: Item) -> bool:
    return item.scoring is ScoringRule.PARTIAL and item.type is not ItemType.SINGLE


def _values(item: Item) -> list[str]:
    if item.type is ItemType.MATCHING:
        return [f"{p} {k}" for p, k in zip(item.premise_ids, item.key)]
    return list(item.key)


def _declaration(item: Item) -> etree._Element:
    cardinality = {ItemType.SINGLE: "single", ItemType.ORDERING: "ordered"}.get(item.type, "multiple")
    base = "directedPair" if item.type is ItemType.MATCHING else "identifier"
    declaration = _x("responseDeclaration", _x("correctResponse", *(_x("value", text=v) for v in _values(item))),
                     identifier="RESPONSE", cardinality=cardinality, baseType=base)
    if _partial(item) and item.type is not ItemType.ORDERING:
        default = "-1" if item.type is ItemType.MULTIPLE else "0"
        declaration.append(_x("mapping", *(_x("mapEntry", mapKey=v, mappedValue="1") for v in _values(item)),
                              lowerBound="0", defaultValue=default))
    return declaration


def _interaction(item: Item) -> etree._Element:
    shuffle = "false" if item.fixed_option_order else "true"
    prompt = _inline(_x("prompt"), item.stem)
    if item.type is ItemType.MATCHING:
        def match_set(choices: tuple[Choice, ...], most: int) -> etree._Element:
            return _x("simpleMatchSet", *(_inline(_x("simpleAssociableChoice", identifier=c.id,
                                                      matchMax=str(most)), c.text) for c in choices))
        # The player offers every option for every premise, so an option may be used again.
        return _x("matchInteraction", prompt, match_set(item.premises, 1),
                  match_set(item.options, len(item.premises)), responseIdentifier="RESPONSE",
                  shuffle=shuffle, maxAssociations=str(len(item.premises)))
    choices = [_inline(_x("simpleChoice", identifier=o.id), o.text) for o in item.options]
    if item.type is ItemType.ORDERING:
        return _x("orderInteraction", prompt, *choices, responseIdentifier="RESPONSE", shuffle=shuffle)
    most = "1" if item.type is ItemType.SINGLE else str(len(item.options))
    return _x("choiceInteraction", prompt, *choices, responseIdentifier="RESPONSE", shuffle=shuffle,
              maxChoices=most)


def _processing(item: Item) -> etree._Element:
    def response() -> etree._Element:
        return _x("variable", identifier="RESPONSE")

    def number(kind: str, value: object) -> etree._Element:
        return _x("baseValue", text=str(value), baseType=kind)

    def score(expression: etree._Element) -> etree._Element:
        return _x("setOutcomeValue", expression, identifier="SCORE")

    if not _partial(item):
        if item.marks == 1:
            return _x("responseProcessing", template=MATCH_CORRECT)
        return _x("responseProcessing", _x("responseCondition", _x(
            "responseIf", _x("match", response(), _x("correct", identifier="RESPONSE")),
            score(number("float", item.marks))), _x("responseElse", score(number("float", 0)))))
    if item.type is ItemType.ORDERING:
        right = _x("variable", identifier="PARTS_RIGHT")
        counts = [_x("responseCondition", _x("responseIf", _x(
            "match", _x("index", response(), n=str(n)), number("identifier", k)),
            _x("setOutcomeValue", _x("sum", _x("variable", identifier="PARTS_RIGHT"), number("integer", 1)),
               identifier="PARTS_RIGHT"))) for n, k in enumerate(item.key, 1)]
        formula = _x("integerDivide", _x("product", number("integer", item.marks), right),
                     number("integer", item.parts))
        return _x("responseProcessing", *counts, score(formula))
    formula = _x("integerDivide", _x("product", number("integer", item.marks), _x(
        "truncate", _x("mapResponse", identifier="RESPONSE"))), number("integer", item.parts))
    branches = [_x("responseIf", _x("isNull", response()), score(number("float", 0)))]
    if item.type is ItemType.MULTIPLE:
        branches.append(_x("responseElseIf", _x("gt", _x("containerSize", response()),
                                                number("integer", item.select_count)), score(number("float", 0))))
    return _x("responseProcessing", _x("responseCondition", *branches, _x("responseElse", score(formula))))


# ---- import ----

class _Refused(Exception):
    """Raised with every reason the item cannot be mapped (its args)."""


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _elements(element: etree._Element) -> list[etree._Element]:
    return [c for c in element if isinstance(c.tag, str)]


def qti_to_item(root: etree._Element, file: str, unit: int, engine: EngineFields | None = None) -> ImportedItem | NotMapped:
    """Map one assessmentItem, or say precisely why not; never half an item."""
    identifier = root.get("identifier") or ""
    try:
        return _map(root, file, unit, engine, identifier)
    except _Refused as refused:
        return NotMapped(file, identifier, list(refused.args))
    except ValueError as error:  # float("x") in a mapping, normalMaximum
        return NotMapped(file, identifier, [f"not a number where QTI needs one: {error}"])


def _map(root: etree._Element, file: str, unit: int, engine: EngineFields | None, identifier: str) -> ImportedItem:
    if _local(root) != "assessmentItem" or not _QTI_2.match(etree.QName(root).namespace or ""):
        raise _Refused(f"the root element is {root.tag}, not a QTI 2 assessmentItem")
    body = root.find("{*}itemBody")
    if body is None:
        raise _Refused("no itemBody")
    interactions = [e for e in body.iter() if _local(e).endswith("Interaction")]
    reasons = _content_problems(body)
    if root.get("adaptive") == "true":
        reasons.append("adaptive items (attempts with changing feedback) are not supported")
    if root.find("{*}templateDeclaration") is not None:
        reasons.append("template variables (templateDeclaration) are not supported")
    if not interactions:
        reasons.append("no interaction")
    elif len(interactions) > 1:
        names = ", ".join(_local(i) for i in interactions)
        reasons.append(f"{len(interactions)} interactions in one item ({names})")
    elif _local(interactions[0]) not in _TYPES:
        reasons.append(f"{_local(interactions[0])} is not one of the engine's item types "
                       "(choiceInteraction, orderInteraction, matchInteraction)")
    if reasons:
        raise _Refused(*dict.fromkeys(reasons))
    interaction, exact, notes = interactions[0], engine is not None, list[str]()
    draft = _draft(root, interaction, unit)
    scoring, marks = _scoring(root, interaction, draft, notes)
    tags: set[str] = set()
    scenarios = [e for e in body.iter() if "scenario" in (e.get("class") or "").split()]
    rubrics = [e for e in body.iter("{*}rubricBlock")]
    lines = _lines(body, exact, tags, interaction, set(scenarios + rubrics))
    prompt = interaction.find("{*}prompt")
    at = lines.index(_MARK) if _MARK in lines else len(lines)
    if lines[at + 1:]:
        notes.append("text after the interaction was added to the end of the stem")
    stem_lines = lines[:at] + ([] if prompt is None else _lines(prompt, exact, tags)) + lines[at + 1:]
    scenario = "\n".join(line for s in scenarios for line in _lines(s, exact, tags))
    rationale = "\n".join(line for r in rubrics for line in _lines(r, exact, tags))
    if not rubrics and root.findall("{*}modalFeedback"):
        rationale = "\n".join(line for f in root.findall("{*}modalFeedback") for line in _lines(f, exact, tags))
        notes.append("rationale taken from the modal feedback")
    options = tuple(Choice(c.id, "\n".join(_lines(e, exact, tags)))
                    for c, e in zip(draft.options, _choices(interaction, 1)))
    premises = tuple(Choice(c.id, "\n".join(_lines(e, exact, tags)))
                     for c, e in zip(draft.premises, _choices(interaction, 0)))
    fixed = [c.get("identifier") or "" for c in interaction.iter() if c.get("fixed") == "true"]
    if fixed and not draft.fixed_option_order:
        notes.append(f"choices fixed in place ({', '.join(fixed)}) are shuffled with the rest: "
                     "the engine shuffles all options or none")
    flattened = sorted(tags - {"br", "p", "div", "prompt"})
    if flattened:
        notes.append(f"formatting flattened to plain text: {', '.join(flattened)}")
    item = _renamed(replace(draft, stem="\n".join(stem_lines), options=options, premises=premises,
                            scoring=scoring, marks=marks, rationale=rationale), notes)
    item = _with_fields(item, root, engine, unit, notes, Source(file, line_of(root)))
    notes.extend(f"engine rule: {p.reason}" for p in item_problems(item))
    return ImportedItem(item, identifier, scenario, notes)


def _content_problems(element: etree._Element) -> list[str]:
    """What in the body plain text cannot show (a refused element's contents are not listed)."""
    reasons = []
    for child in _elements(element):
        name, namespace = _local(child), etree.QName(child).namespace or ""
        if not _QTI_2.match(namespace):
            reasons.append(f"{'MathML (math)' if name == 'math' else child.tag} is not supported")
        elif name in _REFUSED:
            reasons.append(_REFUSED[name].format(src=child.get("src"), data=child.get("data")))
        elif name == "rubricBlock" and "candidate" in (child.get("view") or "").split():
            reasons.append("a rubricBlock shown to candidates is not supported")
        elif name.endswith("Interaction") and name not in _TYPES:
            continue  # refused as an interaction, not for its parts
        elif name in _BLOCKS | _INLINE | _QTI_PARTS or name.endswith("Interaction"):
            reasons.extend(_content_problems(child))
        else:
            reasons.append(f"{name} is not supported")
    return reasons


def _choices(interaction: etree._Element, which: int) -> list[etree._Element]:
    """simpleChoices, or a matchInteraction's premises (0) or options (1)."""
    if _local(interaction) != "matchInteraction":
        return interaction.findall("{*}simpleChoice") if which else []
    sets = interaction.findall("{*}simpleMatchSet")
    if len(sets) != 2:
        raise _Refused(f"matchInteraction with {len(sets)} simpleMatchSets, not 2")
    return sets[which].findall("{*}simpleAssociableChoice")


def _declaration_of(root: etree._Element, interaction: etree._Element) -> etree._Element:
    response = interaction.get("responseIdentifier")
    declaration = next((d for d in root.findall("{*}responseDeclaration") if d.get("identifier") == response), None)
    if declaration is None:
        raise _Refused(f"no responseDeclaration for {response}")
    return declaration


def _draft(root: etree._Element, interaction: etree._Element, unit: int) -> Item:
    """The item's shape with the package's own ids; texts, scoring and fields come later."""
    name, declaration = _local(interaction), _declaration_of(root, interaction)
    correct = declaration.find("{*}correctResponse")
    values = [" ".join((v.text or "").split()) for v in ([] if correct is None else correct.findall("{*}value"))]
    if not values:
        raise _Refused("no correctResponse")
    options = tuple(Choice(c.get("identifier") or "", "") for c in _choices(interaction, 1))
    premises = tuple(Choice(c.get("identifier") or "", "") for c in _choices(interaction, 0))
    ids = [o.id for o in options]
    cardinality = declaration.get("cardinality")
    if name == "matchInteraction":
        if declaration.get("baseType") != "directedPair":
            raise _Refused(f"matchInteraction with a {declaration.get('baseType')} response, not directedPair")
        kind, key = ItemType.MATCHING, _match_key(values, [p.id for p in premises], ids)
    elif name == "orderInteraction":
        kind, key = ItemType.ORDERING, tuple(values)
        if sorted(values) != sorted(ids):
            raise _Refused(f"correctResponse orders {len(values)} of {len(ids)} choices (the engine orders every option)")
    else:
        kind = ItemType.SINGLE if cardinality == "single" else ItemType.MULTIPLE
        key = tuple(values) if kind is ItemType.SINGLE else tuple(sorted(values))
        if kind is ItemType.SINGLE and len(values) != 1:
            raise _Refused(f"correctResponse of a single-response item gives {len(values)} values")
        unknown = [v for v in values if v not in ids]
        if unknown:
            raise _Refused(f"correctResponse names {', '.join(unknown)}, which is not a choice")
    expected = {ItemType.SINGLE: "single", ItemType.ORDERING: "ordered"}.get(kind, "multiple")
    if cardinality != expected:
        raise _Refused(f"{name} with a {cardinality} response; the engine's {kind} items need {expected}")
    return Item(id="", version=1, unit=unit, learning_outcome=0, criterion="", amplification="", type=kind,
                stem="", options=options, premises=premises, key=key, marks=1,
                scoring=ScoringRule.ALL_OR_NOTHING, expected_seconds=DEFAULT_SECONDS,
                facility=DEFAULT_ESTIMATE, angoff=DEFAULT_ESTIMATE, status=ItemStatus.DRAFT, rationale="",
                author="", fixed_option_order=interaction.get("shuffle") != "true")


def _match_key(values: list[str], premises: list[str], options: list[str]) -> tuple[str, ...]:
    pairs = [tuple(v.split(" ")) for v in values]
    if any(len(p) != 2 or p[0] not in premises or p[1] not in options for p in pairs):
        bad = [v for v, p in zip(values, pairs) if len(p) != 2 or p[0] not in premises or p[1] not in options]
        raise _Refused(f"correctResponse pairs {', '.join(bad)} are not premise-option pairs")
    key = []
    for premise in premises:
        matched = [p[1] for p in pairs if p[0] == premise]
        if len(matched) != 1:
            raise _Refused(f"premise {premise} has {len(matched)} matches in correctResponse "
                           "(the engine keys one option per premise)")
        key.append(matched[0])
    return tuple(key)


def _scoring(root: etree._Element, interaction: etree._Element, draft: Item, notes: list[str]) -> tuple[ScoringRule, int]:
    processing = root.find("{*}responseProcessing")
    if processing is None:
        raise _Refused("no responseProcessing: the item is not scored")
    template = processing.get("template") or processing.get("templateLocation") or ""
    name = template.rstrip("/").rsplit("/", 1)[-1].removesuffix(".xml")
    if name == "match_correct":
        return ScoringRule.ALL_OR_NOTHING, 1
    if name == "map_response":
        return _from_mapping(root, interaction, draft, notes)
    if template:
        raise _Refused(f"responseProcessing template {template} not recognised (only match_correct and map_response)")
    score = next((o for o in root.findall("{*}outcomeDeclaration") if o.get("identifier") == "SCORE"), None)
    declared = 0.0 if score is None else float(score.get("normalMaximum") or 0)
    for rule in ScoringRule:
        ours = replace(draft, scoring=rule, marks=int(declared))
        if declared == int(declared) and _same(_processing(ours), processing) and _same(
                _declaration(ours), _declaration_of(root, interaction)):
            return rule, int(declared)
    raise _Refused("responseProcessing with its own rules is not recognised (only the match_correct and "
                   "map_response templates and this engine's own rules are)")


def _same(a: etree._Element, b: etree._Element) -> bool:
    def shape(e: etree._Element) -> object:
        return (_local(e), sorted(e.attrib.items()), (e.text or "").strip(), [shape(c) for c in _elements(e)])
    return shape(a) == shape(b)


def _from_mapping(root: etree._Element, interaction: etree._Element, draft: Item, notes: list[str]) -> tuple[ScoringRule, int]:
    mapping = _declaration_of(root, interaction).find("{*}mapping")
    if mapping is None:
        raise _Refused("map_response template without a mapping")
    if draft.type is ItemType.ORDERING:
        raise _Refused("map_response on an ordered response ignores the order: not recognised")
    entries = {" ".join((e.get("mapKey") or "").split()): float(e.get("mappedValue") or 0)
               for e in mapping.findall("{*}mapEntry")}
    default = float(mapping.get("defaultValue") or 0)
    lower, upper = mapping.get("lowerBound"), mapping.get("upperBound")
    keyed = _values(draft)
    if default > 0:
        raise _Refused(f"the mapping's defaultValue {default:g} gives credit to every response it does not list")
    extra = [k for k, v in entries.items() if v > 0 and k not in keyed]
    if extra:
        raise _Refused(f"the mapping gives credit to {', '.join(extra)}, which correctResponse does not key")
    credit = [entries.get(k, default) for k in keyed]
    if any(v <= 0 for v in credit):
        raise _Refused("the mapping gives no credit to part of the correctResponse")
    if draft.type is ItemType.SINGLE:
        return ScoringRule.ALL_OR_NOTHING, _whole(credit[0], notes)
    total = min(sum(credit), float(upper)) if upper else sum(credit)
    marks, each = _whole(total, notes), credit[0]
    others = [v for k, v in entries.items() if k not in keyed]
    if draft.type is ItemType.MULTIPLE:
        unlisted = len(draft.options) - len(entries)
        exact = (all(v == -each for v in others) and (unlisted == 0 or default == -each) and float(lower or -1) == 0
                 and interaction.get("maxChoices") == str(len(keyed)))
        rule = "floor(marks x (keys chosen - other options chosen) / keys), 0 when more are chosen than keyed"
    else:
        exact = all(v == 0 for v in others) and default == 0
        rule = "floor(marks x premises matched / premises)"
    if not (exact and all(v == each for v in credit) and marks == each * len(keyed)):
        described = ", ".join(f"{k} {v:g}" for k, v in entries.items())
        bounds = "".join(f", {n} bound {b}" for n, b in (("lower", lower), ("upper", upper)) if b)
        notes.append(f"scored by the engine's partial credit, {rule}, not the package's mapping "
                     f"({described}, others {default:g}{bounds})")
    return ScoringRule.PARTIAL, marks


def _whole(value: float, notes: list[str]) -> int:
    marks = min(max(int(value + 0.5), 1), 4)
    if marks != value:
        notes.append(f"a maximum score of {value:g} became {marks} marks (the engine gives 1-4 whole marks)")
    return marks


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


def _text(text: str | None, exact: bool) -> str:
    return (text or "") if exact else re.sub(r"\s+", " ", text or "")


def _run(text: str | None, nodes: list[etree._Element], exact: bool, tags: set[str]) -> str:
    out = [_text(text, exact)]
    for node in nodes:
        if _local(node) == "br":
            out.append("\n")
        elif _local(node):
            tags.add(_local(node))
            out.append(_run(node.text, list(node), exact, tags))
        out.append(_text(node.tail, exact))
    return "".join(out)


def _lines(element: etree._Element, exact: bool, tags: set[str], mark: etree._Element | None = None,
           skip: set[etree._Element] | frozenset[etree._Element] = frozenset()) -> list[str]:
    """Plain-text lines: blocks and <br/> break lines; `exact` keeps whitespace as written."""
    def split(text: str) -> list[str]:
        if exact:
            return text.split("\n")
        return [s for s in (re.sub(" +", " ", line).strip() for line in text.split("\n")) if s]

    def is_block(e: etree._Element) -> bool:
        return e is mark or e in skip or _local(e) in _BLOCKS
    if not any(is_block(e) for e in _elements(element)):
        return split(_run(element.text, list(element), exact, tags))
    lines: list[str] = []
    text, run = element.text, []
    for child in element:
        if not (_local(child) and is_block(child)):
            run.append(child)
            continue
        joined = _run(text, run, exact, tags)
        lines.extend(split(joined) if joined.strip() else [])
        if child is mark:
            lines.append(_MARK)
        elif child not in skip:
            tags.add(_local(child))
            lines.extend(_lines(child, exact, tags, mark, skip))
        text, run = child.tail, []
    joined = _run(text, run, exact, tags)
    return lines + (split(joined) if joined.strip() else [])

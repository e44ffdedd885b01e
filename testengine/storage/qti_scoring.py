"""The engine's scoring rules as QTI response declarations and responseProcessing, both ways.

Export: all or nothing for 1 mark is the match_correct template; otherwise responseProcessing
states the engine's rule (scoring.py): partial credit is floor(marks x parts right / parts),
from a mapping in the responseDeclaration (multiple: key +1, other -1, 0 if more are ticked
than keyed; matching: keyed pair +1) or, for ordering, a count of the positions right
(PARTS_RIGHT, declared by qti_items).

Import recognises the match_correct template (1 mark, all or nothing), the map_response
template (marks from the credit the mapping gives the key; multiple and matching items take the
engine's partial credit, with a note where the mapping differs) and the rules the export writes;
any other responseProcessing refuses the item. `Refused` carries the reasons an item cannot be
mapped, raised here and in qti_items.
"""

from __future__ import annotations

from dataclasses import replace

from lxml import etree

from testengine.domain.items import Item, ItemType, ScoringRule
from testengine.storage.qti_text import elements, local, x

MATCH_CORRECT = "http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"


class Refused(Exception):
    """Raised with every reason the item cannot be mapped (its args)."""


def partial(item: Item) -> bool:
    return item.scoring is ScoringRule.PARTIAL and item.type is not ItemType.SINGLE


def _values(item: Item) -> list[str]:
    if item.type is ItemType.MATCHING:
        return [f"{p} {k}" for p, k in zip(item.premise_ids, item.key)]
    return list(item.key)


def declaration(item: Item) -> etree._Element:
    cardinality = {ItemType.SINGLE: "single", ItemType.ORDERING: "ordered"}.get(item.type, "multiple")
    base = "directedPair" if item.type is ItemType.MATCHING else "identifier"
    declaration = x("responseDeclaration", x("correctResponse", *(x("value", text=v) for v in _values(item))),
                    identifier="RESPONSE", cardinality=cardinality, baseType=base)
    if partial(item) and item.type is not ItemType.ORDERING:
        default = "-1" if item.type is ItemType.MULTIPLE else "0"
        declaration.append(x("mapping", *(x("mapEntry", mapKey=v, mappedValue="1") for v in _values(item)),
                             lowerBound="0", defaultValue=default))
    return declaration


def processing(item: Item) -> etree._Element:
    def response() -> etree._Element:
        return x("variable", identifier="RESPONSE")

    def number(kind: str, value: object) -> etree._Element:
        return x("baseValue", text=str(value), baseType=kind)

    def score(expression: etree._Element) -> etree._Element:
        return x("setOutcomeValue", expression, identifier="SCORE")

    if not partial(item):
        if item.marks == 1:
            return x("responseProcessing", template=MATCH_CORRECT)
        return x("responseProcessing", x("responseCondition", x(
            "responseIf", x("match", response(), x("correct", identifier="RESPONSE")),
            score(number("float", item.marks))), x("responseElse", score(number("float", 0)))))
    if item.type is ItemType.ORDERING:
        right = x("variable", identifier="PARTS_RIGHT")
        counts = [x("responseCondition", x("responseIf", x(
            "match", x("index", response(), n=str(n)), number("identifier", k)),
            x("setOutcomeValue", x("sum", x("variable", identifier="PARTS_RIGHT"), number("integer", 1)),
              identifier="PARTS_RIGHT"))) for n, k in enumerate(item.key, 1)]
        formula = x("integerDivide", x("product", number("integer", item.marks), right),
                    number("integer", item.parts))
        return x("responseProcessing", *counts, score(formula))
    formula = x("integerDivide", x("product", number("integer", item.marks), x(
        "truncate", x("mapResponse", identifier="RESPONSE"))), number("integer", item.parts))
    branches = [x("responseIf", x("isNull", response()), score(number("float", 0)))]
    if item.type is ItemType.MULTIPLE:
        branches.append(x("responseElseIf", x("gt", x("containerSize", response()),
                                              number("integer", item.select_count)), score(number("float", 0))))
    return x("responseProcessing", x("responseCondition", *branches, x("responseElse", score(formula))))


def declaration_of(root: etree._Element, interaction: etree._Element) -> etree._Element:
    response = interaction.get("responseIdentifier")
    declaration = next((d for d in root.findall("{*}responseDeclaration") if d.get("identifier") == response), None)
    if declaration is None:
        raise Refused(f"no responseDeclaration for {response}")
    return declaration


def scoring(root: etree._Element, interaction: etree._Element, draft: Item, notes: list[str]) -> tuple[ScoringRule, int]:
    theirs = root.find("{*}responseProcessing")
    if theirs is None:
        raise Refused("no responseProcessing: the item is not scored")
    template = theirs.get("template") or theirs.get("templateLocation") or ""
    name = template.rstrip("/").rsplit("/", 1)[-1].removesuffix(".xml")
    if name == "match_correct":
        return ScoringRule.ALL_OR_NOTHING, 1
    if name == "map_response":
        return _from_mapping(root, interaction, draft, notes)
    if template:
        raise Refused(f"responseProcessing template {template} not recognised (only match_correct and map_response)")
    score = next((o for o in root.findall("{*}outcomeDeclaration") if o.get("identifier") == "SCORE"), None)
    declared = 0.0 if score is None else float(score.get("normalMaximum") or 0)
    for rule in ScoringRule:
        ours = replace(draft, scoring=rule, marks=int(declared))
        if declared == int(declared) and _same(processing(ours), theirs) and _same(
                declaration(ours), declaration_of(root, interaction)):
            return rule, int(declared)
    raise Refused("responseProcessing with its own rules is not recognised (only the match_correct and "
                  "map_response templates and this engine's own rules are)")


def _same(a: etree._Element, b: etree._Element) -> bool:
    def shape(e: etree._Element) -> object:
        return (local(e), sorted(e.attrib.items()), (e.text or "").strip(), [shape(c) for c in elements(e)])
    return shape(a) == shape(b)


def _from_mapping(root: etree._Element, interaction: etree._Element, draft: Item, notes: list[str]) -> tuple[ScoringRule, int]:
    mapping = declaration_of(root, interaction).find("{*}mapping")
    if mapping is None:
        raise Refused("map_response template without a mapping")
    if draft.type is ItemType.ORDERING:
        raise Refused("map_response on an ordered response ignores the order: not recognised")
    entries = {" ".join((e.get("mapKey") or "").split()): float(e.get("mappedValue") or 0)
               for e in mapping.findall("{*}mapEntry")}
    default = float(mapping.get("defaultValue") or 0)
    lower, upper = mapping.get("lowerBound"), mapping.get("upperBound")
    keyed = _values(draft)
    if default > 0:
        raise Refused(f"the mapping's defaultValue {default:g} gives credit to every response it does not list")
    extra = [k for k, v in entries.items() if v > 0 and k not in keyed]
    if extra:
        raise Refused(f"the mapping gives credit to {', '.join(extra)}, which correctResponse does not key")
    credit = [entries.get(k, default) for k in keyed]
    if any(v <= 0 for v in credit):
        raise Refused("the mapping gives no credit to part of the correctResponse")
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

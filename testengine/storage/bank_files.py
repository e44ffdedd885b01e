"""item_banks/: a unit's specification.yaml and its item files, read into a domain Bank."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from testengine.domain.banks import Bank, bank_problems
from testengine.domain.items import Choice, CognitiveLevel, Item, ItemSet, ItemStatus, ItemType, ScoringRule
from testengine.domain.problems import DataError, Problem, Source
from testengine.domain.specification import (
    AmplificationPoint,
    Criterion,
    LearningOutcome,
    Unit,
    specification_problems,
)
from testengine.storage.schemas import check_shape
from testengine.storage.yaml_documents import LineMap, display_path, read_yaml

SPECIFICATION_FILE = "specification.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


class PointModel(_Strict):
    id: str
    title: str
    detail: str


class CriterionModel(_Strict):
    number: str
    text: str
    amplification: list[PointModel]


class OutcomeModel(_Strict):
    number: int
    title: str
    criteria: list[CriterionModel]


class SpecificationModel(_Strict):
    unit: int
    reference: str
    title: str
    level: int
    credit_value: int
    guided_learning_hours: int
    learning_outcomes: list[OutcomeModel]


class ChoiceModel(_Strict):
    id: str
    text: str


class ItemModel(_Strict):
    id: str
    version: int
    unit: int
    learning_outcome: int
    criterion: str
    amplification: str
    type: ItemType
    stem: str
    options: list[ChoiceModel]
    premises: list[ChoiceModel] = Field(default_factory=list)
    key: str | list[str] | dict[str, str]
    marks: int
    scoring: ScoringRule = ScoringRule.ALL_OR_NOTHING
    expected_seconds: int
    facility: float
    angoff: float
    enemies: list[str] = Field(default_factory=list)
    item_set: str | None = None
    fixed_option_order: bool = False
    cognitive_level: CognitiveLevel | None = None
    status: ItemStatus
    author: str
    rationale: str


class ItemSetModel(_Strict):
    id: str
    title: str
    scenario: str


class ItemFileModel(_Strict):
    # Items are checked one by one, so that one bad item does not hide the others' problems.
    items: list[Any] = Field(default_factory=list)
    item_sets: list[Any] = Field(default_factory=list)


def read_specification(path: Path) -> Unit:
    name = display_path(path)
    data = read_yaml(path)
    model, problems = check_shape(SpecificationModel, data, name)
    if model is None:
        raise DataError(problems)
    unit = Unit(
        number=model.unit,
        reference=model.reference,
        title=model.title,
        level=model.level,
        credit_value=model.credit_value,
        guided_learning_hours=model.guided_learning_hours,
        learning_outcomes=tuple(
            LearningOutcome(
                number=lo.number,
                title=lo.title,
                criteria=tuple(
                    Criterion(
                        number=c.number,
                        text=c.text,
                        amplification=tuple(AmplificationPoint(p.id, p.title, p.detail) for p in c.amplification),
                    )
                    for c in lo.criteria
                ),
            )
            for lo in model.learning_outcomes
        ),
        source=Source(name, 1),
    )
    problems = specification_problems(unit)
    if problems:
        raise DataError(problems)
    return unit


def item_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.yaml") if p.name != SPECIFICATION_FILE)


def read_bank(folder: Path) -> Bank:
    """The unit's bank with every problem in it raised together, or a clean Bank."""
    unit = read_specification(folder / SPECIFICATION_FILE)
    items: list[Item] = []
    item_sets: list[ItemSet] = []
    problems: list[Problem] = []
    files = item_files(folder)
    if not files:
        problems.append(Problem(reason="no item files (*.yaml) beside specification.yaml", file=display_path(folder)))
    for path in files:
        try:
            file_items, file_sets, file_problems = _read_item_file(path, unit.number)
        except DataError as exc:
            problems.extend(exc.problems)
            continue
        items.extend(file_items)
        item_sets.extend(file_sets)
        problems.extend(file_problems)
    bank = Bank(unit=unit, items=tuple(items), item_sets=tuple(item_sets))
    problems.extend(bank_problems(bank))
    if problems:
        raise DataError(problems)
    return bank


def _read_item_file(path: Path, unit: int) -> tuple[list[Item], list[ItemSet], list[Problem]]:
    name = display_path(path)
    data = read_yaml(path)
    if data is None:
        return [], [], [Problem(reason="the file is empty", file=name)]
    document, problems = check_shape(ItemFileModel, data, name)
    if document is None:
        return [], [], problems
    item_sets = []
    for raw in document.item_sets:
        set_model, shape_problems = check_shape(ItemSetModel, raw, name, _raw_id(raw))
        problems.extend(shape_problems)
        if set_model is not None:
            item_sets.append(ItemSet(set_model.id, set_model.title, set_model.scenario, unit, _source(name, raw)))
    items = []
    for raw in document.items:
        item, item_problems = item_from_raw(raw, name)
        problems.extend(item_problems)
        if item is not None:
            items.append(item)
    return items, item_sets, problems


def item_from_raw(raw: Any, name: str) -> tuple[Item | None, list[Problem]]:
    """One item in the file format (a mapping as in the YAML files), checked for its shape:
    the item, or None and what is wrong, each problem naming `name` and the item."""
    model, problems = check_shape(ItemModel, raw, name, _raw_id(raw))
    if model is None:
        return None, problems
    source = _source(name, raw)
    key, key_problems = _key(model, source)
    if key_problems:
        return None, problems + key_problems
    item = Item(
        id=model.id,
        version=model.version,
        unit=model.unit,
        learning_outcome=model.learning_outcome,
        criterion=model.criterion,
        amplification=model.amplification,
        type=model.type,
        stem=model.stem.strip(),
        options=tuple(Choice(o.id, o.text.strip()) for o in model.options),
        premises=tuple(Choice(p.id, p.text.strip()) for p in model.premises),
        key=key,
        marks=model.marks,
        scoring=model.scoring,
        expected_seconds=model.expected_seconds,
        facility=model.facility,
        angoff=model.angoff,
        enemies=frozenset(model.enemies),
        item_set=model.item_set,
        fixed_option_order=model.fixed_option_order,
        cognitive_level=model.cognitive_level,
        status=model.status,
        author=model.author,
        rationale=model.rationale.strip(),
        source=source,
    )
    return item, problems


def _key(model: ItemModel, source: Source) -> tuple[tuple[str, ...], list[Problem]]:
    """The file's natural key shape for each type, turned into the domain's one shape."""

    def wrong(expected: str) -> tuple[tuple[str, ...], list[Problem]]:
        return (), [Problem.at(source, f"key: a {model.type} item's key is {expected}", model.id)]

    key = model.key
    if model.type is ItemType.SINGLE:
        return ((key,), []) if isinstance(key, str) else wrong("one option id, e.g. key: b")
    if model.type is ItemType.MATCHING:
        if not isinstance(key, dict):
            return wrong("a mapping from each premise id to an option id")
        premises = [p.id for p in model.premises]
        extra = sorted(set(key) - set(premises))
        if extra:
            return (), [Problem.at(source, f"key: {', '.join(extra)} are not premises of this item", model.id)]
        return tuple(key.get(p, "") for p in premises), []
    if not isinstance(key, list):
        return wrong("a list of option ids")
    return (tuple(sorted(key)) if model.type is ItemType.MULTIPLE else tuple(key)), []


def _raw_id(raw: Any) -> str | None:
    return raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None


def _source(name: str, raw: Any) -> Source:
    return Source(name, raw.line if isinstance(raw, LineMap) else None)

"""blueprints/unit-<n>.yaml read into a domain Blueprint, checked against its unit."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from testengine.domain.blueprints import (
    Blueprint,
    CutMethod,
    DifficultyWindow,
    ExposureRule,
    Hurdle,
    ItemCountRange,
    MarkRange,
    PassRule,
    Presentation,
    Purpose,
    Rounding,
    blueprint_problems,
)
from testengine.domain.items import ItemStatus, ItemType
from testengine.domain.problems import DataError, Source
from testengine.domain.specification import Unit
from testengine.storage.schemas import check_shape
from testengine.storage.yaml_documents import display_path, read_yaml


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MarksModel(_Strict):
    min_marks: int
    max_marks: int


class CountModel(_Strict):
    min_items: int = 1
    max_items: int


class DifficultyModel(_Strict):
    target: float
    tolerance: float


class ExposureModel(_Strict):
    cap: float = 0.25
    minimum_forms: int = 20
    usage_penalty: float = 0.5
    window: int = 2000


class PresentationModel(_Strict):
    group_by_learning_outcome: bool = True
    shuffle_items: bool = True
    shuffle_options: bool = True


class PassRuleModel(_Strict):
    cut: CutMethod
    rounding: Rounding = Rounding.NEAREST
    fixed_cut: int | None = None
    hurdles: dict[int, float] = Field(default_factory=dict)


class BlueprintModel(_Strict):
    unit: int
    duration_minutes: int
    total_marks: int
    max_expected_minutes: int | None = None
    purpose: Purpose = Purpose.LIVE
    eligible_statuses: list[ItemStatus]
    learning_outcomes: dict[int, MarksModel]
    criteria: dict[str, CountModel]
    difficulty: DifficultyModel
    exposure: ExposureModel = ExposureModel()
    item_types: dict[ItemType, MarksModel] = Field(default_factory=dict)
    presentation: PresentationModel = PresentationModel()
    pass_rule: PassRuleModel


def blueprint_path(folder: Path, unit: int, purpose: Purpose = Purpose.LIVE) -> Path:
    return folder / (f"unit-{unit}.yaml" if purpose is Purpose.LIVE else f"unit-{unit}-{purpose.value}.yaml")


def read_blueprint(path: Path, unit: Unit) -> Blueprint:
    """The blueprint, with `criteria.default` applied to every AC not listed by number."""
    name = display_path(path)
    data = read_yaml(path)
    model, problems = check_shape(BlueprintModel, data, name)
    if model is None:
        raise DataError(problems)
    default = model.criteria.get("default")
    criterion_items = {}
    for criterion in unit.criteria:
        counts = model.criteria.get(criterion.number, default)
        if counts is not None:
            criterion_items[criterion.number] = ItemCountRange(counts.min_items, counts.max_items)
    for number, counts in model.criteria.items():
        if number != "default" and number not in criterion_items:
            criterion_items[number] = ItemCountRange(counts.min_items, counts.max_items)
    rule = model.pass_rule
    blueprint = Blueprint(
        unit=model.unit,
        duration_minutes=model.duration_minutes,
        total_marks=model.total_marks,
        max_expected_minutes=model.max_expected_minutes,
        purpose=model.purpose,
        outcome_marks={n: MarkRange(r.min_marks, r.max_marks) for n, r in model.learning_outcomes.items()},
        criterion_items=criterion_items,
        eligible_statuses=frozenset(model.eligible_statuses),
        difficulty=DifficultyWindow(model.difficulty.target, model.difficulty.tolerance),
        exposure=ExposureRule(model.exposure.cap, model.exposure.minimum_forms, model.exposure.usage_penalty,
                              model.exposure.window),
        type_marks={t: MarkRange(r.min_marks, r.max_marks) for t, r in model.item_types.items()},
        presentation=Presentation(**model.presentation.model_dump()),
        pass_rule=PassRule(
            method=rule.cut,
            rounding=rule.rounding,
            fixed_cut=rule.fixed_cut,
            hurdles=tuple(Hurdle(lo, share) for lo, share in sorted(rule.hurdles.items())),
        ),
        source=Source(name, 1),
    )
    problems = blueprint_problems(blueprint, unit)
    if problems:
        raise DataError(problems)
    return blueprint


def file_digest(path: Path) -> str:
    """A short fingerprint of a file's bytes, stored with each form to say which version built it."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]

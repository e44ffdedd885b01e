"""item_banks/lint.yaml: the thresholds of the item-quality checks, edited by the bank's owners."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from testengine.domain.item_writing import LintPolicy
from testengine.domain.problems import DataError
from testengine.storage.schemas import check_shape
from testengine.storage.yaml_documents import display_path, read_yaml

LINT_FILE = "lint.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BandModel(_Strict):
    min: float
    max: float


class ReadabilityModel(_Strict):
    item_max_grade: float
    unit_mean_grade: BandModel


class LintPolicyModel(_Strict):
    key_position_share: BandModel
    key_longest_max_share: float
    option_length_max_ratio: float
    near_duplicate_threshold: float
    readability: ReadabilityModel
    beyond_recall_min_share: float
    scenario_words: BandModel
    absolute_words: list[str]


def read_lint_policy(item_banks: Path) -> LintPolicy:
    """The policy in item_banks/lint.yaml, or the defaults when there is no such file."""
    path = item_banks / LINT_FILE
    if not path.exists():
        return LintPolicy()
    model, problems = check_shape(LintPolicyModel, read_yaml(path), display_path(path))
    if model is None:
        raise DataError(problems)
    return LintPolicy(
        key_position_share=(model.key_position_share.min, model.key_position_share.max),
        key_longest_max_share=model.key_longest_max_share,
        option_length_max_ratio=model.option_length_max_ratio,
        near_duplicate_threshold=model.near_duplicate_threshold,
        item_max_grade=model.readability.item_max_grade,
        unit_mean_grade=(model.readability.unit_mean_grade.min, model.readability.unit_mean_grade.max),
        beyond_recall_min_share=model.beyond_recall_min_share,
        scenario_words=(int(model.scenario_words.min), int(model.scenario_words.max)),
        absolute_words=frozenset(w.lower() for w in model.absolute_words),
    )

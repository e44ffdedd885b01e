"""invigilation/policy.yaml read into a ConductPolicy."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from testengine.domain.conduct import ConductPolicy
from testengine.domain.problems import DataError, Problem
from testengine.storage.schemas import check_shape
from testengine.storage.yaml_documents import display_path, read_yaml

POLICY_FILE = "policy.yaml"


class PolicyModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    warning_minutes: list[int] = Field(default_factory=lambda: [15, 5])
    answer_grace_seconds: int = 5
    resit_break_days: int = 0
    refuse_after_pass: bool = True
    standard_extra_time_percent: int = 25
    maximum_extra_time_percent: int = 50
    extra_time_reference_above: int = 25
    candidates_per_invigilator: int = 20
    connection_lost_seconds: int = 45
    retention_days: int = 365


def read_policy(folder: Path) -> ConductPolicy:
    path = folder / POLICY_FILE
    if not path.exists():
        raise DataError([Problem(reason="the conduct policy file is missing", file=display_path(path))])
    name = display_path(path)
    model, problems = check_shape(PolicyModel, read_yaml(path), name)
    if model is None:
        raise DataError(problems)
    checks = [
        (all(m > 0 for m in model.warning_minutes), "warning_minutes must be positive minutes"),
        (0 <= model.answer_grace_seconds <= 60, "answer_grace_seconds must be 0-60"),
        (model.resit_break_days >= 0, "resit_break_days cannot be negative"),
        (0 <= model.standard_extra_time_percent <= model.maximum_extra_time_percent <= 100,
         "extra time: standard <= maximum <= 100"),
        (model.candidates_per_invigilator > 0, "candidates_per_invigilator must be positive"),
        (model.retention_days > 0, "retention_days must be positive"),
        (15 <= model.connection_lost_seconds <= 600, "connection_lost_seconds must be 15-600 (the player checks in every 5 s)"),
    ]
    wrong = [Problem(reason=reason, file=name) for ok, reason in checks if not ok]
    if wrong:
        raise DataError(wrong)
    return ConductPolicy(
        warning_minutes=tuple(sorted(set(model.warning_minutes), reverse=True)),
        answer_grace_seconds=model.answer_grace_seconds,
        resit_break_days=model.resit_break_days,
        refuse_after_pass=model.refuse_after_pass,
        standard_extra_time_percent=model.standard_extra_time_percent,
        maximum_extra_time_percent=model.maximum_extra_time_percent,
        extra_time_reference_above=model.extra_time_reference_above,
        candidates_per_invigilator=model.candidates_per_invigilator,
        connection_lost_seconds=model.connection_lost_seconds,
        retention_days=model.retention_days,
    )

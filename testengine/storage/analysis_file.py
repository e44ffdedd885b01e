"""reports/analysis.yaml: the analysts' flag thresholds, minimum sample sizes and DIF settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from testengine.domain.problems import DataError, Problem
from testengine.storage.schemas import check_shape
from testengine.storage.yaml_documents import display_path, read_yaml

ANALYSIS_FILE = "analysis.yaml"


class _DifModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    min_reference: int = Field(default=100, ge=1)
    min_focal: int = Field(default=100, ge=1)
    significance: float = Field(default=0.05, gt=0, lt=1)
    critical_z: float = Field(default=1.645, gt=0)


class _CalibrationModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    min_responses: int = Field(default=200, ge=1)


class _AnalysisModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    flags: dict[str, Any] = Field(default_factory=dict)
    dif: _DifModel = Field(default_factory=_DifModel)
    calibration: _CalibrationModel = Field(default_factory=_CalibrationModel)


@dataclass(frozen=True)
class AnalysisFile:
    """The file as read: the flag thresholds still as a mapping (the statistics check them),
    the DIF and calibration settings checked here."""

    flags: dict[str, Any]
    dif: dict[str, Any]
    min_calibration_responses: int
    source: str


def read_analysis_file(folder: Path) -> AnalysisFile:
    path = folder / ANALYSIS_FILE
    name = display_path(path)
    if not path.exists():
        raise DataError([Problem(reason="the analysis settings file is missing", file=name)])
    data = read_yaml(path)
    model, problems = check_shape(_AnalysisModel, data if data is not None else {}, name)
    if model is None:
        raise DataError(problems)
    return AnalysisFile(dict(model.flags), model.dif.model_dump(), model.calibration.min_responses, name)

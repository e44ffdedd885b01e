"""Checking the shape of a data file against a pydantic model, with file and line."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from testengine.domain.problems import Problem
from testengine.storage.yaml_documents import line_of

M = TypeVar("M", bound=BaseModel)


def check_shape(
    model: type[M], data: Any, file: str, item_id: str | None = None
) -> tuple[M | None, list[Problem]]:
    """The validated model, or None and one problem per field that is wrong."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            location = error["loc"]
            field = ".".join(str(part) for part in location) or "(file)"
            reason = f"{field}: {_message(error)}"
            problems.append(Problem(reason=reason, file=file, line=line_of(data, location), item_id=item_id))
        return None, problems


def _message(error: Any) -> str:
    message = str(error["msg"])
    if error["type"] == "extra_forbidden":
        return "is not a field here (misspelt?)"
    if error["type"] == "string_type" and isinstance(error.get("input"), (int, float)):
        return f"{message}: quote it, e.g. \"{error['input']}\""
    return message

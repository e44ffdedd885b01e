"""The session's incident log (C7): timestamped entries for the room or one candidate, never
edited, only added to."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Category(StrEnum):
    """The categories of JCQ's incident log, as conduct rule C7 lists them."""

    LATE_ARRIVAL = "late arrival"
    VERY_LATE_ARRIVAL = "very late arrival"
    SUSPECTED_MALPRACTICE = "suspected malpractice"
    EMERGENCY_EVACUATION = "emergency evacuation"
    ILLNESS = "illness"
    LEAVING_RETURNING = "leaving or returning"
    DISTURBANCE = "disturbance"
    UNAUTHORISED_ENTRY = "unauthorised entry"
    TECHNICAL_FAILURE = "technical failure"
    ACCESS_ARRANGEMENT = "access arrangement used"


DESCRIPTION_LIMIT = 2000


@dataclass(frozen=True)
class Incident:
    at: datetime
    category: Category
    description: str
    action: str
    recorded_by: str
    candidate_number: str | None = None  # None: the whole room
    data: dict[str, Any] = field(default_factory=dict)


def incident_problems(category: str, description: str, action: str) -> list[str]:
    """What is wrong with an entry before it goes in the log; empty when it may."""
    problems = []
    if category not in {c.value for c in Category}:
        problems.append(f"category {category!r}: choose one of {', '.join(c.value for c in Category)}")
    if not description.strip():
        problems.append("describe what happened")
    if not action.strip():
        problems.append("say what action was taken")
    for name, text in (("description", description), ("action taken", action)):
        if len(text) > DESCRIPTION_LIMIT:
            problems.append(f"{name}: at most {DESCRIPTION_LIMIT} characters ({len(text)} given)")
    return problems

"""The one error type for bad data: every problem names where it is and what is wrong."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    """Where a thing was read from, so that a problem can point at it."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the data: where (file, line, item id) and why."""

    reason: str
    file: str | None = None
    line: int | None = None
    item_id: str | None = None

    @classmethod
    def at(cls, source: Source | None, reason: str, item_id: str | None = None) -> Problem:
        if source is None:
            return cls(reason=reason, item_id=item_id)
        return cls(reason=reason, file=source.file, line=source.line, item_id=item_id)

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [p for p in (where, self.item_id) if p]
        prefix = ": ".join(parts)
        return f"{prefix}: {self.reason}" if prefix else self.reason

    def as_dict(self) -> dict[str, str | int | None]:
        return {"file": self.file, "line": self.line, "item_id": self.item_id, "reason": self.reason}


class DataError(Exception):
    """Raised with every problem found, never only the first."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

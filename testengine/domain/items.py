"""Items: the questions, their keys, their scoring rules and their writers' estimates."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from testengine.domain.problems import Problem, Source
from testengine.domain.text import control_character_problem


class ItemType(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    ORDERING = "ordering"
    MATCHING = "matching"


class ItemStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    LIVE = "live"
    RETIRED = "retired"


class CognitiveLevel(StrEnum):
    """What the item asks of the candidate (item-writing guidance: a third of marks beyond recall)."""

    RECALL = "recall"
    UNDERSTANDING = "understanding"
    APPLICATION = "application"


class ScoringRule(StrEnum):
    ALL_OR_NOTHING = "all_or_nothing"
    PARTIAL = "partial"


@dataclass(frozen=True)
class Choice:
    """An option, a step or a matching description (or, in `premises`, a term to match)."""

    id: str
    text: str


# The key in one shape for every type:
# single   -> (option,)
# multiple -> the keyed options, sorted
# ordering -> every option, in the right order
# matching -> the keyed option for each premise, in premise order
Key = tuple[str, ...]

OPTION_COUNTS: dict[ItemType, tuple[int, int]] = {
    ItemType.SINGLE: (3, 5),
    ItemType.MULTIPLE: (4, 8),
    ItemType.ORDERING: (4, 8),
    ItemType.MATCHING: (2, 8),
}
PREMISE_COUNT = (2, 6)
MARKS_RANGE = (1, 4)
SECONDS_RANGE = (15, 600)
ESTIMATE_RANGE = (0.05, 0.99)

_Reporter = Callable[[str], None]

_ID = re.compile(r"^U[0-9]+-[0-9]{4}$")
_CHOICE_ID = re.compile(r"^[a-z][a-z0-9]{0,3}$")


@dataclass(frozen=True)
class Item:
    id: str
    version: int
    unit: int
    learning_outcome: int
    criterion: str
    amplification: str
    type: ItemType
    stem: str
    options: tuple[Choice, ...]
    key: Key
    marks: int
    scoring: ScoringRule
    expected_seconds: int
    facility: float
    angoff: float
    status: ItemStatus
    rationale: str
    author: str
    premises: tuple[Choice, ...] = ()
    enemies: frozenset[str] = frozenset()
    item_set: str | None = None
    fixed_option_order: bool = False
    cognitive_level: CognitiveLevel | None = None
    source: Source | None = field(default=None, compare=False)

    @property
    def ref(self) -> tuple[str, int]:
        return (self.id, self.version)

    @property
    def option_ids(self) -> tuple[str, ...]:
        return tuple(o.id for o in self.options)

    @property
    def premise_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.premises)

    @property
    def parts(self) -> int:
        """How many separately right-or-wrong parts partial credit counts."""
        return len(self.key)

    @property
    def select_count(self) -> int:
        """How many options a multiple-response candidate must select."""
        return len(self.key) if self.type is ItemType.MULTIPLE else 1

    def option_text(self, option_id: str) -> str:
        return next(o.text for o in self.options if o.id == option_id)


@dataclass(frozen=True)
class ItemSet:
    """A shared scenario shown with each of its items; assembled whole or not at all."""

    id: str
    title: str
    scenario: str
    unit: int
    source: Source | None = field(default=None, compare=False)


def item_problems(item: Item) -> list[Problem]:
    """Rules an item must keep on its own, whatever bank it sits in."""
    problems: list[Problem] = []

    def problem(reason: str) -> None:
        problems.append(Problem.at(item.source, reason, item.id))

    if not _ID.match(item.id):
        problem(f"id {item.id!r} is not of the form U<unit>-<4 digits>, e.g. U2-0001")
    elif not item.id.startswith(f"U{item.unit}-"):
        problem(f"id {item.id!r} does not start with U{item.unit}- for unit {item.unit}")
    if item.version < 1:
        problem(f"version must be 1 or more, not {item.version}")
    if not item.stem.strip():
        problem("stem is empty")
    if not item.rationale.strip():
        problem("rationale is empty: say why the key is right, citing the amplification")
    if not item.author.strip():
        problem("author is empty")
    texts = [("stem", item.stem), ("rationale", item.rationale), ("author", item.author)]
    texts += [(f"option {c.id!r}", c.text) for c in item.options] + [(f"premise {c.id!r}", c.text) for c in item.premises]
    for reason in filter(None, (control_character_problem(name, text) for name, text in texts)):
        problem(reason)
    _check_range(problem, "marks", item.marks, MARKS_RANGE)
    _check_range(problem, "expected_seconds", item.expected_seconds, SECONDS_RANGE)
    _check_range(problem, "facility", item.facility, ESTIMATE_RANGE)
    _check_range(problem, "angoff", item.angoff, ESTIMATE_RANGE)
    if item.angoff > item.facility:
        problem(
            f"angoff {item.angoff} exceeds facility {item.facility}: a minimally competent "
            "candidate is not expected to do better than the typical one"
        )
    if item.id in item.enemies:
        problem("lists itself as an enemy")
    _check_choices(problem, "option", item.options)
    _check_choices(problem, "premise", item.premises)
    low, high = OPTION_COUNTS[item.type]
    if not low <= len(item.options) <= high:
        problem(f"{item.type} items need {low}-{high} options, this one has {len(item.options)}")
    if item.type is ItemType.MATCHING:
        _check_matching(problem, item)
    elif item.premises:
        problem(f"only matching items have premises, not {item.type} items")
    else:
        _check_key(problem, item)
    if item.scoring is ScoringRule.PARTIAL:
        if item.type is ItemType.SINGLE:
            problem("partial credit is for multiple, ordering and matching items, not single response")
        elif item.marks > item.parts:
            problem(f"partial credit: {item.marks} marks but only {item.parts} parts to award them for")
    return problems


def _check_range(problem: _Reporter, name: str, value: float, bounds: tuple[float, float]) -> None:
    low, high = bounds
    if not low <= value <= high:
        problem(f"{name} {value} is outside {low}-{high}")


def _check_choices(problem: _Reporter, kind: str, choices: tuple[Choice, ...]) -> None:
    seen: set[str] = set()
    for choice in choices:
        if not _CHOICE_ID.match(choice.id):
            problem(f"{kind} id {choice.id!r} must be a short lower-case slug such as 'a' or 'p1'")
        if choice.id in seen:
            problem(f"{kind} id {choice.id!r} is used twice")
        seen.add(choice.id)
        if not choice.text.strip():
            problem(f"{kind} {choice.id!r} has no text")
    texts = [c.text.strip().casefold() for c in choices]
    if len(set(texts)) != len(texts):
        problem(f"two {kind}s have the same text")


def _check_key(problem: _Reporter, item: Item) -> None:
    options = set(item.option_ids)
    unknown = [k for k in item.key if k not in options]
    if unknown:
        problem(f"key {', '.join(unknown)} is not among the options ({', '.join(item.option_ids)})")
        return
    if len(set(item.key)) != len(item.key):
        problem("key names an option twice")
    if item.type is ItemType.SINGLE and len(item.key) != 1:
        problem(f"single-response items have exactly one key, this one has {len(item.key)}")
    if item.type is ItemType.MULTIPLE and not 2 <= len(item.key) < len(item.options):
        problem(
            f"multiple-response items key at least 2 options and fewer than all "
            f"({len(item.key)} of {len(item.options)} keyed)"
        )
    if item.type is ItemType.ORDERING and sorted(item.key) != sorted(item.option_ids):
        problem("an ordering key must list every option exactly once")


def _check_matching(problem: _Reporter, item: Item) -> None:
    low, high = PREMISE_COUNT
    if not low <= len(item.premises) <= high:
        problem(f"matching items need {low}-{high} premises, this one has {len(item.premises)}")
    if len(item.options) < len(item.premises):
        problem(f"matching items need at least as many options as premises ({len(item.premises)})")
    if len(item.key) != len(item.premises):
        problem("a matching key must give one option for every premise")
        return
    missing = [p for p, k in zip(item.premise_ids, item.key) if not k]
    if missing:
        problem(f"key gives no option for premise {', '.join(missing)}")
        return
    options = set(item.option_ids)
    unknown = [k for k in item.key if k not in options]
    if unknown:
        problem(f"key {', '.join(unknown)} is not among the options ({', '.join(item.option_ids)})")
    if len(set(item.key)) != len(item.key):
        problem("a matching key uses an option for two premises")

"""Item-writing rules (Haladyna, Downing and Rodriguez 2002; awarding-body practice) as checks.

Each check returns findings: an error fails the bank, a warning is listed for the writer to
review. Thresholds come from a LintPolicy (item_banks/lint.yaml), not from here. Checks that
need a text library (readability, near-duplicate stems) live in psychometrics.item_text.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

from testengine.domain.banks import Bank
from testengine.domain.items import CognitiveLevel, Item, ItemStatus, ItemType
from testengine.domain.problems import Source


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    severity: Severity
    rule: str
    message: str
    item_id: str | None = None
    source: Source | None = field(default=None, compare=False)

    def __str__(self) -> str:
        where = [str(self.source)] if self.source else []
        where += [self.item_id] if self.item_id else []
        prefix = ": ".join(where)
        return f"{self.severity}: {prefix + ': ' if prefix else ''}{self.message} [{self.rule}]"


@dataclass(frozen=True)
class LintPolicy:
    key_position_share: tuple[float, float] = (0.15, 0.35)
    key_longest_max_share: float = 0.35
    option_length_max_ratio: float = 2.5
    near_duplicate_threshold: float = 85.0
    item_max_grade: float = 14.0
    unit_mean_grade: tuple[float, float] = (6.0, 11.0)
    beyond_recall_min_share: float = 1 / 3
    scenario_words: tuple[int, int] = (60, 150)
    absolute_words: frozenset[str] = frozenset({"always", "never", "only", "all", "none", "every"})


# "All/none of the above", "all of these", "both A and B": options that lean on other options.
_ABOVE = re.compile(r"\b(all|none|both) of (the|these)( above| options| answers)?\s*$|\b(all|none|both) of the above\b|\bboth [a-e] and [a-e]\b", re.I)
_NEGATIVE = re.compile(r"(?<!but )\b(not|except)\b")
_NUMBER_WORDS = {2: "TWO", 3: "THREE", 4: "FOUR", 5: "FIVE"}
_DANGLING = {"a", "an", "the", "of", "to", "is", "are", "and", "or", "for", "with", "by"}
_WORD = re.compile(r"[a-z][a-z'-]+")
# Words too common to cue anything when they repeat between stem and key.
_COMMON = frozenset(
    """about after also among because before being between business businesses could customer customers
    different does each from have into itself more most must organisation organisations other over should
    some such than that their them then there these they this those through under what when where which
    while will with would your service services product products""".split()
)


def item_findings(item: Item, policy: LintPolicy, point_title: str | None = None) -> list[Finding]:
    """Rules one item must keep whatever bank it is in; `point_title` is its amplification point's."""
    findings: list[Finding] = []

    def found(severity: Severity, rule: str, message: str) -> None:
        findings.append(Finding(severity, rule, message, item.id, item.source))

    stem = item.stem.strip()
    for choice in item.options:
        if _ABOVE.search(choice.text):
            found(Severity.ERROR, "no-all-none-of-the-above", f"option {choice.id} says {choice.text!r}")
    if not stem.endswith(("?", ".")) or stem.endswith("..."):
        found(Severity.ERROR, "complete-stem", "the stem must be a complete question or instruction, ending with ? or .")
    elif stem.endswith("."):
        # An instruction, or a sentence for the options to finish ("The main aim is to.").
        last = _WORD.findall(stem.lower())[-1:] or [""]
        if last[0] in _DANGLING:
            found(Severity.ERROR, "complete-stem", f"the stem ends on {last[0]!r}: finish the question so the options need not")
    question = re.split(r"(?<=[.?!])\s+", stem)[-1]
    negative = _NEGATIVE.search(question)
    if negative:
        found(Severity.ERROR, "negative-stem", f"negative stem: write {negative.group(1).upper()} in capitals")
    if item.type is ItemType.MULTIPLE:
        count = _NUMBER_WORDS.get(len(item.key), str(len(item.key)))
        if count not in stem:
            found(Severity.ERROR, "say-how-many", f"a multiple-response stem says how many to select ({count})")
    if item.type is ItemType.SINGLE:
        lengths = [len(o.text) for o in item.options]
        if min(lengths) and max(lengths) / min(lengths) > policy.option_length_max_ratio:
            found(
                Severity.WARNING,
                "similar-option-length",
                f"the longest option is {max(lengths) / min(lengths):.1f} times the shortest "
                f"(more than {policy.option_length_max_ratio})",
            )
        findings.extend(_cue_findings(item, policy))
    if item.type is ItemType.MATCHING and len(item.options) == len(item.premises):
        found(Severity.WARNING, "matching-spare-option", "one more description than terms keeps the last match from being free")
    if not _cites_point(item, point_title):
        found(Severity.ERROR, "rationale-cites-point", f"the rationale does not name the amplification point {item.amplification!r}")
    if item.cognitive_level is None:
        found(Severity.WARNING, "cognitive-level", "no cognitive_level (recall, understanding or application)")
    return findings


def _cue_findings(item: Item, policy: LintPolicy) -> list[Finding]:
    findings = []
    key_words = set(_WORD.findall(item.option_text(item.key[0]).lower()))
    distractor_words = set()
    distractors = [o for o in item.options if o.id != item.key[0]]
    for option in distractors:
        distractor_words |= set(_WORD.findall(option.text.lower()))
    stem_words = {w for w in _WORD.findall(item.stem.lower()) if len(w) > 3 and w not in _COMMON}
    in_key = {_stem(w) for w in key_words}
    elsewhere = {_stem(w) for w in distractor_words}
    cues = sorted(w for w in stem_words if _stem(w) in in_key and _stem(w) not in elsewhere)
    if cues:
        findings.append(
            Finding(
                Severity.WARNING,
                "word-repeat-cue",
                f"the key repeats {', '.join(repr(c) for c in cues)} from the stem and no distractor does",
                item.id,
                item.source,
            )
        )
    absolutes = sorted({w for o in distractors for w in _WORD.findall(o.text.lower())} & policy.absolute_words - key_words)
    if absolutes:
        findings.append(
            Finding(
                Severity.WARNING,
                "absolute-words",
                f"only distractors use {', '.join(repr(a) for a in absolutes)}, which marks them as wrong",
                item.id,
                item.source,
            )
        )
    return findings


def _stem(word: str) -> str:
    """Crude stemming, enough to see 'complaint' in "complaints" and "customer's"."""
    return re.sub(r"(ies|es|s|ing|ed)$", "", word.removesuffix("'s").rstrip("'"))


def _normalised(text: str) -> str:
    return " ".join(_WORD.findall(text.lower().replace("’", "'")))


def _cites_point(item: Item, title: str | None) -> bool:
    rationale = _normalised(item.rationale)
    if title is not None and _normalised(title) in rationale:
        return True
    # Or every word of the point's id ("consumer-rights-act-2015" -> consumer rights act 2015).
    words = [w for w in item.amplification.split("-") if not w.isdigit()]
    return bool(words) and all(w in rationale.split() or w in rationale for w in words)


def bank_findings(bank: Bank, policy: LintPolicy) -> list[Finding]:
    """Every per-item finding, and the rules that hold across a unit's live items."""
    findings = [f for item in bank.items for f in item_findings(item, policy, _title(bank, item))]
    live = [i for i in bank.items if i.status is ItemStatus.LIVE]
    label = bank.unit.label
    singles = [i for i in live if i.type is ItemType.SINGLE]
    if singles:
        positions = Counter(i.option_ids.index(i.key[0]) + 1 for i in singles)
        low, high = policy.key_position_share
        for position in range(1, 5):
            share = positions.get(position, 0) / len(singles)
            if not low <= share <= high:
                findings.append(
                    Finding(
                        Severity.ERROR,
                        "key-position-balance",
                        f"{label}: option {position} is the key of {share:.0%} of single-response items "
                        f"(allowed {low:.0%}-{high:.0%})",
                    )
                )
        longest = [i for i in singles if _key_is_longest(i)]
        share = len(longest) / len(singles)
        if share > policy.key_longest_max_share:
            findings.append(
                Finding(
                    Severity.ERROR,
                    "key-not-longest",
                    f"{label}: the key is the longest option in {share:.0%} of single-response items "
                    f"(at most {policy.key_longest_max_share:.0%})",
                )
            )
    levelled = [i for i in live if i.cognitive_level is not None]
    marks = sum(i.marks for i in levelled)
    if levelled and len(levelled) == len(live):
        beyond = sum(i.marks for i in levelled if i.cognitive_level is not CognitiveLevel.RECALL) / marks
        if beyond < policy.beyond_recall_min_share:
            findings.append(
                Finding(
                    Severity.ERROR,
                    "beyond-recall",
                    f"{label}: {beyond:.0%} of live marks test understanding or application "
                    f"(at least {policy.beyond_recall_min_share:.0%})",
                )
            )
    words_low, words_high = policy.scenario_words
    for item_set in bank.item_sets:
        words = len(item_set.scenario.split())
        if not words_low <= words <= words_high:
            findings.append(
                Finding(Severity.WARNING, "scenario-length", f"item set {item_set.id}: scenario of {words} words "
                        f"(aim for {words_low}-{words_high})", None, item_set.source)
            )
    for item in bank.items:
        for enemy_id in sorted(item.enemies):
            enemy = bank.item(enemy_id)
            if enemy is not None and item.id not in enemy.enemies:
                findings.append(
                    Finding(Severity.WARNING, "symmetric-enemies", f"lists {enemy_id} as an enemy, but not the other way round", item.id, item.source)
                )
    return findings


def _title(bank: Bank, item: Item) -> str | None:
    criterion = bank.unit.criterion(item.criterion)
    point = criterion.point(item.amplification) if criterion else None
    return point.title if point else None


def _key_is_longest(item: Item) -> bool:
    key = len(item.option_text(item.key[0]))
    return all(key > len(o.text) for o in item.options if o.id != item.key[0])

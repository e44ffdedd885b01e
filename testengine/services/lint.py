"""Item-quality checks on a unit's bank: the writing rules, readability and near-duplicates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import Any

from testengine.domain.banks import Bank
from testengine.domain.item_writing import Finding, LintPolicy, Severity, bank_findings
from testengine.psychometrics.item_text import reading_grade, similar_stems
from testengine.storage.lint_policy_file import read_lint_policy


@dataclass(frozen=True)
class LintReport:
    unit: int
    findings: tuple[Finding, ...]
    mean_reading_grade: float

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    def as_json(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "mean_reading_grade": self.mean_reading_grade,
            "findings": [
                {
                    "severity": f.severity.value,
                    "rule": f.rule,
                    "item_id": f.item_id,
                    "file": f.source.file if f.source else None,
                    "line": f.source.line if f.source else None,
                    "message": f.message,
                }
                for f in self.findings
            ],
        }


def lint_policy(item_banks: Path) -> LintPolicy:
    """The thresholds in item_banks/lint.yaml."""
    return read_lint_policy(item_banks)


def lint_bank(bank: Bank, policy: LintPolicy) -> LintReport:
    findings = bank_findings(bank, policy)
    grades = {item.id: reading_grade(item) for item in bank.items}
    for item in bank.items:
        if grades[item.id] > policy.item_max_grade:
            findings.append(
                Finding(
                    Severity.WARNING,
                    "readability",
                    f"Flesch-Kincaid grade {grades[item.id]:.1f} (at most {policy.item_max_grade:g} for Level 3 learners)",
                    item.id,
                    item.source,
                )
            )
    unit_grade = round(mean(grades.values()), 2) if grades else 0.0
    low, high = policy.unit_mean_grade
    if grades and not low <= unit_grade <= high:
        findings.append(
            Finding(
                Severity.ERROR,
                "readability",
                f"{bank.unit.label}: mean Flesch-Kincaid grade {unit_grade:.1f} is outside {low:g}-{high:g}",
            )
        )
    for first, second, score in similar_stems(bank.items, policy.near_duplicate_threshold):
        if second.id not in first.enemies and first.id not in second.enemies:
            findings.append(
                Finding(
                    Severity.ERROR,
                    "near-duplicate",
                    f"stem is {score:.0f}% similar to {second.id}'s: declare them enemies or rewrite one",
                    first.id,
                    first.source,
                )
            )
    order = {Severity.ERROR: 0, Severity.WARNING: 1}
    findings.sort(key=lambda f: (order[f.severity], f.rule, f.item_id or ""))
    return LintReport(bank.unit.number, tuple(findings), unit_grade)

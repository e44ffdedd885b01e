"""The centre's conduct policy (invigilation/policy.yaml) and the rules that use it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from testengine.domain.centres import Arrangements


@dataclass(frozen=True)
class ConductPolicy:
    # Alerts to the candidate at these minutes remaining (C2); an empty tuple switches them off.
    warning_minutes: tuple[int, ...] = (15, 5)
    # Answers in flight when the deadline passes are accepted for this long, then refused.
    answer_grace_seconds: int = 5
    # Resits (G3): an enforced break after "Not yet passed", in days; 0 for none.
    resit_break_days: int = 0
    refuse_after_pass: bool = True
    # Extra time (E1): up to the standard without a reference; above it, a reference is needed.
    standard_extra_time_percent: int = 25
    maximum_extra_time_percent: int = 50
    extra_time_reference_above: int = 25
    candidates_per_invigilator: int = 20
    # The console warns when a running candidate's browser has not been heard from for this long.
    connection_lost_seconds: int = 45
    # Registers, seating plans and incident logs are kept this long (G7).
    retention_days: int = 365


@dataclass(frozen=True)
class PastOutcome:
    """An earlier booking of the same unit: its session date and its outcome (None: no outcome yet)."""

    session_date: date
    outcome: str | None  # "Pass", "Not yet passed", "absent", "void" or None


class BookingRefused(ValueError):
    def __init__(self, reason: str, possible_from: date | None = None) -> None:
        self.reason = reason
        self.possible_from = possible_from
        super().__init__(reason if possible_from is None else f"{reason}; a booking is possible from {possible_from.isoformat()}")


def check_booking(policy: ConductPolicy, unit_label: str, session_date: date, history: list[PastOutcome]) -> None:
    """Raise BookingRefused when the unit may not be booked on `session_date` (A2, G3)."""
    for past in history:
        if past.outcome is None:
            raise BookingRefused(f"the candidate already has a booking for {unit_label} on {past.session_date.isoformat()} with no outcome yet")
        if past.outcome == "Pass" and policy.refuse_after_pass:
            raise BookingRefused(f"the candidate has already passed {unit_label}")
    failed = [p.session_date for p in history if p.outcome == "Not yet passed"]
    if failed and policy.resit_break_days:
        possible = max(failed) + timedelta(days=policy.resit_break_days)
        if session_date < possible:
            raise BookingRefused(
                f"{unit_label} was not yet passed on {max(failed).isoformat()}: the resit policy needs a break of "
                f"{policy.resit_break_days} days",
                possible,
            )


def arrangement_problems(policy: ConductPolicy, arrangements: Arrangements) -> list[str]:
    problems = []
    extra = arrangements.extra_time_percent
    if not 0 <= extra <= policy.maximum_extra_time_percent:
        problems.append(f"extra time must be between 0% and {policy.maximum_extra_time_percent}%")
    elif extra > policy.extra_time_reference_above and not arrangements.extra_time_reference.strip():
        problems.append(
            f"extra time above {policy.extra_time_reference_above}% is exceptional: give the approval reference"
        )
    return problems


def is_very_late(published_start: datetime, duration_minutes: int, arrived: datetime) -> bool:
    """B9 (JCQ ICE): for a test under an hour, arriving after the published finish time (the
    session's start plus the test's base time) is "very late" and needs a report."""
    return duration_minutes < 60 and arrived > published_start + timedelta(minutes=duration_minutes)


def over_ratio(policy: ConductPolicy, candidates: int, invigilators: int) -> bool:
    """More candidates per invigilator than the policy allows (1 to 20 for onscreen tests)."""
    return candidates > policy.candidates_per_invigilator * max(invigilators, 0)

"""A sitting as an append-only log of events, and the state and clock they add up to.

Nothing about a sitting is stored except its events: the state (where the candidate is, the
deadline, the time left) is always replayed from them, so every pause, break and extension
is on the record with who, when and why (conduct rules B7, B8, C5, D1-D3, E1-E3, G9).

    deadline = start + base x (1 + extra %) + added time + time paused or on a break

While paused or on a break the deadline moves with the clock, so the time remaining stands
still; on resume each candidate has exactly the time they had left.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    BOOKED = "booked"
    LOGGED_IN = "logged_in"  # keycode accepted, details shown for confirmation
    READY = "ready"  # confirmed and declared: reading instructions or waiting to be unlocked
    IN_PROGRESS = "in_progress"
    PAUSED = "paused"
    ON_BREAK = "on_break"
    SUBMITTED = "submitted"
    ABSENT = "absent"
    VOIDED = "voided"
    ABANDONED = "abandoned"


RUNNING = frozenset({Status.IN_PROGRESS, Status.PAUSED, Status.ON_BREAK})
BEFORE_START = frozenset({Status.BOOKED, Status.LOGGED_IN, Status.READY})
FINAL = frozenset({Status.SUBMITTED, Status.ABSENT, Status.VOIDED, Status.ABANDONED})


class Kind(StrEnum):
    LOGGED_IN = "logged_in"
    CANCELLED = "cancelled"  # the candidate said the details were wrong (B2)
    CONFIRMED = "confirmed"
    DECLARED = "declared"
    UNLOCKED = "unlocked"
    STARTED = "started"
    PAUSED = "paused"
    RESUMED = "resumed"
    BREAK_STARTED = "break_started"
    BREAK_ENDED = "break_ended"
    TIME_ADDED = "time_added"
    SUBMITTED = "submitted"
    MARKED_ABSENT = "marked_absent"
    VOIDED = "voided"
    ABANDONED = "abandoned"
    RELOGIN_APPROVED = "relogin_approved"
    RELOGGED_IN = "relogged_in"
    LOGIN_BLOCKED = "login_blocked"
    FOCUS_LOST = "focus_lost"
    FOCUS_RETURNED = "focus_returned"
    BREAK_REQUESTED = "break_requested"
    MARKED_PRESENT = "marked_present"  # under supervision in the room (B3); late, with the time and reason (B9)
    LEFT_ROOM = "left_room"  # accompanied or not (C8)
    RETURNED = "returned"
    WARNED = "warned"  # a disruptive candidate is warned first (C10)
    REMOVED = "removed"  # then removed: the sitting ends, the record is kept
    ENDED = "ended"  # ended by the invigilator, e.g. after leaving unaccompanied (C8)


class SittingRuleError(ValueError):
    """An action the exam rules do not allow in the sitting's present state."""


@dataclass(frozen=True)
class Event:
    kind: Kind
    at: datetime
    actor: str
    reason: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Sitting:
    status: Status = Status.BOOKED
    confirmed: bool = False
    unlocked: bool = False
    started_at: datetime | None = None
    submitted_at: datetime | None = None
    base_seconds: int = 0
    extra_percent: int = 0
    added_seconds: int = 0
    paused_seconds: float = 0.0
    stopped_since: datetime | None = None  # paused or on a break since
    relogin_approved: bool = False
    focus_losses: int = 0
    break_requested: bool = False
    submitted_by: str | None = None
    present: bool = False
    arrived_at: datetime | None = None  # when a late candidate came under supervision (B9)
    late: bool = False
    very_late: bool = False
    out_of_room: bool = False
    left_unaccompanied: bool = False
    warnings: int = 0
    removed: bool = False

    @property
    def allowed(self) -> timedelta:
        """Working time: base x (1 + extra %) plus time added (B8, E1)."""
        return timedelta(seconds=self.base_seconds * (100 + self.extra_percent) / 100 + self.added_seconds)

    def deadline(self, now: datetime) -> datetime | None:
        if self.started_at is None:
            return None
        stopped = self.paused_seconds
        if self.stopped_since is not None:
            stopped += (now - self.stopped_since).total_seconds()
        return self.started_at + self.allowed + timedelta(seconds=stopped)

    def remaining(self, now: datetime) -> timedelta:
        """Time left; before the start, the whole allowance; after the end, none."""
        if self.started_at is None:
            return self.allowed
        if self.status in FINAL:
            return timedelta(0)
        deadline = self.deadline(now)
        assert deadline is not None
        return max(deadline - now, timedelta(0))

    def is_overdue(self, now: datetime) -> bool:
        """Running, not stopped, and past its deadline: the server must submit it (F2)."""
        deadline = self.deadline(now)
        return self.status is Status.IN_PROGRESS and deadline is not None and now >= deadline


def apply(sitting: Sitting, event: Event) -> Sitting:
    """The sitting after `event`, or SittingRuleError if the rules forbid it now."""
    status, kind = sitting.status, event.kind

    def need(allowed: Iterable[Status], what: str) -> None:
        if status not in allowed:
            raise SittingRuleError(f"cannot {what} a sitting that is {status.value.replace('_', ' ')}")

    if kind is Kind.LOGGED_IN:
        need({Status.BOOKED}, "log in to")
        return replace(sitting, status=Status.LOGGED_IN)
    if kind is Kind.CANCELLED:
        need({Status.LOGGED_IN}, "cancel the log-in of")
        return replace(sitting, status=Status.BOOKED, confirmed=False)
    if kind is Kind.CONFIRMED:
        need({Status.LOGGED_IN}, "confirm the details of")
        return replace(sitting, confirmed=True)
    if kind is Kind.DECLARED:
        need({Status.LOGGED_IN}, "make the declaration for")
        if not sitting.confirmed:
            raise SittingRuleError("the candidate confirms their details before the declaration")
        return replace(sitting, status=Status.READY)
    if kind is Kind.UNLOCKED:
        need(BEFORE_START, "unlock")
        return replace(sitting, unlocked=True)
    if kind is Kind.STARTED:
        need({Status.READY}, "start")
        if not sitting.unlocked:
            raise SittingRuleError("the test is locked until the invigilator unlocks it")
        return replace(
            sitting,
            status=Status.IN_PROGRESS,
            started_at=event.at,
            base_seconds=int(event.data["base_seconds"]),
            extra_percent=int(event.data.get("extra_percent", 0)),
        )
    if kind in (Kind.PAUSED, Kind.BREAK_STARTED):
        need({Status.IN_PROGRESS}, "pause" if kind is Kind.PAUSED else "start a rest break in")
        new = Status.PAUSED if kind is Kind.PAUSED else Status.ON_BREAK
        return replace(sitting, status=new, stopped_since=event.at, break_requested=False)
    if kind in (Kind.RESUMED, Kind.BREAK_ENDED):
        need({Status.PAUSED} if kind is Kind.RESUMED else {Status.ON_BREAK}, "resume" if kind is Kind.RESUMED else "end a rest break in")
        return _restarted(sitting, event.at)
    if kind is Kind.TIME_ADDED:
        need(BEFORE_START | RUNNING, "add time to")
        seconds = int(event.data["seconds"])
        if seconds <= 0:
            raise SittingRuleError("time added must be a positive number of seconds")
        return replace(sitting, added_seconds=sitting.added_seconds + seconds)
    if kind in (Kind.SUBMITTED, Kind.ENDED, Kind.REMOVED):
        need(RUNNING, {Kind.SUBMITTED: "submit", Kind.ENDED: "end", Kind.REMOVED: "remove the candidate from"}[kind])
        if kind is not Kind.SUBMITTED and not event.reason.strip():
            raise SittingRuleError("ending a candidate's sitting needs a reason")
        ended = _restarted(sitting, event.at) if sitting.stopped_since else sitting
        return replace(
            ended, status=Status.SUBMITTED, submitted_at=event.at, submitted_by=event.actor,
            removed=kind is Kind.REMOVED, out_of_room=kind is Kind.REMOVED or sitting.out_of_room,
        )
    if kind is Kind.MARKED_ABSENT:
        need({Status.BOOKED}, "mark absent")
        if sitting.present:
            raise SittingRuleError("the candidate is marked present")
        return replace(sitting, status=Status.ABSENT)
    if kind is Kind.MARKED_PRESENT:
        # A candidate marked absent who then arrives is put back on the register.
        need(BEFORE_START | RUNNING | {Status.ABSENT}, "mark present")
        late = bool(event.data.get("late"))
        if late and not event.reason.strip():
            raise SittingRuleError("a late arrival needs the reason recorded")
        return replace(
            sitting, status=Status.BOOKED if status is Status.ABSENT else status, present=True,
            arrived_at=event.at if late else sitting.arrived_at, late=late or sitting.late,
            very_late=bool(event.data.get("very_late")) or sitting.very_late,
        )
    if kind is Kind.LEFT_ROOM:
        need(RUNNING | BEFORE_START, "record leaving the room for")
        if sitting.out_of_room:
            raise SittingRuleError("the candidate is already out of the room")
        return replace(sitting, out_of_room=True, left_unaccompanied=not event.data.get("accompanied"))
    if kind is Kind.RETURNED:
        if not sitting.out_of_room:
            raise SittingRuleError("the candidate is not out of the room")
        if sitting.left_unaccompanied:
            raise SittingRuleError("a candidate who left unaccompanied may not return: end the sitting")
        return replace(sitting, out_of_room=False)
    if kind is Kind.WARNED:
        need(RUNNING | BEFORE_START, "warn")
        if not event.reason.strip():
            raise SittingRuleError("a warning needs the reason recorded")
        return replace(sitting, warnings=sitting.warnings + 1)
    if kind is Kind.VOIDED:
        need(set(Status) - {Status.VOIDED}, "void")
        if not event.reason.strip():
            raise SittingRuleError("voiding a sitting needs a reason")
        # A running sitting ends here: its clock stops for good, and it finished now.
        ended = _restarted(sitting, event.at) if sitting.stopped_since else sitting
        finished = sitting.submitted_at if sitting.submitted_at else (event.at if status in RUNNING else None)
        return replace(ended, status=Status.VOIDED, submitted_at=finished)
    if kind is Kind.ABANDONED:
        need(RUNNING, "abandon")
        ended = _restarted(sitting, event.at) if sitting.stopped_since else sitting
        return replace(ended, status=Status.ABANDONED, submitted_at=event.at)
    if kind is Kind.RELOGIN_APPROVED:
        need({Status.LOGGED_IN, Status.READY} | RUNNING, "approve a new log-in to")
        return replace(sitting, relogin_approved=True)
    if kind is Kind.RELOGGED_IN:
        if not sitting.relogin_approved:
            raise SittingRuleError("logging in again needs the invigilator's approval")
        return replace(sitting, relogin_approved=False)
    if kind is Kind.FOCUS_LOST:
        return replace(sitting, focus_losses=sitting.focus_losses + 1)
    if kind is Kind.BREAK_REQUESTED:
        need({Status.IN_PROGRESS}, "request a break in")
        return replace(sitting, break_requested=True)
    # Recorded for the invigilator and the audit trail; the state does not change.
    return sitting


def display_status(sitting: Sitting) -> str:
    """The candidate's state as the invigilator's console names it."""
    if sitting.status is Status.SUBMITTED:
        return "removed" if sitting.removed else "finished"
    if sitting.status is Status.READY:
        return "ready to start" if sitting.unlocked else "locked"
    return {Status.ON_BREAK: "on rest break"}.get(sitting.status, sitting.status.value.replace("_", " "))


def _restarted(sitting: Sitting, at: datetime) -> Sitting:
    assert sitting.stopped_since is not None
    stopped = (at - sitting.stopped_since).total_seconds()
    return replace(sitting, status=Status.IN_PROGRESS, paused_seconds=sitting.paused_seconds + stopped, stopped_since=None)


def replay(events: Iterable[Event]) -> Sitting:
    """The sitting that a log of events adds up to."""
    sitting = Sitting()
    for event in events:
        sitting = apply(sitting, event)
    return sitting

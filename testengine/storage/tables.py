"""The database schema. Only types that SQLite and PostgreSQL both accept.

A form freezes item *versions*; a sitting's answers and results refer to the form, so what a
candidate saw can always be shown and re-marked exactly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, ForeignKeyConstraint, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel


def _when(**kwargs: Any) -> Any:
    return Field(sa_column=Column(DateTime(timezone=True), **kwargs))


def _json(nullable: bool = False) -> Any:
    return Field(sa_column=Column(JSON, nullable=nullable))


class ItemVersionRecord(SQLModel, table=True):
    """Every item version ever put on a form, exactly as it was: what marking relies on."""

    __tablename__ = "item_versions"
    item_id: str = Field(primary_key=True, max_length=32)
    version: int = Field(primary_key=True)
    unit: int = Field(index=True)
    digest: str = Field(max_length=64)
    content: dict[str, Any] = _json()
    stored_at: datetime = _when(nullable=False)


class CentreRecord(SQLModel, table=True):
    __tablename__ = "centres"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    name: str = Field(max_length=200)
    # "immediate": candidates see Pass / Not yet passed and the outcome report at once.
    results_release: str = Field(default="immediate", max_length=16)
    created_at: datetime = _when(nullable=False)


class StaffRecord(SQLModel, table=True):
    """Centre staff (administrators, invigilators) and the awarding body's writers and analysts."""

    __tablename__ = "staff"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=200)
    role: str = Field(max_length=32)
    centre_id: int | None = Field(default=None, foreign_key="centres.id", index=True)
    password_hash: str = Field(max_length=255)
    # Raised at logout and when access is revoked: every cookie carrying an older one is dead.
    session_version: int = 1
    active: bool = True
    created_at: datetime = _when(nullable=False)
    # Optional second factor for administrators (RFC 6238 codes): the secret, set up once the
    # first code is confirmed, and the last 30-second step used, so that no code works twice.
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_enabled: bool = False
    totp_last_step: int | None = None


class LoginAttemptRecord(SQLModel, table=True):
    """Failed sign-ins and keycode attempts, for rate limiting across processes."""

    __tablename__ = "login_attempts"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, index=True)
    at: datetime = _when(nullable=False)


class CandidateRecord(SQLModel, table=True):
    __tablename__ = "candidates"
    id: int | None = Field(default=None, primary_key=True)
    candidate_number: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    centre_id: int | None = Field(default=None, foreign_key="centres.id", index=True)
    created_at: datetime = _when(nullable=False)
    gender: str | None = Field(default=None, max_length=16)  # domain.centres.GENDERS; None: not recorded


class ArrangementRecord(SQLModel, table=True):
    """Access arrangements agreed for a candidate before any sitting (A10, E1, E2, E6)."""

    __tablename__ = "access_arrangements"
    candidate_id: int = Field(foreign_key="candidates.id", primary_key=True)
    extra_time_percent: int = 0
    extra_time_reference: str = Field(default="", max_length=100)
    rest_breaks: bool = False
    separate_invigilation: bool = False
    reader: bool = False
    display_needs: str = Field(default="", max_length=400)
    updated_by: str = Field(max_length=64)
    updated_at: datetime = _when(nullable=False)


class ExamSessionRecord(SQLModel, table=True):
    """A session: a unit sat in a room at a date and time, under named invigilators."""

    __tablename__ = "exam_sessions"
    id: int | None = Field(default=None, primary_key=True)
    centre_id: int = Field(foreign_key="centres.id", index=True)
    unit: int
    date: str = Field(max_length=10)  # ISO date, local to the centre
    start_time: str = Field(max_length=5)  # HH:MM
    room: str = Field(max_length=100)
    capacity: int
    practice: bool = False
    pin: str | None = Field(default=None, max_length=16)  # shown to invigilators only (A5)
    signed_off_at: datetime | None = _when(nullable=True)
    signed_off_by: str | None = Field(default=None, max_length=64)
    sign_off_note: str = Field(default="", max_length=2000)
    created_at: datetime = _when(nullable=False)


class SessionInvigilatorRecord(SQLModel, table=True):
    __tablename__ = "session_invigilators"
    session_id: int = Field(foreign_key="exam_sessions.id", primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", primary_key=True)


class BookingRecord(SQLModel, table=True):
    """A candidate booked on a session (A1): no booking, no test. The keycode opens it (A4)."""

    __tablename__ = "bookings"
    __table_args__ = (UniqueConstraint("session_id", "candidate_id"),)
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="exam_sessions.id", index=True)
    candidate_id: int = Field(foreign_key="candidates.id", index=True)
    keycode: str = Field(max_length=16, unique=True)
    seat: str = Field(default="", max_length=32)
    created_at: datetime = _when(nullable=False)


class AuditRecord(SQLModel, table=True):
    """The append-only audit trail of changes outside sittings: who, when, what, why, from where."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _when(nullable=False)
    actor: str = Field(max_length=64)
    centre_id: int | None = Field(default=None, foreign_key="centres.id", index=True)
    action: str = Field(max_length=64)
    subject: str = Field(max_length=100)
    details: dict[str, Any] = _json()
    client: str = Field(default="", max_length=64)


class FormRecord(SQLModel, table=True):
    __tablename__ = "forms"
    id: int | None = Field(default=None, primary_key=True)
    unit: int = Field(index=True)
    seed: int
    blueprint_digest: str = Field(max_length=64)
    duration_minutes: int
    total_marks: int
    cut_score: int
    # The pass rule in force when the form was built (method, rounding, hurdles): marking
    # applies the rule the form was made under, even if the blueprint changes later.
    pass_rule: dict[str, Any] = _json()
    expected_facility: float
    expected_seconds: int
    exposure_relaxed: list[str] = _json()
    candidate_id: int | None = Field(default=None, foreign_key="candidates.id", index=True)
    created_at: datetime = _when(nullable=False)


class FormItemRecord(SQLModel, table=True):
    __tablename__ = "form_items"
    __table_args__ = (
        ForeignKeyConstraint(["item_id", "version"], ["item_versions.item_id", "item_versions.version"]),
    )
    form_id: int = Field(foreign_key="forms.id", primary_key=True)
    position: int = Field(primary_key=True)
    item_id: str = Field(max_length=32, index=True)
    version: int
    learning_outcome: int
    criterion: str = Field(max_length=8)
    amplification: str = Field(max_length=100)
    type: str = Field(max_length=16)
    marks: int
    item_set: str | None = Field(default=None, max_length=32)
    option_order: list[str] = _json()
    premise_order: list[str] = _json()


class SittingRecord(SQLModel, table=True):
    """One candidate's attempt. Its state is replayed from sitting_events; `status` and the
    times here are a copy kept for queries, written with each event."""

    __tablename__ = "sittings"
    # ix_sittings_unit_form: a Start reads the unit's most recent forms for exposure control.
    __table_args__ = (UniqueConstraint("form_id"), UniqueConstraint("booking_id"), Index("ix_sittings_unit_form", "unit", "form_id"))
    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidates.id", index=True)
    booking_id: int | None = Field(default=None, foreign_key="bookings.id")
    # Assembled when the candidate presses Start, excluding what they have seen before.
    form_id: int | None = Field(default=None, foreign_key="forms.id")
    unit: int = Field(index=True)
    status: str = Field(max_length=16, index=True)
    deadline: datetime | None = _when(nullable=True)
    # The browser that holds the sitting: a second one is refused (B4) until staff approve (D8).
    device: str | None = Field(default=None, max_length=64)
    practice: bool = False
    simulated: bool = False
    started_at: datetime | None = _when(nullable=True)
    submitted_at: datetime | None = _when(nullable=True)
    created_at: datetime = _when(nullable=False)
    # The browser's last check-in, and how many answers it still held unacknowledged (D7, F4).
    last_seen: datetime | None = _when(nullable=True)
    unsent: int = 0


class ResponseRecord(SQLModel, table=True):
    __tablename__ = "responses"
    # Only answers with a reported time: the response-time medians read these and no others.
    __table_args__ = (
        Index("ix_responses_timed", "sitting_id", sqlite_where=text("seconds IS NOT NULL"), postgresql_where=text("seconds IS NOT NULL")),
    )
    sitting_id: int = Field(foreign_key="sittings.id", primary_key=True)
    position: int = Field(primary_key=True)
    # A cleared answer is SQL NULL (not JSON null), so that counting answers is a plain count.
    response: Any = Field(sa_column=Column(JSON(none_as_null=True), nullable=True))
    # The browser numbers its saves; an older one arriving late never overwrites a newer one.
    sequence: int = 0
    flagged: bool = False
    answered_at: datetime = _when(nullable=False)
    # Seconds the question was on screen, over all visits, up to the last change of answer
    # (the player's count; None where the browser did not say, e.g. without JavaScript).
    seconds: int | None = None


class SittingEventRecord(SQLModel, table=True):
    """The append-only log a sitting is replayed from (who, when, what, why, from where)."""

    __tablename__ = "sitting_events"
    __table_args__ = (UniqueConstraint("sitting_id", "sequence"),)
    id: int | None = Field(default=None, primary_key=True)
    sitting_id: int = Field(foreign_key="sittings.id", index=True)
    sequence: int
    kind: str = Field(max_length=32)
    at: datetime = _when(nullable=False)
    actor: str = Field(max_length=64)
    reason: str = Field(default="", max_length=400)
    data: dict[str, Any] = _json()
    client: str = Field(default="", max_length=64)


class IncidentRecord(SQLModel, table=True):
    """The session's incident log (C7): entries are added, never edited."""

    __tablename__ = "incidents"
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="exam_sessions.id", index=True)
    sitting_id: int | None = Field(default=None, foreign_key="sittings.id")  # None: the whole room
    at: datetime = _when(nullable=False)
    category: str = Field(max_length=32)
    description: str = Field(max_length=2000)
    action: str = Field(max_length=2000)
    recorded_by: str = Field(max_length=64)
    data: dict[str, Any] = _json()
    client: str = Field(default="", max_length=64)


class ResultRecord(SQLModel, table=True):
    """One marking of a sitting. Re-marking adds a record that supersedes; none is overwritten."""

    __tablename__ = "results"
    id: int | None = Field(default=None, primary_key=True)
    sitting_id: int = Field(foreign_key="sittings.id", index=True)
    supersedes_id: int | None = Field(default=None, foreign_key="results.id")
    form_id: int = Field(foreign_key="forms.id")
    total: int
    maximum: int
    cut_score: int
    outcome: str = Field(max_length=20)
    rule: str = Field(max_length=400)
    by_learning_outcome: dict[str, Any] = _json()
    by_criterion: dict[str, Any] = _json()
    item_scores: list[Any] = _json()
    failed_hurdles: list[int] = _json()
    reason: str = Field(max_length=400)
    marked_by: str = Field(max_length=100)
    marked_at: datetime = _when(nullable=False)


class ItemDecisionRecord(SQLModel, table=True):
    """An analyst's decision on an item version (for review, retired, key corrected, cleared):
    added, never edited; the latest for an item is in force. Assembly leaves out items under
    review, retired, or with a corrected key not yet in the bank."""

    __tablename__ = "item_decisions"
    id: int | None = Field(default=None, primary_key=True)
    unit: int = Field(index=True)
    item_id: str = Field(max_length=32, index=True)
    version: int
    decision: str = Field(max_length=16)
    key: Any = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))  # the corrected key
    reason: str = Field(max_length=1000)
    decided_by: str = Field(max_length=64)
    decided_at: datetime = _when(nullable=False)


class ItemCalibrationRecord(SQLModel, table=True):
    """Empirical values of an item version from one calibration run: facility p and Rasch b
    with the number of responses. Assembly uses them once n reaches the analysts' minimum."""

    __tablename__ = "item_calibrations"
    __table_args__ = (UniqueConstraint("run", "item_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    run: int = Field(index=True)  # one calibration of one unit: the highest run is in force
    unit: int = Field(index=True)
    item_id: str = Field(max_length=32)
    version: int
    n: int
    facility: float
    difficulty: float | None = None  # Rasch b, logits, centred on the unit's calibrated items
    calibrated_at: datetime = _when(nullable=False)


class BankItemRecord(SQLModel, table=True):
    """The item bank once the engine runs: every version of every item, as its writer left it.
    `content` is the item as JSON (storage.item_records), its status kept equal to `status`.
    A version that has been put on a form (item_versions) is never edited again: a change
    makes the next version."""

    __tablename__ = "bank_items"
    item_id: str = Field(primary_key=True, max_length=32)
    version: int = Field(primary_key=True)
    unit: int = Field(index=True)
    status: str = Field(max_length=16, index=True)
    content: dict[str, Any] = _json()
    created_by: str = Field(max_length=64)  # who wrote this version (an author may not approve it)
    updated_at: datetime = _when(nullable=False)


class BankItemSetRecord(SQLModel, table=True):
    """An item set's scenario as it stands in the bank (shown with each of its items)."""

    __tablename__ = "bank_item_sets"
    set_id: str = Field(primary_key=True, max_length=64)
    unit: int = Field(index=True)
    title: str = Field(max_length=200)
    scenario: str
    updated_by: str = Field(max_length=64)
    updated_at: datetime = _when(nullable=False)


class ItemTransitionRecord(SQLModel, table=True):
    """The review trail: every change of status (and every comment: from = to), who and when."""

    __tablename__ = "item_transitions"
    id: int | None = Field(default=None, primary_key=True)
    item_id: str = Field(max_length=32, index=True)
    version: int
    from_status: str = Field(max_length=16)
    to_status: str = Field(max_length=16)
    comment: str = Field(default="", max_length=2000)
    by: str = Field(max_length=64)
    at: datetime = _when(nullable=False)


class BankRevisionRecord(SQLModel, table=True):
    """Each unit's bank revision: 0 while the database holds exactly the shipped files it was
    seeded from (files_digest); every change made in the engine adds one."""

    __tablename__ = "bank_revisions"
    unit: int = Field(primary_key=True)
    revision: int = 0
    files_digest: str = Field(max_length=64)
    seeded_at: datetime = _when(nullable=False)


class ServerHeartbeatRecord(SQLModel, table=True):
    """When a server process last showed it was running (one row): a gap is an outage."""

    __tablename__ = "server_heartbeat"
    id: int = Field(default=1, primary_key=True)
    at: datetime = _when(nullable=False)


class ApiTokenRecord(SQLModel, table=True):
    """A centre's token for the JSON API (its management information system). Only a hash of
    the token is kept; the token is shown once, when made."""

    __tablename__ = "api_tokens"
    id: int | None = Field(default=None, primary_key=True)
    centre_id: int = Field(foreign_key="centres.id", index=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=12)  # the first characters, to tell tokens apart
    created_by: str = Field(max_length=64)
    created_at: datetime = _when(nullable=False)
    revoked_at: datetime | None = _when(nullable=True)

"""The database schema. Only types that SQLite and PostgreSQL both accept.

A form freezes item *versions*; a sitting's answers and results refer to the form, so what a
candidate saw can always be shown and re-marked exactly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, ForeignKeyConstraint, UniqueConstraint
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


class CandidateRecord(SQLModel, table=True):
    __tablename__ = "candidates"
    id: int | None = Field(default=None, primary_key=True)
    candidate_number: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    created_at: datetime = _when(nullable=False)


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
    __tablename__ = "sittings"
    __table_args__ = (UniqueConstraint("form_id"),)
    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidates.id", index=True)
    form_id: int = Field(foreign_key="forms.id")
    unit: int = Field(index=True)
    status: str = Field(max_length=16)
    practice: bool = False
    simulated: bool = False
    started_at: datetime | None = _when(nullable=True)
    submitted_at: datetime | None = _when(nullable=True)
    created_at: datetime = _when(nullable=False)


class ResponseRecord(SQLModel, table=True):
    __tablename__ = "responses"
    sitting_id: int = Field(foreign_key="sittings.id", primary_key=True)
    position: int = Field(primary_key=True)
    response: Any = _json(nullable=True)
    answered_at: datetime = _when(nullable=False)


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

"""The training catalog (series of modules), completions, and readiness rules."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Final

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from placement.core.db import Base, Timestamps, UUIDKey
from placement.core.errors import explain_constraint

AUDIENCES: Final = ("caregiver", "caseworker")
SOURCES: Final = ("self_reported", "staff_entered")

explain_constraint("uq_training_series_code", "A training series with that code already exists.")
explain_constraint("uq_training_modules_code", "A training module with that code already exists.")
explain_constraint(
    "uq_training_modules_series_id_position", "The series already has a module at that position."
)
explain_constraint(
    "uq_completions_caregiver_id_module_id_completed_on",
    "This completion of the module on that day is already recorded.",
    status=422,
)


class TrainingSeries(UUIDKey, Timestamps, Base):
    __tablename__ = "training_series"

    code: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    audience: Mapped[str] = mapped_column(String(12))

    __table_args__ = (CheckConstraint(f"audience IN {AUDIENCES!r}", name="audience_known"),)


class TrainingModule(UUIDKey, Timestamps, Base):
    """One module of a series; a completion lasts `validity_months` (or for good when null)."""

    __tablename__ = "training_modules"

    series_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("training_series.id"), index=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(SmallInteger)
    duration_minutes: Mapped[int] = mapped_column(SmallInteger)
    validity_months: Mapped[int | None] = mapped_column(SmallInteger)
    # No completion can predate the module.
    available_from: Mapped[date] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("series_id", "position"),
        CheckConstraint("position >= 1", name="position_positive"),
        CheckConstraint("duration_minutes BETWEEN 1 AND 6000", name="duration_range"),
        CheckConstraint(
            "validity_months IS NULL OR validity_months BETWEEN 1 AND 120", name="validity_range"
        ),
    )


class Completion(UUIDKey, Timestamps, Base):
    """A caregiver finished a module on a day: self-reported, or entered by staff; maybe verified."""

    __tablename__ = "completions"

    caregiver_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("caregivers.id", ondelete="CASCADE"))
    module_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("training_modules.id"), index=True)
    completed_on: Mapped[date] = mapped_column(Date)
    # From the module's validity when recorded; null when it does not expire.
    expires_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16))
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verified_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (
        UniqueConstraint("caregiver_id", "module_id", "completed_on"),
        CheckConstraint(f"source IN {SOURCES!r}", name="source_known"),
        CheckConstraint("expires_on IS NULL OR expires_on > completed_on", name="expires_after_completion"),
        CheckConstraint("(verified_at IS NULL) = (verified_by IS NULL)", name="verified_by_someone"),
    )


class ReadinessRule(Base):
    """A module every primary caregiver of a household needs for a level of care."""

    __tablename__ = "readiness_rules"

    level: Mapped[str] = mapped_column(String(40), primary_key=True)
    module_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("training_modules.id", ondelete="CASCADE"), primary_key=True
    )

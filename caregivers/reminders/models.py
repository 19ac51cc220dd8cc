"""The notifications outbox: one row per person, reason, subject and due date."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Final

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from placement.core.db import Base, UUIDKey
from placement.core.errors import explain_constraint

REASONS: Final = ("completion_expiring", "licence_expiring", "availability_stale")

explain_constraint(
    "uq_notifications_caregiver_id_reason_subject_id_due_on", "This reminder has already been written."
)


class Notification(UUIDKey, Base):
    """Something due for a caregiver: written by the daily job, never twice (the unique key),
    delivered later (e-mail, SMS) and read in the service."""

    __tablename__ = "notifications"

    caregiver_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("caregivers.id", ondelete="CASCADE"))
    household_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(30))
    # What is due: the completion, or the household (licence, availability).
    subject_id: Mapped[uuid.UUID]
    due_on: Mapped[date] = mapped_column(Date)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("caregiver_id", "reason", "subject_id", "due_on"),
        CheckConstraint(f"reason IN {REASONS!r}", name="reason_known"),
    )

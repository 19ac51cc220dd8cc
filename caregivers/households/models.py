"""Households and caregivers. A household's free places are derived from placements, never stored."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Final

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from placement.core.db import Base, Timestamps, UUIDKey
from placement.core.errors import explain_constraint

KINDS: Final = ("foster", "kin", "intensive_foster", "biological")
# Kin and biological homes take only the youth related to them.
KIN_KINDS: Final = ("kin", "biological")
LICENCE_STATUSES: Final = ("licensed", "provisional", "pending", "suspended", "revoked")
# A home may take children on a day when its licence has one of these and has not expired.
PLACEABLE_LICENCES: Final = ("licensed", "provisional")
AVAILABILITIES: Final = ("open", "paused", "closed")
CAREGIVER_ROLES: Final = ("primary", "secondary")
# Licensed capacity: at most this many children in care, more (up to the maximum) only with a waiver.
CAPACITY_WITHOUT_WAIVER: Final = 4
CAPACITY_MAX: Final = 6

explain_constraint("uq_caregivers_user_id", "That login already belongs to another caregiver.")
explain_constraint(
    "fk_household_youth_youth_id_youth", "A related youth id does not name a referred youth.", status=422
)


def _known(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Household(UUIDKey, Timestamps, Base):
    __tablename__ = "households"

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    licence_status: Mapped[str] = mapped_column(String(20))
    licence_expires_on: Mapped[date | None] = mapped_column(Date)
    capacity: Mapped[int] = mapped_column(SmallInteger)
    capacity_waiver_reason: Mapped[str | None] = mapped_column(Text)
    min_age: Mapped[int] = mapped_column(SmallInteger)
    max_age: Mapped[int] = mapped_column(SmallInteger)
    genders: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    services: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    languages: Mapped[list[str]] = mapped_column(ARRAY(String(10)), default=list)
    takes_sibling_groups: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    municipality_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("municipalities.id"), index=True)
    # Confidential, as a safe house's: placement staff, admins and the household's own caregivers.
    street_address: Mapped[str] = mapped_column(String(300))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    # Self-reported availability; `version` counts its changes (the ETag of optimistic concurrency).
    availability: Mapped[str] = mapped_column(String(10), default="open", server_default="open")
    paused_until: Mapped[date | None] = mapped_column(Date)
    availability_note: Mapped[str | None] = mapped_column(Text)
    availability_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __table_args__ = (
        CheckConstraint(_known("kind", KINDS), name="kind_known"),
        CheckConstraint(_known("licence_status", LICENCE_STATUSES), name="licence_status_known"),
        CheckConstraint(_known("availability", AVAILABILITIES), name="availability_known"),
        CheckConstraint("(availability = 'paused') = (paused_until IS NOT NULL)", name="paused_has_end"),
        CheckConstraint(
            f"capacity BETWEEN 1 AND {CAPACITY_MAX} "
            f"AND (capacity <= {CAPACITY_WITHOUT_WAIVER} OR capacity_waiver_reason IS NOT NULL)",
            name="capacity_waived",
        ),
        CheckConstraint("min_age >= 0 AND max_age <= 25 AND min_age <= max_age", name="age_range"),
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="position"),
    )


class HouseholdYouth(Base):
    """A youth a kin or biological household is related to (the only youth it takes)."""

    __tablename__ = "household_youth"

    household_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), primary_key=True
    )
    youth_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("youth.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Caregiver(UUIDKey, Timestamps, Base):
    """A person of a household, primary or secondary, perhaps with a `caregiver` login."""

    __tablename__ = "caregivers"

    household_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), unique=True
    )

    __table_args__ = (CheckConstraint(_known("role", CAREGIVER_ROLES), name="role_known"),)

"""Safe houses and beds. A bed's held/occupied status is derived from placements, never stored."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from placement.core.db import Base, Timestamps, UUIDKey
from placement.core.errors import explain_constraint

explain_constraint("uq_safe_houses_name", "A safe house of that name is already registered.")
explain_constraint("uq_beds_safe_house_id_label", "The safe house already has a bed with that label.")


class SafeHouse(UUIDKey, Timestamps, Base):
    __tablename__ = "safe_houses"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    operator: Mapped[str] = mapped_column(String(200))
    # Confidential: only placement staff and admins see the address and exact position.
    street_address: Mapped[str] = mapped_column(String(300))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    municipality_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("municipalities.id"), index=True)
    min_age: Mapped[int] = mapped_column(SmallInteger)
    max_age: Mapped[int] = mapped_column(SmallInteger)
    genders: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    services: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    languages: Mapped[list[str]] = mapped_column(ARRAY(String(10)), default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")

    __table_args__ = (
        CheckConstraint("min_age >= 0 AND max_age <= 25 AND min_age <= max_age", name="age_range"),
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="position"),
    )


class Bed(UUIDKey, Timestamps, Base):
    __tablename__ = "beds"

    safe_house_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("safe_houses.id", ondelete="RESTRICT"), index=True
    )
    label: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    out_of_service_reason: Mapped[str | None] = mapped_column(Text)
    out_of_service_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("safe_house_id", "label"),
        CheckConstraint(
            "(out_of_service_reason IS NULL) = (out_of_service_since IS NULL)",
            name="out_of_service_has_reason",
        ),
    )

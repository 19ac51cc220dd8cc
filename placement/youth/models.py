"""Youth referrals. Status is derived: exited when exited, else from the youth's placements."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from placement.core.db import Base, Timestamps, UUIDKey
from placement.core.errors import explain_constraint

explain_constraint("uq_youth_case_reference", "This case reference is already in use.")


class Youth(UUIDKey, Timestamps, Base):
    __tablename__ = "youth"

    case_reference: Mapped[str] = mapped_column(String(40), unique=True)
    date_of_birth: Mapped[date] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(20))
    origin_municipality_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("municipalities.id"))
    # Confidential: where the youth comes from, to the street if known.
    origin_lat: Mapped[float] = mapped_column(Float)
    origin_lon: Mapped[float] = mapped_column(Float)
    languages: Mapped[list[str]] = mapped_column(ARRAY(String(10)), default=list)
    required_services: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    specialised_care: Mapped[bool] = mapped_column(default=False)
    sibling_group: Mapped[str | None] = mapped_column(String(40), index=True)
    urgency: Mapped[int] = mapped_column(SmallInteger)
    max_distance_km: Mapped[int] = mapped_column(Integer)
    # Confidential safety constraints: [{"lat", "lon", "radius_km", "label"}].
    danger_zones: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    excluded_safe_house_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), default=list)
    excluded_household_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(Uuid), default=list, server_default="{}"
    )
    caseworker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    exited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    exit_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("urgency BETWEEN 1 AND 5", name="urgency_range"),
        CheckConstraint("max_distance_km BETWEEN 1 AND 500", name="max_distance_range"),
        CheckConstraint("(exited_at IS NULL) = (exit_reason IS NULL)", name="exit_has_reason"),
    )

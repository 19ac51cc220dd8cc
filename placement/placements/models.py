"""Placements of youth in beds or homes: held until a deadline, then active, ended, cancelled or expired."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Final

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    and_,
    func,
    or_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from placement.core.db import Base, Timestamps, UUIDKey
from placement.core.errors import explain_constraint

explain_constraint("uq_placements_live_bed", "The bed was just held or occupied by another request.")
explain_constraint("uq_placements_live_youth", "The youth was just given another placement.")

STATUSES: Final = ("held", "active", "ended", "cancelled", "expired")
LIVE_STATUSES: Final = ("held", "active")
LIVE = f"status IN {LIVE_STATUSES!r}"


class Placement(UUIDKey, Timestamps, Base):
    __tablename__ = "placements"

    youth_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("youth.id", ondelete="RESTRICT"), index=True)
    # A placement is in a bed of a safe house, or in a household: exactly one of the two.
    bed_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("beds.id", ondelete="RESTRICT"), index=True)
    household_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("households.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(12))
    held_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    close_reason: Mapped[str | None] = mapped_column(String(40))
    close_note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s) for s in STATUSES)})", name="status_known"),
        CheckConstraint("(status IN ('held', 'active')) = (closed_at IS NULL)", name="closed_when_not_live"),
        CheckConstraint("(bed_id IS NULL) <> (household_id IS NULL)", name="bed_or_household"),
        # The guards against double booking: one live placement per bed, and per youth.
        Index("uq_placements_live_bed", "bed_id", unique=True, postgresql_where=text(LIVE)),
        Index("uq_placements_live_youth", "youth_id", unique=True, postgresql_where=text(LIVE)),
        Index("ix_placements_held_until", "held_until", postgresql_where=text("status = 'held'")),
    )


def in_effect() -> ColumnElement[bool]:
    """A placement that takes its bed or place now: active, or held and not past its deadline.

    A hold past its deadline stays `held` until the worker expires it (or a new hold on the bed,
    home or youth does), but it no longer keeps the bed or place from anyone.
    """
    return or_(
        Placement.status == "active",
        and_(Placement.status == "held", Placement.held_until > func.now()),
    )


def in_effect_at(at: ColumnElement[datetime]) -> ColumnElement[bool]:
    """`in_effect` at the instant `at`, past or present, from the placement's own timestamps:
    made by then, not closed by then, and confirmed by then or held past it."""
    return and_(
        Placement.created_at <= at,
        or_(Placement.closed_at.is_(None), Placement.closed_at > at),
        or_(Placement.confirmed_at <= at, Placement.held_until > at),
    )


def confirmed_by(at: ColumnElement[datetime]) -> ColumnElement[bool]:
    """Of a placement in effect at `at`: active then (else held)."""
    return Placement.confirmed_at <= at

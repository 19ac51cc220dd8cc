"""Capacity snapshots (the counts as they were, per period) and the program's targets."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from placement.core.db import Base, Timestamps, UUIDKey
from placement.core.errors import explain_constraint

GROUPINGS: Final = ("region", "county", "kind")
PERIODS: Final = ("hour", "day")
SOURCES: Final = ("live", "backfill")
SCOPES: Final = ("statewide", "region", "county")

explain_constraint(
    "uq_capacity_snapshots_period_by_period_start", "That period's capacity snapshot is already stored."
)
explain_constraint(
    "fk_capacity_targets_region_id_regions", "The region id does not name a region.", status=422
)
explain_constraint(
    "fk_capacity_targets_county_id_counties", "The county id does not name a county.", status=422
)


def _known(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class CapacitySnapshot(UUIDKey, Base):
    """The capacity counts grouped `by` one way, as they stood at `period_start` (an hour, or a
    program day's first snapshot). One per period and grouping: a second writer's insert is a
    no-op, so two workers running the cron store it once."""

    __tablename__ = "capacity_snapshots"

    period: Mapped[str] = mapped_column(String(4))
    period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str] = mapped_column(String(10))
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(10))
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB)

    __table_args__ = (
        UniqueConstraint("period", "by", "period_start"),
        CheckConstraint(_known("period", PERIODS), name="period_known"),
        CheckConstraint(_known("by", GROUPINGS), name="by_known"),
        CheckConstraint(_known("source", SOURCES), name="source_known"),
    )


class CapacityTarget(UUIDKey, Timestamps, Base):
    """A goal the program set itself: `metric` in `scope` reaches `value` by `due_on`."""

    __tablename__ = "capacity_targets"

    title: Mapped[str] = mapped_column(String(200))
    metric: Mapped[str] = mapped_column(String(60))
    scope: Mapped[str] = mapped_column(String(10))
    region_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("regions.id"))
    county_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("counties.id"))
    value: Mapped[float] = mapped_column(Float)
    due_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (
        CheckConstraint(_known("scope", SCOPES), name="scope_known"),
        CheckConstraint(
            "(scope = 'region') = (region_id IS NOT NULL) AND (scope = 'county') = (county_id IS NOT NULL)",
            name="scope_names_its_place",
        ),
    )


WHAT_IF_STATUSES: Final = ("queued", "solving", "answered", "failed")


class CapacityWhatIf(UUIDKey, Timestamps, Base):
    """A scenario a program lead asked about, and (once a job has solved it) the answer: counts
    only. The scenario changes nothing but the engine's copy of the data."""

    __tablename__ = "capacity_what_ifs"

    requested_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    scenario: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(10))
    # As a match request's: the job solves only its attempt; the sweep retries one past its lease.
    attempt: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answer: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint(_known("status", WHAT_IF_STATUSES), name="status_known"),)

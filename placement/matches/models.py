"""Match requests and batches: what was asked, the instance the engine solved, what it answered.

A request moves `queued` -> `solving` -> `proposed` | `no_match` | `failed`, then `accepted` or
`cancelled`; proposals older than the setting `match_valid_minutes` read as `expired` (and a
sweep writes that down). `attempt` numbers the solves a request was given: a job solves only the
attempt it was enqueued for, so a solve that a sweep has replaced cannot store a second answer.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from placement.core.db import Base, Timestamps, UUIDKey
from placement.core.errors import explain_constraint

REQUEST_STATUSES: Final = (
    "queued",
    "solving",
    "proposed",
    "no_match",
    "failed",
    "accepted",
    "cancelled",
    "expired",
)
UNSOLVED: Final = ("queued", "solving")
ANSWERED: Final = ("proposed", "no_match")
BATCH_STATUSES: Final = ("queued", "solving", "solved", "failed", "accepted")

explain_constraint("uq_match_batches_running", "A batch is already queued or solving; wait for it to finish.")


def _known(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class MatchInstance(Base):
    """An instance the engine solved, as its JSON (zlib-compressed), keyed by its SHA-256: what
    `placement match export` writes out. Confidential like the records it was built from."""

    __tablename__ = "match_instances"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))


class MatchBatch(UUIDKey, Timestamps, Base):
    """Every open request solved jointly, by placement staff."""

    __tablename__ = "match_batches"

    requested_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(12))
    attempt: Mapped[int] = mapped_column(SmallInteger, default=1)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    request_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), default=list)
    engine: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    instance_digest: Mapped[str | None] = mapped_column(ForeignKey("match_instances.digest"))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    solved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)

    __table_args__ = (
        CheckConstraint(_known("status", BATCH_STATUSES), name="status_known"),
        # Only one batch runs at a time: the database says so, not a check that could race.
        Index(
            "uq_match_batches_running",
            text("(true)"),
            unique=True,
            postgresql_where=text("status IN ('queued', 'solving')"),
        ),
    )


class MatchRequest(UUIDKey, Timestamps, Base):
    __tablename__ = "match_requests"

    youth_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid))
    requested_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(12))
    kinds: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list)
    """Kinds of target asked for; empty: every kind."""
    max_distance_km: Mapped[float | None] = mapped_column(Float)
    """A tighter maximum than the youth's own, for this request."""
    proposal_limit: Mapped[int] = mapped_column(SmallInteger)
    attempt: Mapped[int] = mapped_column(SmallInteger, default=1)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """While `solving`: when the solve is presumed lost if it has not answered."""
    weights: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    engine: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    instance_digest: Mapped[str | None] = mapped_column(ForeignKey("match_instances.digest"))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    """The engine's ranking, exact: for placement staff and admins."""
    banded_result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    """The same ranking with distances in bands, for everyone else."""
    solved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    accepted_rank: Mapped[int | None] = mapped_column(SmallInteger)
    placement_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), default=list)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    close_note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(_known("status", REQUEST_STATUSES), name="status_known"),
        CheckConstraint("cardinality(youth_ids) BETWEEN 1 AND 12", name="members_range"),
        CheckConstraint("proposal_limit BETWEEN 1 AND 50", name="proposal_limit_range"),
        Index("ix_match_requests_youth_ids", "youth_ids", postgresql_using="gin"),
        Index(
            "ix_match_requests_open",
            "updated_at",
            postgresql_where=text("status IN ('queued', 'solving', 'proposed', 'no_match')"),
        ),
    )

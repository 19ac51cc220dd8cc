"""What match requests and batches take and answer. Proposals, explanations and no-match reasons
are the engine's own records (`placement.matching.schema`), with distances banded for the roles
that may not see positions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from placement.core.schemas import Schema
from placement.matching.schema import Assignment, NoMatch, TargetKind, WhyNot

RequestStatus = Literal[
    "queued", "solving", "proposed", "no_match", "failed", "accepted", "cancelled", "expired"
]
BatchStatus = Literal["queued", "solving", "solved", "failed", "accepted"]
MAX_MEMBERS = 12


class MatchRequestCreate(Schema):
    """Ask for placements for one youth, or for the members of one sibling group together."""

    youth_ids: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=MAX_MEMBERS)]
    kinds: list[TargetKind] = []
    """Kinds of target to consider (empty: every kind)."""
    max_distance_km: Annotated[float, msgspec.Meta(gt=0, le=500)] | None = None
    """A tighter maximum distance from the origin than the youth's own, for this request."""
    proposals: Annotated[int, msgspec.Meta(ge=1, le=50)] = 5


class Site(Schema):
    """Where a proposal places the youth: a safe house or a household, by name and town only."""

    id: uuid.UUID
    kind: Literal["safe_house", "household"]
    name: str
    municipality: str


class ProposalOut(Schema):
    rank: int
    site: Site
    score: int
    assignments: tuple[Assignment, ...]
    """Each member's bed or home, score, terms and distance (a band for the roles that may not
    see positions)."""


class MatchRequestOut(Schema):
    id: uuid.UUID
    status: RequestStatus
    youth_ids: list[uuid.UUID]
    kinds: list[str]
    max_distance_km: float | None
    proposal_limit: int
    requested_by: uuid.UUID
    created_at: datetime
    solved_at: datetime | None
    expires_at: datetime | None
    """When the proposals stop being offered (the data will have moved on)."""
    proposals: list[ProposalOut]
    no_match: list[NoMatch]
    failure_reason: str | None
    accepted_rank: int | None
    placement_ids: list[uuid.UUID]
    weights: dict[str, float] | None
    engine: dict[str, object] | None
    instance_digest: str | None


class MatchRequestSummary(Schema):
    """A request in a youth's list: when it was asked, how it stands now, when it was closed."""

    id: uuid.UUID
    status: RequestStatus
    youth_ids: list[uuid.UUID]
    requested_by: uuid.UUID
    created_at: datetime
    solved_at: datetime | None
    expires_at: datetime | None
    closed_at: datetime | None
    """When it closed: accepted, cancelled (or replaced by a newer request), or swept as expired."""
    accepted_rank: int | None


class AcceptProposal(Schema):
    rank: Annotated[int, msgspec.Meta(ge=1, le=50)]
    """The proposal to accept: its rank."""


class CancelRequest(Schema):
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class WhyNotOut(Schema):
    request_id: uuid.UUID
    explanations: list[WhyNot]
    """One per member of the request."""


class BatchStart(Schema):
    """Starting a batch takes no options: it solves every open request."""


class BatchAccept(Schema):
    """Which of a solved batch's proposals to hold: some requests, or (left out) every one it
    places. The requests not chosen stay open, for their own proposals or the next batch."""

    request_ids: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=10_000)] | None = None


class RequestInBatch(Schema):
    """What a batch proposes for one request: a site for all its youth, or nothing."""

    request_id: uuid.UUID
    youth_ids: list[uuid.UUID]
    site: Site | None
    assignments: tuple[Assignment, ...]
    unplaced: list[uuid.UUID]


class BatchOutcome(Schema):
    """What accepting a batch did for one request."""

    request_id: uuid.UUID
    held: bool
    placement_ids: list[uuid.UUID]
    reason: str | None


class BatchSummary(Schema):
    """A batch in the list: when, by whom, how it stands, and how many requests it placed."""

    id: uuid.UUID
    status: BatchStatus
    requested_by: uuid.UUID
    created_at: datetime
    solved_at: datetime | None
    accepted_at: datetime | None
    requests: int
    placed: int | None
    """Youth the solve placed (None until it is solved)."""


class BatchOut(Schema):
    id: uuid.UUID
    status: BatchStatus
    requested_by: uuid.UUID
    created_at: datetime
    solved_at: datetime | None
    failure_reason: str | None
    solve_status: Literal["optimal", "effort_limit", "time_limit"] | None
    """How the solve ended (see the engine's README)."""
    placed: int
    placed_by_urgency: dict[str, int]
    unplaced: int
    objective: int | None
    bound: int | None
    gap: float | None
    seconds: float | None
    requests: list[RequestInBatch]
    outcome: list[BatchOutcome]
    engine: dict[str, object] | None
    instance_digest: str | None

"""The training catalog, completions, readiness rules and readiness as the API takes and returns them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from placement.core.schemas import Schema

Audience = Literal["caregiver", "caseworker"]
Source = Literal["self_reported", "staff_entered"]
MissingWhy = Literal["not_completed", "expired", "unverified"]
Code = Annotated[
    str,
    msgspec.Meta(
        min_length=2, max_length=60, pattern=r"^[a-z0-9][a-z0-9-]*$", description="lower-case, digits, dashes"
    ),
]
Title = Annotated[str, msgspec.Meta(min_length=3, max_length=200)]
ModuleIds = Annotated[list[uuid.UUID], msgspec.Meta(max_length=100)]


class ModuleCreate(Schema):
    """A new module of an existing series (named by its code)."""

    series: Code
    code: Code
    title: Title
    position: Annotated[int, msgspec.Meta(ge=1, le=999, description="Its order within the series")]
    duration_minutes: Annotated[int, msgspec.Meta(ge=1, le=6000)]
    validity_months: (
        Annotated[int, msgspec.Meta(ge=1, le=120, description="Null: a completion never expires")] | None
    )
    available_from: Annotated[date, msgspec.Meta(description="No completion can be dated before it")]


class ModuleOut(Schema):
    id: uuid.UUID
    series_id: uuid.UUID
    series_code: str
    series_title: str
    audience: Audience
    code: str
    title: str
    position: int
    duration_minutes: int
    validity_months: int | None
    available_from: date


class CompletionCreate(Schema):
    """A module finished on a day. Staff may verify at once; a caregiver's own record is
    self-reported and waits for staff to verify it."""

    module_id: uuid.UUID
    completed_on: date
    verified: bool = False


class CompletionOut(Schema):
    id: uuid.UUID
    caregiver_id: uuid.UUID
    module_id: uuid.UUID
    module_code: str
    module_title: str
    completed_on: date
    expires_on: date | None
    source: Source
    recorded_by: uuid.UUID | None
    verified: bool
    verified_at: datetime | None
    verified_by: uuid.UUID | None


class ReadinessRules(Schema):
    """The modules every primary caregiver needs, per level of care. A PUT replaces the whole map
    and must name every level (an empty list: the level needs no training)."""

    levels: Annotated[dict[str, ModuleIds], msgspec.Meta(max_length=20)]


class MissingModule(Schema):
    module_id: uuid.UUID
    code: str
    title: str
    why: MissingWhy


class CaregiverMissing(Schema):
    caregiver_id: uuid.UUID
    name: str
    modules: list[MissingModule]


class LevelReadiness(Schema):
    """Readiness for one level of care, computed when asked."""

    level: str
    ready: bool
    percent: Annotated[int, msgspec.Meta(ge=0, le=100)]
    primary_caregivers: int
    missing: list[CaregiverMissing]
    next_expiry: date | None


class HouseholdReadiness(Schema):
    household_id: uuid.UUID
    as_of: date
    levels: list[LevelReadiness]

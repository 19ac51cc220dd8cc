"""Youth referrals as the API takes and returns them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from placement.core.schemas import Codes, Latitude, Longitude, Schema
from placement.core.vocabulary import Gender

YouthStatus = Literal["awaiting", "held", "placed", "exited"]
CaseReference = Annotated[
    str,
    msgspec.Meta(
        min_length=3,
        max_length=40,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$",
        description="The agency's case reference (letters, digits, dashes); never a name",
    ),
]
Urgency = Annotated[int, msgspec.Meta(ge=1, le=5, description="5 is most urgent")]
MaxDistance = Annotated[int, msgspec.Meta(ge=1, le=500)]
SiblingGroup = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
ExitReason = Annotated[str, msgspec.Meta(min_length=3, max_length=500)]


class DangerZone(Schema):
    """A place a placement must stay clear of (e.g. where the exploiter operates)."""

    lat: Latitude
    lon: Longitude
    radius_km: Annotated[float, msgspec.Meta(gt=0, le=200)]
    label: Annotated[str, msgspec.Meta(max_length=200)] = ""


DangerZones = Annotated[list[DangerZone], msgspec.Meta(max_length=20)]
Exclusions = Annotated[list[uuid.UUID], msgspec.Meta(max_length=100)]


class YouthCreate(Schema):
    case_reference: CaseReference
    date_of_birth: date
    gender: Gender
    origin_municipality_id: uuid.UUID
    # Without a point, the origin municipality's centroid is used.
    origin_lat: Latitude | None = None
    origin_lon: Longitude | None = None
    languages: Codes = msgspec.field(default_factory=list)
    required_services: Codes = msgspec.field(default_factory=list)
    specialised_care: bool = False
    sibling_group: SiblingGroup | None = None
    urgency: Urgency = 3
    max_distance_km: MaxDistance = 80
    danger_zones: DangerZones = msgspec.field(default_factory=list)
    excluded_safe_house_ids: Exclusions = msgspec.field(default_factory=list)
    excluded_household_ids: Exclusions = msgspec.field(default_factory=list)
    # Placement staff assign a caseworker; a caseworker's referral is on their own caseload.
    caseworker_id: uuid.UUID | None = None


class YouthUpdate(Schema):
    date_of_birth: date | msgspec.UnsetType = msgspec.UNSET
    gender: Gender | msgspec.UnsetType = msgspec.UNSET
    origin_municipality_id: uuid.UUID | msgspec.UnsetType = msgspec.UNSET
    origin_lat: Latitude | msgspec.UnsetType = msgspec.UNSET
    origin_lon: Longitude | msgspec.UnsetType = msgspec.UNSET
    languages: Codes | msgspec.UnsetType = msgspec.UNSET
    required_services: Codes | msgspec.UnsetType = msgspec.UNSET
    specialised_care: bool | msgspec.UnsetType = msgspec.UNSET
    sibling_group: SiblingGroup | msgspec.UnsetType | None = msgspec.UNSET
    urgency: Urgency | msgspec.UnsetType = msgspec.UNSET
    max_distance_km: MaxDistance | msgspec.UnsetType = msgspec.UNSET
    danger_zones: DangerZones | msgspec.UnsetType = msgspec.UNSET
    excluded_safe_house_ids: Exclusions | msgspec.UnsetType = msgspec.UNSET
    excluded_household_ids: Exclusions | msgspec.UnsetType = msgspec.UNSET
    caseworker_id: uuid.UUID | msgspec.UnsetType = msgspec.UNSET
    # A reason records that the youth left the program; null re-opens the referral.
    exit_reason: ExitReason | msgspec.UnsetType | None = msgspec.UNSET


class YouthOut(Schema):
    id: uuid.UUID
    case_reference: str
    date_of_birth: date
    age: int
    gender: str
    origin_municipality_id: uuid.UUID
    origin_lat: float
    origin_lon: float
    languages: list[str]
    required_services: list[str]
    specialised_care: bool
    sibling_group: str | None
    urgency: int
    max_distance_km: int
    danger_zones: list[DangerZone]
    excluded_safe_house_ids: list[uuid.UUID]
    excluded_household_ids: list[uuid.UUID]
    caseworker_id: uuid.UUID
    status: YouthStatus
    exited_at: datetime | None
    exit_reason: str | None
    created_at: datetime
    updated_at: datetime

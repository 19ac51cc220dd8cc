"""Households and caregivers as the API takes and returns them.

The street address and position are left out entirely (absent, not null) for every role that may
not see them.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from placement.core.schemas import Age, Codes, Latitude, Longitude, Name, Schema
from placement.core.vocabulary import Gender
from placement.reference.schemas import Place

Kind = Literal["foster", "kin", "intensive_foster", "biological"]
LicenceStatus = Literal["licensed", "provisional", "pending", "suspended", "revoked"]
AvailabilityStatus = Literal["open", "paused", "closed"]
CaregiverRole = Literal["primary", "secondary"]
Capacity = Annotated[int, msgspec.Meta(ge=1, le=6, description="Children in care; above 4 needs a waiver")]
Address = Annotated[str, msgspec.Meta(min_length=3, max_length=300)]
Reason = Annotated[str, msgspec.Meta(min_length=3, max_length=1000)]
Note = Annotated[str, msgspec.Meta(max_length=1000)]
Genders = Annotated[list[Gender], msgspec.Meta(min_length=1, max_length=3)]
RelatedYouth = Annotated[list[uuid.UUID], msgspec.Meta(max_length=20)]


class HouseholdCreate(Schema):
    name: Name
    kind: Kind
    licence_status: LicenceStatus
    capacity: Capacity
    min_age: Age
    max_age: Age
    genders: Genders
    municipality_id: uuid.UUID
    street_address: Address
    lat: Latitude
    lon: Longitude
    licence_expires_on: date | None = None
    capacity_waiver_reason: Reason | None = None
    services: Codes = msgspec.field(default_factory=list)
    languages: Codes = msgspec.field(default_factory=list)
    takes_sibling_groups: bool = False
    # Kin and biological homes: the youth they are related to (the only youth they take).
    related_youth_ids: RelatedYouth = msgspec.field(default_factory=list)


class HouseholdUpdate(Schema):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    licence_status: LicenceStatus | msgspec.UnsetType = msgspec.UNSET
    licence_expires_on: date | msgspec.UnsetType | None = msgspec.UNSET
    capacity: Capacity | msgspec.UnsetType = msgspec.UNSET
    capacity_waiver_reason: Reason | msgspec.UnsetType | None = msgspec.UNSET
    min_age: Age | msgspec.UnsetType = msgspec.UNSET
    max_age: Age | msgspec.UnsetType = msgspec.UNSET
    genders: Genders | msgspec.UnsetType = msgspec.UNSET
    services: Codes | msgspec.UnsetType = msgspec.UNSET
    languages: Codes | msgspec.UnsetType = msgspec.UNSET
    takes_sibling_groups: bool | msgspec.UnsetType = msgspec.UNSET
    municipality_id: uuid.UUID | msgspec.UnsetType = msgspec.UNSET
    street_address: Address | msgspec.UnsetType = msgspec.UNSET
    lat: Latitude | msgspec.UnsetType = msgspec.UNSET
    lon: Longitude | msgspec.UnsetType = msgspec.UNSET
    related_youth_ids: RelatedYouth | msgspec.UnsetType = msgspec.UNSET


class AvailabilityChange(Schema):
    status: AvailabilityStatus
    # With `paused`: the day the household takes children again (the pause ends the day before).
    paused_until: date | None = None
    note: Note = ""


class Availability(Schema):
    status: AvailabilityStatus
    paused_until: date | None
    note: str | None
    confirmed_at: datetime | None
    # Not confirmed for `stale_after_days` (or never).
    stale: bool
    # Takes children today: open, or a pause that has ended.
    open_now: bool


class AvailabilityEvent(Schema):
    """A change or re-confirmation of a household's availability, as the audit trail keeps it."""

    at: datetime
    kind: Literal["changed", "confirmed"]
    status: AvailabilityStatus
    paused_until: date | None
    previous_status: AvailabilityStatus | None
    """What a change replaced (None for a re-confirmation)."""
    previous_paused_until: date | None
    note: str | None
    """The note a change left for placement staff."""
    by_role: str | None
    by_you: bool


class CaregiverCreate(Schema):
    name: Name
    role: CaregiverRole
    # A `caregiver` login for this person, if they sign in.
    user_id: uuid.UUID | None = None


class CaregiverOut(Schema):
    id: uuid.UUID
    household_id: uuid.UUID
    name: str
    role: str
    user_id: uuid.UUID | None


class ReadinessSummary(Schema):
    """Readiness for one level of care (`GET /households/{id}/readiness` says what is missing)."""

    level: str
    ready: bool
    percent: int
    next_expiry: date | None


class HouseholdOut(Schema, omit_defaults=True):
    id: uuid.UUID
    name: str
    kind: Kind
    licence_status: LicenceStatus
    licence_expires_on: date | None
    # The licence lets the household take children today.
    licensed_now: bool
    capacity: int
    capacity_waiver_reason: str | None
    free_places: int
    min_age: int
    max_age: int
    genders: list[str]
    services: list[str]
    languages: list[str]
    takes_sibling_groups: bool
    place: Place
    availability: Availability
    caregivers: list[CaregiverOut]
    related_youth_ids: list[uuid.UUID]
    readiness: list[ReadinessSummary]
    version: int
    # Confidential: present only for placement staff, admins and the household's own caregivers.
    street_address: str | None = None
    lat: float | None = None
    lon: float | None = None


class AvailableHousehold(Schema, omit_defaults=True):
    household_id: uuid.UUID
    name: str
    kind: Kind
    place: Place
    min_age: int
    max_age: int
    genders: list[str]
    services: list[str]
    languages: list[str]
    takes_sibling_groups: bool
    capacity: int
    free_places: int
    availability_confirmed_at: datetime | None
    stale: bool
    # With `near`: exact for placement staff and admins, a band (e.g. "10-25 km") for everyone else.
    distance_km: float | None = None
    distance_band: str | None = None

"""Safe houses and beds as the API takes and returns them.

The street address and exact position are optional on the way out: they are left out entirely
(not null, absent) for every role that may not see them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from placement.core.schemas import Age, Codes, Latitude, Longitude, Name, Schema
from placement.core.vocabulary import Gender
from placement.reference.schemas import Place

BedStatus = Literal["available", "held", "occupied", "out_of_service"]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
Address = Annotated[str, msgspec.Meta(min_length=3, max_length=300)]
Reason = Annotated[str, msgspec.Meta(min_length=3, max_length=500)]


class SafeHouseCreate(Schema):
    name: Name
    operator: Name
    street_address: Address
    lat: Latitude
    lon: Longitude
    municipality_id: uuid.UUID
    min_age: Age
    max_age: Age
    genders: Annotated[list[Gender], msgspec.Meta(min_length=1, max_length=3)]
    services: Codes = msgspec.field(default_factory=list)
    languages: Codes = msgspec.field(default_factory=list)
    active: bool = True


class SafeHouseUpdate(Schema):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    operator: Name | msgspec.UnsetType = msgspec.UNSET
    street_address: Address | msgspec.UnsetType = msgspec.UNSET
    lat: Latitude | msgspec.UnsetType = msgspec.UNSET
    lon: Longitude | msgspec.UnsetType = msgspec.UNSET
    municipality_id: uuid.UUID | msgspec.UnsetType = msgspec.UNSET
    min_age: Age | msgspec.UnsetType = msgspec.UNSET
    max_age: Age | msgspec.UnsetType = msgspec.UNSET
    genders: Annotated[list[Gender], msgspec.Meta(min_length=1, max_length=3)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    services: Codes | msgspec.UnsetType = msgspec.UNSET
    languages: Codes | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class BedCounts(Schema):
    total: int
    available: int
    held: int
    occupied: int
    out_of_service: int


class BedOut(Schema, omit_defaults=True):
    id: uuid.UUID
    safe_house_id: uuid.UUID
    label: str
    active: bool
    status: BedStatus
    out_of_service_reason: str | None = None
    out_of_service_since: datetime | None = None


class SafeHouseOut(Schema, omit_defaults=True):
    id: uuid.UUID
    name: str
    operator: str
    place: Place
    min_age: int
    max_age: int
    genders: list[str]
    services: list[str]
    languages: list[str]
    active: bool
    beds: BedCounts
    # Confidential: present only for placement staff and admins.
    street_address: str | None = None
    lat: float | None = None
    lon: float | None = None


class SafeHouseDetail(SafeHouseOut, omit_defaults=True):
    bed_list: list[BedOut] = msgspec.field(default_factory=list)


class BedCreate(Schema):
    label: Label
    active: bool = True


class BedUpdate(Schema):
    label: Label | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    # A reason takes the bed out of service; null puts it back.
    out_of_service_reason: Reason | msgspec.UnsetType | None = msgspec.UNSET


class AvailableBed(Schema, omit_defaults=True):
    bed_id: uuid.UUID
    label: str
    safe_house_id: uuid.UUID
    safe_house: str
    place: Place
    min_age: int
    max_age: int
    genders: list[str]
    services: list[str]
    languages: list[str]
    # With `near`: exact for placement staff, a band (e.g. "10-25 km") for everyone else.
    distance_km: float | None = None
    distance_band: str | None = None

"""Reference data as the API returns it."""

from __future__ import annotations

import uuid

from placement.core.schemas import Schema


class RegionOut(Schema):
    id: uuid.UUID
    name: str


class CountyOut(Schema):
    id: uuid.UUID
    name: str


class MunicipalityOut(Schema):
    id: uuid.UUID
    name: str
    county: str
    region: str
    lat: float
    lon: float

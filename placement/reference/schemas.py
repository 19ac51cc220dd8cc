"""Reference data as the API returns it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

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


class Place(Schema):
    """Where a safe house or a household is, as every role may see it."""

    municipality_id: uuid.UUID
    municipality: str
    county: str
    region: str


def place_in(row: Mapping[str, Any]) -> Place:
    """The place of a row carrying `municipality_id`, `municipality`, `county` and `region`."""
    return Place(
        municipality_id=row["municipality_id"],
        municipality=row["municipality"],
        county=row["county"],
        region=row["region"],
    )

"""Places near a point and in a region, in SQL: the filters `GET /beds/available` and
`GET /households/available` share, checked at the edge and compiled per *shape* (which are set).

Distances are great-circle (core PostgreSQL, no PostGIS). Roles that may not see positions get
distances from the municipality's centroid, in bands, and may search only by a band's edge.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from litestar.params import Parameter
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Float,
    Integer,
    Label,
    Select,
    String,
    Uuid,
    bindparam,
    func,
    literal_column,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import array as pg_array

from placement.core.audit import Actor
from placement.core.errors import Unprocessable
from placement.core.geo import BANDS_KM, EARTH_RADIUS_KM, distance_band
from placement.core.schemas import check_codes
from placement.core.security.policy import may_see_locations
from placement.core.vocabulary import GENDERS, SERVICES
from placement.reference.models import Municipality
from placement.reference.schemas import place_in

# Radii a role that sees only distance bands may filter by: the bands' edges, nothing finer.
BAND_EDGES_KM = tuple(int(high) for _, high, _ in BANDS_KM if high is not None)
_BAND_BUCKETS: ColumnElement[Any] = literal_column(
    f"ARRAY[{', '.join(str(float(e)) for e in (0, *BAND_EDGES_KM))}]::float8[]"
)
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180
Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])

# The query parameters of a search for places (free beds, free homes).
AgeQuery = Annotated[int | None, Parameter(ge=0, le=25, description="The youth's age in years")]
ServicesQuery = Annotated[list[str] | None, Parameter(description="Required services (all must be offered)")]
NearQuery = Annotated[str | None, Parameter(description="LAT,LON", max_length=60)]
WithinKmQuery = Annotated[float | None, Parameter(gt=0, le=500)]


@dataclass(frozen=True, slots=True)
class PlaceFilter:
    """Where and for whom: region, county, the youth's age and gender, services, a point."""

    region_id: uuid.UUID | None = None
    county_id: uuid.UUID | None = None
    age: int | None = None
    gender: str | None = None
    services: tuple[str, ...] = ()
    near: tuple[float, float] | None = None
    within_km: float | None = None

    def shape(self) -> tuple[bool, ...]:
        return (
            self.region_id is not None,
            self.county_id is not None,
            self.age is not None,
            self.gender is not None,
            bool(self.services),
            self.near is not None,
            self.near is not None and self.within_km is not None,
        )

    def values(self) -> dict[str, Any]:
        """The values bound to the shape's parameters."""
        values: dict[str, Any] = {
            "region_id": self.region_id,
            "county_id": self.county_id,
            "age": self.age,
            "gender": self.gender,
            "services": list(self.services),
        }
        if self.near is not None:
            lat, lon = self.near
            values.update(
                near_lat=math.radians(lat), near_lon=math.radians(lon), near_cos=math.cos(math.radians(lat))
            )
            if self.within_km is not None:
                # A bounding box the index-free scan can test cheaply before the haversine.
                dlat = self.within_km / KM_PER_DEGREE
                dlon = self.within_km / (KM_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
                values.update(
                    within_km=self.within_km,
                    lat_min=lat - dlat,
                    lat_max=lat + dlat,
                    lon_min=lon - dlon,
                    lon_max=lon + dlon,
                )
        return values


def parse_point(near: str) -> tuple[float, float]:
    try:
        lat_text, lon_text = near.split(",")
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        raise Unprocessable(f"near: expected 'LAT,LON' in decimal degrees, got {near!r}") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise Unprocessable(f"near: {lat},{lon} is not a position on Earth")
    return lat, lon


def place_filter(
    actor: Actor,
    region: uuid.UUID | None,
    county: uuid.UUID | None,
    age: int | None,
    gender: str | None,
    services: list[str],
    near: str | None,
    within_km: float | None,
) -> PlaceFilter:
    """Check the query and build the filter; banded roles may only use band edges as radius."""
    if gender is not None and gender not in GENDERS:
        raise Unprocessable(f"gender: expected one of {', '.join(GENDERS)}")
    codes = check_codes("services", [c for s in services for c in s.split(",") if c], SERVICES)
    point = parse_point(near) if near is not None else None
    if within_km is not None:
        if point is None:
            raise Unprocessable("within_km needs near=LAT,LON")
        if not may_see_locations(actor) and within_km not in BAND_EDGES_KM:
            raise Unprocessable(
                f"within_km: your role may search only by distance band: one of {BAND_EDGES_KM}"
            )
    return PlaceFilter(region, county, age, gender, tuple(codes), point, within_km)


def sql_distance_km(
    lat: Any, lon: Any, at_lat_rad: Any, at_lon_rad: Any, cos_at_lat: Any
) -> ColumnElement[float]:
    """The haversine distance in SQL from columns `lat`, `lon` (degrees) to a point given in
    radians with its latitude's cosine (SQL expressions)."""
    p1 = func.radians(lat)
    a = func.power(func.sin((at_lat_rad - p1) / 2), 2) + func.cos(p1) * cos_at_lat * func.power(
        func.sin((at_lon_rad - func.radians(lon)) / 2), 2
    )
    return 2 * EARTH_RADIUS_KM * func.asin(func.least(1.0, func.sqrt(a)))


def param(name: str, type_: Any) -> BindParameter[Any]:
    """A named parameter whose value comes at execution (see `PlaceFilter.values`)."""
    return bindparam(name, None, type_=type_)


def position_of(place: Any, exact: bool) -> tuple[Any, Any]:
    """Where distances are measured from: the place itself for `exact` roles, else its
    municipality's centroid (which they see anyway). Bands of the place's own distance would let
    a caller who moves the point find where a band flips, and so the place, to the metre."""
    return (place.lat, place.lon) if exact else (Municipality.lat, Municipality.lon)


def distance_column(shape: tuple[bool, ...], position: tuple[Any, Any]) -> Label[Any]:
    """`distance_km` from the filter's point (NULL without one)."""
    near = shape[5]
    distance = (
        sql_distance_km(
            *position, param("near_lat", Float), param("near_lon", Float), param("near_cos", Float)
        )
        if near
        else literal_column("NULL::float8")
    )
    return distance.label("distance_km")


def matching(
    query: Q, shape: tuple[bool, ...], place: Any, position: tuple[Any, Any], distance: Label[Any]
) -> Q:
    """`query` (joined to the place's Municipality) narrowed to the places the filter matches.

    `place` is the mapped class whose `min_age`, `max_age`, `genders` and `services` are tested.
    """
    by_region, by_county, by_age, by_gender, by_services, _, within = shape
    if by_region:
        query = query.where(Municipality.region_id == param("region_id", Uuid))
    if by_county:
        query = query.where(Municipality.county_id == param("county_id", Uuid))
    if by_age:
        age = param("age", Integer)
        query = query.where(place.min_age <= age, place.max_age >= age)
    if by_gender:
        query = query.where(place.genders.contains(pg_array([param("gender", String)])))
    if by_services:
        query = query.where(place.services.contains(param("services", ARRAY(String))))
    if within:
        query = query.where(
            position[0].between(param("lat_min", Float), param("lat_max", Float)),
            position[1].between(param("lon_min", Float), param("lon_max", Float)),
            distance.element <= param("within_km", Float),
        )
    return query


def nearest_first(shape: tuple[bool, ...], exact: bool, distance: Label[Any]) -> tuple[Any, ...]:
    """The leading sort keys: by distance with a point (by band for roles that see bands)."""
    if not shape[5]:
        return ()
    return (distance.element,) if exact else (func.width_bucket(distance.element, _BAND_BUCKETS),)


def shown_distance(km: float | None, exact: bool) -> tuple[float | None, str | None]:
    """`(distance_km, distance_band)` as a role sees them: exact, or only the band."""
    if km is None:
        return None, None
    return (round(km, 1), None) if exact else (None, distance_band(km))


def offered(row: Mapping[str, Any], exact: bool) -> dict[str, Any]:
    """What a found bed or home offers, from a search's row: where it is, whom it takes, what it
    provides, and how far it is as the role may see it."""
    km, band = shown_distance(row["distance_km"], exact)
    return {
        "place": place_in(row),
        **{field: row[field] for field in ("min_age", "max_age", "genders", "services", "languages")},
        "distance_km": km,
        "distance_band": band,
    }

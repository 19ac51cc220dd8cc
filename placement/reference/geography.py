"""Massachusetts places from the ZIP centroids the `zipcodes` package ships, and the region map.

A *municipality* here is a postal place name (city or town as the USPS names it) in a county;
its centroid is the mean of the centroids of its active ZIP codes. Regions are the agency's own
and live in ``data/regions.csv``: a row with an empty municipality maps a whole county, a row
naming a municipality overrides its county's region.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import zipcodes

STATE = "MA"
REGION_FILE = "regions.csv"


@dataclass(frozen=True, slots=True)
class Place:
    """A municipality with its county, region and centroid (decimal degrees)."""

    name: str
    county: str
    region: str
    lat: float
    lon: float


def _county_name(raw: str) -> str:
    return raw.removesuffix(" County")


def read_region_map(text: str) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Parse the region map: (county -> region, (county, municipality) -> region)."""
    by_county: dict[str, str] = {}
    overrides: dict[tuple[str, str], str] = {}
    for row in csv.DictReader(text.splitlines()):
        region, county, municipality = row["region"], row["county"], row["municipality"]
        if municipality:
            overrides[(county, municipality)] = region
        else:
            by_county[county] = region
    return by_county, overrides


@cache
def massachusetts_places() -> tuple[Place, ...]:
    """Every Massachusetts postal place, sorted by county then name."""
    text = files("placement.reference").joinpath("data", REGION_FILE).read_text("utf-8")
    by_county, overrides = read_region_map(text)
    points: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for z in zipcodes.filter_by(state=STATE, active=True):  # type: ignore[no-untyped-call]
        points[(_county_name(z["county"]), z["city"])].append((float(z["lat"]), float(z["long"])))
    places = []
    for (county, name), coords in points.items():
        region = overrides.get((county, name), by_county[county])
        lat = round(sum(p[0] for p in coords) / len(coords), 5)
        lon = round(sum(p[1] for p in coords) / len(coords), 5)
        places.append(Place(name=name, county=county, region=region, lat=lat, lon=lon))
    return tuple(sorted(places, key=lambda p: (p.county, p.name)))


def places_by_region() -> dict[str, list[Place]]:
    """Massachusetts places grouped by region (for data spread over the regions)."""
    by_region: dict[str, list[Place]] = {}
    for place in massachusetts_places():
        by_region.setdefault(place.region, []).append(place)
    return by_region

"""Great-circle distances and the distance bands shown to roles that may not see positions."""

from __future__ import annotations

import math
from typing import Final

EARTH_RADIUS_KM: Final = 6371.0088
# Distances shown to anyone who may not see positions come only as one of these bands,
# so repeated queries cannot triangulate a safe house.
BANDS_KM: Final[tuple[tuple[float, float | None, str], ...]] = (
    (0, 5, "0-5 km"),
    (5, 10, "5-10 km"),
    (10, 25, "10-25 km"),
    (25, 50, "25-50 km"),
    (50, None, "50+ km"),
)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance between two points in decimal degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def distance_band(km: float) -> str:
    for low, high, label in BANDS_KM:
        if km >= low and (high is None or km < high):
            return label
    raise ValueError(f"negative distance {km}")

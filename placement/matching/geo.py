"""Great-circle geometry on unit vectors (the service's radius and distance bands: `placement.core.geo`)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from placement.core.geo import EARTH_RADIUS_KM, distance_band

Floats = npt.NDArray[np.float64]


def unit_vectors(lat: Floats, lon: Floats) -> Floats:
    """Points on the unit sphere, shape (n, 3): the cosine of an angle is then a dot product."""
    phi, lam = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)], axis=1)


def cos_of_distance(km: Floats) -> Floats:
    """The dot product two unit vectors have at this great-circle distance."""
    return np.cos(np.minimum(np.asarray(km, dtype=np.float64) / EARTH_RADIUS_KM, np.pi))


def km_from_dot(dot: Floats) -> Floats:
    """Great-circle distance from the dot product of two unit vectors."""
    return EARTH_RADIUS_KM * np.arccos(np.clip(dot, -1.0, 1.0))


def format_distance(km: float, *, banded: bool) -> str:
    return distance_band(km) if banded else f"{km:.1f} km"

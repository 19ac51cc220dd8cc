"""Builders for small, valid matching instances: one line per youth or target."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from placement.matching.arrays import TargetArrays, YouthArrays, compile_targets, compile_youth
from placement.matching.schema import DangerZone, Instance, Target, Youth

DAY = date(2025, 6, 1)


@pytest.fixture(autouse=True)
def clean_state() -> None:
    """The matcher is pure: its tests need no database or Redis (nor do they reset them)."""
    return None


BOSTON = (42.3601, -71.0589)


def km_north(km: float, origin: tuple[float, float] = BOSTON) -> tuple[float, float]:
    """A point ``km`` due north of ``origin`` (great-circle, to well under a metre)."""
    return origin[0] + km / 111.195, origin[1]


def make_youth(id: str = "y1", **fields: Any) -> Youth:
    """A 15-year-old girl in Boston, feasible for ``make_target()``."""
    values: dict[str, Any] = {
        "date_of_birth": date(2010, 1, 1),
        "gender": "female",
        "origin_lat": BOSTON[0],
        "origin_lon": BOSTON[1],
        "region": "Boston",
        "languages": ("en",),
        "max_distance_km": 50.0,
    }
    values.update(fields)
    return Youth(id=id, **values)


def make_target(id: str = "t1", kind: str = "foster", **fields: Any) -> Target:
    """An open, licensed household 5 km north of Boston for ages 10-18 of every gender (or, with
    ``kind="safe_house_bed"``, a bed of safe house ``sh1``)."""
    lat, lon = km_north(5.0)
    values: dict[str, Any] = {
        "lat": lat,
        "lon": lon,
        "region": "Boston",
        "capacity": 1,
        "min_age": 10,
        "max_age": 18,
        "genders": ("female", "male", "nonbinary"),
        "languages": ("en",),
    }
    if kind == "safe_house_bed":
        values["safe_house_id"] = "sh1"
    else:
        values["licensed_until"] = date(2026, 1, 1)
        values["availability_confirmed_on"] = date(2025, 5, 20)
    values.update(fields)
    return Target(id=id, kind=kind, **values)  # type: ignore[arg-type]


def make_instance(youth: list[Youth], targets: list[Target], **fields: Any) -> Instance:
    return Instance(reference_date=DAY, youth=tuple(youth), targets=tuple(targets), **fields)


def compiled(instance: Instance) -> tuple[YouthArrays, TargetArrays]:
    targets = compile_targets(instance.targets, instance.reference_date)
    return compile_youth(instance.youth, targets), targets


__all__ = ["DangerZone", "compiled", "km_north", "make_instance", "make_target", "make_youth"]

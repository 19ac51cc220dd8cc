"""What-if scenarios: changes to today's data, made in memory only, to see whom they would place.

A scenario combines any of three changes, all to the targets (the youth stay as they are):

- ``training``: the households of a region that lack only training for a level of care complete
  it. Every household there not yet ready for the level becomes ready; the engine's other rules
  (licence, availability, capacity, ...) still apply, which is what "lacking only training" means.
  The engine reads one level, ``trafficking_specialized`` (a youth's ``specialised_care``): other
  levels change the data but not whom the engine places.
- ``new_beds``: beds of one new safe house at a point, with the ages, genders, services and
  languages it takes, free and ready as every safe-house bed is.
- ``reopening``: paused households reopen, statewide or in one region.

Codes (services, languages) are plain strings here, as in the engine: the API checks them
against the shared vocabulary. Regions are named as ``Target.region`` and ``Youth.region`` name
them.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from placement.core.vocabulary import CareLevel, Gender
from placement.matching.schema import (
    SAFE_HOUSE_BED,
    Age,
    Instance,
    Latitude,
    Longitude,
    Record,
    Target,
)

NEW_SITE_ID = "whatif-house"
"""The new safe house's id in a scenario's data; its beds are ``whatif-house-bed-1`` and on."""

RegionName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
Codes = Annotated[tuple[Code, ...], msgspec.Meta(max_length=30)]


class Training(Record, frozen=True, kw_only=True):
    """The households of a region become ready for a level of care."""

    region: RegionName
    level: CareLevel = "trafficking_specialized"


class NewBeds(Record, frozen=True, kw_only=True):
    """Beds of one new safe house at a point (its municipality's centre will do)."""

    beds: Annotated[int, msgspec.Meta(ge=1, le=500)]
    lat: Latitude
    lon: Longitude
    region: RegionName
    min_age: Age
    max_age: Age
    genders: Annotated[tuple[Gender, ...], msgspec.Meta(min_length=1, max_length=3)]
    services: Codes = ()
    languages: Codes = ()

    def __post_init__(self) -> None:
        if self.min_age > self.max_age:
            raise ValueError("min_age must not exceed max_age")


class Reopening(Record, frozen=True, kw_only=True):
    """Paused households reopen."""

    region: RegionName | None = None
    """Only in this region; statewide when absent."""


class Scenario(Record, frozen=True, kw_only=True):
    """Any of the changes, combined."""

    training: Training | None = None
    new_beds: NewBeds | None = None
    reopening: Reopening | None = None

    def __post_init__(self) -> None:
        if self.training is None and self.new_beds is None and self.reopening is None:
            raise ValueError("a scenario changes something: give training, new_beds or reopening")


def apply(instance: Instance, scenario: Scenario, *, new_site_id: str) -> Instance:
    """A changed copy of the instance (which is left as it is); the new beds, if any, are those
    of safe house ``new_site_id``."""
    targets = tuple(_changed(target, scenario) for target in instance.targets)
    if scenario.new_beds is not None:
        if any(t.safe_house_id == new_site_id for t in targets):
            raise ValueError(f"safe house {new_site_id!r} is already in the instance")
        targets += new_beds(scenario.new_beds, new_site_id)
    return msgspec.structs.replace(instance, targets=targets)


def new_beds(beds: NewBeds, site_id: str) -> tuple[Target, ...]:
    """Free beds of a safe house, as ``placement.matches.loading.free_beds`` gives them, at the
    point given (which is also their area point)."""
    return tuple(
        Target(
            id=f"{site_id}-bed-{k}",
            kind=SAFE_HOUSE_BED,
            safe_house_id=site_id,
            lat=beds.lat,
            lon=beds.lon,
            area_lat=beds.lat,
            area_lon=beds.lon,
            region=beds.region,
            min_age=beds.min_age,
            max_age=beds.max_age,
            genders=beds.genders,
            services=beds.services,
            languages=beds.languages,
        )
        for k in range(1, beds.beds + 1)
    )


def _changed(target: Target, scenario: Scenario) -> Target:
    changes: dict[str, Any] = {}
    if scenario.training is not None and _trains(scenario.training, target):
        changes["ready_levels"] = (*target.ready_levels, scenario.training.level)
    if scenario.reopening is not None and _reopens(scenario.reopening, target):
        changes["availability"] = "open"
    return msgspec.structs.replace(target, **changes) if changes else target


def _trains(training: Training, target: Target) -> bool:
    return (
        target.kind != SAFE_HOUSE_BED
        and target.region == training.region
        and training.level not in target.ready_levels
    )


def _reopens(reopening: Reopening, target: Target) -> bool:
    return (
        target.kind != SAFE_HOUSE_BED
        and target.availability == "paused"
        and reopening.region in (None, target.region)
    )

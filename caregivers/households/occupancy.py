"""How many of a household's places are taken now: the placement domain owns placements, so it
provides the SQL (`placement.placements.occupancy`), injected by the app as `places_taken`."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Protocol

from sqlalchemy import ColumnElement


class PlacesTaken(Hashable, Protocol):
    def __call__(self) -> ColumnElement[int]:
        """Places taken now by live placements, as SQL correlated on `Household.id`."""
        ...

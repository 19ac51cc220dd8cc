"""How many of each household's places are taken now: the placement domain owns placements, so it
provides the SQL (`placement.placements.occupancy`), injected by the app as `places_taken`."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Subquery, func


class PlacesTaken(Hashable, Protocol):
    def __call__(self) -> Subquery:
        """Households with live placements now: columns `household_id` and `taken` (a count).

        Outer-joined once, it costs one pass over live placements, not a lookup per household."""
        ...


def taken_in(places: Subquery) -> ColumnElement[Any]:
    """The places taken in the outer-joined household (0 without a live placement)."""
    return func.coalesce(places.c.taken, 0)

"""Places a household's live placements take now (injected into the households' routes)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select

from caregivers.households.models import Household
from placement.placements.models import Placement, in_effect


def places_taken() -> ColumnElement[int]:
    """Held-or-active placements in effect in the household, correlated on `Household.id`."""
    return (
        select(func.count())
        .where(Placement.household_id == Household.id, in_effect())
        .correlate(Household)
        .scalar_subquery()
    )

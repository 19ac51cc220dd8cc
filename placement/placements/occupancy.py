"""Places households' live placements take now (injected into the households' routes)."""

from __future__ import annotations

from sqlalchemy import Subquery, func, select

from placement.placements.models import Placement, in_effect


def places_taken() -> Subquery:
    """Held-or-active placements in effect, counted per household."""
    return (
        select(Placement.household_id, func.count().label("taken"))
        .where(Placement.household_id.is_not(None), in_effect())
        .group_by(Placement.household_id)
        .subquery("taken")
    )

"""The statements of holding a bed or a place in a home and closing a placement, compiled once for the driver.

They are the hottest writes: built with the models' expressions, run on the session's own
connection in its transaction (`placement.core.compiled`). The bench's floor runs the very same.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, or_, select, update

from caregivers.households.models import Household, HouseholdYouth
from placement.core.compiled import Statement, compiled, param
from placement.placements.models import LIVE_STATUSES, Placement
from placement.safehouses.models import Bed, SafeHouse


def live_on(column: Any) -> Statement:
    """The status of a live placement on the bed or youth `id`, if there is one."""
    return compiled(
        select(Placement.status).where(column == param("id"), Placement.status.in_(LIVE_STATUSES))
    )


EXPIRE_HOLDS_OF = compiled(
    update(Placement)
    .where(
        Placement.status == "held",
        Placement.held_until <= param("now"),
        or_(
            Placement.bed_id == param("bed_id"),
            Placement.household_id == param("household_id"),
            Placement.youth_id == param("youth_id"),
        ),
    )
    .values(status="expired", closed_at=param("now"), close_reason="hold_expired")
    .returning(Placement.id)
)
HOUSE_OF_BED = compiled(select(Bed.safe_house_id).where(Bed.id == param("id")))
SHARE_HOUSE = compiled(select(SafeHouse).where(SafeHouse.id == param("id")).with_for_update(read=True))
LOCK_BED = compiled(select(Bed).where(Bed.id == param("id")).with_for_update())
LOCK_HOUSEHOLD = compiled(select(Household).where(Household.id == param("id")).with_for_update())
LIVE_IN_HOUSEHOLD = compiled(
    select(func.count()).where(Placement.household_id == param("id"), Placement.status.in_(LIVE_STATUSES))
)
RELATED_TO_HOUSEHOLD = compiled(
    select(HouseholdYouth.youth_id).where(
        HouseholdYouth.household_id == param("id"), HouseholdYouth.youth_id == param("youth_id")
    )
)
LIVE_ON_BED = live_on(Placement.bed_id)
LIVE_ON_YOUTH = live_on(Placement.youth_id)
INSERT_HOLD = compiled(
    insert(Placement).values(
        id=param("id"),
        youth_id=param("youth_id"),
        bed_id=param("bed_id"),
        household_id=param("household_id"),
        status="held",
        held_until=param("held_until"),
        created_by=param("created_by"),
    )
)
LOCK_PLACEMENT = compiled(select(Placement).where(Placement.id == param("id")).with_for_update())
CLOSE = compiled(
    update(Placement)
    .where(Placement.id == param("id"))
    .values(
        status=param("status"),
        closed_at=param("now"),
        close_reason=param("reason"),
        close_note=param("note"),
    )
)

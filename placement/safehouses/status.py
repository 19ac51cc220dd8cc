"""A bed's status, derived in SQL from the bed, its safe house and its live placement."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, case, literal, or_, select

from placement.placements.models import Placement, in_effect
from placement.safehouses.models import Bed, SafeHouse


def bed_status() -> ColumnElement[str]:
    """`available`, `held`, `occupied` or `out_of_service`, for a query joining Bed, SafeHouse
    and the bed's live Placement (outer join)."""
    return case(
        (
            or_(
                Bed.out_of_service_reason.is_not(None),
                Bed.active.is_(False),
                SafeHouse.active.is_(False),
            ),
            literal("out_of_service"),
        ),
        (Placement.status == "active", literal("occupied")),
        (Placement.status == "held", literal("held")),
        else_=literal("available"),
    )


def beds_with_status() -> Select[Bed, str]:
    """Every bed with its derived status."""
    return (
        select(Bed, bed_status().label("status"))
        .join(SafeHouse, SafeHouse.id == Bed.safe_house_id)
        .outerjoin(Placement, and_(Placement.bed_id == Bed.id, in_effect()))
    )


Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])


def only_free(query: Q) -> Q:
    """`query` (over beds joined to their safe house) narrowed to beds free now: active, in
    service, in an active house, with no placement in effect."""
    return query.outerjoin(Placement, and_(Placement.bed_id == Bed.id, in_effect())).where(
        Placement.id.is_(None),
        Bed.active.is_(True),
        Bed.out_of_service_reason.is_(None),
        SafeHouse.active.is_(True),
    )

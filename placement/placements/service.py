"""Holding beds for youth, confirming, ending and cancelling placements, and expiring holds.

The partial unique indexes on live placements (one per bed, one per youth) are the guard against
double booking; the checks here only turn a clash into a message that names the bed.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core import audit
from placement.core.audit import Actor
from placement.core.errors import Conflict, NotFound, Unprocessable
from placement.core.geo import distance_km
from placement.core.schemas import Page
from placement.core.settings import Settings
from placement.placements.models import LIVE_STATUSES, Placement
from placement.placements.schemas import PlacementCancel, PlacementCreate, PlacementEnd, PlacementOut
from placement.safehouses.models import Bed, SafeHouse
from placement.youth.models import Youth
from placement.youth.service import age_on, visible_youth

ENTITY = "placement"
LIVE_INDEXES = {"uq_placements_live_bed": "bed", "uq_placements_live_youth": "youth"}


def _placements() -> Select[Placement, str, uuid.UUID, str]:
    return (
        select(Placement, Bed.label, SafeHouse.id.label("safe_house_id"), SafeHouse.name)
        .join(Bed, Bed.id == Placement.bed_id)
        .join(SafeHouse, SafeHouse.id == Bed.safe_house_id)
    )


def _out(row: Any) -> PlacementOut:
    p: Placement = row[0]
    return PlacementOut(
        id=p.id,
        youth_id=p.youth_id,
        bed_id=p.bed_id,
        bed_label=row.label,
        safe_house_id=row.safe_house_id,
        safe_house=row.name,
        status=p.status,  # type: ignore[arg-type]
        held_until=p.held_until,
        created_by=p.created_by,
        created_at=p.created_at,
        confirmed_at=p.confirmed_at,
        closed_at=p.closed_at,
        close_reason=p.close_reason,
        close_note=p.close_note,
    )


def _visible_to(actor: Actor) -> ColumnElement[bool] | None:
    if actor.role != "caseworker":
        return None
    return Placement.youth_id.in_(select(Youth.id).where(Youth.caseworker_id == actor.user_id))


async def get_placement(session: AsyncSession, actor: Actor, placement_id: uuid.UUID) -> PlacementOut:
    query = _placements().where(Placement.id == placement_id)
    scope = _visible_to(actor)
    row = (await session.execute(query if scope is None else query.where(scope))).first()
    if row is None:
        raise NotFound(f"No placement with id {placement_id}.")
    return _out(row)


async def list_placements(
    session: AsyncSession,
    actor: Actor,
    status: str | None,
    youth_id: uuid.UUID | None,
    bed_id: uuid.UUID | None,
    limit: int,
    offset: int,
) -> Page[PlacementOut]:
    query = _placements()
    scope = _visible_to(actor)
    for condition in (
        scope,
        Placement.status == status if status else None,
        Placement.youth_id == youth_id if youth_id else None,
        Placement.bed_id == bed_id if bed_id else None,
    ):
        if condition is not None:
            query = query.where(condition)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.execute(
        query.order_by(Placement.created_at.desc(), Placement.id).limit(limit).offset(offset)
    )
    items = [_out(r) for r in rows]
    audit.record(session, "list_placements", ENTITY, None, ids=",".join(str(p.id) for p in items))
    return Page(items=items, total=total, limit=limit, offset=offset)


async def read_placement(session: AsyncSession, actor: Actor, placement_id: uuid.UUID) -> PlacementOut:
    """One placement, as a read that is audited (it says where a youth is)."""
    placement = await get_placement(session, actor, placement_id)
    audit.record(session, "read_placement", ENTITY, placement_id)
    return placement


async def expire_overdue_holds(session: AsyncSession, now: datetime, *only: ColumnElement[bool]) -> int:
    """Mark holds past their deadline `expired` (all, or only those matching `only`)."""
    expired = await session.scalars(
        update(Placement)
        .where(Placement.status == "held", Placement.held_until <= now, *only)
        .values(status="expired", closed_at=now, close_reason="hold_expired")
        .returning(Placement.id)
    )
    ids = list(expired)
    for placement_id in ids:
        audit.record(session, "expire_hold", ENTITY, placement_id)
    return len(ids)


def _deadline(data: PlacementCreate, settings: Settings, now: datetime) -> datetime:
    held_until = data.held_until or now + timedelta(hours=settings.hold_hours)
    if held_until.tzinfo is None:
        raise Unprocessable("held_until: give a time zone (e.g. 2026-11-24T17:00:00Z)")
    if held_until <= now:
        raise Unprocessable(f"held_until: {held_until.isoformat()} is not in the future")
    if held_until > now + timedelta(hours=settings.hold_max_hours):
        raise Unprocessable(f"held_until: a hold may last at most {settings.hold_max_hours} hours")
    return held_until


def check_eligible(youth: Youth, house: SafeHouse, on: datetime) -> None:
    """Refuse a bed the youth may not be placed in: safety first, then age and gender."""
    if house.id in youth.excluded_safe_house_ids:
        raise Unprocessable(f"The youth's safety plan excludes {house.name}.")
    for zone in youth.danger_zones:
        if distance_km(zone["lat"], zone["lon"], house.lat, house.lon) <= zone["radius_km"]:
            label = f" ({zone['label']})" if zone.get("label") else ""
            raise Unprocessable(f"{house.name} lies inside one of the youth's danger zones{label}.")
    age = age_on(youth.date_of_birth, on.date())
    if not house.min_age <= age <= house.max_age:
        raise Unprocessable(f"{house.name} takes ages {house.min_age}-{house.max_age}; the youth is {age}.")
    if youth.gender not in house.genders:
        raise Unprocessable(f"{house.name} does not take {youth.gender} youth.")


async def hold_bed(
    session: AsyncSession, actor: Actor, data: PlacementCreate, settings: Settings, now: datetime
) -> PlacementOut:
    """Hold a bed for a youth until a deadline. Raises Conflict (naming the bed) if it is taken."""
    held_until = _deadline(data, settings, now)
    await expire_overdue_holds(
        session, now, or_(Placement.bed_id == data.bed_id, Placement.youth_id == data.youth_id)
    )
    youth = await visible_youth(session, actor, data.youth_id, lock=True)
    if youth.exited_at is not None:
        raise Conflict("The youth has exited the program; re-open the referral first.")
    bed_row = (await session.execute(select(Bed.safe_house_id).where(Bed.id == data.bed_id))).first()
    if bed_row is None:
        raise Unprocessable(f"bed_id: no bed with id {data.bed_id}")
    # Share-lock the house (so it cannot be deactivated under us), then lock the bed.
    house = await session.get(SafeHouse, bed_row.safe_house_id, with_for_update={"read": True})
    bed = await session.get(Bed, data.bed_id, with_for_update=True)
    assert house is not None and bed is not None
    where = f"Bed {bed.label} at {house.name}"
    if not (bed.active and house.active) or bed.out_of_service_reason:
        raise Conflict(f"{where} is out of service.")
    if await _live_on(session, Placement.bed_id == bed.id):
        raise Conflict(f"{where} is already held or occupied.", bed_id=str(bed.id))
    if status := await _live_on(session, Placement.youth_id == youth.id):
        raise Conflict(f"The youth already has a {status} placement; end or cancel it first.")
    check_eligible(youth, house, now)
    placement = Placement(
        youth_id=youth.id, bed_id=bed.id, status="held", held_until=held_until, created_by=actor.user_id
    )
    session.add(placement)
    try:
        await session.flush()
    except IntegrityError as clash:
        which = LIVE_INDEXES.get(getattr(getattr(clash.orig, "__cause__", None), "constraint_name", ""), "")
        subject = where if which != "youth" else "The youth"
        raise Conflict(f"{subject} was just held by another request.", bed_id=str(bed.id)) from None
    audit.record(session, "hold_bed", ENTITY, placement.id, bed_id=str(bed.id), youth_id=str(youth.id))
    return await get_placement(session, actor, placement.id)


async def _live_on(session: AsyncSession, which: ColumnElement[bool]) -> str | None:
    return await session.scalar(select(Placement.status).where(which, Placement.status.in_(LIVE_STATUSES)))


async def _locked(session: AsyncSession, placement_id: uuid.UUID) -> Placement:
    placement = await session.get(Placement, placement_id, with_for_update=True)
    if placement is None:
        raise NotFound(f"No placement with id {placement_id}.")
    return placement


def _require(placement: Placement, status: str, verb: str) -> None:
    if placement.status != status:
        raise Conflict(f"Only a {status} placement can be {verb}; this one is {placement.status}.")


async def confirm_placement(
    session: AsyncSession, actor: Actor, placement_id: uuid.UUID, now: datetime
) -> PlacementOut:
    """The youth has arrived: the hold becomes an active placement."""
    placement = await _locked(session, placement_id)
    _require(placement, "held", "confirmed")
    if placement.held_until <= now:
        raise Conflict(f"The hold expired at {placement.held_until.isoformat()}; hold the bed again.")
    placement.status, placement.confirmed_at = "active", now
    await session.flush()
    audit.record(session, "confirm_placement", ENTITY, placement_id)
    return await get_placement(session, actor, placement_id)


async def end_placement(
    session: AsyncSession, actor: Actor, placement_id: uuid.UUID, data: PlacementEnd, now: datetime
) -> PlacementOut:
    """The youth has left the bed: an active placement ends, with its reason."""
    return await _close(session, actor, placement_id, ("active", "ended"), data.reason, data.note, now)


async def cancel_hold(
    session: AsyncSession, actor: Actor, placement_id: uuid.UUID, data: PlacementCancel, now: datetime
) -> PlacementOut:
    """The hold will not become a placement: it is cancelled, with its reason."""
    return await _close(session, actor, placement_id, ("held", "cancelled"), data.reason, data.note, now)


async def _close(
    session: AsyncSession,
    actor: Actor,
    placement_id: uuid.UUID,
    change: tuple[str, str],
    reason: str,
    note: str,
    now: datetime,
) -> PlacementOut:
    before, after = change
    placement = await _locked(session, placement_id)
    _require(placement, before, after)
    if reason == "other" and not note.strip():
        raise Unprocessable("note: say what happened when the reason is 'other'")
    placement.status, placement.closed_at = after, now
    placement.close_reason, placement.close_note = reason, note or None
    await session.flush()
    audit.record(
        session, "end_placement" if after == "ended" else "cancel_hold", ENTITY, placement_id, reason=reason
    )
    return await get_placement(session, actor, placement_id)

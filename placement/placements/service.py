"""Holding beds and places in homes, confirming, ending and cancelling placements, expiring holds.

The partial unique indexes on live placements (one per bed, one per youth) are the guard against
double booking; the checks here only turn a clash into a message that names the bed. A home's
capacity is guarded by the lock on its row, taken before its live placements are counted.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from caregivers.households.models import KIN_KINDS, Household
from caregivers.households.service import licensed_on, open_on
from placement.core import audit
from placement.core.audit import Actor
from placement.core.compiled import Statement, compiled, param
from placement.core.db import driver_connection
from placement.core.errors import Conflict, NotFound, Unprocessable
from placement.core.geo import distance_km
from placement.core.schemas import Page
from placement.core.settings import Settings
from placement.placements.models import Placement
from placement.placements.schemas import PlacementCancel, PlacementCreate, PlacementEnd, PlacementOut
from placement.placements.statements import (
    CLOSE,
    EXPIRE_HOLDS_OF,
    HOUSE_OF_BED,
    INSERT_HOLD,
    LIVE_IN_HOUSEHOLD,
    LIVE_ON_BED,
    LIVE_ON_YOUTH,
    LOCK_BED,
    LOCK_HOUSEHOLD,
    LOCK_PLACEMENT,
    RELATED_TO_HOUSEHOLD,
    SHARE_HOUSE,
)
from placement.safehouses.models import Bed, SafeHouse
from placement.youth.models import Youth
from placement.youth.service import age_on, lock_visible_youth

ENTITY = "placement"
LIVE_INDEXES = {"uq_placements_live_bed": "bed", "uq_placements_live_youth": "youth"}


def _placements() -> Select[*tuple[Any, ...]]:
    """Each placement's columns, with its bed's label and its safe house, or its household."""
    return (
        select(
            *Placement.__table__.c,
            Bed.label.label("bed_label"),
            SafeHouse.id.label("safe_house_id"),
            SafeHouse.name.label("safe_house"),
            Household.name.label("household"),
        )
        .outerjoin(Bed, Bed.id == Placement.bed_id)
        .outerjoin(SafeHouse, SafeHouse.id == Bed.safe_house_id)
        .outerjoin(Household, Household.id == Placement.household_id)
    )


def _out(row: Mapping[Any, Any]) -> PlacementOut:
    return PlacementOut(
        id=row["id"],
        youth_id=row["youth_id"],
        bed_id=row["bed_id"],
        bed_label=row["bed_label"],
        safe_house_id=row["safe_house_id"],
        safe_house=row["safe_house"],
        household_id=row["household_id"],
        household=row["household"],
        status=row["status"],
        held_until=row["held_until"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        confirmed_at=row["confirmed_at"],
        closed_at=row["closed_at"],
        close_reason=row["close_reason"],
        close_note=row["close_note"],
    )


def _on_caseload(caseworker: Any) -> ColumnElement[bool]:
    """Placements of youth on a caseworker's caseload (a value, or a parameter bound later)."""
    return Placement.youth_id.in_(select(Youth.id).where(Youth.caseworker_id == caseworker))


def _visible_to(actor: Actor) -> ColumnElement[bool] | None:
    return _on_caseload(actor.user_id) if actor.role == "caseworker" else None


@functools.cache
def one_placement(caseload_only: bool) -> Statement:
    """One placement by id (`id`), of a youth on the caseload (`caseworker_id`) if asked."""
    query = _placements().where(Placement.id == param("id"))
    return compiled(query.where(_on_caseload(param("caseworker_id"))) if caseload_only else query)


async def get_placement(session: AsyncSession, actor: Actor, placement_id: uuid.UUID) -> PlacementOut:
    """One placement, if this actor may see it (read on the driver: it ends every write here)."""
    await session.flush()  # the driver does not autoflush: a change just made must show
    connection = await driver_connection(session)
    statement = one_placement(actor.role == "caseworker")
    row = await statement.fetchrow(connection, id=placement_id, caseworker_id=actor.user_id)
    if row is None:
        raise NotFound(f"No placement with id {placement_id}.")
    return _out(row)


async def list_placements(
    session: AsyncSession,
    actor: Actor,
    status: str | None,
    youth_id: uuid.UUID | None,
    bed_id: uuid.UUID | None,
    household_id: uuid.UUID | None,
    limit: int,
    offset: int,
    *,
    lapsing_first: bool = False,
) -> Page[PlacementOut]:
    """Placements matching every filter given, newest first (or, `lapsing_first`, the holds that
    lapse soonest first), as an audited read."""
    query = _placements()
    scope = _visible_to(actor)
    for condition in (
        scope,
        Placement.status == status if status else None,
        Placement.youth_id == youth_id if youth_id else None,
        Placement.bed_id == bed_id if bed_id else None,
        Placement.household_id == household_id if household_id else None,
    ):
        if condition is not None:
            query = query.where(condition)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    order = Placement.held_until.asc() if lapsing_first else Placement.created_at.desc()
    rows = await session.execute(query.order_by(order, Placement.id).limit(limit).offset(offset))
    items = [_out(r._mapping) for r in rows]
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


def check_eligible(youth: Youth, place: SafeHouse | Household, on: datetime) -> None:
    """Refuse a bed or a home the youth may not be placed in: safety first, then age and gender."""
    excluded = youth.excluded_household_ids if isinstance(place, Household) else youth.excluded_safe_house_ids
    if place.id in excluded:
        raise Unprocessable(f"The youth's safety plan excludes {place.name}.")
    for zone in youth.danger_zones:
        if distance_km(zone["lat"], zone["lon"], place.lat, place.lon) <= zone["radius_km"]:
            label = f" ({zone['label']})" if zone.get("label") else ""
            raise Unprocessable(f"{place.name} lies inside one of the youth's danger zones{label}.")
    age = age_on(youth.date_of_birth, on.date())
    if not place.min_age <= age <= place.max_age:
        raise Unprocessable(f"{place.name} takes ages {place.min_age}-{place.max_age}; the youth is {age}.")
    if youth.gender not in place.genders:
        raise Unprocessable(f"{place.name} does not take {youth.gender} youth.")


async def hold_place(
    session: AsyncSession, actor: Actor, data: PlacementCreate, settings: Settings, now: datetime
) -> PlacementOut:
    """Hold a bed, or a place in a household, for a youth until a deadline. Raises Conflict
    (naming the bed or home) if it is taken or cannot take anyone now.

    The hottest write: its statements run on the driver (`placement.placements.statements`).
    """
    if (data.bed_id is None) == (data.household_id is None):
        raise Unprocessable("Name exactly one of bed_id (a bed in a safe house) and household_id.")
    held_until = _deadline(data, settings, now)
    connection = await driver_connection(session)
    for expired in await EXPIRE_HOLDS_OF.fetch(
        connection, now=now, bed_id=data.bed_id, household_id=data.household_id, youth_id=data.youth_id
    ):
        audit.record(session, "expire_hold", ENTITY, expired["id"])
    row = await lock_visible_youth(session, actor, data.youth_id)
    if row["exited_at"] is not None:
        raise Conflict("The youth has exited the program; re-open the referral first.")
    youth = Youth(**{k: v for k, v in row.items() if k != "status"})
    place: SafeHouse | Household
    if data.bed_id is not None:
        place, where = await _reserve_bed(connection, data.bed_id)
    else:
        assert data.household_id is not None
        place, where = await _reserve_home(connection, youth, data.household_id, now)
    if status := await LIVE_ON_YOUTH.fetchval(connection, id=data.youth_id):
        raise Conflict(f"The youth already has a {status} placement; end or cancel it first.")
    check_eligible(youth, place, now)
    placement_id = uuid.uuid4()
    try:
        await INSERT_HOLD.execute(
            connection,
            id=placement_id,
            youth_id=data.youth_id,
            bed_id=data.bed_id,
            household_id=data.household_id,
            held_until=held_until,
            created_by=actor.user_id,
        )
    except asyncpg.UniqueViolationError as clash:
        subject = where if LIVE_INDEXES.get(clash.constraint_name or "") != "youth" else "The youth"
        target = {"bed_id": str(data.bed_id)} if data.bed_id else {"household_id": str(data.household_id)}
        raise Conflict(f"{subject} was just held by another request.", **target) from None
    audit.record(
        session,
        "hold_place",
        ENTITY,
        placement_id,
        youth_id=str(data.youth_id),
        bed_id=str(data.bed_id) if data.bed_id else None,
        household_id=str(data.household_id) if data.household_id else None,
    )
    return await get_placement(session, actor, placement_id)


async def _reserve_bed(connection: asyncpg.Connection, bed_id: uuid.UUID) -> tuple[SafeHouse, str]:
    """Lock a free bed (its house share-locked, so it cannot be deactivated under us)."""
    house_id = await HOUSE_OF_BED.fetchval(connection, id=bed_id)
    if house_id is None:
        raise Unprocessable(f"bed_id: no bed with id {bed_id}")
    house = SafeHouse(**(await SHARE_HOUSE.one(connection, id=house_id)))
    bed = await LOCK_BED.one(connection, id=bed_id)
    where = f"Bed {bed['label']} at {house.name}"
    if not (bed["active"] and house.active) or bed["out_of_service_reason"]:
        raise Conflict(f"{where} is out of service.")
    if await LIVE_ON_BED.fetchval(connection, id=bed_id):
        raise Conflict(f"{where} is already held or occupied.", bed_id=str(bed_id))
    return house, where


def refuse_unless_taking_children(home: Household, today: date) -> None:
    """Conflict unless the home's licence runs and it is open (or its pause is over) on `today`."""
    if not licensed_on(home, today):
        until = f", expires {home.licence_expires_on}" if home.licence_expires_on else ""
        raise Conflict(
            f"{home.name}'s licence does not let it take children today ({home.licence_status}{until})."
        )
    if not open_on(home, today):
        until = f" until {home.paused_until}" if home.paused_until else ""
        raise Conflict(f"{home.name} is {home.availability}{until}: it takes no children now.")


async def _reserve_home(
    connection: asyncpg.Connection, youth: Youth, household_id: uuid.UUID, now: datetime
) -> tuple[Household, str]:
    """Lock a household with a free place that takes children today and may take this youth.

    The row lock is the guard: holds in one home are counted one transaction at a time."""
    row = await LOCK_HOUSEHOLD.fetchrow(connection, id=household_id)
    if row is None:
        raise Unprocessable(f"household_id: no household with id {household_id}")
    home = Household(**row)
    refuse_unless_taking_children(home, now.date())
    taken = await LIVE_IN_HOUSEHOLD.fetchval(connection, id=household_id)
    if taken >= home.capacity:
        raise Conflict(f"{home.name} is full: {taken} of {home.capacity} places are held or taken.")
    if home.kind in KIN_KINDS and not await RELATED_TO_HOUSEHOLD.fetchval(
        connection, id=household_id, youth_id=youth.id
    ):
        raise Unprocessable(f"{home.name} is a {home.kind} home and takes only the youth related to it.")
    return home, home.name


async def _locked(session: AsyncSession, placement_id: uuid.UUID) -> Placement:
    placement = await session.get(Placement, placement_id, with_for_update=True)
    if placement is None:
        raise NotFound(f"No placement with id {placement_id}.")
    return placement


def _require(current: str, status: str, verb: str) -> None:
    if current != status:
        raise Conflict(f"Only a {status} placement can be {verb}; this one is {current}.")


async def confirm_placement(
    session: AsyncSession, actor: Actor, placement_id: uuid.UUID, now: datetime
) -> PlacementOut:
    """The youth has arrived: the hold becomes an active placement (in a home, only if it still
    takes children today: its row locked, as when it was held)."""
    placement = await _locked(session, placement_id)
    _require(placement.status, "held", "confirmed")
    if placement.held_until <= now:
        where = "bed" if placement.bed_id else "place"
        raise Conflict(f"The hold expired at {placement.held_until.isoformat()}; hold the {where} again.")
    if placement.household_id is not None:
        home = await LOCK_HOUSEHOLD.one(await driver_connection(session), id=placement.household_id)
        refuse_unless_taking_children(Household(**home), now.date())
    placement.status, placement.confirmed_at = "active", now
    await session.flush()
    audit.record(session, "confirm_placement", ENTITY, placement_id)
    return await get_placement(session, actor, placement_id)


async def end_placement(
    session: AsyncSession, actor: Actor, placement_id: uuid.UUID, data: PlacementEnd, now: datetime
) -> PlacementOut:
    """The youth has left the bed or home: an active placement ends, with its reason."""
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
    connection = await driver_connection(session)
    placement = await LOCK_PLACEMENT.fetchrow(connection, id=placement_id)
    if placement is None:
        raise NotFound(f"No placement with id {placement_id}.")
    _require(placement["status"], before, after)
    if reason == "other" and not note.strip():
        raise Unprocessable("note: say what happened when the reason is 'other'")
    await CLOSE.execute(connection, id=placement_id, status=after, now=now, reason=reason, note=note or None)
    audit.record(
        session, "end_placement" if after == "ended" else "cancel_hold", ENTITY, placement_id, reason=reason
    )
    return await get_placement(session, actor, placement_id)

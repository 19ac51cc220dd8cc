"""Registering and changing safe houses and beds, and reading them back by role."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Row, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core import audit
from placement.core.audit import Actor
from placement.core.errors import Conflict, NotFound, Unprocessable
from placement.core.schemas import Page, changed_fields, check_codes
from placement.core.security.policy import may_see_locations
from placement.core.vocabulary import LANGUAGES, SERVICES
from placement.reference.models import County, Municipality, Region
from placement.reference.places import place_of
from placement.reference.schemas import Place
from placement.safehouses.models import Bed, SafeHouse
from placement.safehouses.schemas import (
    BedCounts,
    BedCreate,
    BedOut,
    BedUpdate,
    SafeHouseCreate,
    SafeHouseDetail,
    SafeHouseOut,
    SafeHouseUpdate,
)
from placement.safehouses.status import beds_with_status

ENTITY = "safe_house"


def _check_profile(house: SafeHouse) -> None:
    if house.min_age > house.max_age:
        raise Unprocessable(f"min_age {house.min_age} is above max_age {house.max_age}")
    house.services = check_codes("services", house.services, SERVICES)
    house.languages = check_codes("languages", house.languages, LANGUAGES)
    house.genders = list(dict.fromkeys(house.genders))


async def _name_is_free(session: AsyncSession, name: str, house_id: uuid.UUID | None) -> None:
    taken = await session.scalar(select(SafeHouse.id).where(SafeHouse.name == name))
    if taken is not None and taken != house_id:
        raise Conflict(f"A safe house named {name!r} is already registered.")


def _houses_query() -> Select[*tuple[Any, ...]]:
    statuses = beds_with_status().subquery()
    counts = (
        select(
            statuses.c.safe_house_id,
            func.count().label("total"),
            *(
                func.count().filter(statuses.c.status == s).label(s)
                for s in ("available", "held", "occupied", "out_of_service")
            ),
        )
        .group_by(statuses.c.safe_house_id)
        .subquery()
    )
    return (
        select(
            SafeHouse,
            Municipality.name.label("municipality"),
            County.name.label("county"),
            Region.name.label("region"),
            *(
                func.coalesce(getattr(counts.c, c), 0).label(c)
                for c in ("total", "available", "held", "occupied", "out_of_service")
            ),
        )
        .join(Municipality, Municipality.id == SafeHouse.municipality_id)
        .join(County, County.id == Municipality.county_id)
        .join(Region, Region.id == Municipality.region_id)
        .outerjoin(counts, counts.c.safe_house_id == SafeHouse.id)
    )


def _house_out(row: Row[Any], actor: Actor, cls: type[SafeHouseOut] = SafeHouseOut) -> Any:
    house: SafeHouse = row[0]
    out = cls(
        id=house.id,
        name=house.name,
        operator=house.operator,
        place=Place(
            municipality_id=house.municipality_id,
            municipality=row.municipality,
            county=row.county,
            region=row.region,
        ),
        min_age=house.min_age,
        max_age=house.max_age,
        genders=house.genders,
        services=house.services,
        languages=house.languages,
        active=house.active,
        beds=BedCounts(
            total=row.total,
            available=row.available,
            held=row.held,
            occupied=row.occupied,
            out_of_service=row.out_of_service,
        ),
    )
    if may_see_locations(actor):
        out.street_address, out.lat, out.lon = house.street_address, house.lat, house.lon
    return out


def bed_out(bed: Bed, status: str) -> BedOut:
    return BedOut(
        id=bed.id,
        safe_house_id=bed.safe_house_id,
        label=bed.label,
        active=bed.active,
        status=status,  # type: ignore[arg-type]
        out_of_service_reason=bed.out_of_service_reason,
        out_of_service_since=bed.out_of_service_since,
    )


async def get_safe_house(session: AsyncSession, actor: Actor, house_id: uuid.UUID) -> SafeHouseDetail:
    """One safe house with its beds; reading its address is audited."""
    row = (await session.execute(_houses_query().where(SafeHouse.id == house_id))).first()
    if row is None:
        raise NotFound(f"No safe house with id {house_id}.")
    beds = await session.execute(beds_with_status().where(Bed.safe_house_id == house_id).order_by(Bed.label))
    detail: SafeHouseDetail = _house_out(row, actor, SafeHouseDetail)
    detail.bed_list = [bed_out(bed, status) for bed, status in beds]
    if may_see_locations(actor):
        audit.record(session, "read_safe_house_location", ENTITY, house_id)
    return detail


async def list_safe_houses(
    session: AsyncSession,
    actor: Actor,
    region_id: uuid.UUID | None,
    county_id: uuid.UUID | None,
    active: bool | None,
    limit: int,
    offset: int,
) -> Page[SafeHouseOut]:
    query = _houses_query()
    if region_id:
        query = query.where(Municipality.region_id == region_id)
    if county_id:
        query = query.where(Municipality.county_id == county_id)
    if active is not None:
        query = query.where(SafeHouse.active.is_(active))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.execute(query.order_by(SafeHouse.name).limit(limit).offset(offset))
    items = [_house_out(row, actor) for row in rows]
    if items and may_see_locations(actor):
        audit.record(
            session, "list_safe_house_locations", ENTITY, None, ids=",".join(str(h.id) for h in items)
        )
    return Page(items=items, total=total, limit=limit, offset=offset)


async def create_safe_house(session: AsyncSession, actor: Actor, data: SafeHouseCreate) -> SafeHouseDetail:
    await place_of(session, data.municipality_id)
    await _name_is_free(session, data.name, None)
    house = SafeHouse(**msgspec.structs.asdict(data))
    _check_profile(house)
    session.add(house)
    await session.flush()
    audit.record(session, "create_safe_house", ENTITY, house.id)
    return await get_safe_house(session, actor, house.id)


async def _locked_house(session: AsyncSession, house_id: uuid.UUID) -> SafeHouse:
    house = await session.get(SafeHouse, house_id, with_for_update=True)
    if house is None:
        raise NotFound(f"No safe house with id {house_id}.")
    return house


async def update_safe_house(
    session: AsyncSession, actor: Actor, house_id: uuid.UUID, data: SafeHouseUpdate
) -> SafeHouseDetail:
    house = await _locked_house(session, house_id)
    changes = changed_fields(data)
    if "municipality_id" in changes:
        await place_of(session, changes["municipality_id"])
    if "name" in changes:
        await _name_is_free(session, changes["name"], house_id)
    if changes.get("active") is False:
        await _refuse_if_live(session, Bed.safe_house_id == house_id, "deactivate this safe house")
    for field, value in changes.items():
        setattr(house, field, value)
    _check_profile(house)
    await session.flush()
    audit.record(session, "update_safe_house", ENTITY, house_id, fields=",".join(sorted(changes)))
    return await get_safe_house(session, actor, house_id)


async def _refuse_if_live(session: AsyncSession, which: Any, what: str) -> None:
    """Refuse to take beds out of use while a youth holds or occupies one of them."""
    rows = await session.execute(beds_with_status().where(which))
    busy = sorted(bed.label for bed, status in rows if status in ("held", "occupied"))
    if busy:
        raise Conflict(
            f"Cannot {what}: bed(s) {', '.join(busy)} are held or occupied; "
            "end or cancel those placements first."
        )


async def add_bed(session: AsyncSession, house_id: uuid.UUID, data: BedCreate) -> BedOut:
    await _locked_house(session, house_id)
    if await session.scalar(select(Bed.id).where(Bed.safe_house_id == house_id, Bed.label == data.label)):
        raise Conflict(f"This safe house already has a bed labelled {data.label!r}.")
    bed = Bed(safe_house_id=house_id, label=data.label, active=data.active)
    session.add(bed)
    await session.flush()
    audit.record(session, "add_bed", "bed", bed.id, safe_house_id=str(house_id))
    return await get_bed(session, bed.id)


async def get_bed(session: AsyncSession, bed_id: uuid.UUID) -> BedOut:
    row = (await session.execute(beds_with_status().where(Bed.id == bed_id))).first()
    if row is None:
        raise NotFound(f"No bed with id {bed_id}.")
    return bed_out(*row)


async def update_bed(session: AsyncSession, bed_id: uuid.UUID, data: BedUpdate, now: datetime) -> BedOut:
    """Rename, retire or take a bed out of service (refused while a youth holds or occupies it)."""
    bed = await session.get(Bed, bed_id, with_for_update=True)
    if bed is None:
        raise NotFound(f"No bed with id {bed_id}.")
    changes = changed_fields(data)
    if "label" in changes and changes["label"] != bed.label:
        clash = await session.scalar(
            select(Bed.id).where(Bed.safe_house_id == bed.safe_house_id, Bed.label == changes["label"])
        )
        if clash:
            raise Conflict(f"This safe house already has a bed labelled {changes['label']!r}.")
        bed.label = changes["label"]
    if changes.get("active") is False or changes.get("out_of_service_reason"):
        await _refuse_if_live(session, Bed.id == bed_id, "take this bed out of use")
    if "active" in changes:
        bed.active = changes["active"]
    if "out_of_service_reason" in changes:
        reason = changes["out_of_service_reason"]
        if reason is None:
            bed.out_of_service_reason = bed.out_of_service_since = None
        else:
            bed.out_of_service_since = bed.out_of_service_since or now
            bed.out_of_service_reason = reason
    await session.flush()
    audit.record(session, "update_bed", "bed", bed_id, fields=",".join(sorted(changes)))
    return await get_bed(session, bed_id)

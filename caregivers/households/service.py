"""Registering and changing households and their caregivers, and reading them back by role."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, Select, Uuid, delete, func, insert, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from caregivers.households.access import (
    CAREGIVER_FIELDS,
    household_to_change,
    may_see_household_location,
    not_found,
    own_households,
)
from caregivers.households.models import (
    CAPACITY_WITHOUT_WAIVER,
    KIN_KINDS,
    PLACEABLE_LICENCES,
    Caregiver,
    Household,
    HouseholdYouth,
)
from caregivers.households.occupancy import PlacesTaken, taken_in
from caregivers.households.schemas import (
    Availability,
    CaregiverCreate,
    CaregiverOut,
    HouseholdCreate,
    HouseholdOut,
    HouseholdUpdate,
    ReadinessSummary,
)
from caregivers.training.readiness import readiness
from caregivers.training.schemas import LevelReadiness
from placement.core import audit
from placement.core.audit import Actor
from placement.core.concurrency import check_if_match
from placement.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from placement.core.schemas import Page, changed_fields, check_codes
from placement.core.security.models import User
from placement.core.security.policy import may_see_locations
from placement.core.vocabulary import LANGUAGES, SERVICES
from placement.reference.models import County, Municipality, Region
from placement.reference.places import place_of
from placement.reference.schemas import place_in

ENTITY = "household"


@dataclass(frozen=True, slots=True)
class Reading:
    """What reading households needs besides the session and the actor."""

    places_taken: PlacesTaken
    now: datetime
    stale_after_days: int
    readiness_counts_self_reported: bool


def licensed_on(household: Mapping[Any, Any] | Household, day: date) -> bool:
    """The licence lets the household take children on `day`."""
    status, expires = _get(household, "licence_status"), _get(household, "licence_expires_on")
    return status in PLACEABLE_LICENCES and expires is not None and expires >= day


def open_on(household: Mapping[Any, Any] | Household, day: date) -> bool:
    """Takes children on `day`: open, or paused with the pause over."""
    status, until = _get(household, "availability"), _get(household, "paused_until")
    return status == "open" or (status == "paused" and until is not None and until <= day)


def is_stale(confirmed_at: datetime | None, now: datetime, stale_after_days: int) -> bool:
    return confirmed_at is None or confirmed_at < now - timedelta(days=stale_after_days)


def _get(record: Mapping[Any, Any] | Household, field: str) -> Any:
    return record[field] if isinstance(record, Mapping) else getattr(record, field)


def _caregivers_json() -> ColumnElement[Any]:
    """The household's caregivers as a JSON array, primary first."""
    person = func.jsonb_build_object(
        "id", Caregiver.id, "household_id", Caregiver.household_id, "name", Caregiver.name,
        "role", Caregiver.role, "user_id", Caregiver.user_id,
    )  # fmt: skip
    people = (
        select(func.jsonb_agg(aggregate_order_by(person, Caregiver.role, Caregiver.name, Caregiver.id)))
        .where(Caregiver.household_id == Household.id)
        .correlate(Household)
        .scalar_subquery()
    )
    return func.coalesce(people, literal_column("'[]'::jsonb"), type_=JSONB)


def related_youth() -> ColumnElement[list[uuid.UUID]]:
    """The youth a household is related to, as an array (correlated on `Household.id`)."""
    ids = (
        select(HouseholdYouth.youth_id)
        .where(HouseholdYouth.household_id == Household.id)
        .correlate(Household)
        .order_by(HouseholdYouth.youth_id)
        .scalar_subquery()
    )
    return func.array(ids, type_=ARRAY(Uuid))


def households_query(places_taken: PlacesTaken) -> Select[*tuple[Any, ...]]:
    """Households with their place's names, places taken, caregivers and related youth: one
    statement for a whole page."""
    places = places_taken()
    return (
        select(
            *Household.__table__.c,
            Municipality.name.label("municipality"),
            County.name.label("county"),
            Region.name.label("region"),
            taken_in(places).label("taken"),
            _caregivers_json().label("caregivers"),
            related_youth().label("related_youth_ids"),
        )
        .join(Municipality, Municipality.id == Household.municipality_id)
        .join(County, County.id == Municipality.county_id)
        .join(Region, Region.id == Municipality.region_id)
        .outerjoin(places, places.c.household_id == Household.id)
    )


def household_out(
    row: Mapping[Any, Any], actor: Actor, reading: Reading, levels: list[LevelReadiness]
) -> HouseholdOut:
    now, today = reading.now, reading.now.date()
    out = HouseholdOut(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        licence_status=row["licence_status"],
        licence_expires_on=row["licence_expires_on"],
        licensed_now=licensed_on(row, today),
        capacity=row["capacity"],
        capacity_waiver_reason=row["capacity_waiver_reason"],
        free_places=max(row["capacity"] - row["taken"], 0),
        min_age=row["min_age"],
        max_age=row["max_age"],
        genders=row["genders"],
        services=row["services"],
        languages=row["languages"],
        takes_sibling_groups=row["takes_sibling_groups"],
        place=place_in(row),
        availability=Availability(
            status=row["availability"],
            paused_until=row["paused_until"],
            note=row["availability_note"],
            confirmed_at=row["availability_confirmed_at"],
            stale=is_stale(row["availability_confirmed_at"], now, reading.stale_after_days),
            open_now=open_on(row, today),
        ),
        caregivers=msgspec.convert(row["caregivers"], list[CaregiverOut]),
        related_youth_ids=row["related_youth_ids"],
        readiness=[
            ReadinessSummary(level=r.level, ready=r.ready, percent=r.percent, next_expiry=r.next_expiry)
            for r in levels
        ],
        version=row["version"],
    )
    if may_see_household_location(actor):
        out.street_address, out.lat, out.lon = row["street_address"], row["lat"], row["lon"]
    return out


async def get_household(
    session: AsyncSession, actor: Actor, household_id: uuid.UUID, reading: Reading
) -> HouseholdOut:
    """One household, if this actor may see it (404 otherwise); staff reading its address is audited."""
    await session.flush()
    query = households_query(reading.places_taken).where(Household.id == household_id)
    scope = own_households(actor)
    row = (await session.execute(query if scope is None else query.where(scope))).mappings().first()
    if row is None:
        raise not_found(household_id)
    if may_see_locations(actor):
        audit.record(session, "read_household_location", ENTITY, household_id)
    levels = await readiness_of(session, [household_id], reading)
    return household_out(row, actor, reading, levels[household_id])


async def readiness_of(
    session: AsyncSession, household_ids: list[uuid.UUID], reading: Reading
) -> dict[uuid.UUID, list[LevelReadiness]]:
    today, counts = reading.now.date(), reading.readiness_counts_self_reported
    return await readiness(session, household_ids, today, counts)


async def list_households(
    session: AsyncSession,
    actor: Actor,
    reading: Reading,
    filters: list[ColumnElement[bool]],
    limit: int,
    offset: int,
) -> Page[HouseholdOut]:
    """A page of the households this actor may see (a caregiver: their own), by name, with their
    readiness: two statements for any page (the page with its total, and readiness).

    The page's ids (and the total) are chosen first, so the per-household subqueries (places
    taken, caregivers, related youth) run for the page's rows only."""
    matches = select(Household.id).join(Municipality, Municipality.id == Household.municipality_id)
    scope = own_households(actor)
    matches = matches.where(*filters, *([] if scope is None else [scope]))
    page = (
        matches.add_columns(func.count().over().label("total"))
        .order_by(Household.name, Household.id)
        .limit(limit)
        .offset(offset)
        .subquery()
    )
    query = (
        households_query(reading.places_taken)
        .add_columns(page.c.total)
        .join(page, page.c.id == Household.id)
        .order_by(Household.name, Household.id)
    )
    rows = (await session.execute(query)).mappings().all()
    # Past the last page there is no row to carry the total: count without paging.
    everything = select(func.count()).select_from(matches.subquery())
    total = rows[0]["total"] if rows else await session.scalar(everything)
    levels = await readiness_of(session, [row["id"] for row in rows], reading)
    items = [household_out(row, actor, reading, levels[row["id"]]) for row in rows]
    if items and may_see_locations(actor):
        audit.record(
            session, "list_household_locations", ENTITY, None, ids=",".join(str(h.id) for h in items)
        )
    return Page(items=items, total=total or 0, limit=limit, offset=offset)


def _check_profile(household: Household) -> None:
    """The rules a household's own fields must keep (the table's checks are the guard)."""
    if household.min_age > household.max_age:
        raise Unprocessable(f"min_age {household.min_age} is above max_age {household.max_age}")
    if household.capacity > CAPACITY_WITHOUT_WAIVER and not household.capacity_waiver_reason:
        raise Unprocessable(
            f"capacity: more than {CAPACITY_WITHOUT_WAIVER} children needs capacity_waiver_reason "
            "(the waiver on record and why it was granted)"
        )
    if household.licence_status in PLACEABLE_LICENCES and household.licence_expires_on is None:
        raise Unprocessable(f"licence_expires_on: a {household.licence_status} licence has an expiry date")
    household.services = check_codes("services", household.services, SERVICES)
    household.languages = check_codes("languages", household.languages, LANGUAGES)
    household.genders = list(dict.fromkeys(household.genders))


def _check_related(kind: str, related: list[uuid.UUID]) -> list[uuid.UUID]:
    if kind in KIN_KINDS and not related:
        raise Unprocessable(
            f"related_youth_ids: a {kind} household takes only youth related to it; name them"
        )
    if kind not in KIN_KINDS and related:
        raise Unprocessable(
            f"related_youth_ids: only kin and biological households name related youth, not {kind}"
        )
    return list(dict.fromkeys(related))


async def _relate(session: AsyncSession, household_id: uuid.UUID, related: list[uuid.UUID]) -> None:
    """Make `related` the household's related youth (an unknown youth id is a 422)."""
    await session.execute(delete(HouseholdYouth).where(HouseholdYouth.household_id == household_id))
    if related:
        await session.execute(
            insert(HouseholdYouth), [{"household_id": household_id, "youth_id": y} for y in related]
        )


async def create_household(
    session: AsyncSession, actor: Actor, data: HouseholdCreate, reading: Reading
) -> HouseholdOut:
    await place_of(session, data.municipality_id)
    fields = msgspec.structs.asdict(data)
    related = _check_related(data.kind, fields.pop("related_youth_ids"))
    household = Household(**fields, availability="open", availability_confirmed_at=reading.now)
    _check_profile(household)
    session.add(household)
    await session.flush()
    await _relate(session, household.id, related)
    audit.record(session, "create_household", ENTITY, household.id, kind=data.kind)
    return await get_household(session, actor, household.id, reading)


async def update_household(
    session: AsyncSession,
    actor: Actor,
    household_id: uuid.UUID,
    data: HouseholdUpdate,
    version_read: str | None,
    reading: Reading,
) -> HouseholdOut:
    """Change a household's profile (its caregivers: ages, genders, languages, services, sibling
    groups) or, for staff, anything; refused (409) below the children it has now."""
    household = await household_to_change(session, actor, household_id)
    check_if_match(version_read, household.version, "household")
    changes = changed_fields(data)
    if actor.role == "caregiver" and (theirs_not := sorted(changes.keys() - CAREGIVER_FIELDS)):
        raise Forbidden(
            f"Placement staff record a household's {', '.join(theirs_not)}; ask them to change it."
        )
    related = changes.pop("related_youth_ids", None)
    if "municipality_id" in changes:
        await place_of(session, changes["municipality_id"])
    before = {field: getattr(household, field) for field in changes}
    for field, value in changes.items():
        setattr(household, field, value)
    _check_profile(household)
    if related is not None:
        await _relate(session, household_id, _check_related(household.kind, related))
    if "capacity" in changes:
        await _refuse_below_taken(session, household, reading.places_taken)
    household.version += 1
    await session.flush()
    trail = [f"{field}: {_was_now(field, before[field], value)}" for field, value in changes.items()]
    if related is not None:
        trail.append(f"related_youth_ids: {','.join(str(y) for y in related)}")
    audit.record(session, "update_household", ENTITY, household_id, changes="; ".join(trail))
    return await get_household(session, actor, household_id, reading)


CONFIDENTIAL = frozenset({"street_address", "lat", "lon"})


def _was_now(field: str, old: object, new: object) -> str:
    """A change as the audit keeps it: old and new values, but not the address or position."""
    return "changed" if field in CONFIDENTIAL else f"{old} -> {new}"


async def _refuse_below_taken(session: AsyncSession, household: Household, places_taken: PlacesTaken) -> None:
    places = places_taken()
    taken = await session.scalar(select(places.c.taken).where(places.c.household_id == household.id)) or 0
    if household.capacity < taken:
        raise Conflict(
            f"capacity: {taken} children are placed or held in this household; "
            f"it cannot drop to {household.capacity}. End or cancel placements first."
        )


async def add_caregiver(
    session: AsyncSession, actor: Actor, household_id: uuid.UUID, data: CaregiverCreate
) -> CaregiverOut:
    """Add a person to a household, linked to a `caregiver` login if given (one person a login)."""
    await household_to_change(session, actor, household_id)
    if data.user_id is not None:
        user = await session.get(User, data.user_id)
        if user is None or user.role != "caregiver" or not user.active:
            raise Unprocessable(f"user_id: {data.user_id} is not an active user with the role caregiver")
        if await session.scalar(select(Caregiver.id).where(Caregiver.user_id == data.user_id)):
            raise Conflict("That login already belongs to another caregiver.")
    person = Caregiver(household_id=household_id, name=data.name, role=data.role, user_id=data.user_id)
    session.add(person)
    await session.flush()
    audit.record(
        session, "add_caregiver", "caregiver", person.id, household_id=str(household_id), role=data.role
    )
    return await get_caregiver(session, person.id)


async def get_caregiver(session: AsyncSession, caregiver_id: uuid.UUID) -> CaregiverOut:
    person = await session.get(Caregiver, caregiver_id)
    if person is None:
        raise NotFound(f"No caregiver with id {caregiver_id}.")
    return CaregiverOut(
        id=person.id,
        household_id=person.household_id,
        name=person.name,
        role=person.role,
        user_id=person.user_id,
    )

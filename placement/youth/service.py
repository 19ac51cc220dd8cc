"""Referring youth and keeping their records, each caseworker to their own caseload."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Collection, Mapping
from datetime import date, datetime
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, Select, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from caregivers.households.models import Household
from placement.core import audit
from placement.core.audit import Actor
from placement.core.compiled import Statement, compiled, param
from placement.core.db import driver_connection
from placement.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from placement.core.schemas import Page, changed_fields, check_codes
from placement.core.security.models import User
from placement.core.vocabulary import LANGUAGES, SERVICES
from placement.placements.models import LIVE_STATUSES, Placement, in_effect
from placement.reference.models import Municipality
from placement.safehouses.models import SafeHouse
from placement.youth.models import Youth
from placement.youth.schemas import DangerZone, YouthCreate, YouthOut, YouthUpdate

ENTITY = "youth"


class DuplicateReferral(Conflict):
    """The case reference exists, maybe on another caseload: said without echoing it, and
    audited, since repeated tries would probe which references exist."""

    audited = True


OLDEST_AGE = 25


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@functools.cache
def youth_status() -> ColumnElement[str]:
    """The youth's status, derived from their live placement (built once: it is on every read)."""
    live = select(Placement.status).where(Placement.youth_id == Youth.id, in_effect()).scalar_subquery()
    return case(
        (Youth.exited_at.is_not(None), literal("exited")),
        (live == "active", literal("placed")),
        (live == "held", literal("held")),
        else_=literal("awaiting"),
    )


def caseload_of(actor: Actor) -> ColumnElement[bool] | None:
    """The youth this actor may see: a caseworker their own caseload (None: placement staff, all)."""
    return Youth.caseworker_id == actor.user_id if actor.role == "caseworker" else None


def _youth_out(youth: Mapping[Any, Any], today: date) -> YouthOut:
    """A youth's record from a row of the youth table's columns and their derived `status`."""
    return YouthOut(
        id=youth["id"],
        case_reference=youth["case_reference"],
        date_of_birth=youth["date_of_birth"],
        age=age_on(youth["date_of_birth"], today),
        gender=youth["gender"],
        origin_municipality_id=youth["origin_municipality_id"],
        origin_lat=youth["origin_lat"],
        origin_lon=youth["origin_lon"],
        languages=youth["languages"],
        required_services=youth["required_services"],
        specialised_care=youth["specialised_care"],
        sibling_group=youth["sibling_group"],
        urgency=youth["urgency"],
        max_distance_km=youth["max_distance_km"],
        danger_zones=msgspec.convert(youth["danger_zones"], list[DangerZone]),
        excluded_safe_house_ids=youth["excluded_safe_house_ids"],
        excluded_household_ids=youth["excluded_household_ids"],
        caseworker_id=youth["caseworker_id"],
        status=youth["status"],
        exited_at=youth["exited_at"],
        exit_reason=youth["exit_reason"],
        created_at=youth["created_at"],
        updated_at=youth["updated_at"],
    )


def _youth_records() -> Select[*tuple[Any, ...]]:
    """The youth table's columns and each youth's status (the rows `_youth_out` reads)."""
    return select(*Youth.__table__.c, youth_status().label("status"))


def _records(actor: Actor) -> Select[*tuple[Any, ...]]:
    """Youth records, of the rows this actor may see."""
    query = _youth_records()
    scope = caseload_of(actor)
    return query if scope is None else query.where(scope)


def _one_record(caseload_only: bool) -> Select[*tuple[Any, ...]]:
    """One youth's record by id (`youth_id`), within the caseload (`caseworker_id`) if asked."""
    query = _youth_records().where(Youth.id == param("youth_id"))
    return query.where(Youth.caseworker_id == param("caseworker_id")) if caseload_only else query


@functools.cache
def one_youth(caseload_only: bool) -> Statement:
    """The driver statement of `_one_record`."""
    return compiled(_one_record(caseload_only))


@functools.cache
def one_youth_locked(caseload_only: bool) -> Statement:
    """The same, locking the youth's row until the commit."""
    return compiled(_one_record(caseload_only).with_for_update(of=Youth))


async def lock_visible_youth(session: AsyncSession, actor: Actor, youth_id: uuid.UUID) -> Mapping[str, Any]:
    """The youth's record, locked until the commit, if this actor may see them; 404 otherwise
    (on the driver: holding a bed starts here)."""
    connection = await driver_connection(session)
    statement = one_youth_locked(caseload_of(actor) is not None)
    row: Mapping[str, Any] | None = await statement.fetchrow(
        connection, youth_id=youth_id, caseworker_id=actor.user_id
    )
    if row is None:
        raise NotFound(f"No youth with id {youth_id} on your caseload.")
    return row


async def youth_to_change(session: AsyncSession, actor: Actor, youth_id: uuid.UUID) -> Youth:
    """The youth, locked until the commit, if this actor may see them; 404 otherwise, so ids
    cannot be probed."""
    query = select(Youth).where(Youth.id == youth_id).with_for_update()
    scope = caseload_of(actor)
    youth = await session.scalar(query if scope is None else query.where(scope))
    if youth is None:
        raise NotFound(f"No youth with id {youth_id} on your caseload.")
    return youth


@functools.cache
def one_youth_read(caseload_only: bool) -> Statement:
    """`one_youth`, recording the read in the same statement (`audit.Reads.recorded`)."""
    return audit.read_and_recorded(_one_record(caseload_only), "read_youth", ENTITY)


async def read_youth(reads: audit.Reads, youth_id: uuid.UUID, today: date) -> YouthOut:
    """One youth's record, as an audited read: the hottest one, so the record is read and the read
    recorded in one statement on the driver."""
    statement = one_youth_read(caseload_of(reads.actor) is not None)
    row = await reads.recorded(statement, youth_id, youth_id=youth_id, caseworker_id=reads.actor.user_id)
    if row is None:
        raise NotFound(f"No youth with id {youth_id} on your caseload.")
    return _youth_out(row, today)


async def get_youth(session: AsyncSession, actor: Actor, youth_id: uuid.UUID, today: date) -> YouthOut:
    """`read_youth` on the session's connection (inside its transaction, if it has begun one)."""
    return await read_youth(await audit.reads_in(session, actor), youth_id, today)


async def list_youth(
    session: AsyncSession,
    actor: Actor,
    status: str | None,
    limit: int,
    offset: int,
    today: date,
    *,
    sibling_group: str | None = None,
) -> Page[YouthOut]:
    query = _records(actor)
    if status:
        query = query.where(youth_status() == status)
    if sibling_group is not None:
        query = query.where(Youth.sibling_group == sibling_group)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.execute(
        query.order_by(Youth.urgency.desc(), Youth.created_at, Youth.id).limit(limit).offset(offset)
    )
    items = [_youth_out(row._mapping, today) for row in rows]
    audit.record(session, "list_youth", ENTITY, None, ids=",".join(str(y.id) for y in items))
    return Page(items=items, total=total, limit=limit, offset=offset)


async def case_references(
    session: AsyncSession, actor: Actor, youth_ids: Collection[uuid.UUID]
) -> dict[str, str]:
    """The case reference of each of these youth the actor may see, by id as text (as the engine's
    records name youth): one statement for a page that names many."""
    query = select(Youth.id, Youth.case_reference).where(Youth.id.in_(list(youth_ids)))
    scope = caseload_of(actor)
    rows = await session.execute(query if scope is None else query.where(scope))
    return {str(youth_id): reference for youth_id, reference in rows}


async def _check_caseworker(session: AsyncSession, user_id: uuid.UUID) -> None:
    role = await session.scalar(select(User.role).where(User.id == user_id, User.active.is_(True)))
    if role != "caseworker":
        raise Unprocessable(f"caseworker_id: {user_id} is not an active caseworker")


def _check_age(born: date, today: date) -> None:
    """At referral, or when the date of birth is corrected (a youth may age out while referred)."""
    age = age_on(born, today)
    if born > today or age > OLDEST_AGE:
        raise Unprocessable(f"date_of_birth: {born} gives age {age}; the program serves ages 0-{OLDEST_AGE}")


async def _check_references(session: AsyncSession, youth: Youth) -> None:
    youth.languages = check_codes("languages", youth.languages, LANGUAGES)
    youth.required_services = check_codes("required_services", youth.required_services, SERVICES)
    youth.excluded_safe_house_ids = await _existing(
        session, SafeHouse, youth.excluded_safe_house_ids, "excluded_safe_house_ids", "safe house"
    )
    youth.excluded_household_ids = await _existing(
        session, Household, youth.excluded_household_ids, "excluded_household_ids", "household"
    )


async def _existing(
    session: AsyncSession, kind: type[SafeHouse | Household], ids: list[uuid.UUID], field: str, what: str
) -> list[uuid.UUID]:
    """`ids` without duplicates; Unprocessable naming any that is not a `kind`'s."""
    wanted = list(dict.fromkeys(ids))
    if wanted:
        found = set(await session.scalars(select(kind.id).where(kind.id.in_(wanted))))
        missing = [str(i) for i in wanted if i not in found]
        if missing:
            raise Unprocessable(f"{field}: no {what} with id {', '.join(missing)}")
    return wanted


async def _centroid(session: AsyncSession, municipality_id: uuid.UUID) -> tuple[float, float]:
    row = (
        await session.execute(
            select(Municipality.lat, Municipality.lon).where(Municipality.id == municipality_id)
        )
    ).first()
    if row is None:
        raise Unprocessable(f"origin_municipality_id: no municipality with id {municipality_id}")
    return row.lat, row.lon


async def refer_youth(session: AsyncSession, actor: Actor, data: YouthCreate, today: date) -> YouthOut:
    """Record a referral; a caseworker's goes on their own caseload."""
    if actor.role == "caseworker":
        if data.caseworker_id not in (None, actor.user_id):
            raise Forbidden("A caseworker refers youth to their own caseload only.")
        caseworker_id = actor.user_id
    elif data.caseworker_id is None:
        raise Unprocessable("caseworker_id: assign the youth to a caseworker")
    else:
        caseworker_id = data.caseworker_id
    assert caseworker_id is not None
    await _check_caseworker(session, caseworker_id)
    if await session.scalar(select(Youth.id).where(Youth.case_reference == data.case_reference)):
        raise DuplicateReferral(
            "This case reference is already in use. Check it, or ask placement staff to find the "
            "existing referral."
        )
    if (data.origin_lat is None) != (data.origin_lon is None):
        raise Unprocessable("origin_lat and origin_lon go together: give both or neither")
    lat, lon = await _centroid(session, data.origin_municipality_id)
    fields = msgspec.structs.asdict(data)
    fields.update(
        caseworker_id=caseworker_id,
        origin_lat=lat if data.origin_lat is None else data.origin_lat,
        origin_lon=lon if data.origin_lon is None else data.origin_lon,
        danger_zones=msgspec.to_builtins(data.danger_zones),
    )
    youth = Youth(**fields)
    _check_age(youth.date_of_birth, today)
    await _check_references(session, youth)
    session.add(youth)
    await session.flush()
    audit.record(session, "refer_youth", ENTITY, youth.id)
    return await get_youth(session, actor, youth.id, today)


async def update_youth(
    session: AsyncSession, actor: Actor, youth_id: uuid.UUID, data: YouthUpdate, now: datetime
) -> YouthOut:
    youth = await youth_to_change(session, actor, youth_id)
    changes = changed_fields(data)
    if "caseworker_id" in changes:
        if actor.role == "caseworker" and changes["caseworker_id"] != actor.user_id:
            raise Forbidden("Only placement staff reassign a youth to another caseworker.")
        await _check_caseworker(session, changes["caseworker_id"])
    if "origin_municipality_id" in changes and not {"origin_lat", "origin_lon"} & changes.keys():
        youth.origin_lat, youth.origin_lon = await _centroid(session, changes["origin_municipality_id"])
    elif "origin_municipality_id" in changes:
        await _centroid(session, changes["origin_municipality_id"])
    if "exit_reason" in changes:
        await _record_exit(session, youth, changes.pop("exit_reason"), now)
    if "danger_zones" in changes:
        changes["danger_zones"] = msgspec.to_builtins(changes["danger_zones"])
    for field, value in changes.items():
        setattr(youth, field, value)
    if "date_of_birth" in changes:
        _check_age(youth.date_of_birth, now.date())
    await _check_references(session, youth)
    await session.flush()
    audit.record(session, "update_youth", ENTITY, youth_id, fields=",".join(sorted(changed_fields(data))))
    return await get_youth(session, actor, youth_id, now.date())


async def _record_exit(session: AsyncSession, youth: Youth, reason: str | None, now: datetime) -> None:
    if reason is None:
        youth.exited_at = youth.exit_reason = None
        return
    live = await session.scalar(
        select(Placement.status).where(Placement.youth_id == youth.id, Placement.status.in_(LIVE_STATUSES))
    )
    if live is not None:
        raise Conflict(f"The youth has a {live} placement; end or cancel it before recording an exit.")
    youth.exited_at = youth.exited_at or now
    youth.exit_reason = reason

"""The floor: a bare Litestar app running the real routes' statements on a raw asyncpg pool.

No sign-in, no audit, no ORM session: what is left is the least any implementation of these
routes must pay. Its statements are the service's own, built from the same models and
expressions and compiled once for asyncpg (the SQL the service emits, `PLACEMENT_ECHO_SQL=1`),
and it makes the same checks in the same order, each route in one transaction.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import asyncpg
from litestar import Litestar, get, post
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.params import Parameter

from placement.core.audit import Actor
from placement.core.errors import Unprocessable
from placement.core.schemas import Limit, Offset
from placement.core.settings import Settings, plain_postgres_url
from placement.placements.schemas import PlacementCancel, PlacementCreate
from placement.placements.service import check_eligible, one_placement
from placement.placements.statements import (
    CLOSE,
    EXPIRE_HOLDS_OF,
    HOUSE_OF_BED,
    INSERT_HOLD,
    LIVE_ON_BED,
    LIVE_ON_YOUTH,
    LOCK_BED,
    LOCK_PLACEMENT,
    SHARE_HOUSE,
)
from placement.reference.nearby import place_filter
from placement.safehouses.availability import available_beds_sql, count_available_beds_sql
from placement.safehouses.models import SafeHouse
from placement.youth.models import Youth
from placement.youth.service import age_on, one_youth, one_youth_locked

# The free-beds filter check: the bench signs in as placement staff, who see exact distances.
FLOOR_ACTOR = Actor(user_id=None, name="bench floor", role="placement_staff")


# The statements of GET /youth/{id}, POST /placements and POST /placements/{id}/cancel: the service's.
READ_YOUTH, LOCK_YOUTH = one_youth(caseload_only=False), one_youth_locked(caseload_only=False)
PLACEMENT_OUT = one_placement(caseload_only=False)


def refused(status: int, detail: str) -> HTTPException:
    return HTTPException(status_code=status, detail=detail)


# --- Routes -----------------------------------------------------------------------------------


@get("/beds/available")
async def floor_available_beds(
    state: State,
    region: uuid.UUID | None = None,
    county: uuid.UUID | None = None,
    age: Annotated[int | None, Parameter(ge=0, le=25)] = None,
    gender: str | None = None,
    services: list[str] | None = None,
    near: Annotated[str | None, Parameter(max_length=60)] = None,
    within_km: Annotated[float | None, Parameter(gt=0, le=500)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The real endpoint's query parameters, checks and SQL (a count past the last page too)."""
    f = place_filter(FLOOR_ACTOR, region, county, age, gender, services or [], near, within_km)
    sql, args = available_beds_sql(f, limit, offset, exact=True)
    rows = await state.pool.fetch(sql, *args)
    if rows:
        total = rows[0]["total"]
    else:  # past the last page (or nothing matches): count without paging, as the real route does
        sql, args = count_available_beds_sql(f, exact=True)
        total = await state.pool.fetchval(sql, *args) or 0
    return {"items": [dict(row) for row in rows], "total": total, "limit": limit, "offset": offset}


@get("/youth/{id:uuid}")
async def floor_get_youth(state: State, id: uuid.UUID) -> dict[str, Any]:
    """The real read's SELECT, without the audit entry it writes."""
    row = await READ_YOUTH.fetchrow(state.pool, youth_id=id)
    if row is None:
        raise refused(404, f"No youth with id {id} on your caseload.")
    return {**dict(row), "age": age_on(row["date_of_birth"], datetime.now(UTC).date())}


async def check_hold(
    connection: asyncpg.Connection, youth_id: uuid.UUID, bed_id: uuid.UUID, now: datetime
) -> None:
    """The real hold's checks: the youth awaiting, the bed in service and free, the youth eligible."""
    youth = await LOCK_YOUTH.fetchrow(connection, youth_id=youth_id)
    if youth is None:
        raise refused(404, f"No youth with id {youth_id} on your caseload.")
    if youth["exited_at"] is not None:
        raise refused(409, "The youth has exited the program; re-open the referral first.")
    house_id = await HOUSE_OF_BED.fetchval(connection, id=bed_id)
    if house_id is None:
        raise refused(422, f"bed_id: no bed with id {bed_id}")
    house = await SHARE_HOUSE.one(connection, id=house_id)
    bed = await LOCK_BED.one(connection, id=bed_id)
    if not (bed["active"] and house["active"]) or bed["out_of_service_reason"]:
        raise refused(409, f"Bed {bed['label']} at {house['name']} is out of service.")
    if await LIVE_ON_BED.fetchval(connection, id=bed_id):
        raise refused(409, f"Bed {bed['label']} at {house['name']} is already held or occupied.")
    if status := await LIVE_ON_YOUTH.fetchval(connection, id=youth_id):
        raise refused(409, f"The youth already has a {status} placement; end or cancel it first.")
    person = Youth(**{key: value for key, value in youth.items() if key != "status"})
    try:
        check_eligible(person, SafeHouse(**dict(house)), now)
    except Unprocessable as refusal:
        raise refused(422, refusal.detail) from None


@post("/placements")
async def floor_hold_bed(state: State, data: PlacementCreate) -> dict[str, Any]:
    """The real hold's statements in one transaction; the partial unique indexes still guard."""
    now = datetime.now(UTC)
    held_until = data.held_until or now + timedelta(hours=state.hold_hours)
    placement_id = uuid.uuid4()
    async with state.pool.acquire() as connection, connection.transaction():
        if data.bed_id is None:
            raise refused(422, "The floor holds beds only: name bed_id.")
        await EXPIRE_HOLDS_OF.fetch(
            connection, now=now, bed_id=data.bed_id, household_id=None, youth_id=data.youth_id
        )
        await check_hold(connection, data.youth_id, data.bed_id, now)
        try:
            await INSERT_HOLD.execute(
                connection,
                id=placement_id,
                youth_id=data.youth_id,
                bed_id=data.bed_id,
                household_id=None,
                held_until=held_until,
                created_by=None,
            )
        except asyncpg.UniqueViolationError:
            raise refused(409, "The bed or the youth was just held by another request.") from None
        return dict(await PLACEMENT_OUT.one(connection, id=placement_id))


@post("/placements/{id:uuid}/cancel", status_code=200)
async def floor_cancel_hold(state: State, id: uuid.UUID, data: PlacementCancel) -> dict[str, Any]:
    """The real cancel's statements in one transaction."""
    if data.reason == "other" and not data.note.strip():
        raise refused(422, "note: say what happened when the reason is 'other'")
    async with state.pool.acquire() as connection, connection.transaction():
        placement = await LOCK_PLACEMENT.fetchrow(connection, id=id)
        if placement is None:
            raise refused(404, f"No placement with id {id}.")
        if placement["status"] != "held":
            raise refused(409, f"Only a held placement can be cancelled; this one is {placement['status']}.")
        now = datetime.now(UTC)
        await CLOSE.execute(
            connection, id=id, status="cancelled", now=now, reason=data.reason, note=data.note or None
        )
        return dict(await PLACEMENT_OUT.one(connection, id=id))


# --- The app, built by uvicorn (`--factory`) in its own subprocess -----------------------------


async def decode_json_columns(connection: asyncpg.Connection) -> None:
    """JSON columns come back decoded, as they do through SQLAlchemy."""
    for kind in ("json", "jsonb"):
        await connection.set_type_codec(kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


def floor_app() -> Litestar:
    """A bare Litestar app: the routes above, no guards, a raw asyncpg pool the size of the real one."""
    settings = Settings.from_env()

    async def open_pool(app: Litestar) -> None:
        dsn = plain_postgres_url(settings.sqlalchemy_url)
        size = settings.db_pool_size
        app.state.hold_hours = settings.hold_hours
        app.state.pool = await asyncpg.create_pool(
            dsn, min_size=size, max_size=size, init=decode_json_columns
        )

    async def close_pool(app: Litestar) -> None:
        await app.state.pool.close()

    return Litestar(
        route_handlers=[floor_available_beds, floor_get_youth, floor_hold_bed, floor_cancel_hold],
        on_startup=[open_pool],
        on_shutdown=[close_pool],
    )

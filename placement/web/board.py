"""The bed board (placement staff): free beds now by safe house, with addresses; holds, the ones
about to lapse first; active placements. Hold, confirm, end and cancel through the same services
as `POST /placements` and its actions, so every rule and audit entry is theirs."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import timedelta
from typing import Annotated, Any, get_args

import msgspec
from litestar import Request, Response, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core.audit import Actor
from placement.core.resources import Resources
from placement.core.vocabulary import GENDERS, SERVICES
from placement.placements import service as placements
from placement.placements.schemas import (
    CancelReason,
    EndReason,
    PlacementCancel,
    PlacementCreate,
    PlacementEnd,
)
from placement.reference.models import County
from placement.reference.nearby import place_filter
from placement.reference.places import one_town, place_names, region_names, town_labels
from placement.safehouses import availability
from placement.safehouses import service as safehouses
from placement.web.pages import Form, optional, page, page_opt, pager
from placement.youth.service import case_references, get_youth, list_youth

STAFF = page_opt("placement_staff", entity="placement")
SOON = timedelta(hours=2)
"""Holds lapsing within this are shown first and marked."""
FREE_BEDS_PER_PAGE = 100
LISTED = 200
"""Holds, placements and youth awaiting placement listed at most (each list says its total)."""
DONE = {code: f"Placement {code}." for code in ("held", "confirmed", "ended", "cancelled")}
"""The board's success lines, by the code its forms redirect with."""


class HoldForm(msgspec.Struct):
    youth_id: uuid.UUID


class EndForm(msgspec.Struct):
    reason: EndReason


class CancelForm(msgspec.Struct):
    reason: CancelReason


@get("/board", opt=STAFF)
async def bed_board(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    actor: Actor,
    resources: Resources,
    youth: str | None = None,
    region: str | None = None,
    county: str | None = None,
    age: str | None = None,
    gender: str | None = None,
    services: list[str] | None = None,
    near: str | None = None,
    within_km: str | None = None,
    offset: int = 0,
    done: str | None = None,
) -> Template:
    """Holds (the soonest to lapse first) and placements with their forms; the youth awaiting
    placement, most urgent first; and free beds (filtered as `GET /beds/available`, by default for
    the chosen youth's age and gender), each with a button holding it for that youth."""
    now, offset = resources.clock(), max(offset, 0)
    today = now.date()
    youth_id, age_wanted = optional(youth, uuid.UUID, "Youth to place"), optional(age, int, "Age")
    region_id, county_id = optional(region, uuid.UUID, "Region"), optional(county, uuid.UUID, "County")
    placing = await get_youth(session, actor, youth_id, today) if youth_id else None
    if placing is not None:
        age_wanted = placing.age if age_wanted is None else age_wanted
        gender = gender or placing.gender
    town = await one_town(session, near.strip(), "Near") if near and near.strip() else None
    radius = optional(within_km, float, "Within (km)")
    centre = f"{town.lat},{town.lon}" if town else None
    f = place_filter(actor, region_id, county_id, age_wanted, gender or None, services or [], centre, radius)
    chosen = {
        "youth": youth_id,
        "region": region_id,
        "county": county_id,
        "age": age_wanted,
        "gender": gender,
        "services": services or [],
        "near": near,
        "within_km": radius,
    }
    free = await availability.list_available_beds(session, f, FREE_BEDS_PER_PAGE, offset, True)
    houses = await safehouses.list_safe_houses(session, actor, region_id, county_id, True, 500, 0)
    addresses = {h.id: h.street_address for h in houses.items}
    by_house: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for bed in free.items:
        by_house[bed.safe_house_id].append(bed)
    held = await placements.list_placements(
        session, actor, "held", None, None, None, LISTED, 0, lapsing_first=True
    )
    active = await placements.list_placements(session, actor, "active", None, None, None, LISTED, 0)
    awaiting = await list_youth(session, actor, "awaiting", LISTED, 0, today)
    return page(
        request,
        "board.html",
        houses=[(beds[0], addresses.get(house), beds) for house, beds in by_house.items()],
        free_total=free.total,
        pages=pager("/board", free.total, FREE_BEDS_PER_PAGE, offset, **chosen),
        holds=held,
        lapsing=lambda p: p.held_until - now <= SOON,
        placements=active,
        awaiting=awaiting,
        placing=placing,
        case_of=await case_references(session, actor, {p.youth_id for p in [*held.items, *active.items]}),
        regions=await region_names(session),
        counties=await place_names(session, County),
        genders=GENDERS,
        services=SERVICES,
        towns=await town_labels(session),
        chosen=chosen,
        end_reasons=get_args(EndReason),
        cancel_reasons=get_args(CancelReason),
        said=DONE.get(done or ""),
    )


@post("/board/beds/{id:uuid}/hold", opt=STAFF, status_code=303)
async def hold_bed(
    id: uuid.UUID, data: Annotated[HoldForm, Form], session: AsyncSession, actor: Actor, resources: Resources
) -> Response[Any]:
    hold = PlacementCreate(youth_id=data.youth_id, bed_id=id)
    await placements.hold_place(session, actor, hold, resources.settings, resources.clock())
    return back("held")


@post("/board/placements/{id:uuid}/confirm", opt=STAFF, status_code=303)
async def confirm(id: uuid.UUID, session: AsyncSession, actor: Actor, resources: Resources) -> Response[Any]:
    await placements.confirm_placement(session, actor, id, resources.clock())
    return back("confirmed")


@post("/board/placements/{id:uuid}/end", opt=STAFF, status_code=303)
async def end(
    id: uuid.UUID, data: Annotated[EndForm, Form], session: AsyncSession, actor: Actor, resources: Resources
) -> Response[Any]:
    await placements.end_placement(session, actor, id, PlacementEnd(reason=data.reason), resources.clock())
    return back("ended")


@post("/board/placements/{id:uuid}/cancel", opt=STAFF, status_code=303)
async def cancel(
    id: uuid.UUID,
    data: Annotated[CancelForm, Form],
    session: AsyncSession,
    actor: Actor,
    resources: Resources,
) -> Response[Any]:
    await placements.cancel_hold(session, actor, id, PlacementCancel(reason=data.reason), resources.clock())
    return back("cancelled")


def back(done: str) -> Response[Any]:
    """Post, then redirect: the board again, saying what was done."""
    return Redirect(f"/board?done={done}", status_code=303)


handlers = [bed_board, hold_bed, confirm, end, cancel]

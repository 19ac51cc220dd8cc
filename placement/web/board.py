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
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core.audit import Actor
from placement.core.resources import Resources
from placement.placements import service as placements
from placement.placements.schemas import (
    CancelReason,
    EndReason,
    PlacementCancel,
    PlacementCreate,
    PlacementEnd,
)
from placement.reference.models import County, Region
from placement.reference.nearby import place_filter
from placement.safehouses import availability
from placement.safehouses import service as safehouses
from placement.web.pages import Form, page, page_opt
from placement.youth.service import list_youth

STAFF = page_opt("placement_staff", entity="placement")
SOON = timedelta(hours=2)
"""Holds lapsing within this are shown first and marked."""
FREE_BEDS_SHOWN = 200
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
    region: uuid.UUID | None = None,
    county: uuid.UUID | None = None,
    age: int | None = None,
    gender: str | None = None,
    done: str | None = None,
) -> Template:
    """Free beds (filtered as `GET /beds/available`), holds and placements, and the forms on them."""
    now = resources.clock()
    f = place_filter(actor, region, county, age, gender or None, [], None, None)
    free = await availability.list_available_beds(session, f, FREE_BEDS_SHOWN, 0, True)
    houses = await safehouses.list_safe_houses(session, actor, region, county, True, 500, 0)
    addresses = {h.id: h.street_address for h in houses.items}
    by_house: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for bed in free.items:
        by_house[bed.safe_house_id].append(bed)
    held = await placements.list_placements(session, actor, "held", None, None, None, 200, 0)
    active = await placements.list_placements(session, actor, "active", None, None, None, 200, 0)
    today = now.date()
    youth = {
        status: (await list_youth(session, actor, status, 200, 0, today)).items
        for status in ("awaiting", "held", "placed")
    }
    case_of = {y.id: y.case_reference for items in youth.values() for y in items}
    holds = sorted(held.items, key=lambda p: p.held_until)
    return page(
        request,
        "board.html",
        houses=[(beds[0], addresses.get(house), beds) for house, beds in by_house.items()],
        free_total=free.total,
        holds=holds,
        lapsing=lambda p: p.held_until - now <= SOON,
        placements=active.items,
        awaiting=youth["awaiting"],
        case_of=case_of,
        regions=(await session.execute(select(Region.id, Region.name).order_by(Region.name))).all(),
        counties=(await session.execute(select(County.id, County.name).order_by(County.name))).all(),
        chosen={"region": region, "county": county, "age": age, "gender": gender},
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

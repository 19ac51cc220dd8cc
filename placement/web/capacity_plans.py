"""The program leads' plans: targets (listed for every reader, set and changed by leads and
administrators) and what-if scenarios (asked, then read when a job has answered them, and listed).

Setting a target calls `targets.create_target`, changing one `targets.update_target`, asking a
what-if `trials.ask_what_if` and listing them `trials.list_what_ifs`, as
`POST /api/v1/capacity/targets`, `PATCH /api/v1/capacity/targets/{id}`,
`POST /api/v1/capacity/what-if` and `GET /api/v1/capacity/what-if` do, so their checks and audit
entries are the API's. A form's text becomes the API's input Struct here, checked by its own
constraints; anything that does not fit is a refusal page (422), as the API's problem would be.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, get_args

import msgspec
from litestar import Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from placement.capacity import targets, trials
from placement.capacity.counts import reading_now
from placement.capacity.metrics import METRICS
from placement.capacity.schemas import TargetCreate, TargetUpdate, WhatIfCreate
from placement.core.audit import Actor
from placement.core.resources import Resources
from placement.core.schemas import Offset
from placement.core.vocabulary import CARE_LEVELS, LANGUAGES, SERVICES, Gender
from placement.reference.models import County, Municipality
from placement.reference.places import place_names, region_names
from placement.web.capacity_tables import READERS, TARGET_SETTERS, html_table
from placement.web.pages import Form, checked, listed, page, pager

TARGETS_PER_PAGE = 25
WHAT_IFS_PER_PAGE = 10


class TargetChangeForm(msgspec.Struct):
    """What a target's form may change, as the browser sends it: text, blank where left empty."""

    title: str = ""
    value: str = ""
    due_on: str = ""
    note: str = ""


class TargetForm(TargetChangeForm):
    """A new target's form: what may change later, and the measure and place that may not."""

    metric: str = ""
    scope: str = ""
    region_id: str = ""
    county_id: str = ""


class WhatIfForm(msgspec.Struct):
    """The what-if form as the browser sends it; a blank part is a change not asked for."""

    train_region: str = ""
    train_level: str = "trafficking_specialized"
    beds: str = ""
    municipality_id: str = ""
    min_age: str = ""
    max_age: str = ""
    genders: list[str] | str = []
    services: list[str] | str = []
    languages: list[str] | str = []
    reopen: str = ""
    """Blank: no reopening; `statewide`, or a region's name."""


def changeable_fields(form: TargetChangeForm) -> dict[str, Any]:
    """The fields a target may change, as the API takes them: a blank note is no note."""
    return {
        "title": form.title.strip(),
        "value": form.value.strip(),
        "due_on": form.due_on,
        "note": form.note.strip() or None,
    }


def target_input(form: TargetForm) -> TargetCreate:
    """The place chosen for the scope only: a region picked, then statewide chosen, is no region."""
    fields: dict[str, Any] = {**changeable_fields(form), "metric": form.metric, "scope": form.scope}
    if form.scope == "region" and form.region_id:
        fields["region_id"] = form.region_id
    if form.scope == "county" and form.county_id:
        fields["county_id"] = form.county_id
    created: TargetCreate = checked(fields, TargetCreate)
    return created


def target_change(form: TargetChangeForm) -> TargetUpdate:
    """Every field the form shows, sent as a PATCH would send it (a cleared note removes it)."""
    change: TargetUpdate = checked(changeable_fields(form), TargetUpdate)
    return change


def what_if_input(form: WhatIfForm) -> WhatIfCreate:
    fields: dict[str, Any] = {}
    if form.train_region:
        fields["training"] = {"region": form.train_region, "level": form.train_level}
    if form.beds.strip():
        fields["new_beds"] = {
            "beds": form.beds.strip(),
            "municipality_id": form.municipality_id,
            "min_age": form.min_age.strip() or 0,
            "max_age": form.max_age.strip() or 25,
            "genders": listed(form.genders),
            "services": listed(form.services),
            "languages": listed(form.languages),
        }
    if form.reopen:
        fields["reopening"] = {} if form.reopen == "statewide" else {"region": form.reopen}
    asked: WhatIfCreate = checked(fields, WhatIfCreate)
    return asked


# --- Targets -----------------------------------------------------------------------------------


@get("/capacity-targets", opt=READERS)
async def targets_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    resources: Resources,
    actor: Actor,
    page_number: Annotated[int, QueryParameter(name="page", ge=1)] = 1,
    done: str | None = None,
) -> Template:
    """The targets, due soonest first, a page at a time; the form to set one for those who may."""
    found = await targets.list_targets(session, reading_now(resources), resources.settings.zone)
    pages = max((len(found.rows) + TARGETS_PER_PAGE - 1) // TARGETS_PER_PAGE, 1)
    shown = found.rows[(page_number - 1) * TARGETS_PER_PAGE : page_number * TARGETS_PER_PAGE]
    return page(
        request,
        "capacity_targets.html",
        as_of=found.as_of,
        targets=shown,
        total=len(found.rows),
        page_number=page_number,
        pages=pages,
        may_set=actor.role in TARGET_SETTERS["roles"],
        metrics=[(name, metric.label) for name, metric in METRICS.items()],
        regions=await region_names(session),
        counties=await place_names(session, County),
        today=resources.clock().date(),
        done=done,
    )


@post("/capacity-targets", opt=TARGET_SETTERS, status_code=303)
async def set_target(data: Annotated[TargetForm, Form], session: AsyncSession, actor: Actor) -> Response[Any]:
    await targets.create_target(session, actor, target_input(data))
    return Redirect("/capacity-targets?done=set", status_code=303)


@get("/capacity-targets/{id:uuid}", opt=TARGET_SETTERS)
async def target_page(
    request: Request[Any, Any, Any],
    id: uuid.UUID,
    session: AsyncSession,
    resources: Resources,
    done: str | None = None,
) -> Template:
    """One target, where it stands, and the form to change its title, value, due date or note
    (as `GET` and `PATCH /api/v1/capacity/targets/{id}`)."""
    target = await targets.read_target(session, reading_now(resources), resources.settings.zone, id)
    return page(request, "capacity_target.html", target=target, done=done)


@post("/capacity-targets/{id:uuid}", opt=TARGET_SETTERS, status_code=303)
async def change_target(
    id: uuid.UUID, data: Annotated[TargetChangeForm, Form], session: AsyncSession
) -> Response[Any]:
    """Change the target as `PATCH /api/v1/capacity/targets/{id}` does; then the target again."""
    await targets.update_target(session, id, target_change(data))
    return Redirect(f"/capacity-targets/{id}?done=changed", status_code=303)


# --- What-if -----------------------------------------------------------------------------------


@get("/capacity-what-if", opt=READERS)
async def what_if_form(
    request: Request[Any, Any, Any], session: AsyncSession, offset: Offset = 0
) -> Template:
    """The what-ifs asked so far, newest first, a page at a time, each linked to its answer; and the
    scenario form: train a region's homes, add beds in a municipality, reopen paused homes."""
    asked = await trials.list_what_ifs(session, WHAT_IFS_PER_PAGE, offset)
    municipalities = await session.execute(
        select(Municipality.id, Municipality.name, County.name.label("county"))
        .join(County, County.id == Municipality.county_id)
        .order_by(County.name, Municipality.name)
    )
    by_county: dict[str, list[tuple[uuid.UUID, str]]] = {}
    for row in municipalities:
        by_county.setdefault(row.county, []).append((row.id, row.name))
    return page(
        request,
        "capacity_what_if.html",
        asked=asked.items,
        pages=pager("/capacity-what-if", asked.total, WHAT_IFS_PER_PAGE, offset),
        regions=[name for _, name in await region_names(session)],
        levels=CARE_LEVELS,
        municipalities=by_county,
        genders=get_args(Gender),
        services=SERVICES,
        languages=LANGUAGES,
    )


@post("/capacity-what-if", opt=READERS, status_code=303)
async def ask_what_if(
    data: Annotated[WhatIfForm, Form], session: AsyncSession, actor: Actor, resources: Resources
) -> Response[Any]:
    """Store the scenario and queue its job (after the commit); then its page, to wait on."""
    asked = await trials.ask_what_if(
        session, actor, what_if_input(data), resources.redis, resources.settings, resources.clock()
    )
    return Redirect(f"/capacity-what-if/{asked}", status_code=303)


@get("/capacity-what-if/{id:uuid}", opt=READERS)
async def what_if_answer(request: Request[Any, Any, Any], id: uuid.UUID, session: AsyncSession) -> Template:
    """The run's status; once answered, placed youth before and after and what blocked them."""
    run = await trials.read_what_if(session, id)
    return page(
        request,
        "capacity_what_if_answer.html",
        run=run,
        answer=html_table(run) if run.status == "answered" else None,
    )


handlers = [
    targets_page,
    set_target,
    target_page,
    change_target,
    what_if_form,
    ask_what_if,
    what_if_answer,
]

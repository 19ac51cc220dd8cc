"""Asking for a match and acting on it (caseworkers, and placement staff for any youth): the
request's page (waiting for the solve, then its ranked proposals with every term of their scores,
or why none fits), why not a given bed or home, accepting a proposal, cancelling the request.

Every read and write goes through `placement.matches` with the API's arguments, so the caseload
rules, the distance bands and the audit entries are theirs; no address, coordinate or exact
distance is shown to a caseworker.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core.audit import Actor
from placement.core.errors import Conflict
from placement.core.resources import Resources
from placement.matches import accepting, explaining, requests
from placement.matches.models import UNSOLVED
from placement.matches.schemas import AcceptProposal, CancelRequest, MatchRequestCreate, MatchRequestOut
from placement.reference.nearby import place_filter
from placement.safehouses import availability
from placement.web.pages import REFRESH_SECONDS, Form, checked, listed, page, page_opt
from placement.youth.service import case_references

ASKERS = page_opt("placement_staff", "caseworker", entity="match_request")
ANSWER_WAIT_SECONDS = 5.0
"""How long the request page waits for the solve before showing "still solving"."""
FREE_BEDS_SHOWN = 50


class MatchForm(msgspec.Struct):
    youth_ids: list[str] | str
    kinds: list[str] | str = []
    max_distance_km: str = ""
    proposals: str = "5"


class AcceptForm(msgspec.Struct):
    rank: int


class CancelForm(msgspec.Struct):
    note: str = ""


@post("/casework/match-requests", opt=ASKERS, status_code=303)
async def ask_for_match(
    data: Annotated[MatchForm, Form], session: AsyncSession, actor: Actor, resources: Resources
) -> Response[Any]:
    """Ask for a match, as `POST /match-requests`; the request page shows the answer."""
    asked = checked(
        {
            "youth_ids": listed(data.youth_ids),
            "kinds": listed(data.kinds),
            "max_distance_km": data.max_distance_km.strip() or None,
            "proposals": data.proposals,
        },
        MatchRequestCreate,
    )
    now = resources.clock()
    made = await requests.request_match(session, actor, asked, resources.redis, resources.settings, now)
    return Redirect(f"/casework/match-requests/{made.id}", status_code=303)


@get("/casework/match-requests/{id:uuid}", opt=ASKERS)
async def match_request_page(
    request: Request[Any, Any, Any],
    id: uuid.UUID,
    session: AsyncSession,
    actor: Actor,
    resources: Resources,
    done: str | None = None,
) -> Template:
    """The request: still solving (refresh), its ranked proposals with their terms, why it found
    none, or what was accepted; the forms asking "why not" a target and accepting a proposal."""
    async with request.scope["state"]["turn"].aside():
        await requests.wait_for_answer(resources.engine, resources.redis, actor, id, ANSWER_WAIT_SECONDS)
    asked = await requests.read_request(session, actor, id, resources.settings, resources.clock())
    shown = page(
        request,
        "casework_request.html",
        asked=asked,
        cases=await case_references(session, actor, asked.youth_ids),
        targets=await why_not_choices(session, actor, asked),
        cancellable=asked.status in requests.OPEN,
        done=done,
    )
    if asked.status in UNSOLVED:
        shown.headers["Refresh"] = str(REFRESH_SECONDS)  # the browser asks again, no script needed
    return shown


@get("/casework/match-requests/{id:uuid}/why-not", opt=ASKERS)
async def why_not_page(
    request: Request[Any, Any, Any],
    id: uuid.UUID,
    target: uuid.UUID,
    session: AsyncSession,
    actor: Actor,
    resources: Resources,
) -> Template:
    """Why a bed or household was not proposed, as `GET /match-requests/{id}/why-not/{target}`."""
    explained = await explaining.explain_target(
        session,
        actor,
        id,
        target,
        resources.offload,
        resources.clock(),
        resources.settings.readiness_counts_self_reported,
    )
    asked = await requests.read_request(session, actor, id, resources.settings, resources.clock())
    names = dict(await why_not_choices(session, actor, asked))
    return page(
        request,
        "casework_why_not.html",
        asked=asked,
        explained=explained,
        target=names.get(str(target), "the bed or home you chose"),
        names=names,
        cases=await case_references(session, actor, asked.youth_ids),
    )


class AcceptRefused(Conflict):
    """Accepting failed (409): what changed, and the request's proposals still valid."""


def accept_refused_page(request: Request[Any, Any, Any], refused: AcceptRefused) -> Template:
    return page(request, "casework_conflict.html", refused.status, detail=refused.detail, **refused.extra)


@post(
    "/casework/match-requests/{id:uuid}/accept",
    opt=ASKERS,
    status_code=303,
    exception_handlers={AcceptRefused: accept_refused_page},
)
async def accept(
    id: uuid.UUID,
    data: Annotated[AcceptForm, Form],
    session: AsyncSession,
    actor: Actor,
    resources: Resources,
) -> Response[Any]:
    """Accept a proposal, as `POST /match-requests/{id}/accept`: the youth's bed or home is held."""
    now, settings = resources.clock(), resources.settings
    rank = checked({"rank": data.rank}, AcceptProposal)
    try:
        await accepting.accept_proposal(session, actor, id, rank, resources.offload, settings, now)
    except Conflict as refused:
        if "still_valid" not in refused.extra:
            raise
        asked = await requests.read_request(session, actor, id, settings, now)
        valid = set(refused.extra["still_valid"])
        raise AcceptRefused(
            refused.detail,
            changed=refused.extra["changed"],
            asked=asked,
            still_valid=[p for p in asked.proposals if p.rank in valid],
            cases=await case_references(session, actor, asked.youth_ids),
        ) from None
    return Redirect(f"/casework/match-requests/{id}?done=accepted", status_code=303)


@post("/casework/match-requests/{id:uuid}/cancel", opt=ASKERS, status_code=303)
async def cancel(
    id: uuid.UUID,
    data: Annotated[CancelForm, Form],
    session: AsyncSession,
    actor: Actor,
    resources: Resources,
) -> Response[Any]:
    """Cancel an open request, as `POST /match-requests/{id}/cancel` (409 once it is closed)."""
    note = checked({"note": data.note.strip()}, CancelRequest)
    await requests.cancel_request(session, actor, id, note, resources.settings, resources.clock())
    return Redirect(f"/casework/match-requests/{id}?done=cancelled", status_code=303)


async def why_not_choices(
    session: AsyncSession, actor: Actor, asked: MatchRequestOut
) -> list[tuple[str, str]]:
    """Targets to ask "why not" about, as (id, name): the proposals' beds and homes, then the free
    beds this actor may see (as `GET /beds/available`, banded)."""
    choices: dict[str, str] = {}
    for p in asked.proposals:
        for a in p.assignments:
            choices[a.target_id] = f"{p.site.name}, {p.site.municipality} (proposal {p.rank})"
    free = await availability.list_available_beds(
        session, place_filter(actor, None, None, None, None, [], None, None), FREE_BEDS_SHOWN, 0, False
    )
    for bed in free.items:
        choices.setdefault(str(bed.bed_id), f"{bed.safe_house}, bed {bed.label}, {bed.place.municipality}")
    return list(choices.items())


handlers = [ask_for_match, match_request_page, why_not_page, accept, cancel]

"""Batch rematch for placement staff: start one, watch it solve, review what it proposes for each
request with every term of the score, then hold all of it or the proposals ticked. Every step goes
through the services `POST /matching/batch`, `GET /matching/batch/{id}` and its accept call use,
so the one-batch-at-a-time rule, the re-checks when holding and the audit entries are theirs."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import ValidationException
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core.audit import Actor
from placement.core.resources import Resources
from placement.matches import batches
from placement.matches.models import UNSOLVED
from placement.matches.schemas import BatchAccept
from placement.safehouses.models import Bed
from placement.web.pages import REFRESH_SECONDS, Form, checked, listed, page, page_opt, pager
from placement.youth.service import case_references

BATCH_RUNNERS = page_opt("placement_staff", entity="match_batch")
BATCHES_PER_PAGE = 25
PROPOSALS_PER_PAGE = 100


class AcceptBatchForm(msgspec.Struct):
    choice: Literal["all", "ticked"]
    request_ids: list[str] | str = []


@get("/batches", opt=BATCH_RUNNERS)
async def batches_page(request: Request[Any, Any, Any], session: AsyncSession, offset: int = 0) -> Template:
    """The batches so far, newest first, and the form starting one (while none is solving)."""
    offset = max(offset, 0)
    listed_batches = await batches.list_batches(session, BATCHES_PER_PAGE, offset)
    # Only one batch runs at a time and none starts beside it, so a running one is the newest,
    # whichever page of the list is shown.
    newest = (await batches.list_batches(session, 1, 0)).items
    running = newest[0] if newest and newest[0].status in UNSOLVED else None
    return page(
        request,
        "batches.html",
        batches=listed_batches.items,
        running=running,
        open_requests=await batches.count_open_requests(session),
        pages=pager("/batches", listed_batches.total, BATCHES_PER_PAGE, offset),
    )


@post("/batches", opt=BATCH_RUNNERS, status_code=303)
async def start_batch(session: AsyncSession, actor: Actor, resources: Resources) -> Response[Any]:
    """Start a batch of every open request, as `POST /matching/batch`; then watch it."""
    now = resources.clock()
    started = await batches.start_batch(session, actor, resources.redis, resources.settings, now)
    return Redirect(f"/batches/{started.id}", status_code=303)


@get("/batches/{id:uuid}", opt=BATCH_RUNNERS)
async def batch_page(
    request: Request[Any, Any, Any],
    id: uuid.UUID,
    session: AsyncSession,
    actor: Actor,
    offset: int = 0,
    done: str | None = None,
) -> Template:
    """The batch: still solving (the page refreshes itself), how the solve ended, each request's
    proposal with its terms (ticked, ready to hold), or what accepting it held."""
    offset = max(offset, 0)
    batch = await batches.read_batch(session, id)
    proposed = [r for r in batch.requests if r.assignments]
    shown = proposed[offset : offset + PROPOSALS_PER_PAGE]
    unplaced = [r for r in batch.requests if not r.assignments]
    by_request = {r.request_id: r for r in batch.requests}
    answer = page(
        request,
        "batch.html",
        batch=batch,
        proposed=shown,
        proposed_total=len(proposed),
        unplaced=unplaced,
        cases=await case_references(session, actor, {y for r in batch.requests for y in r.youth_ids}),
        beds=await bed_labels(session, [a.target_id for r in shown for a in r.assignments]),
        held=sum(o.held for o in batch.outcome),
        refused=[(o, by_request[o.request_id]) for o in batch.outcome if not o.held],
        pages=pager(f"/batches/{id}", len(proposed), PROPOSALS_PER_PAGE, offset),
        done=done,
    )
    if batch.status in UNSOLVED:
        answer.headers["Refresh"] = str(REFRESH_SECONDS)  # the browser asks again, no script needed
    return answer


@post("/batches/{id:uuid}/accept", opt=BATCH_RUNNERS, status_code=303)
async def accept_batch(
    id: uuid.UUID,
    data: Annotated[AcceptBatchForm, Form],
    session: AsyncSession,
    actor: Actor,
    resources: Resources,
) -> Response[Any]:
    """Hold every proposal, or the ticked ones, as `POST /matching/batch/{id}/accept`."""
    if data.choice == "all":
        chosen = BatchAccept()
    elif ticked := listed(data.request_ids):
        chosen = checked({"request_ids": ticked}, BatchAccept)
    else:
        raise ValidationException(detail="tick at least one proposal to hold, or hold them all.")
    await batches.accept_batch(session, actor, id, chosen, resources.settings, resources.clock())
    return Redirect(f"/batches/{id}?done=accepted", status_code=303)


async def bed_labels(session: AsyncSession, target_ids: list[str]) -> dict[str, str]:
    """Each bed's label by id (households are not beds, and have none)."""
    beds = [uuid.UUID(t) for t in target_ids]
    rows = await session.execute(select(Bed.id, Bed.label).where(Bed.id.in_(beds)))
    return {str(bed_id): label for bed_id, label in rows}


handlers = [batches_page, start_batch, batch_page, accept_batch]

"""The families' pages (caregivers), phone-first: their home's availability (open, paused until a
day, closed; re-confirmed in one tap), training progress and what readiness still lacks, recording
a completed module, and their notifications.

Every read and write goes through the API's own services with the API's arguments, so the same
rules hold and the same audit entries are written: a caregiver sees and changes only their own
household (any other is a 404), and a change names the version its page was rendered with, so a
stale page is refused (412) as an API call with a stale If-Match is."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, get_args

import msgspec
from litestar import Request, Response, get, post
from litestar.di import Provide
from litestar.exceptions import ValidationException
from litestar.params import Dependency, Parameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from caregivers.households import availability
from caregivers.households import service as households
from caregivers.households.access import caregiver_of
from caregivers.households.routes import provide_reading
from caregivers.households.schemas import AvailabilityChange, AvailabilityStatus
from caregivers.households.service import Reading
from caregivers.reminders import service as reminders
from caregivers.training import service as training
from caregivers.training.schemas import CompletionCreate, CompletionOut, ModuleOut
from placement.core.audit import Actor
from placement.core.concurrency import etag
from placement.core.errors import NotFound, PreconditionFailed, Unprocessable
from placement.core.resources import Resources
from placement.web.pages import Form, checked, page, page_opt, pager

HOUSEHOLD = page_opt("caregiver", entity="household")
CAREGIVER = page_opt("caregiver", entity="caregiver")
NOTIFICATION = page_opt("caregiver", entity="notification")
READING = {"reading": Provide(provide_reading, sync_to_thread=False)}
ReadingNow = Annotated[Reading, Dependency(skip_validation=True)]
NOTIFICATIONS_PER_PAGE = 20
CHANGES_SHOWN = 5
"""The latest availability changes on the home page; the history page has them all."""
CHANGES_PER_PAGE = 20
COMPLETIONS_READ = 200
"""The latest completions read for progress: far more than the catalog's modules times renewals."""
DONE = {
    "availability": "Your availability is saved.",
    "confirmed": "Your availability is confirmed, unchanged.",
    "recorded": "Your training is recorded. Placement staff will check it.",
    "read": "Marked as read.",
}
MISSING_WHY = {
    "not_completed": "not done yet",
    "expired": "done, but expired: take it again",
    "unverified": "done, waiting for placement staff to check it",
}


class AvailabilityForm(msgspec.Struct):
    status: str
    version: int
    paused_until: str = ""
    note: str = ""


class ConfirmForm(msgspec.Struct):
    version: int


class CompletionForm(msgspec.Struct):
    module_id: str
    completed_on: str


class ReadForm(msgspec.Struct):
    offset: int = 0


@dataclass(frozen=True, slots=True)
class ModuleStanding:
    module: ModuleOut
    state: str  # "done", "to_check", "expired" or "not_done"
    latest: CompletionOut | None


@dataclass(frozen=True, slots=True)
class SeriesProgress:
    title: str
    modules: list[ModuleStanding]

    @property
    def done(self) -> int:
        return sum(m.state in ("done", "to_check") for m in self.modules)


def standing(module: ModuleOut, completions: list[CompletionOut], today: date) -> ModuleStanding:
    """How one module stands for a caregiver: a current completion checked by staff, one waiting
    to be checked, only expired ones, or none."""
    mine = [c for c in completions if c.module_id == module.id and c.completed_on <= today]
    current = [c for c in mine if c.expires_on is None or c.expires_on >= today]
    if checked := [c for c in current if c.verified]:
        return ModuleStanding(module, "done", checked[0])
    if current:
        return ModuleStanding(module, "to_check", current[0])
    return ModuleStanding(module, "expired" if mine else "not_done", mine[0] if mine else None)


def progress(modules: list[ModuleOut], completions: list[CompletionOut], today: date) -> list[SeriesProgress]:
    """Per series, in catalog order: each module and how it stands (completions latest first)."""
    by_series: dict[str, list[ModuleStanding]] = defaultdict(list)
    titles: dict[str, str] = {}
    for module in modules:
        titles[module.series_code] = module.series_title
        by_series[module.series_code].append(standing(module, completions, today))
    return [SeriesProgress(titles[code], standings) for code, standings in by_series.items()]


async def my_household_id(session: AsyncSession, actor: Actor) -> uuid.UUID:
    """The household of the caregiver this login belongs to; NotFound if it belongs to no one."""
    person = await caregiver_of(session, actor)
    if person is None:
        raise NotFound("Your sign-in is not linked to a caregiver of a household; ask placement staff.")
    return person.household_id


@get("/family", opt=HOUSEHOLD)
async def family(session: AsyncSession, actor: Actor, done: str | None = None) -> Response[Any]:
    """Your own home: the household page of the caregiver this login belongs to."""
    household_id = await my_household_id(session, actor)
    said = f"?done={done}" if done in DONE else ""
    return Redirect(f"/family/households/{household_id}{said}", status_code=303)


@get("/family/households/{id:uuid}", opt=HOUSEHOLD, dependencies=READING)
async def household_page(
    request: Request[Any, Any, Any],
    id: uuid.UUID,
    session: AsyncSession,
    actor: Actor,
    resources: Resources,
    reading: ReadingNow,
    done: str | None = None,
) -> Template:
    """Availability and its forms, training progress, readiness per level, recording a completion,
    and the unread notifications: as `GET /households/{id}`, `/households/{id}/readiness`,
    `/caregivers/{id}/completions`, `/training/modules` and `/me/notifications` show them."""
    return await home_page(request, id, session, actor, resources, reading, said=DONE.get(done or ""))


async def home_page(
    request: Request[Any, Any, Any],
    id: uuid.UUID,
    session: AsyncSession,
    actor: Actor,
    resources: Resources,
    reading: Reading,
    *,
    status_code: int = 200,
    said: str | None = None,
    refused: str | None = None,
    typed: AvailabilityForm | None = None,
) -> Template:
    """The household page; after a refused change, with why and the form as it was filled in."""
    household = await households.get_household(session, actor, id, reading)
    today = reading.now.date()
    counts_self_reported = resources.settings.readiness_counts_self_reported
    readiness = await training.household_readiness(session, actor, id, today, counts_self_reported)
    modules = (await training.list_modules(session, "caregiver", None, 200, 0)).items
    me = await caregiver_of(session, actor)
    series: list[SeriesProgress] = []
    if me is not None and me.household_id == id:
        completions = (await training.list_completions(session, actor, me.id, COMPLETIONS_READ, 0)).items
        series = progress(modules, completions, today)
    unread = await reminders.my_notifications(session, actor, True, 3, 0)
    changes = await availability.availability_history(session, actor, id, CHANGES_SHOWN, 0)
    return page(
        request,
        "family_home.html",
        status_code,
        household=household,
        changes=changes,
        readiness=readiness,
        me=me if me is not None and me.household_id == id else None,
        series=series,
        modules=modules,
        unread=unread,
        statuses=get_args(AvailabilityStatus),
        missing_why=MISSING_WHY,
        today=today,
        said=said,
        refused=refused,
        typed=typed,
    )


@get("/family/households/{id:uuid}/history", opt=HOUSEHOLD)
async def history_page(
    request: Request[Any, Any, Any], id: uuid.UUID, session: AsyncSession, actor: Actor, offset: int = 0
) -> Template:
    """What changed in your availability and when, as `GET /households/{id}/availability/history`."""
    offset = max(offset, 0)
    changes = await availability.availability_history(session, actor, id, CHANGES_PER_PAGE, offset)
    return page(
        request,
        "family_history.html",
        household_id=id,
        changes=changes,
        pages=pager(f"/family/households/{id}/history", changes.total, CHANGES_PER_PAGE, offset),
    )


@post("/family/households/{id:uuid}/availability", opt=HOUSEHOLD, dependencies=READING, status_code=303)
async def set_availability(
    request: Request[Any, Any, Any],
    id: uuid.UUID,
    data: Annotated[AvailabilityForm, Form],
    session: AsyncSession,
    actor: Actor,
    resources: Resources,
    reading: ReadingNow,
) -> Response[Any]:
    """Open, pause until a day, or close the home, as `PUT /households/{id}/availability` with the
    version the page showed as If-Match. A pause's day is sent only with "paused" (the form shows
    the field whatever is chosen). A change refused is shown on the page, as it was filled in."""
    try:
        change = checked(
            {
                "status": data.status,
                "paused_until": (data.paused_until or None) if data.status == "paused" else None,
                "note": data.note.strip(),
            },
            AvailabilityChange,
        )
        await availability.set_availability(session, actor, id, change, etag(data.version), reading)
    except PreconditionFailed:
        return await changed_meanwhile(request, session, actor, id, reading)
    except (ValidationException, Unprocessable) as refusal:
        why, status = refusal.detail, 400 if isinstance(refusal, ValidationException) else 422
        return await home_page(
            request, id, session, actor, resources, reading, status_code=status, refused=why, typed=data
        )
    return Redirect(f"/family/households/{id}?done=availability", status_code=303)


@post(
    "/family/households/{id:uuid}/availability/confirm", opt=HOUSEHOLD, dependencies=READING, status_code=303
)
async def confirm_availability(
    request: Request[Any, Any, Any],
    id: uuid.UUID,
    data: Annotated[ConfirmForm, Form],
    session: AsyncSession,
    actor: Actor,
    reading: ReadingNow,
) -> Response[Any]:
    """Re-confirm the availability unchanged, as `POST /households/{id}/availability/confirm`."""
    try:
        await availability.confirm_availability(session, actor, id, etag(data.version), reading)
    except PreconditionFailed:
        return await changed_meanwhile(request, session, actor, id, reading)
    return Redirect(f"/family/households/{id}?done=confirmed", status_code=303)


async def changed_meanwhile(
    request: Request[Any, Any, Any], session: AsyncSession, actor: Actor, id: uuid.UUID, reading: Reading
) -> Response[Any]:
    """The refusal of a stale page (412, nothing written): what the availability is now."""
    household = await households.get_household(session, actor, id, reading)
    return page(request, "family_changed.html", 412, household=household)


@post("/family/caregivers/{id:uuid}/completions", opt=CAREGIVER, status_code=303)
async def record_completion(
    id: uuid.UUID,
    data: Annotated[CompletionForm, Form],
    session: AsyncSession,
    actor: Actor,
    resources: Resources,
) -> Response[Any]:
    """Record a module you finished (self-reported), as `POST /caregivers/{id}/completions`."""
    completion = checked({"module_id": data.module_id, "completed_on": data.completed_on}, CompletionCreate)
    await training.record_completion(session, actor, id, completion, resources.clock())
    return Redirect("/family?done=recorded", status_code=303)


@get("/family/notifications", opt=NOTIFICATION)
async def notifications_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    actor: Actor,
    offset: Annotated[int, Parameter(ge=0, le=10_000_000)] = 0,
    done: str | None = None,
) -> Template:
    """Your reminders, the latest due first, a page at a time (as `GET /me/notifications`)."""
    found = await reminders.my_notifications(session, actor, False, NOTIFICATIONS_PER_PAGE, offset)
    return page(
        request,
        "family_notifications.html",
        notifications=found,
        per_page=NOTIFICATIONS_PER_PAGE,
        said=DONE.get(done or ""),
    )


@post("/family/notifications/{id:uuid}/read", opt=NOTIFICATION, status_code=303)
async def mark_read(
    id: uuid.UUID,
    data: Annotated[ReadForm, Form],
    session: AsyncSession,
    actor: Actor,
    resources: Resources,
) -> Response[Any]:
    """Mark one of your notifications read, as `POST /me/notifications/{id}/read`."""
    await reminders.mark_read(session, actor, id, resources.clock())
    return Redirect(f"/family/notifications?offset={max(data.offset, 0)}&done=read", status_code=303)


handlers = [
    family,
    household_page,
    history_page,
    set_availability,
    confirm_availability,
    record_completion,
    notifications_page,
    mark_read,
]

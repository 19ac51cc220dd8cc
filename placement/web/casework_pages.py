"""The caseworkers' pages: their caseload, referring a youth, and each youth's record with their
match requests so far (asking for a match and acting on it: `match_request_pages`).

Every read and write goes through the services the API's routes call (`placement.youth.service`,
`placement.matches`), with the same arguments, so the caseload rules, the distance bands and the
audit entries are theirs. Nothing here shows an address, a coordinate or an exact distance: a
danger zone is entered as a town and a radius, and turned into the town's centroid here.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, get_args

import msgspec
from litestar import Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core.audit import Actor
from placement.core.errors import Unprocessable
from placement.core.resources import Resources
from placement.core.schemas import Offset
from placement.core.vocabulary import GENDERS, LANGUAGES, SERVICES
from placement.matches import requests
from placement.matching.schema import TargetKind
from placement.reference.places import one_town as the_town
from placement.reference.places import place_of, town_labels
from placement.reference.schemas import MunicipalityOut
from placement.web.pages import Form, listed, page, page_opt, pager
from placement.youth import service as youth
from placement.youth.schemas import YouthCreate, YouthStatus

CASEWORKER = page_opt("caseworker", entity="youth")
# As the API: placement staff may read any youth and ask for, read and accept any match.
YOUTH = page_opt("placement_staff", "caseworker", entity="youth")

PER_PAGE = 25
REQUESTS_PER_PAGE = 10
ZONES = 3
"""Danger zones the referral form offers (the schema takes up to 20; staff can add more)."""
URGENCIES = {1: "1 (least urgent)", 2: "2", 3: "3", 4: "4", 5: "5 (most urgent)"}


class ReferralForm(msgspec.Struct):
    """The referral form as posted: text as typed; checked against `YouthCreate` before use."""

    case_reference: str
    date_of_birth: str
    gender: str
    origin: str
    urgency: str = "3"
    max_distance_km: str = "80"
    languages: list[str] | str = []
    required_services: list[str] | str = []
    specialised_care: str = ""
    sibling_group: str = ""
    zone_1_place: str = ""
    zone_1_km: str = ""
    zone_2_place: str = ""
    zone_2_km: str = ""
    zone_3_place: str = ""
    zone_3_km: str = ""


class InvalidReferral(Exception):
    """The form was filled in wrongly: shown on the form again, with what was typed."""


# --- the caseload and referrals ---------------------------------------------------------------


@get("/casework", opt=CASEWORKER)
async def caseload(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    actor: Actor,
    resources: Resources,
    status: YouthStatus | None = None,
    page_number: Annotated[int, QueryParameter(name="page", ge=1)] = 1,
) -> Template:
    """The youth on this caseworker's caseload, most urgent first, a page at a time."""
    today = resources.clock().date()
    found = await youth.list_youth(session, actor, status, PER_PAGE, (page_number - 1) * PER_PAGE, today)
    pages = max(1, -(-found.total // PER_PAGE))
    return page(
        request,
        "casework_caseload.html",
        youth=found.items,
        total=found.total,
        page_number=page_number,
        pages=pages,
        status=status,
        statuses=get_args(YouthStatus),
    )


@get("/casework/refer", opt=CASEWORKER)
async def referral_form(request: Request[Any, Any, Any], session: AsyncSession) -> Template:
    return await referral_page(request, session, {}, None, 200)


@post("/casework/refer", opt=CASEWORKER, status_code=303)
async def refer(
    request: Request[Any, Any, Any],
    data: Annotated[ReferralForm, Form],
    session: AsyncSession,
    actor: Actor,
    resources: Resources,
) -> Response[Any]:
    """Refer a youth to this caseworker's caseload, as `POST /youth` does."""
    try:
        referral = await referral_of(session, data)
    except InvalidReferral as invalid:
        return await referral_page(request, session, msgspec.structs.asdict(data), str(invalid), 400)
    referred = await youth.refer_youth(session, actor, referral, resources.clock().date())
    return Redirect(f"/casework/youth/{referred.id}?done=referred", status_code=303)


async def referral_of(session: AsyncSession, data: ReferralForm) -> YouthCreate:
    """The API's referral from the form: towns resolved by name, each danger zone at its town's
    centroid. Raises InvalidReferral saying what to fix."""
    origin = await one_town(session, data.origin.strip(), "Origin")
    zones = []
    for n in range(1, ZONES + 1):
        place, km = getattr(data, f"zone_{n}_place").strip(), getattr(data, f"zone_{n}_km").strip()
        if not place and not km:
            continue
        town = await one_town(session, place, f"Danger zone {n}")
        if not km:
            raise InvalidReferral(f"Danger zone {n}: give a radius in km.")
        zones.append({"lat": town.lat, "lon": town.lon, "radius_km": km, "label": town.name})
    fields = {
        "case_reference": data.case_reference.strip(),
        "date_of_birth": data.date_of_birth,
        "gender": data.gender,
        "origin_municipality_id": origin.id,
        "languages": listed(data.languages),
        "required_services": listed(data.required_services),
        "specialised_care": bool(data.specialised_care),
        "sibling_group": data.sibling_group.strip() or None,
        "urgency": data.urgency,
        "max_distance_km": data.max_distance_km,
        "danger_zones": zones,
    }
    try:
        return msgspec.convert(fields, YouthCreate, strict=False)
    except msgspec.ValidationError as invalid:
        raise InvalidReferral(f"The referral was not filled in as expected: {invalid}.") from None


async def one_town(session: AsyncSession, name: str, field: str) -> MunicipalityOut:
    """The town the form names, or the form shown again saying what to fix."""
    try:
        return await the_town(session, name, field)
    except Unprocessable as refused:
        raise InvalidReferral(refused.detail) from None


async def referral_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    typed: dict[str, Any],
    error: str | None,
    status_code: int,
) -> Template:
    return page(
        request,
        "casework_refer.html",
        status_code,
        typed=typed,
        error=error,
        towns=await town_labels(session),
        genders=GENDERS,
        languages=LANGUAGES,
        services=SERVICES,
        urgencies=URGENCIES,
        zones=range(1, ZONES + 1),
    )


@get("/casework/youth/{id:uuid}", opt=YOUTH)
async def youth_page(
    request: Request[Any, Any, Any],
    id: uuid.UUID,
    session: AsyncSession,
    actor: Actor,
    resources: Resources,
    offset: Offset = 0,
    done: str | None = None,
) -> Template:
    """One youth (404 off the caseload), the form asking for a match for them or their sibling
    group, and their match requests so far, newest first."""
    now = resources.clock()
    today = now.date()
    record = await youth.get_youth(session, actor, id, today)
    asked = await requests.list_requests(
        session, actor, id, REQUESTS_PER_PAGE, offset, resources.settings, now
    )
    siblings = []
    if record.sibling_group is not None:
        group = await youth.list_youth(
            session, actor, "awaiting", 50, 0, today, sibling_group=record.sibling_group
        )
        siblings = [y for y in group.items if y.id != id]
    return page(
        request,
        "casework_youth.html",
        youth=record,
        origin=await place_of(session, record.origin_municipality_id),
        siblings=siblings,
        kinds=get_args(TargetKind),
        languages=LANGUAGES,
        services=SERVICES,
        requests=asked.items,
        pages=pager(f"/casework/youth/{id}", asked.total, REQUESTS_PER_PAGE, offset),
        done=done,
    )


handlers = [caseload, referral_form, refer, youth_page]

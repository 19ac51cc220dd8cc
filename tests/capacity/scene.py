"""A small state built through the API and the database, with a ledger of what it holds: the
tests count the ledger in Python and compare with what the service counted in SQL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from caregivers.households.models import Household
from placement.core.resources import Resources
from placement.core.uow import unit_of_work
from placement.placements.models import Placement
from placement.reference.models import County, Municipality, Region
from placement.youth.models import Youth
from tests.caregivers.factories import hold_in_home, make_caregiver, make_household
from tests.caregivers.training_factories import BASICS, complete
from tests.conftest import SignedIn
from tests.factories import API, BOSTON, SPRINGFIELD, WORCESTER, make_safe_house, make_youth


@dataclass
class Bed:
    municipality: uuid.UUID
    status: str  # available, held, occupied, out_of_service


@dataclass
class Home:
    id: uuid.UUID
    municipality: uuid.UUID
    kind: str
    capacity: int
    licence: str  # valid, expired, none
    availability: str  # open, stale, paused_or_closed
    held: int = 0
    occupied: int = 0
    ready: tuple[str, ...] = ()


@dataclass
class Person:
    id: str
    municipality: uuid.UUID
    status: str  # awaiting, held, placed
    kind: str | None = None  # of the target holding them
    waited_days: float | None = None


@dataclass
class Scene:
    beds: list[Bed] = field(default_factory=list)
    homes: list[Home] = field(default_factory=list)
    youth: list[Person] = field(default_factory=list)
    places: dict[uuid.UUID, tuple[str, str]] = field(default_factory=dict)  # municipality: region, county
    secrets: list[str] = field(default_factory=list)  # what no capacity answer may contain


async def where_is(resources: Resources, municipality: uuid.UUID) -> tuple[str, str]:
    async with resources.sessionmaker() as session:
        row = (
            await session.execute(
                select(Region.name, County.name)
                .join(Municipality, Municipality.region_id == Region.id)
                .join(County, County.id == Municipality.county_id)
                .where(Municipality.id == municipality)
            )
        ).one()
    return row[0], row[1]


async def confirm(client: httpx.AsyncClient, staff: SignedIn, placement: dict[str, Any]) -> None:
    done = await client.post(f"{API}/placements/{placement['id']}/confirm", headers=staff.headers)
    assert done.status_code == 200, done.text


async def hold_bed(
    client: httpx.AsyncClient, staff: SignedIn, youth: dict[str, Any], bed: str
) -> dict[str, Any]:
    held = await client.post(
        f"{API}/placements", json={"youth_id": youth["id"], "bed_id": bed}, headers=staff.headers
    )
    assert held.status_code == 201, held.text
    return dict(held.json())


async def build_scene(
    client: httpx.AsyncClient, resources: Resources, staff: SignedIn, caseworker: SignedIn, now: datetime
) -> Scene:
    """Beds of every status in two houses, homes in every state, youth awaiting, held and placed."""
    scene = Scene()
    today = now.date()
    for place in (BOSTON, WORCESTER, SPRINGFIELD):
        scene.places[place] = await where_is(resources, place)

    # Youth first: every hold needs one. Three wait, for 2, 5 and 10 days.
    people = []
    for origin in (WORCESTER, WORCESTER, BOSTON, SPRINGFIELD, WORCESTER, BOSTON, SPRINGFIELD):
        made = await make_youth(client, staff, caseworker, origin_municipality_id=str(origin))
        people.append(made)
        scene.secrets += [made["id"], made["case_reference"]]
    gone = await make_youth(client, staff, caseworker)
    exited = await client.patch(
        f"{API}/youth/{gone['id']}", json={"exit_reason": "returned home"}, headers=staff.headers
    )
    scene.secrets += [gone["id"], gone["case_reference"]]

    house = await make_safe_house(client, staff, beds=4, municipality_id=str(BOSTON))
    other = await make_safe_house(
        client, staff, beds=2, municipality_id=str(SPRINGFIELD), lat=42.1015, lon=-72.5898
    )
    scene.secrets += [house["id"], house["name"], house["street_address"], other["id"], other["name"]]
    scene.secrets += [other["street_address"], "42.3401", "42.1015", "-71.0712", "-72.5898"]  # positions
    beds = [b["id"] for b in house["bed_list"]]
    await hold_bed(client, staff, people[0], beds[0])
    await confirm(client, staff, await hold_bed(client, staff, people[1], beds[1]))
    out = await client.patch(
        f"{API}/beds/{beds[2]}", json={"out_of_service_reason": "repairs"}, headers=staff.headers
    )
    assert out.status_code == 200, out.text
    lapsed = await hold_bed(client, staff, people[2], other["bed_list"][0]["id"])  # past its deadline below
    # A hold cancelled does not restart the youth's wait (only leaving a placement does).
    cancelled = await hold_bed(client, staff, people[5], other["bed_list"][1]["id"])
    cancel = await client.post(
        f"{API}/placements/{cancelled['id']}/cancel",
        json={"reason": "better_match_found"},
        headers=staff.headers,
    )
    assert cancel.status_code == 200, cancel.text
    scene.beds += [
        Bed(BOSTON, "held"),
        Bed(BOSTON, "occupied"),
        Bed(BOSTON, "out_of_service"),
        Bed(BOSTON, "available"),
        Bed(SPRINGFIELD, "available"),
        Bed(SPRINGFIELD, "available"),
    ]

    fresh = now - timedelta(days=1)
    year = today + timedelta(days=365)
    homes = [
        Home(uuid.uuid4(), WORCESTER, "foster", 3, "valid", "open", held=1),
        Home(uuid.uuid4(), WORCESTER, "kin", 2, "valid", "paused_or_closed"),
        Home(uuid.uuid4(), SPRINGFIELD, "foster", 2, "valid", "stale"),
        Home(uuid.uuid4(), BOSTON, "intensive_foster", 4, "expired", "open"),
        Home(uuid.uuid4(), BOSTON, "foster", 1, "none", "open"),
        Home(uuid.uuid4(), WORCESTER, "foster", 2, "valid", "open", occupied=1, ready=("standard",)),
        Home(uuid.uuid4(), SPRINGFIELD, "biological", 1, "valid", "paused_or_closed"),
    ]
    for home in homes:
        fields: dict[str, Any] = {
            "id": home.id,
            "kind": home.kind,
            "capacity": home.capacity,
            "municipality_id": home.municipality,
            "licence_status": "pending" if home.licence == "none" else "licensed",
            "licence_expires_on": today - timedelta(days=3) if home.licence == "expired" else year,
            "availability_confirmed_at": now - timedelta(days=90) if home.availability == "stale" else fresh,
        }
        if home.availability == "paused_or_closed":
            fields |= (
                {"availability": "closed"}
                if home.kind == "biological"
                else {"availability": "paused", "paused_until": today + timedelta(days=10)}
            )
        fields["name"] = f"The {home.id.hex[:6]} family"
        await make_household(resources.sessionmaker, **fields)
        caregiver = await make_caregiver(
            resources.sessionmaker, home.id, name=f"Caregiver of {home.id.hex[:6]}"
        )
        scene.secrets += [
            str(home.id),
            str(caregiver),
            f"Caregiver of {home.id.hex[:6]}",
            f"The {home.id.hex[:6]} family",
            "7 Confidential Way",
            "42.2701",  # the homes' position
        ]
        if home.ready:
            await complete(
                resources.sessionmaker, caregiver, BASICS, today - timedelta(days=30), verified_by=staff.id
            )
    held_home = await hold_in_home(client, staff, people[3], homes[0].id)
    assert held_home.status_code == 201, held_home.text
    placed_home = await hold_in_home(client, staff, people[4], homes[5].id)
    assert placed_home.status_code == 201, placed_home.text
    await confirm(client, staff, placed_home.json())
    scene.homes = homes

    async with unit_of_work(resources.sessionmaker) as session:
        await session.execute(
            update(Placement)
            .where(Placement.id == uuid.UUID(lapsed["id"]))
            .values(held_until=now - timedelta(hours=1))
        )
        for person, days in ((people[2], 2), (people[5], 5), (people[6], 10)):
            await session.execute(
                update(Youth)
                .where(Youth.id == uuid.UUID(person["id"]))
                .values(created_at=now - timedelta(days=days))
            )
        # Ages for the history tests: everything existed a month ago.
        for model in (Household,):
            await session.execute(update(model).values(created_at=now - timedelta(days=60)))
    assert exited.status_code == 200, exited.text

    statuses = [
        ("held", "safe_house_bed", None),
        ("placed", "safe_house_bed", None),
        ("awaiting", None, 2.0),
        ("held", "foster", None),
        ("placed", "foster", None),
        ("awaiting", None, 5.0),
        ("awaiting", None, 10.0),
    ]
    for made, (status, kind, waited) in zip(people, statuses, strict=True):
        scene.youth.append(
            Person(made["id"], uuid.UUID(made["origin_municipality_id"]), status, kind, waited)
        )
    return scene


def region_of(scene: Scene, municipality: uuid.UUID) -> str:
    return scene.places[municipality][0]


def county_of(scene: Scene, municipality: uuid.UUID) -> str:
    return scene.places[municipality][1]

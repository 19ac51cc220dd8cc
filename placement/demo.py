"""Believable demo data: safe houses and households across the regions, youth in every state, a
user per role.

Everything here is invented for demonstration (names, addresses, case references); positions
are near real Massachusetts municipal centroids so distances and regions behave as in practice.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import click
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caregivers.demo import HouseholdPlan, household_rows, plan_completions, plan_households, seeded_modules
from caregivers.households.models import KIN_KINDS
from placement.core import audit
from placement.core.errors import Conflict, Unprocessable
from placement.core.resources import Resources
from placement.core.security.models import User
from placement.core.security.passwords import hash_password
from placement.core.uow import unit_of_work
from placement.core.vocabulary import LANGUAGES, SERVICES
from placement.placements.models import Placement
from placement.placements.service import check_eligible, refuse_unless_taking_children
from placement.reference.geography import massachusetts_places, places_by_region
from placement.reference.loader import stable_id
from placement.safehouses.models import Bed, SafeHouse
from placement.youth.models import Youth

SEED = 20261123
DEMO_HOUSEHOLDS = 300
DEMO_USERS = (
    ("admin", "Avery Admin", "admin"),
    ("staff", "Sam Placement", "placement_staff"),
    ("caseworker", "Casey Worker", "caseworker"),
    ("caseworker2", "Jordan Rivera", "caseworker"),
    ("caseworker3", "Priya Nair", "caseworker"),
    ("lead", "Lee Program", "program_lead"),
    ("caregiver", "Morgan Family", "caregiver"),
)
_FIRST = (
    "Harbor",
    "Lighthouse",
    "Cedar",
    "Bridge",
    "Willow",
    "Beacon",
    "Maple",
    "Summit",
    "Haven",
    "Riverbend",
    "Oak",
    "Compass",
    "Meadow",
    "Granite",
    "Shoreline",
    "Orchard",
)
_SECOND = ("House", "Residence", "Home", "Place", "Commons", "Lodge")
_STREETS = ("Elm", "Pleasant", "Church", "Maple", "Spring", "Union", "Water", "Highland", "School", "Park")
_OPERATORS = (
    "Bridge Youth Services",
    "Safe Passage Collaborative",
    "Hope Harbor Inc.",
    "Commonwealth Youth Network",
    "New Roads Family Services",
)


def demo_password(username: str) -> str:
    return f"demo-{username}-pass"


@dataclass(frozen=True, slots=True)
class HousePlan:
    house: SafeHouse
    beds: list[Bed]


def plan_safe_houses(rng: random.Random, count: int, beds: tuple[int, int]) -> list[HousePlan]:
    """`count` safe houses spread over the regions (round robin), each with a bed count in `beds`."""
    by_region = places_by_region()
    regions = sorted(by_region)
    plans = []
    for n in range(count):
        place = rng.choice(by_region[regions[n % len(regions)]])
        suffix = f" {n // (len(_FIRST) * len(_SECOND)) + 1}" if n >= len(_FIRST) * len(_SECOND) else ""
        name = f"{_FIRST[n % len(_FIRST)]} {_SECOND[(n // len(_FIRST)) % len(_SECOND)]}{suffix}"
        low = rng.choice((11, 12, 13, 14))
        house = SafeHouse(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            name=name,
            operator=rng.choice(_OPERATORS),
            street_address=f"{rng.randint(2, 400)} {rng.choice(_STREETS)} Street, {place.name}, MA",
            lat=round(place.lat + rng.uniform(-0.01, 0.01), 6),
            lon=round(place.lon + rng.uniform(-0.01, 0.01), 6),
            municipality_id=stable_id("municipality", place.county, place.name),
            min_age=low,
            max_age=rng.choice((17, 18, 20, 21)),
            genders=rng.choice(
                (["female"], ["female", "nonbinary"], ["male"], ["female", "male", "nonbinary"])
            ),
            services=sorted(rng.sample(sorted(SERVICES), rng.randint(3, 7))),
            languages=["en", *rng.sample(sorted(set(LANGUAGES) - {"en"}), rng.randint(0, 2))],
            active=True,
        )
        house_beds = [
            Bed(id=uuid.UUID(int=rng.getrandbits(128), version=4), safe_house_id=house.id, label=f"B{b}")
            for b in range(1, rng.randint(*beds) + 1)
        ]
        plans.append(HousePlan(house, house_beds))
    return plans


def plan_youth(rng: random.Random, n: int, caseworkers: list[uuid.UUID], today: date) -> Youth:
    place = rng.choice(massachusetts_places())
    born = today - timedelta(days=rng.randint(11 * 365 + 3, 19 * 365))
    zones = []
    if rng.random() < 0.3:
        zones.append(
            {
                "lat": round(place.lat + rng.uniform(-0.05, 0.05), 5),
                "lon": round(place.lon + rng.uniform(-0.05, 0.05), 5),
                "radius_km": rng.choice((3, 5, 8, 10)),
                "label": "known exploiter activity",
            }
        )
    return Youth(
        id=uuid.UUID(int=rng.getrandbits(128), version=4),
        case_reference=f"DCF-{today.year}-{n:04d}",
        date_of_birth=born,
        gender=rng.choices(("female", "male", "nonbinary"), weights=(70, 22, 8))[0],
        origin_municipality_id=stable_id("municipality", place.county, place.name),
        origin_lat=place.lat,
        origin_lon=place.lon,
        languages=rng.choice((["en"], ["en"], ["en", "es"], ["es"], ["pt", "en"], ["ht", "en"])),
        required_services=sorted(
            rng.sample(
                ["trauma_therapy", "education", "mental_health", "medical", "legal_advocacy"],
                rng.randint(1, 3),
            )
        ),
        specialised_care=rng.random() < 0.2,
        sibling_group=f"SG-{n // 15:03d}" if n % 15 in (2, 3) else None,
        urgency=rng.choices((1, 2, 3, 4, 5), weights=(5, 15, 35, 30, 15))[0],
        max_distance_km=rng.choice((40, 60, 80, 120, 200)),
        danger_zones=zones,
        excluded_safe_house_ids=[],
        caseworker_id=rng.choice(caseworkers),
    )


def _placement(
    rng: random.Random, person: Youth, active: bool, staff: uuid.UUID, now: datetime, **target: uuid.UUID
) -> Placement:
    """A hold, or an active placement confirmed some days ago, in a bed or a home (`target`)."""
    return Placement(
        youth_id=person.id,
        status="active" if active else "held",
        held_until=now + timedelta(hours=rng.randint(4, 36)),
        created_by=staff,
        confirmed_at=now - timedelta(days=rng.randint(1, 60)) if active else None,
        **target,
    )


async def _place_some(
    session: AsyncSession,
    rng: random.Random,
    youth: list[Youth],
    plans: list[HousePlan],
    staff: uuid.UUID,
    now: datetime,
) -> None:
    """Hold or place about a third of the youth in beds they are eligible for; exit a few."""
    free = [(plan.house, bed) for plan in plans for bed in plan.beds]
    rng.shuffle(free)
    for n, person in enumerate(youth):
        if n % 12 == 11:
            person.exited_at, person.exit_reason = now - timedelta(days=rng.randint(5, 90)), "Aged out"
            continue
        if n % 3:
            continue
        for house, bed in free:
            try:
                check_eligible(person, house, now)
            except Unprocessable:
                continue
            free.remove((house, bed))
            session.add(_placement(rng, person, n % 2 == 0, staff, now, bed_id=bed.id))
            break


def place_in_homes(
    rng: random.Random, youth: list[Youth], homes: list[HouseholdPlan], staff: uuid.UUID, now: datetime
) -> list[Placement]:
    """Hold or place youth who have no placement yet in homes that may take them today (some
    homes fill up), as staff would: licensed and open, room left, kin only for their relatives."""
    placed = {p.household.id: 0 for p in homes}
    order = list(homes)
    rng.shuffle(order)
    placements = []
    for n, person in enumerate(youth):
        if person.exited_at is not None or n % 3 != 1:
            continue
        for plan in order:
            home = plan.household
            if placed[home.id] >= home.capacity or (
                home.kind in KIN_KINDS and person.id not in plan.related_youth
            ):
                continue
            try:
                refuse_unless_taking_children(home, now.date())
                check_eligible(person, home, now)
            except (Conflict, Unprocessable):
                continue
            placed[home.id] += 1
            placements.append(_placement(rng, person, n % 2 == 1, staff, now, household_id=home.id))
            break
    return placements


async def load_demo(resources: Resources) -> None:
    """Load the demo state once (skipped if the demo users exist), then print the sign-ins."""
    async with unit_of_work(resources.sessionmaker) as session:
        if await session.scalar(select(User.id).where(User.username == DEMO_USERS[0][0])) is None:
            await _load(session, resources.clock())
    click.echo("\nDemo sign-ins (POST /api/v1/auth/login with JSON username/password):")
    for username, _, role in DEMO_USERS:
        click.echo(f"  {role:<16} {username:<12} {demo_password(username)}")


async def _load(session: AsyncSession, now: datetime) -> None:
    rng = random.Random(SEED)  # noqa: S311 - reproducible demo data, not secrets
    users = {}
    for username, display_name, role in DEMO_USERS:
        user = User(
            username=username,
            display_name=display_name,
            role=role,
            password_hash=await hash_password(demo_password(username)),
        )
        session.add(user)
        users[username] = user
    await session.flush()
    plans = plan_safe_houses(rng, 12, (3, 8))
    for plan in plans:
        session.add(plan.house)
    await session.flush()
    session.add_all(bed for plan in plans for bed in plan.beds)
    caseworkers = [u.id for u in users.values() if u.role == "caseworker"]
    youth = [plan_youth(rng, n, caseworkers, now.date()) for n in range(1, 61)]
    session.add_all(youth)
    await session.flush()
    await _place_some(session, rng, youth, plans, users["staff"].id, now)
    homes = plan_households(rng, DEMO_HOUSEHOLDS, now, [y.id for y in youth if y.exited_at is None])
    _give_login(homes, users["caregiver"].id, now.date())
    households, caregivers, related = household_rows(homes)
    session.add_all(households)
    await session.flush()
    session.add_all([*caregivers, *related])
    await session.flush()
    modules = await seeded_modules(session)
    session.add_all(plan_completions(rng, homes, modules, now.date(), users["staff"].id))
    session.add_all(place_in_homes(rng, youth, homes, users["staff"].id, now))
    audit.record(
        session,
        "load_demo_data",
        "demo",
        None,
        safe_houses=len(plans),
        youth=len(youth),
        households=len(households),
    )


def _give_login(homes: list[HouseholdPlan], user_id: uuid.UUID, today: date) -> None:
    """The demo caregiver signs in as the primary caregiver of the first open, licensed foster home."""
    home = next(
        p
        for p in homes
        if p.household.kind == "foster"
        and p.household.availability == "open"
        and p.household.licence_status == "licensed"
        and p.household.licence_expires_on is not None
        and p.household.licence_expires_on > today + timedelta(days=90)
    )
    home.household.name = "The Morgan household"
    home.caregivers[0].name, home.caregivers[0].user_id = "Morgan Family", user_id

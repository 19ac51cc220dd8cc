"""Believable demo households: foster, kin, intensive-foster and biological homes across the regions.

Everything is invented (names, addresses); positions are near real Massachusetts municipal
centroids. The mix — kinds, capacities, licences (some expiring, some expired), availability
(some paused or closed, some stale) and training (complete, partial, expired, unverified) — is
chosen so every state the service shows appears; it is not a statistic about any program.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caregivers.households.models import KIN_KINDS, KINDS, Caregiver, Household, HouseholdYouth
from caregivers.training.catalog import CATALOG_START, default_rules
from caregivers.training.models import Completion, TrainingModule
from caregivers.training.service import add_months
from placement.core.vocabulary import LANGUAGES, SERVICES
from placement.reference.geography import places_by_region
from placement.reference.loader import stable_id

_FAMILY_NAMES = (
    "Alvarez", "Baptiste", "Chen", "Costa", "Davis", "Doherty", "Fernandes", "Gomes", "Haddad",
    "Jean-Louis", "Kelly", "Le", "Lopez", "Medeiros", "Morgan", "Murphy", "Nguyen", "Okafor",
    "Pereira", "Pierre", "Ramirez", "Rivera", "Santos", "Silva", "Sullivan", "Tran", "Walsh",
)  # fmt: skip
_GIVEN_NAMES = (
    "Ana", "Beatriz", "Carlos", "Dana", "Elena", "Frank", "Grace", "Hector", "Imani", "James",
    "Keisha", "Luis", "Maria", "Nadia", "Omar", "Paula", "Rosa", "Sean", "Thu", "Yves",
)  # fmt: skip
_STREETS = ("Oak", "Chestnut", "Walnut", "Prospect", "Summer", "Winter", "Pine", "Lincoln", "Franklin")
KIND_WEIGHTS = (55, 20, 12, 13)  # in the order of KINDS


@dataclass(slots=True)
class HouseholdPlan:
    household: Household
    caregivers: list[Caregiver]
    related_youth: list[uuid.UUID] = field(default_factory=list)


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _licence(rng: random.Random, today: date) -> tuple[str, date | None]:
    roll = rng.random()
    if roll < 0.05:
        return "licensed", today + timedelta(days=rng.randint(1, 59))  # expiring soon
    if roll < 0.11:
        return "licensed", today - timedelta(days=rng.randint(1, 200))  # expired
    if roll < 0.16:
        return "provisional", today + timedelta(days=rng.randint(30, 180))
    if roll < 0.20:
        return "pending", None
    return "licensed", today + timedelta(days=rng.randint(60, 720))


def _availability(rng: random.Random, today: date) -> tuple[str, date | None, str | None]:
    roll = rng.random()
    if roll < 0.12:
        return "paused", today + timedelta(days=rng.randint(5, 60)), "Family travel / a new baby"
    if roll < 0.20:
        return "closed", None, "Not taking placements this year"
    return "open", None, None


def _confirmed(rng: random.Random, now: datetime) -> datetime | None:
    roll = rng.random()
    if roll < 0.03:
        return None
    if roll < 0.18:
        return now - timedelta(days=rng.randint(35, 120), hours=rng.randint(0, 23))  # stale
    return now - timedelta(days=rng.randint(0, 25), hours=rng.randint(0, 23))


def _capacity(rng: random.Random, kind: str) -> tuple[int, str | None]:
    if rng.random() < 0.02:
        return rng.choice((5, 6)), "Waiver granted to keep a sibling group together"
    if kind == "intensive_foster":
        return rng.choice((1, 1, 2)), None
    return rng.choices((1, 2, 3, 4), weights=(30, 40, 20, 10))[0], None


def plan_households(
    rng: random.Random, count: int, now: datetime, youth_ids: list[uuid.UUID]
) -> list[HouseholdPlan]:
    """`count` households over the regions (round robin); kin and biological homes are related to
    one of `youth_ids` each (without youth to relate, every home is a foster or intensive-foster one)."""
    by_region = places_by_region()
    regions, today, related = sorted(by_region), now.date(), sorted(youth_ids)
    plans = []
    for n in range(count):
        place = rng.choice(by_region[regions[n % len(regions)]])
        kind = rng.choices(KINDS, weights=KIND_WEIGHTS)[0]
        if kind in KIN_KINDS and not related:
            kind = rng.choice(("foster", "intensive_foster"))
        family = rng.choice(_FAMILY_NAMES)
        status, expires = _licence(rng, today)
        availability, paused_until, note = _availability(rng, today)
        capacity, waiver = _capacity(rng, kind)
        household = Household(
            id=_uuid(rng),
            name=f"The {family} household {n + 1}",
            kind=kind,
            licence_status=status,
            licence_expires_on=expires,
            capacity=capacity,
            capacity_waiver_reason=waiver,
            min_age=rng.choice((0, 5, 10, 12)),
            max_age=rng.choice((12, 17, 18, 21)),
            genders=rng.choice(
                (["female"], ["male"], ["female", "nonbinary"], ["female", "male", "nonbinary"])
            ),
            services=sorted(rng.sample(sorted(SERVICES), rng.randint(0, 4))),
            languages=["en", *rng.sample(sorted(set(LANGUAGES) - {"en"}), rng.randint(0, 1))],
            takes_sibling_groups=capacity >= 2 and rng.random() < 0.5,
            municipality_id=stable_id("municipality", place.county, place.name),
            street_address=f"{rng.randint(2, 300)} {rng.choice(_STREETS)} Avenue, {place.name}, MA",
            lat=round(place.lat + rng.uniform(-0.015, 0.015), 6),
            lon=round(place.lon + rng.uniform(-0.015, 0.015), 6),
            availability=availability,
            paused_until=paused_until,
            availability_note=note,
            availability_confirmed_at=_confirmed(rng, now),
        )
        if household.min_age > household.max_age:
            household.min_age = 0
        people = [
            Caregiver(
                id=_uuid(rng),
                household_id=household.id,
                name=f"{rng.choice(_GIVEN_NAMES)} {family}",
                role="primary",
            )
        ]
        if rng.random() < 0.55:
            role = rng.choice(("primary", "secondary"))
            people.append(
                Caregiver(
                    id=_uuid(rng),
                    household_id=household.id,
                    name=f"{rng.choice(_GIVEN_NAMES)} {family}",
                    role=role,
                )
            )
        plan = HouseholdPlan(household, people)
        if kind in KIN_KINDS:
            plan.related_youth.append(rng.choice(related))  # a youth may have kin in several homes
        plans.append(plan)
    return plans


def household_rows(
    plans: list[HouseholdPlan],
) -> tuple[list[Household], list[Caregiver], list[HouseholdYouth]]:
    """The plans as rows to add, households first."""
    return (
        [p.household for p in plans],
        [c for p in plans for c in p.caregivers],
        [HouseholdYouth(household_id=p.household.id, youth_id=y) for p in plans for y in p.related_youth],
    )


# Training profiles of a household's primary caregivers, and how often each occurs in the demo.
PROFILES = ("specialised", "standard", "partial", "expired", "unverified", "none")
PROFILE_WEIGHTS = (35, 25, 15, 10, 10, 5)


@dataclass(frozen=True, slots=True)
class SeededModule:
    id: uuid.UUID
    validity_months: int | None


async def seeded_modules(session: AsyncSession) -> dict[str, SeededModule]:
    """The catalog's modules by code (loaded with the reference data)."""
    rows = await session.execute(
        select(TrainingModule.code, TrainingModule.id, TrainingModule.validity_months)
    )
    return {code: SeededModule(module_id, months) for code, module_id, months in rows}


def _completion(
    rng: random.Random, person: Caregiver, module: SeededModule, on: date, verifier: uuid.UUID | None
) -> Completion:
    verified = verifier is not None
    return Completion(
        id=_uuid(rng),
        caregiver_id=person.id,
        module_id=module.id,
        completed_on=on,
        expires_on=add_months(on, module.validity_months) if module.validity_months else None,
        source="staff_entered" if verified else "self_reported",
        verified_at=datetime.combine(on, datetime.min.time()).astimezone() if verified else None,
        verified_by=verifier,
    )


def plan_completions(
    rng: random.Random,
    plans: list[HouseholdPlan],
    modules: dict[str, SeededModule],
    today: date,
    verifier: uuid.UUID,
) -> list[Completion]:
    """Completions for each household's caregivers after a training profile: trained for
    trafficking-specialised care, for standard care, part-way, lapsed, self-reported only, or none."""
    rules = default_rules()
    basics, specialised = rules["standard"], rules["trafficking_specialized"]
    since = max((today - CATALOG_START).days, 1)
    completions = []
    for plan in plans:
        profile = rng.choices(PROFILES, weights=PROFILE_WEIGHTS)[0]
        codes = {
            "specialised": specialised,
            "standard": basics,
            "partial": rng.sample(basics, rng.randint(1, len(basics) - 1)),
            "expired": basics,
            "unverified": specialised,
            "none": [],
        }[profile]
        for person in plan.caregivers:
            taken = codes if person.role == "primary" else rng.sample(basics, rng.randint(0, len(basics)))
            for code in taken:
                module = modules[code]
                if profile == "expired":
                    lapsed = add_months(today, -(module.validity_months or 0))
                    on = max(CATALOG_START, lapsed - timedelta(days=rng.randint(1, 60)))
                else:  # within the module's validity, so the profile holds today
                    lasts = (
                        (today - add_months(today, -module.validity_months)).days
                        if module.validity_months
                        else since
                    )
                    on = today - timedelta(days=rng.randint(1, max(min(since, lasts - 1), 1)))
                who = None if profile == "unverified" else verifier
                completions.append(_completion(rng, person, module, on, who))
    return completions

"""The bench's data: safe houses with beds, ~20% of beds held or occupied, and awaiting youth.

Each writing client gets *lanes* of its own, a free bed and an awaiting youth who may take it, so
that its holds do not collide with other clients'; the burst gets a few free beds and a different
awaiting youth for each of its requests. Everything is added in bulk in one unit of work.
"""

from __future__ import annotations

import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import click

from placement.core.resources import Resources
from placement.core.security.models import User
from placement.core.security.passwords import hash_password
from placement.core.security.tokens import issue_token
from placement.core.settings import Settings
from placement.core.uow import unit_of_work
from placement.demo import plan_safe_houses
from placement.placements.models import Placement
from placement.reference.geography import massachusetts_places
from placement.reference.loader import load_reference_data, stable_id
from placement.safehouses.models import Bed, SafeHouse
from placement.youth.models import Youth

OCCUPIED_SHARE = 0.2
SEED = 20261124
LANES_PER_CLIENT = 4  # a client whose cancel failed still has other lanes to work on
YOUTH_AGE = 15


@dataclass(frozen=True, slots=True)
class Lane:
    """A free bed and an awaiting youth eligible for it."""

    youth_id: uuid.UUID
    bed_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Demand:
    """What the chosen scenarios need beyond the safe houses."""

    writers: int = 0  # clients per server in the write scenario
    burst: int = 0  # requests in the burst, each for its own youth
    burst_beds: int = 0


@dataclass(frozen=True, slots=True)
class BenchData:
    houses: int
    beds: int
    placements: int
    token: str
    youth_ids: list[uuid.UUID]
    write_lanes: dict[str, list[Lane]]  # per server, so neither inherits the other's holds
    burst_lanes: list[Lane]

    @property
    def burst_beds(self) -> list[uuid.UUID]:
        return list(dict.fromkeys(lane.bed_id for lane in self.burst_lanes))


async def load_bench_data(settings: Settings, houses: int, demand: Demand = Demand()) -> BenchData:
    """Reference geography, safe houses with beds, ~20% of beds held or occupied, a staff token,
    and the awaiting youth the write and burst scenarios need."""
    resources = await Resources.open(settings)
    try:
        async with unit_of_work(resources.sessionmaker) as session:
            await load_reference_data(session)
        async with unit_of_work(resources.sessionmaker) as session:
            rng = random.Random(SEED)  # noqa: S311 - reproducible bench data, not secrets
            staff = User(
                username="bench-staff",
                display_name="Bench Staff",
                role="placement_staff",
                password_hash=await hash_password(secrets.token_urlsafe(24)),
            )
            session.add(staff)
            plans = plan_safe_houses(rng, count=houses, beds=(3, 12))
            session.add_all(plan.house for plan in plans)
            await session.flush()
            beds = [bed for plan in plans for bed in plan.beds]
            session.add_all(beds)
            await session.flush()
            now = datetime.now(UTC)
            taken = rng.sample(beds, round(len(beds) * OCCUPIED_SHARE))
            youth = [bench_youth(n, staff.id, now) for n in range(len(taken))]
            occupied = set(taken)
            free = [bed for bed in beds if bed not in occupied]
            houses_by_id = {plan.house.id: plan.house for plan in plans}
            targets = lane_beds(rng, free, demand)
            awaiting = [
                bench_youth(len(youth) + n, staff.id, now, houses_by_id[bed.safe_house_id])
                for n, bed in enumerate(targets)
            ]
            session.add_all(youth + awaiting)
            await session.flush()
            session.add_all(
                bench_placement(n, person, bed, staff.id, now)
                for n, (person, bed) in enumerate(zip(youth, taken, strict=True))
            )
            token = issue_token(session, staff.id, settings, now)
        lanes = [Lane(person.id, bed.id) for person, bed in zip(awaiting, targets, strict=True)]
        writing = len(lanes) - demand.burst
        return BenchData(
            houses=len(plans),
            beds=len(beds),
            placements=len(taken),
            token=token,
            youth_ids=[person.id for person in youth + awaiting],
            write_lanes={"real": lanes[: writing // 2], "floor": lanes[writing // 2 : writing]},
            burst_lanes=lanes[writing:],
        )
    finally:
        await resources.close()


def lane_beds(rng: random.Random, free: list[Bed], demand: Demand) -> list[Bed]:
    """The free bed of each lane: the writers' (real's, then floor's), then one per burst request.

    Raises a usage error if there are too few free beds for one lane per writing client.
    """
    spare = len(free) - demand.burst_beds
    per_client = min(LANES_PER_CLIENT, spare // (2 * demand.writers)) if demand.writers else 0
    if spare < 0 or (demand.writers and per_client < 1):
        raise click.UsageError(
            f"{len(free)} free beds are too few for {demand.writers} writing clients per server and "
            f"{demand.burst_beds} burst beds: raise --houses or lower --concurrency/--burst-beds"
        )
    chosen = rng.sample(free, 2 * demand.writers * per_client + demand.burst_beds)
    writing, bursting = chosen[: len(chosen) - demand.burst_beds], chosen[len(chosen) - demand.burst_beds :]
    return writing + [bursting[n % len(bursting)] for n in range(demand.burst)]


def bench_youth(n: int, caseworker: uuid.UUID, now: datetime, house: SafeHouse | None = None) -> Youth:
    """A referred youth; given a house, one of an age and gender it takes."""
    places = massachusetts_places()
    place = places[n % len(places)]
    if house is None:
        born, gender = (now - timedelta(days=15 * 365)).date(), "female"
    else:
        age = min(max(YOUTH_AGE, house.min_age), house.max_age)
        born, gender = now.date().replace(year=now.year - age, month=1, day=1), house.genders[0]
    return Youth(
        case_reference=f"BENCH-{n:05d}",
        date_of_birth=born,
        gender=gender,
        origin_municipality_id=stable_id("municipality", place.county, place.name),
        origin_lat=place.lat,
        origin_lon=place.lon,
        urgency=3,
        max_distance_km=80,
        caseworker_id=caseworker,
    )


def bench_placement(n: int, person: Youth, bed: Bed, staff: uuid.UUID, now: datetime) -> Placement:
    """Every other placement active (confirmed), the rest held for a day."""
    active = n % 2 == 0
    return Placement(
        youth_id=person.id,
        bed_id=bed.id,
        status="active" if active else "held",
        held_until=now + timedelta(hours=24),
        created_by=staff,
        confirmed_at=now if active else None,
    )

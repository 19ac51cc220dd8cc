"""The service bench's data: statewide safe houses and households, and youth awaiting placement.

Safe houses (several beds each, all free) and households of every kind (capacities 1-4 and a few
waivers, licences, availability, caregivers with their training completions) sit in real
Massachusetts municipalities, as the demo plans them. The awaiting youth are spread over a
handful of caseworkers; some more youth are held or placed in homes, so that homes fill up as
they do in service. Every free bed and every household is a target of the matcher.
"""

from __future__ import annotations

import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, text

from caregivers.demo import household_rows, plan_completions, plan_households, seeded_modules
from caregivers.training.catalog import load_training_catalog
from placement.core.resources import Resources
from placement.core.security.models import User
from placement.core.security.passwords import hash_password
from placement.core.security.tokens import issue_token
from placement.core.settings import Settings
from placement.core.uow import unit_of_work
from placement.demo import HousePlan, place_in_homes, plan_safe_houses, plan_youth
from placement.matches.models import MatchRequest
from placement.reference.loader import load_reference_data

SEED = 20261209
BEDS_PER_HOUSE = (3, 7)
PLACED_SHARE = 0.1  # youth beyond the awaiting ones, a third of whom are held or placed in homes


@dataclass(frozen=True, slots=True)
class Awaiting:
    """A youth awaiting placement and the token of their caseworker."""

    youth_id: uuid.UUID
    caseworker_token: str


@dataclass(frozen=True, slots=True)
class ServiceData:
    houses: int
    beds: int
    households: int
    caregivers: int
    completions: int
    placed_in_homes: int
    caseworkers: int
    staff_id: uuid.UUID
    staff_token: str
    awaiting: list[Awaiting]

    @property
    def targets(self) -> int:
        """Every bed is free and every household is a candidate."""
        return self.beds + self.households


def plan_beds(rng: random.Random, beds: int) -> list[HousePlan]:
    """Safe houses of 3-7 beds until there are exactly `beds` beds (the last house may be smaller)."""
    plans = plan_safe_houses(rng, count=max(1, beds // 4), beds=BEDS_PER_HOUSE)
    chosen, left = [], beds
    for plan in plans:
        if left <= 0:
            break
        chosen.append(HousePlan(plan.house, plan.beds[:left]))
        left -= len(chosen[-1].beds)
    if left > 0:  # unlikely: 4 beds a house on average falls short
        more = plan_beds(rng, left)
        chosen += more
    return chosen


async def bench_user(role: str, n: int = 0) -> User:
    return User(
        username=f"bench-{role}-{n}",
        display_name=f"Bench {role} {n}",
        role=role,
        password_hash=await hash_password(secrets.token_urlsafe(24)),
    )


async def seed(
    resources: Resources, settings: Settings, beds: int, households: int, youth: int, caseworkers: int
) -> ServiceData:
    """Reference data, the training catalog, then everything else in one unit of work."""
    rng = random.Random(SEED)  # noqa: S311 - reproducible bench data
    now = datetime.now(UTC)
    async with unit_of_work(resources.sessionmaker) as session:
        await load_reference_data(session)
        await load_training_catalog(session)
    async with unit_of_work(resources.sessionmaker) as session:
        staff = await bench_user("placement_staff")
        workers = [await bench_user("caseworker", n) for n in range(caseworkers)]
        session.add_all([staff, *workers])
        await session.flush()
        worker_ids = [w.id for w in workers]
        awaiting = [plan_youth(rng, n, worker_ids, now.date()) for n in range(youth)]
        others = [
            plan_youth(rng, youth + n, worker_ids, now.date()) for n in range(round(youth * PLACED_SHARE))
        ]
        houses = plan_beds(rng, beds)
        homes = plan_households(rng, households, now, [y.id for y in awaiting + others])
        home_rows, caregivers, related = household_rows(homes)
        session.add_all([*awaiting, *others, *(p.house for p in houses), *home_rows])
        await session.flush()
        session.add_all([*(bed for p in houses for bed in p.beds), *caregivers, *related])
        await session.flush()
        completions = plan_completions(rng, homes, await seeded_modules(session), now.date(), staff.id)
        placements = place_in_homes(rng, others, homes, staff.id, now)
        session.add_all([*completions, *placements])
        staff_token = issue_token(session, staff.id, settings, now)
        tokens = {w.id: issue_token(session, w.id, settings, now) for w in workers}
    async with resources.engine.begin() as connection:  # statistics, as autovacuum would gather
        await connection.execute(text("ANALYZE"))
    return ServiceData(
        houses=len(houses),
        beds=sum(len(p.beds) for p in houses),
        households=len(home_rows),
        caregivers=len(caregivers),
        completions=len(completions),
        placed_in_homes=len(placements),
        caseworkers=caseworkers,
        staff_id=staff.id,
        staff_token=staff_token,
        awaiting=[Awaiting(y.id, tokens[y.caseworker_id]) for y in awaiting],
    )


async def open_requests_directly(
    resources: Resources, youth_ids: list[uuid.UUID], requested_by: uuid.UUID
) -> None:
    """One open request per youth, written as answered (`no_match`) so that no job solves it: what
    a batch picks up, without solving each one first."""
    if not youth_ids:
        return
    now = datetime.now(UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "youth_ids": [youth_id],
            "requested_by": requested_by,
            "status": "no_match",
            "kinds": [],
            "proposal_limit": 5,
            "attempt": 1,
            "placement_ids": [],
            "solved_at": now,
        }
        for youth_id in youth_ids
    ]
    async with unit_of_work(resources.sessionmaker) as session:
        await session.execute(insert(MatchRequest), rows)

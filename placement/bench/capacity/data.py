"""The capacity bench's data: the demo's data set (`placement demo`) at a multiple of its size, with
a past.

At scale k: 12k safe houses of 3-8 beds, 60k youth (a third of them held or placed in beds, some in
homes, one in twelve exited), 300k households of every kind with their caregivers and training
completions, planned as `placement.demo` plans them and written in bulk, and a program lead to
read the figures. The demo's records all date from the moment it loads, so a day before today
would count nothing; here they are then spread over the past (houses, beds and homes over the last
year, youth over the last half-year, each placement made shortly before it was confirmed), so that
a backfilled day counts what was there then.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from caregivers.demo import household_rows, plan_completions, plan_households, seeded_modules
from caregivers.training.catalog import load_training_catalog
from placement.bench.service_data import bench_user
from placement.core.resources import Resources
from placement.core.security.tokens import issue_token
from placement.core.settings import Settings
from placement.core.uow import unit_of_work
from placement.demo import (
    DEMO_HOUSEHOLDS,
    _place_some,  # the demo's own bed placements: reused, not copied
    place_in_homes,
    plan_safe_houses,
    plan_youth,
)
from placement.reference.loader import load_reference_data

SEED = 20261216
DEMO_HOUSES, DEMO_BEDS_PER_HOUSE, DEMO_YOUTH = 12, (3, 8), 60
CASEWORKERS = 3

NOW = "CAST(:now AS timestamptz)"
# Each statement runs after `setseed`, in one transaction: the same data every run.
PAST = tuple(
    statement.replace(":now", NOW)
    for statement in (
        "UPDATE safe_houses SET created_at = :now - interval '1 day' * (30 + random() * 335)",
        "UPDATE beds SET created_at = h.created_at FROM safe_houses h WHERE h.id = beds.safe_house_id",
        "UPDATE households SET created_at = :now - interval '1 day' * (30 + random() * 335)",
        # a placement is made a few days before it was confirmed; a hold, in the last day
        "UPDATE placements SET created_at = coalesce(confirmed_at - interval '1 day' * 3 * random(),"
        " :now - interval '1 day' * random())",
        # a youth was referred before their placement was made, and before they exited
        """UPDATE youth SET created_at = least(
        :now - interval '1 day' * random() * 180,
        coalesce((SELECT min(p.created_at) FROM placements p WHERE p.youth_id = youth.id), exited_at, :now)
            - interval '1 day' * (1 + random() * 14))""",
    )
)


@dataclass(frozen=True, slots=True)
class DemoData:
    scale: int
    houses: int
    beds: int
    households: int
    caregivers: int
    completions: int
    youth: int
    placements: int
    lead_token: str


async def seed_demo(resources: Resources, settings: Settings, scale: int, now: datetime) -> DemoData:
    """The demo's data set `scale` times over, dated over the past, with statistics gathered."""
    rng = random.Random(SEED)  # noqa: S311 - reproducible bench data
    today = now.date()
    async with unit_of_work(resources.sessionmaker) as session:
        await load_reference_data(session)
        await load_training_catalog(session)
    async with unit_of_work(resources.sessionmaker) as session:
        staff, lead = await bench_user("placement_staff"), await bench_user("program_lead")
        workers = [await bench_user("caseworker", n) for n in range(CASEWORKERS)]
        session.add_all([staff, lead, *workers])
        await session.flush()
        houses = plan_safe_houses(rng, DEMO_HOUSES * scale, DEMO_BEDS_PER_HOUSE)
        session.add_all(plan.house for plan in houses)
        await session.flush()
        session.add_all(bed for plan in houses for bed in plan.beds)
        youth = [plan_youth(rng, n, [w.id for w in workers], today) for n in range(1, DEMO_YOUTH * scale + 1)]
        session.add_all(youth)
        await session.flush()
        await _place_some(session, rng, youth, houses, staff.id, now)
        homes = plan_households(
            rng, DEMO_HOUSEHOLDS * scale, now, [y.id for y in youth if y.exited_at is None]
        )
        households, caregivers, related = household_rows(homes)
        session.add_all(households)
        await session.flush()
        session.add_all([*caregivers, *related])
        await session.flush()
        completions = plan_completions(rng, homes, await seeded_modules(session), today, staff.id)
        session.add_all(completions)
        session.add_all(place_in_homes(rng, youth, homes, staff.id, now))
        lead_token = issue_token(session, lead.id, settings, now)
    async with resources.engine.begin() as connection:
        await connection.execute(text("SELECT setseed(0.2026)"))
        for statement in PAST:
            await connection.execute(text(statement), {"now": now})
        placements = await connection.scalar(text("SELECT count(*) FROM placements"))
    await analyze(resources)
    return DemoData(
        scale=scale,
        houses=len(houses),
        beds=sum(len(plan.beds) for plan in houses),
        households=len(households),
        caregivers=len(caregivers),
        completions=len(completions),
        youth=len(youth),
        placements=placements or 0,
        lead_token=lead_token,
    )


async def lead_token(resources: Resources, settings: Settings, now: datetime) -> str:
    """A program lead's token, for a database seeded otherwise."""
    async with unit_of_work(resources.sessionmaker) as session:
        lead = await bench_user("program_lead")
        session.add(lead)
        await session.flush()
        return issue_token(session, lead.id, settings, now)


async def analyze(resources: Resources) -> None:
    """Statistics, as autovacuum would gather them."""
    async with resources.engine.begin() as connection:
        await connection.execute(text("ANALYZE"))

"""Readiness of households for each level of care: computed when asked, the same in Python and SQL."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from caregivers.households.models import Household
from caregivers.training.readiness import readiness, ready_for_level
from placement.core.audit import AuditEntry
from placement.core.compiled import compiled
from placement.core.db import driver_connection
from placement.core.resources import Resources
from placement.core.vocabulary import CARE_LEVELS
from tests.caregivers.factories import make_caregiver, make_household
from tests.caregivers.training_factories import BASICS, SPECIALIZED, complete, module_ids
from tests.conftest import FakeClock, SignedIn
from tests.statements import counted_statements

API = "/api/v1"
TODAY = date(2026, 6, 15)
NINE = SPECIALIZED[len(BASICS) :]


@pytest.fixture(autouse=True)
def today_is_today(clock: FakeClock) -> None:
    clock.now = datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=UTC)


@pytest.fixture
async def staff(sign_in: Any) -> SignedIn:
    user: SignedIn = await sign_in("placement_staff")
    return user


async def levels_of(client: httpx.AsyncClient, user: SignedIn, household: uuid.UUID) -> dict[str, Any]:
    response = await client.get(f"{API}/households/{household}/readiness", headers=user.headers)
    assert response.status_code == 200, response.text
    assert response.json()["as_of"] == str(TODAY)
    return {level["level"]: level for level in response.json()["levels"]}


def missing_of(level: dict[str, Any]) -> dict[str, dict[str, str]]:
    """caregiver id -> module code -> why."""
    return {m["caregiver_id"]: {x["code"]: x["why"] for x in m["modules"]} for m in level["missing"]}


async def test_a_household_whose_primaries_completed_everything_is_ready_for_every_level(
    client: httpx.AsyncClient, staff: SignedIn, resources: Resources
) -> None:
    household = await make_household(resources.sessionmaker)
    first = await make_caregiver(resources.sessionmaker, household)
    second = await make_caregiver(resources.sessionmaker, household)
    await complete(resources.sessionmaker, first, SPECIALIZED, date(2025, 1, 10), verified_by=staff.id)
    await complete(resources.sessionmaker, second, SPECIALIZED, date(2025, 3, 1), verified_by=staff.id)
    # An older completion of a renewed module does not bring the next expiry forward.
    await complete(resources.sessionmaker, second, BASICS[:1], date(2024, 8, 1), verified_by=staff.id)
    levels = await levels_of(client, staff, household)
    assert list(levels) == list(CARE_LEVELS)
    for level in levels.values():
        assert level["ready"] is True and level["percent"] == 100 and level["missing"] == []
        assert level["primary_caregivers"] == 2
    # Basics last 24 months, the nine parts 36: the first caregiver's basics lapse first.
    assert levels["standard"]["next_expiry"] == "2027-01-10"
    assert levels["trafficking_specialized"]["next_expiry"] == "2027-01-10"


async def test_partial_training_gives_the_percent_of_caregiver_module_pairs_met(
    client: httpx.AsyncClient, staff: SignedIn, resources: Resources
) -> None:
    household = await make_household(resources.sessionmaker)
    done = await make_caregiver(resources.sessionmaker, household, name="Ada")
    half = await make_caregiver(resources.sessionmaker, household, name="Bo")
    await make_caregiver(resources.sessionmaker, household, role="secondary")  # not counted
    await complete(resources.sessionmaker, done, SPECIALIZED, date(2025, 1, 10), verified_by=staff.id)
    await complete(
        resources.sessionmaker, half, [*BASICS[:2], *NINE[:4]], date(2025, 1, 10), verified_by=staff.id
    )
    levels = await levels_of(client, staff, household)
    standard, specialized = levels["standard"], levels["trafficking_specialized"]
    assert standard["ready"] is False and standard["percent"] == 100 * 5 // 6
    assert missing_of(standard) == {str(half): {BASICS[2]: "not_completed"}}
    assert specialized["ready"] is False and specialized["percent"] == 100 * (12 + 6) // 24
    assert missing_of(specialized) == {str(half): {c: "not_completed" for c in [*NINE[4:], BASICS[2]]}}
    assert specialized["missing"][0]["name"] == "Bo"


async def test_readiness_counts_only_verified_completions_by_default(
    client: httpx.AsyncClient,
    staff: SignedIn,
    sign_in: Any,
    resources: Resources,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Self-reported ones count too when the setting says so."""
    login = await sign_in("caregiver")
    household = await make_household(resources.sessionmaker)
    person = await make_caregiver(resources.sessionmaker, household, login=login)
    ids = await module_ids(resources.sessionmaker, *BASICS)
    recorded = []
    for module in ids:
        response = await client.post(
            f"{API}/caregivers/{person}/completions",
            json={"module_id": str(module), "completed_on": "2026-01-05"},
            headers=login.headers,
        )
        assert response.status_code == 201, response.text
        recorded.append(response.json()["id"])
    standard = (await levels_of(client, login, household))["standard"]
    assert standard["ready"] is False and standard["percent"] == 0
    assert missing_of(standard) == {str(person): dict.fromkeys(BASICS, "unverified")}
    with monkeypatch.context() as settings:
        settings.setattr(
            resources, "settings", replace(resources.settings, readiness_counts_self_reported=True)
        )
        assert (await levels_of(client, login, household))["standard"]["ready"] is True
    for completion in recorded:
        verified = await client.post(f"{API}/completions/{completion}/verify", headers=staff.headers)
        assert verified.status_code == 200, verified.text
    standard = (await levels_of(client, login, household))["standard"]
    assert standard["ready"] is True and standard["next_expiry"] == "2028-01-05"


async def test_an_expired_completion_makes_the_household_not_ready(
    client: httpx.AsyncClient, staff: SignedIn, sign_in: Any, resources: Resources, clock: FakeClock
) -> None:
    household = await make_household(resources.sessionmaker)
    person = await make_caregiver(resources.sessionmaker, household)
    # Basics last 24 months: these expire on 2026-06-15, today, and still count today.
    await complete(resources.sessionmaker, person, BASICS, date(2024, 6, 15), verified_by=staff.id)
    standard = (await levels_of(client, staff, household))["standard"]
    assert standard["ready"] is True and standard["next_expiry"] == "2026-06-15"
    clock.advance(days=1)
    tomorrow = await sign_in("placement_staff")
    response = await client.get(f"{API}/households/{household}/readiness", headers=tomorrow.headers)
    standard = response.json()["levels"][0]
    assert standard["ready"] is False and standard["next_expiry"] is None
    assert missing_of(standard) == {str(person): dict.fromkeys(BASICS, "expired")}
    # Renewing one of them leaves the other two expired.
    await complete(resources.sessionmaker, person, BASICS[:1], date(2026, 6, 10), verified_by=staff.id)
    response = await client.get(f"{API}/households/{household}/readiness", headers=tomorrow.headers)
    standard = response.json()["levels"][0]
    assert standard["percent"] == 33 and standard["next_expiry"] == "2028-06-10"
    assert missing_of(standard) == {str(person): dict.fromkeys(BASICS[1:], "expired")}


async def test_a_household_without_a_primary_caregiver_is_not_ready_and_a_level_without_rules_is(
    client: httpx.AsyncClient, staff: SignedIn, sign_in: Any, resources: Resources
) -> None:
    household = await make_household(resources.sessionmaker)
    partner = await make_caregiver(resources.sessionmaker, household, role="secondary")
    await complete(resources.sessionmaker, partner, SPECIALIZED, date(2025, 1, 10), verified_by=staff.id)
    levels = await levels_of(client, staff, household)
    for level in levels.values():
        assert level["ready"] is False and level["percent"] == 0 and level["primary_caregivers"] == 0
    admin = await sign_in("admin")
    basics = [str(m) for m in await module_ids(resources.sessionmaker, *BASICS)]
    rules = {"levels": {"standard": [], "trafficking_specialized": basics}}
    assert (await client.put(f"{API}/training/rules", json=rules, headers=admin.headers)).status_code == 200
    levels = await levels_of(client, staff, household)
    assert levels["standard"]["ready"] is True and levels["standard"]["percent"] == 100
    assert levels["trafficking_specialized"]["ready"] is False


async def test_a_caregiver_sees_their_own_households_readiness_and_no_other(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    login = await sign_in("caregiver")
    own = await make_household(resources.sessionmaker)
    await make_caregiver(resources.sessionmaker, own, login=login)
    other = await make_household(resources.sessionmaker)
    await levels_of(client, login, own)
    refused = await client.get(f"{API}/households/{other}/readiness", headers=login.headers)
    assert refused.status_code == 404
    async with resources.sessionmaker() as session:
        entries = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.entity_id, AuditEntry.outcome)
                .where(AuditEntry.actor_id == login.id)
                .order_by(AuditEntry.id)
            )
        ).all()
    assert [tuple(e) for e in entries] == [
        ("read_household_readiness", str(own), "allowed"),
        ("get_household_readiness", str(other), "denied"),
    ]


async def _varied_households(resources: Resources, staff: SignedIn) -> list[uuid.UUID]:
    """Households in every state: complete, partial, expired, unverified, renewed, none, no primary."""
    make = resources.sessionmaker
    households = [await make_household(make) for _ in range(8)]
    complete_one, partial, expired, unverified, renewed, untrained, no_primary, mixed = households
    people = {h: await make_caregiver(make, h) for h in households if h != no_primary}
    await complete(make, people[complete_one], SPECIALIZED, date(2025, 2, 1), verified_by=staff.id)
    await complete(make, people[partial], [*BASICS, *NINE[:5]], date(2025, 2, 1), verified_by=staff.id)
    await complete(make, people[expired], SPECIALIZED, date(2023, 1, 1), verified_by=staff.id)
    await complete(make, people[unverified], SPECIALIZED, date(2025, 2, 1), verified_by=None)
    await complete(make, people[renewed], SPECIALIZED, date(2024, 1, 1), verified_by=staff.id)
    await complete(make, people[renewed], BASICS, date(2026, 1, 1), verified_by=staff.id)
    await complete(make, people[mixed], BASICS, date(2025, 2, 1), verified_by=staff.id)
    await complete(make, people[mixed], NINE, date(2025, 2, 1), verified_by=None)
    second = await make_caregiver(make, mixed)
    await complete(make, second, SPECIALIZED, date(2025, 2, 1), verified_by=staff.id)
    secondary = await make_caregiver(make, no_primary, role="secondary")
    await complete(make, secondary, SPECIALIZED, date(2025, 2, 1), verified_by=staff.id)
    assert untrained in people
    return households


@pytest.mark.parametrize("counts_self_reported", [False, True])
@pytest.mark.parametrize("today", [TODAY, date(2027, 1, 15), date(2024, 6, 1)])
async def test_the_sql_condition_agrees_with_the_python_readiness(
    counts_self_reported: bool, today: date, staff: SignedIn, resources: Resources
) -> None:
    households = await _varied_households(resources, staff)
    condition = ready_for_level(counts_self_reported)
    statement = select(Household.id).where(Household.id.in_(households), condition)
    on_the_driver = compiled(
        select(Household.id).where(condition).order_by(Household.id)
    )  # as a search compiles it
    async with resources.sessionmaker() as session:
        python = await readiness(session, households, today, counts_self_reported)
        for index, level in enumerate(CARE_LEVELS):
            expected = {h for h in households if python[h][index].ready}
            found = set(await session.scalars(statement, {"ready_level": level, "today": today}))
            assert found == expected, (level, today)
            rows = await on_the_driver.fetch(await driver_connection(session), ready_level=level, today=today)
            assert {row[0] for row in rows} & set(households) == expected
        if today == TODAY:
            # Complete and renewed; and with self-reports counting, unverified and mixed.
            ready = {n for n, h in enumerate(households) if python[h][1].ready}
            assert ready == ({0, 3, 4, 7} if counts_self_reported else {0, 4})


async def test_readiness_of_many_households_takes_one_statement_however_many(
    staff: SignedIn, resources: Resources
) -> None:
    few = await _varied_households(resources, staff)
    many = few + [h for _ in range(4) for h in await _varied_households(resources, staff)]

    async with resources.sessionmaker() as session:
        await session.connection()  # the session's own setup is not counted
        with counted_statements(resources) as small:
            await readiness(session, few, TODAY, False)
        with counted_statements(resources) as large:
            result = await readiness(session, many, TODAY, False)
    assert len(small) == len(large) == 1
    assert set(result) == set(many)

"""The training catalog, completions and readiness rules through the API."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select

from caregivers.training.catalog import CATALOG_START, load_training_catalog
from caregivers.training.models import Completion, ReadinessRule, TrainingModule
from caregivers.training.service import add_months
from placement.core.audit import AuditEntry
from placement.core.resources import Resources
from placement.core.uow import unit_of_work
from tests.caregivers.factories import make_caregiver, make_household
from tests.caregivers.training_factories import BASICS, SPECIALIZED, module_ids
from tests.conftest import FakeClock, SignedIn

API = "/api/v1"
TODAY = date(2026, 6, 15)


@pytest.fixture(autouse=True)
def today_is_today(clock: FakeClock) -> None:
    """Today is `TODAY` (the seeded catalog is put back after each test: tests/caregivers/conftest.py)."""
    clock.now = datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=UTC)


async def count_completions(resources: Resources) -> int:
    async with resources.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(Completion)) or 0


async def caregiver_with_login(resources: Resources, sign_in: Any) -> tuple[uuid.UUID, uuid.UUID, SignedIn]:
    """(household id, caregiver id, the caregiver's login) of a new household."""
    login = await sign_in("caregiver")
    household = await make_household(resources.sessionmaker)
    person = await make_caregiver(resources.sessionmaker, household, login=login)
    return household, person, login


def completions_url(caregiver_id: uuid.UUID) -> str:
    return f"{API}/caregivers/{caregiver_id}/completions"


# The catalog


async def test_the_seeded_catalog_has_the_nine_part_series_in_order(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    caregiver = await sign_in("caregiver")
    response = await client.get(
        f"{API}/training/modules", params={"series": "exploitation"}, headers=caregiver.headers
    )
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == 9
    assert [m["position"] for m in page["items"]] == list(range(1, 10))
    assert [m["code"] for m in page["items"]] == [f"exploitation-{n:02d}" for n in range(1, 10)]
    assert {m["audience"] for m in page["items"]} == {"caregiver"}
    assert all(m["validity_months"] and m["duration_minutes"] > 0 for m in page["items"])


async def test_the_catalog_filters_by_audience(client: httpx.AsyncClient, sign_in: Any) -> None:
    lead = await sign_in("program_lead")
    for_caseworkers = await client.get(
        f"{API}/training/modules", params={"audience": "caseworker"}, headers=lead.headers
    )
    assert for_caseworkers.status_code == 200, for_caseworkers.text
    assert {m["series_code"] for m in for_caseworkers.json()["items"]} == {"supporting-caregivers"}
    basics = await client.get(
        f"{API}/training/modules", params={"series": "trauma-basics"}, headers=lead.headers
    )
    assert [m["code"] for m in basics.json()["items"]] == BASICS
    unknown = await client.get(f"{API}/training/modules", params={"audience": "youth"}, headers=lead.headers)
    assert unknown.status_code == 400


@pytest.mark.parametrize("emptied", [("standard",), ("standard", "trafficking_specialized")])
async def test_loading_the_catalog_again_changes_nothing_and_keeps_an_admins_rules(
    emptied: tuple[str, ...], resources: Resources
) -> None:
    [first] = await module_ids(resources.sessionmaker, "trauma-basics-01")
    async with unit_of_work(resources.sessionmaker) as session:
        await session.execute(delete(ReadinessRule).where(ReadinessRule.level.in_(emptied)))
    async with unit_of_work(resources.sessionmaker) as session:
        assert await load_training_catalog(session) == 16
    async with resources.sessionmaker() as session:
        modules = await session.scalar(select(func.count()).select_from(TrainingModule))
        standard = await session.scalar(
            select(func.count()).select_from(ReadinessRule).where(ReadinessRule.level == "standard")
        )
    assert modules == 16 and standard == 0
    assert await module_ids(resources.sessionmaker, "trauma-basics-01") == [first]


def module_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "series": "trauma-basics",
        "code": "trauma-basics-refresher",
        "title": "Trauma-informed care: a refresher",
        "position": 4,
        "duration_minutes": 30,
        "validity_months": 12,
        "available_from": "2026-01-01",
    }
    return body | overrides


async def test_an_admin_adds_a_module_once_per_key_and_a_taken_code_or_position_is_a_409(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    admin = await sign_in("admin")
    headers = {**admin.headers, "Idempotency-Key": "add-refresher"}
    created = await client.post(f"{API}/training/modules", json=module_body(), headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["series_code"] == "trauma-basics" and created.json()["position"] == 4
    again = await client.post(f"{API}/training/modules", json=module_body(), headers=headers)
    assert again.status_code == 201 and again.json()["id"] == created.json()["id"]
    same_code = await client.post(
        f"{API}/training/modules", json=module_body(position=5), headers=admin.headers
    )
    assert same_code.status_code == 409 and "code" in same_code.json()["detail"]
    same_place = await client.post(
        f"{API}/training/modules", json=module_body(code="another-refresher"), headers=admin.headers
    )
    assert same_place.status_code == 409 and "position 4" in same_place.json()["detail"]
    no_series = await client.post(
        f"{API}/training/modules",
        json=module_body(series="no-such-series", code="x-1"),
        headers=admin.headers,
    )
    assert no_series.status_code == 422


# Completions


async def test_a_caregiver_records_their_own_completion_as_self_reported_with_its_expiry(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    _, person, login = await caregiver_with_login(resources, sign_in)
    [module] = await module_ids(resources.sessionmaker, "trauma-basics-01")
    response = await client.post(
        completions_url(person),
        json={"module_id": str(module), "completed_on": "2024-02-29"},
        headers={**login.headers, "Idempotency-Key": "k1"},
    )
    assert response.status_code == 201, response.text
    completion = response.json()
    assert completion["source"] == "self_reported" and completion["verified"] is False
    assert completion["recorded_by"] == str(login.id)
    # 24 months from 29 Feb is 28 Feb.
    assert completion["expires_on"] == "2026-02-28"
    listed = await client.get(completions_url(person), headers=login.headers)
    assert [c["id"] for c in listed.json()["items"]] == [completion["id"]]


def test_expiry_adds_calendar_months_and_clamps_the_day() -> None:
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)
    assert add_months(date(2025, 12, 15), 12) == date(2026, 12, 15)
    assert add_months(date(2025, 8, 31), 120) == date(2035, 8, 31)


async def test_staff_enter_a_completion_verified_at_once_and_verifying_twice_is_a_409(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    staff = await sign_in("placement_staff")
    household = await make_household(resources.sessionmaker)
    person = await make_caregiver(resources.sessionmaker, household, role="secondary")
    [module, other] = await module_ids(resources.sessionmaker, "exploitation-01", "exploitation-02")
    verified = await client.post(
        completions_url(person),
        json={"module_id": str(module), "completed_on": "2025-03-01", "verified": True},
        headers=staff.headers,
    )
    assert verified.status_code == 201, verified.text
    assert verified.json()["source"] == "staff_entered" and verified.json()["verified"] is True
    assert verified.json()["verified_by"] == str(staff.id) and verified.json()["expires_on"] == "2028-03-01"
    entered = await client.post(
        completions_url(person),
        json={"module_id": str(other), "completed_on": "2025-03-01"},
        headers=staff.headers,
    )
    assert entered.json()["verified"] is False
    admin = await sign_in("admin")
    first = await client.post(f"{API}/completions/{entered.json()['id']}/verify", headers=admin.headers)
    assert first.status_code == 200, first.text
    assert first.json()["verified"] is True and first.json()["verified_by"] == str(admin.id)
    second = await client.post(f"{API}/completions/{entered.json()['id']}/verify", headers=staff.headers)
    assert second.status_code == 409 and second.headers["content-type"].startswith("application/problem+json")
    missing = await client.post(f"{API}/completions/{uuid.uuid4()}/verify", headers=staff.headers)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("case", "code", "completed_on", "fragment"),
    [
        ("in the future", "trauma-basics-01", "2026-06-16", "in the future"),
        ("before the module existed", "trauma-basics-01", "2023-12-31", "before the module"),
        ("a caseworkers' module", "supporting-caregivers-01", "2025-01-01", "caseworker"),
        ("an unknown module", None, "2025-01-01", "no training module"),
        ("a duplicate of the day", "trauma-basics-02", "2025-05-05", "already recorded"),
    ],
)
async def test_a_completion_in_the_future_is_refused_and_nothing_is_written(
    case: str,
    code: str | None,
    completed_on: str,
    fragment: str,
    client: httpx.AsyncClient,
    sign_in: Any,
    resources: Resources,
) -> None:
    """The same for one dated before the module existed, a caseworkers' module, an unknown module
    and a duplicate: a 422 problem that says why, and no row written."""
    _, person, login = await caregiver_with_login(resources, sign_in)
    [existing] = await module_ids(resources.sessionmaker, "trauma-basics-02")
    first = await client.post(
        completions_url(person),
        json={"module_id": str(existing), "completed_on": "2025-05-05"},
        headers=login.headers,
    )
    assert first.status_code == 201
    module = (await module_ids(resources.sessionmaker, code))[0] if code else uuid.uuid4()
    refused = await client.post(
        completions_url(person),
        json={"module_id": str(module), "completed_on": completed_on},
        headers={**login.headers, "Idempotency-Key": f"refused-{case}"},
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert fragment in refused.json()["detail"], refused.json()["detail"]
    assert await count_completions(resources) == 1


async def test_a_duplicate_that_races_past_the_check_meets_the_unique_index_as_a_422(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    """The same completion, written but not yet committed by another transaction, passes the
    service's check; the request's insert waits on the unique index and is refused in words."""
    _, person, login = await caregiver_with_login(resources, sign_in)
    [module] = await module_ids(resources.sessionmaker, "exploitation-05")
    async with unit_of_work(resources.sessionmaker) as session:
        session.add(
            Completion(
                caregiver_id=person,
                module_id=module,
                completed_on=date(2025, 9, 9),
                expires_on=date(2028, 9, 9),
                source="self_reported",
            )
        )
        await session.flush()
        racing = asyncio.create_task(
            client.post(
                completions_url(person),
                json={"module_id": str(module), "completed_on": "2025-09-09"},
                headers=login.headers,
            )
        )
        await asyncio.sleep(0.5)  # the request reaches its insert and waits for this transaction
        assert not racing.done()
    refused = await racing
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"] == "This completion of the module on that day is already recorded."
    assert await count_completions(resources) == 1


async def test_a_completion_on_the_day_the_module_opened_and_today_are_accepted(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    _, person, login = await caregiver_with_login(resources, sign_in)
    [module] = await module_ids(resources.sessionmaker, "exploitation-03")
    for day in (CATALOG_START, TODAY):
        response = await client.post(
            completions_url(person),
            json={"module_id": str(module), "completed_on": str(day)},
            headers=login.headers,
        )
        assert response.status_code == 201, response.text


async def test_a_caregiver_cannot_record_for_another_household(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    """Nor for another person of their own: a 404 as for an id that does not exist, audited."""
    household, _, login = await caregiver_with_login(resources, sign_in)
    partner = await make_caregiver(resources.sessionmaker, household, role="secondary")
    elsewhere = await make_caregiver(resources.sessionmaker, await make_household(resources.sessionmaker))
    [module] = await module_ids(resources.sessionmaker, "trauma-basics-01")
    body = {"module_id": str(module), "completed_on": "2025-01-01"}
    for person in (elsewhere, partner):
        refused = await client.post(completions_url(person), json=body, headers=login.headers)
        assert refused.status_code == 404, refused.text
    assert await count_completions(resources) == 0
    async with resources.sessionmaker() as session:
        denied = (
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.actor_id == login.id, AuditEntry.outcome == "denied")
                .order_by(AuditEntry.id)
            )
        ).all()
    assert [(e.action, e.status, e.entity_id) for e in denied] == [
        ("record_completion", 404, str(elsewhere)),
        ("record_completion", 404, str(partner)),
    ]


async def test_a_caregiver_reads_the_completions_of_their_own_household_only(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    household, _, login = await caregiver_with_login(resources, sign_in)
    partner = await make_caregiver(resources.sessionmaker, household, role="secondary")
    elsewhere = await make_caregiver(resources.sessionmaker, await make_household(resources.sessionmaker))
    assert (await client.get(completions_url(partner), headers=login.headers)).status_code == 200
    assert (await client.get(completions_url(elsewhere), headers=login.headers)).status_code == 404
    caseworker = await sign_in("caseworker")
    assert (await client.get(completions_url(elsewhere), headers=caseworker.headers)).status_code == 200


async def test_a_caregiver_cannot_verify_their_own_completion(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    _, person, login = await caregiver_with_login(resources, sign_in)
    [module] = await module_ids(resources.sessionmaker, "trauma-basics-01")
    refused = await client.post(
        completions_url(person),
        json={"module_id": str(module), "completed_on": "2025-01-01", "verified": True},
        headers=login.headers,
    )
    assert refused.status_code == 403
    assert await count_completions(resources) == 0


# Readiness rules


async def test_an_admin_replaces_the_rules_in_one_put_audited_with_old_and_new(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    admin, staff = await sign_in("admin"), await sign_in("placement_staff")
    before = await client.get(f"{API}/training/rules", headers=staff.headers)
    assert before.status_code == 200
    standard = await module_ids(resources.sessionmaker, *BASICS)
    specialized = await module_ids(resources.sessionmaker, *SPECIALIZED)
    # In catalog order: series by code, then position.
    assert before.json()["levels"] == {
        "standard": [str(m) for m in standard],
        "trafficking_specialized": [str(m) for m in specialized[3:] + specialized[:3]],
    }
    [refresher] = await module_ids(resources.sessionmaker, "trauma-basics-01")
    new = {"standard": [str(refresher), str(refresher)], "trafficking_specialized": []}
    replaced = await client.put(f"{API}/training/rules", json={"levels": new}, headers=admin.headers)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["levels"] == {"standard": [str(refresher)], "trafficking_specialized": []}
    after = await client.get(f"{API}/training/rules", headers=admin.headers)
    assert after.json() == replaced.json()
    async with resources.sessionmaker() as session:
        entry = await session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "replace_readiness_rules", AuditEntry.actor_id == admin.id
            )
        )
    assert entry is not None and entry.actor_id == admin.id
    assert json.loads(entry.detail["old"]) == before.json()["levels"]
    assert json.loads(entry.detail["new"]) == replaced.json()["levels"]


@pytest.mark.parametrize(
    ("levels", "fragment"),
    [
        ({"standard": [], "trafficking_specialized": [], "intensive": []}, "unknown level"),
        ({"standard": []}, "missing: trafficking_specialized"),
        ({"standard": ["UNKNOWN"], "trafficking_specialized": []}, "no training module"),
        ({"standard": ["supporting-caregivers-01"], "trafficking_specialized": []}, "caseworkers"),
    ],
)
async def test_rules_naming_an_unknown_level_or_module_or_leaving_a_level_out_are_refused(
    levels: dict[str, list[str]], fragment: str, client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    admin = await sign_in("admin")
    before = (await client.get(f"{API}/training/rules", headers=admin.headers)).json()
    ids: dict[str, list[str]] = {}
    for level, codes in levels.items():
        ids[level] = [
            str(uuid.uuid4()) if c == "UNKNOWN" else str((await module_ids(resources.sessionmaker, c))[0])
            for c in codes
        ]
    refused = await client.put(f"{API}/training/rules", json={"levels": ids}, headers=admin.headers)
    assert refused.status_code == 422, refused.text
    assert fragment in refused.json()["detail"]
    assert (await client.get(f"{API}/training/rules", headers=admin.headers)).json() == before


def test_the_openapi_document_lists_the_training_routes_with_their_problems(app: Any) -> None:
    paths = app.openapi_schema.to_schema()["paths"]
    for path, method in [
        ("/api/v1/training/modules", "get"),
        ("/api/v1/training/modules", "post"),
        ("/api/v1/caregivers/{id}/completions", "get"),
        ("/api/v1/caregivers/{id}/completions", "post"),
        ("/api/v1/completions/{id}/verify", "post"),
        ("/api/v1/training/rules", "get"),
        ("/api/v1/training/rules", "put"),
        ("/api/v1/households/{id}/readiness", "get"),
    ]:
        responses = paths[path][method]["responses"]
        for status in ("400", "403", "404", "409", "422"):
            assert "application/problem+json" in responses[status]["content"], f"{method} {path} {status}"

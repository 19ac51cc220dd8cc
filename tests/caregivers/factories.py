"""Households and caregivers in one line each, written straight to the database (the routes that
create them are tested on their own)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from caregivers.households.models import Caregiver, Household
from placement.core.uow import unit_of_work
from tests.conftest import SignedIn, municipality_id
from tests.factories import API

WORCESTER = municipality_id("Worcester", "Worcester")


def household_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": f"Household {uuid.uuid4().hex[:6]}",
        "kind": "foster",
        "licence_status": "licensed",
        "licence_expires_on": date.today() + timedelta(days=365),
        "capacity": 2,
        "min_age": 10,
        "max_age": 18,
        "genders": ["female", "male", "nonbinary"],
        "services": ["education"],
        "languages": ["en"],
        "takes_sibling_groups": True,
        "municipality_id": WORCESTER,
        "street_address": "7 Confidential Way, Worcester, MA 01608",
        "lat": 42.2701,
        "lon": -71.8043,
        "availability": "open",
        "availability_confirmed_at": datetime.now().astimezone(),
    }
    fields.update(overrides)
    return fields


async def make_household(sessionmaker: async_sessionmaker[AsyncSession], **overrides: Any) -> uuid.UUID:
    async with unit_of_work(sessionmaker) as session:
        household = Household(**household_fields(**overrides))
        session.add(household)
        await session.flush()
        return household.id


async def make_caregiver(
    sessionmaker: async_sessionmaker[AsyncSession],
    household_id: uuid.UUID,
    login: SignedIn | None = None,
    role: str = "primary",
    name: str | None = None,
) -> uuid.UUID:
    """A caregiver of the household, linked to `login` (a `caregiver` user) if given."""
    async with unit_of_work(sessionmaker) as session:
        person = Caregiver(
            household_id=household_id,
            name=name or f"Caregiver {uuid.uuid4().hex[:6]}",
            role=role,
            user_id=login.id if login else None,
        )
        session.add(person)
        await session.flush()
        return person.id


async def hold_in_home(
    client: httpx.AsyncClient, staff: SignedIn, youth: dict[str, Any], household: uuid.UUID
) -> httpx.Response:
    """`POST /placements` holding a place in the household for the youth (as `staff`)."""
    return await client.post(
        f"{API}/placements",
        json={"youth_id": youth["id"], "household_id": str(household)},
        headers=staff.headers,
    )

"""Asking for a match through the API, as a caseworker's client would."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import SignedIn
from tests.factories import API


async def ask(
    client: httpx.AsyncClient, who: SignedIn, youth: list[dict[str, Any]], **options: Any
) -> dict[str, Any]:
    """Ask for a match for these youth and wait for its answer."""
    body = {"youth_ids": [y["id"] for y in youth], **options}
    created = await client.post(f"{API}/match-requests", json=body, headers=who.headers)
    assert created.status_code == 202, created.text
    return await answer_of(client, who, created.json()["id"])


async def answer_of(client: httpx.AsyncClient, who: SignedIn, request_id: str) -> dict[str, Any]:
    answer = await client.get(f"{API}/match-requests/{request_id}?wait=10", headers=who.headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def accept(client: httpx.AsyncClient, who: SignedIn, request_id: str, rank: int) -> httpx.Response:
    return await client.post(
        f"{API}/match-requests/{request_id}/accept", json={"rank": rank}, headers=who.headers
    )

"""Placement staff run a batch rematch in a real browser: start it, watch it solve (a real worker),
review each proposal with the terms of its score, untick one and hold the rest; the unticked
request stays open. Other roles are refused the batch pages."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from arq.worker import Worker
from playwright.async_api import Browser, expect
from sqlalchemy import select

from placement.core.resources import Resources
from placement.matches.models import MatchRequest
from placement.placements.models import Placement
from tests.factories import API, make_safe_house, make_youth
from tests.web.test_page_guards import signed_in
from tests.web.test_staff_pages import signed_in_page


async def test_staff_start_a_batch_watch_it_solve_and_hold_only_the_proposals_they_tick(
    client: httpx.AsyncClient,
    sign_in: Any,
    resources: Resources,
    browser: Browser,
    site: str,
    worker: Worker,
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    houses = [await make_safe_house(client, staff, beds=1) for _ in range(2)]
    chosen = await make_youth(client, staff, caseworker, case_reference="MA-BATCH-1", urgency=5)
    left = await make_youth(client, staff, caseworker, case_reference="MA-BATCH-2", urgency=2)
    for youth in (chosen, left):
        asked = await client.post(
            f"{API}/match-requests", json={"youth_ids": [youth["id"]]}, headers=caseworker.headers
        )
        assert asked.status_code == 202, asked.text

    page = await signed_in_page(browser, site, staff.username, "/batches")
    await expect(page.get_by_text("2 open requests would be solved.")).to_be_visible()
    await page.get_by_role("button", name="Start a batch rematch").click()
    await expect(page.get_by_role("heading", name="Proposals (2)")).to_be_visible(timeout=20_000)
    await expect(page.get_by_text("the best answer, proven")).to_be_visible()
    for house in houses:  # staff see which bed, the exact distance and every term
        await expect(page.get_by_role("heading", name=f"{house['name']}, Boston")).to_have_count(1)
    await expect(page.get_by_role("row", name="Closeness to the origin")).to_have_count(2)
    await expect(page.get_by_text(", bed B1: ").first).to_be_visible()
    await expect(page.get_by_text(" km (").first).to_be_visible()

    await page.get_by_label("Hold this proposal for MA-BATCH-2").uncheck()
    await page.get_by_role("button", name="Hold the ticked proposals").click()
    await expect(page.get_by_role("status")).to_have_text("The batch was accepted.")
    await expect(page.get_by_text("1 of 1 chosen request were held")).to_be_visible()
    await expect(page.get_by_role("button", name="Hold the ticked proposals")).to_have_count(0)
    await page.context.close()

    async with resources.sessionmaker() as session:
        held = (await session.scalars(select(Placement.youth_id).where(Placement.status == "held"))).all()
        statuses = {str(r.youth_ids[0]): r.status for r in await session.scalars(select(MatchRequest))}
    assert held == [uuid.UUID(chosen["id"])]
    assert statuses == {chosen["id"]: "accepted", left["id"]: "proposed"}


async def test_ticking_nothing_is_refused_with_a_page_and_holds_nothing(
    app: Any, client: httpx.AsyncClient, sign_in: Any, resources: Resources, worker: Worker
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    await make_safe_house(client, staff, beds=1)
    youth = await make_youth(client, staff, caseworker)
    await client.post(f"{API}/match-requests", json={"youth_ids": [youth["id"]]}, headers=caseworker.headers)
    started = (await client.post(f"{API}/matching/batch", headers=staff.headers)).json()
    browser = await signed_in(app, staff.username)
    try:
        for _ in range(200):
            answer = await browser.get(f"/batches/{started['id']}")
            if "Refresh" not in answer.headers:
                break
        assert "Hold all 1 proposals" in answer.text
        refused = await browser.post(
            f"/batches/{started['id']}/accept",
            data={"choice": "ticked", "_csrf_token": browser.cookies["csrftoken"]},
        )
    finally:
        await browser.aclose()
    assert refused.status_code == 400 and "tick at least one proposal" in refused.text
    async with resources.sessionmaker() as session:
        assert (await session.scalar(select(Placement.id))) is None


async def test_a_second_batch_while_one_solves_is_refused_with_a_page_not_a_problem_document(
    app: Any, client: httpx.AsyncClient, sign_in: Any
) -> None:
    staff = await sign_in("placement_staff")
    browser = await signed_in(app, staff.username)
    token = {"_csrf_token": browser.cookies["csrftoken"]}
    try:
        first = await browser.post("/batches", data=token)
        second = await browser.post("/batches", data=token)
        listed = await browser.get("/batches")
    finally:
        await browser.aclose()
    assert first.status_code == 303 and first.headers["location"].startswith("/batches/")
    assert second.status_code == 409 and "text/html" in second.headers["content-type"]
    assert "already queued or solving" in second.text
    assert "watch it" in listed.text and "Start a batch rematch" not in listed.text

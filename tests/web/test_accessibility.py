"""Every page of every role passes axe-core's automated checks (no serious or critical violation)
and reflows at 360 px wide without scrolling sideways.

The pages are found, not listed: every page route answering GET without a path parameter, for
each role it admits (and the public ones signed out); `MORE_PAGES` adds the ones that need a query
or an id, or show a state worth checking (a refusal, a form sent back with a mistake). axe-core's
script is the one the `axe-playwright-python` package ships (a test extra; MPL-2.0).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from importlib.resources import files
from typing import Any

import httpx
import pytest
from arq.worker import Worker
from litestar import Litestar
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize

from placement.core.resources import Resources
from placement.core.security.roles import ROLES
from tests.caregivers.factories import make_caregiver, make_household
from tests.conftest import TEST_PASSWORD
from tests.core.test_route_guards import http_routes
from tests.factories import API, make_safe_house, make_youth
from tests.matches.test_batch import batch_answer

AXE_JS = (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")
FAILING_IMPACTS = ("serious", "critical")
DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=360, height=740)
ANONYMOUS = "anonymous"

MORE_PAGES: list[tuple[str, str | Callable[[dict[str, Any]], str]]] = [
    (ANONYMOUS, "/sign-in?next=/board"),
    ("caseworker", "/board"),  # a refusal, as a page
    ("admin", "/audit?outcome=denied&anchor=1:not-a-hash"),
    ("admin", "/audit?verify=true"),  # the chain's report
    ("admin", "/audit?actor_id=not-an-id"),  # a malformed filter: a 400 page
    ("admin", lambda scene: f"/audit?entity=user&entity_id={scene['admin_id']}"),
    ("placement_staff", lambda scene: f"/batches/{scene['batch_id']}"),  # a solved batch to review
    ("placement_staff", lambda scene: f"/board?youth={scene['waiting_id']}"),  # beds to hold for them
    ("caregiver", lambda scene: f"/family/households/{scene['household_id']}/history"),
    ("program_lead", lambda scene: f"/capacity-targets/{scene['target_id']}?done=changed"),
    ("program_lead", lambda scene: f"/capacity-what-if/{scene['what_if_id']}"),  # a what-if asked
    (
        "caseworker",
        lambda scene: f"/casework/match-requests/{scene['request_id']}/why-not?target={scene['bed_id']}",
    ),
    ("caseworker", lambda scene: f"/casework/youth/{scene['waiting_id']}"),  # with their requests
    ("caseworker", lambda scene: f"/casework/match-requests/{scene['request_id']}"),  # to cancel
]
"""(role, path) for pages the walk cannot find by itself; a callable gets the scene's ids."""


def pages_of(app: Litestar, role: str) -> list[str]:
    """The role's GET pages that need no path parameter (the public ones for `anonymous`)."""
    found = []
    for method, path, handler in http_routes(app, pages=True):
        if method != "GET" or "{" in path or path.endswith(".csv"):  # downloads are not pages
            continue
        public = bool(handler.opt.get("public"))
        if (role == ANONYMOUS and public) or (role != ANONYMOUS and role in handler.opt.get("roles", ())):
            found.append(path)
    return found


async def scene(client: httpx.AsyncClient, sign_in: Any, resources: Resources) -> dict[str, Any]:
    """A user of every role and records for their pages to show: a safe house with beds, a youth
    held and one waiting with a match request, a batch, audit entries (allowed and denied), a
    target and a what-if asked, and the caregiver's own household, paused with a note."""
    users = {role: await sign_in(role) for role in ROLES}
    household = await make_household(resources.sessionmaker)
    await make_caregiver(resources.sessionmaker, household, users["caregiver"])
    back_on = (date.today() + timedelta(days=9)).isoformat()
    paused = {"status": "paused", "paused_until": back_on, "note": "Away"}
    changed = await client.put(
        f"{API}/households/{household}/availability",
        json=paused,
        headers={**users["caregiver"].headers, "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    staff, caseworker, lead = users["placement_staff"], users["caseworker"], users["program_lead"]
    house = await make_safe_house(client, staff, beds=3)
    held = await make_youth(client, staff, caseworker)
    waiting = await make_youth(client, staff, caseworker)
    hold = {"youth_id": held["id"], "bed_id": house["bed_list"][0]["id"]}
    answer = await client.post(f"{API}/placements", json=hold, headers=staff.headers)
    assert answer.status_code in (200, 201), answer.text
    await client.get(f"{API}/audit", headers=caseworker.headers)  # a denial in the trail
    asked = {"youth_ids": [waiting["id"]]}
    request = await client.post(f"{API}/match-requests", json=asked, headers=caseworker.headers)
    assert request.is_success, request.text
    batch = await client.post(f"{API}/matching/batch", headers=staff.headers)
    assert batch.status_code == 202, batch.text
    goal = {
        "title": "Beds",
        "metric": "safe_house_beds",
        "scope": "statewide",
        "value": 5,
        "due_on": "2030-01-01",
    }
    target = await client.post(f"{API}/capacity/targets", json=goal, headers=lead.headers)
    assert target.status_code == 201, target.text
    scenario = {"training": {"region": "Boston"}, "reopening": {}}
    what_if = await client.post(f"{API}/capacity/what-if", json=scenario, headers=lead.headers)
    assert what_if.is_success, what_if.text
    return {
        "what_if_id": what_if.json()["id"],
        "bed_id": house["bed_list"][1]["id"],
        "users": users,
        "admin_id": users["admin"].id,
        "batch_id": batch.json()["id"],
        "household_id": household,
        "target_id": target.json()["id"],
        "waiting_id": waiting["id"],
        "request_id": request.json()["id"],
    }


async def signed_in_context(browser: Browser, site: str, username: str | None) -> BrowserContext:
    context = await browser.new_context(viewport=DESKTOP)
    if username is not None:
        page = await context.new_page()
        await page.goto(f"{site}/sign-in")
        await page.get_by_label("Username").fill(username)
        await page.get_by_label("Password").fill(TEST_PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url(f"{site}/")
        await page.close()
    return context


async def axe_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page, one line per rule."""
    await page.evaluate(AXE_JS)
    results = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in results["violations"]
        if v["impact"] in FAILING_IMPACTS
    ]


async def sideways_scroll(page: Page) -> int:
    """How many CSS pixels the page is wider than the viewport (0 if it reflows)."""
    overflow: int = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return overflow


@pytest.mark.parametrize("role", [ANONYMOUS, *ROLES])
async def test_every_page_of_the_role_passes_axe_and_reflows_at_360_px(
    role: str,
    app: Litestar,
    client: httpx.AsyncClient,
    sign_in: Any,
    browser: Browser,
    site: str,
    worker: Worker,
    resources: Resources,
) -> None:
    ids = await scene(client, sign_in, resources)
    await batch_answer(client, ids["users"]["placement_staff"], ids["batch_id"])  # solved, to review
    user = ids["users"].get(role)
    paths = pages_of(app, role) + [
        path(ids) if callable(path) else path for who, path in MORE_PAGES if who == role
    ]
    assert paths, f"no page found for {role}"
    context = await signed_in_context(browser, site, user.username if user else None)
    page = await context.new_page()
    problems = []
    refused_by_policy: list[str] = []  # anything a page tries that its security policy refuses
    page.on(
        "console",
        lambda message: (
            refused_by_policy.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    try:
        for path in paths:
            for viewport in (DESKTOP, PHONE):
                await page.set_viewport_size(viewport)
                await page.goto(f"{site}{path}")
                width = viewport["width"]
                problems += [f"{path} at {width} px: {v}" for v in await axe_violations(page)]
                if width == PHONE["width"] and (extra := await sideways_scroll(page)) > 0:
                    problems.append(f"{path} at {width} px: scrolls {extra} px sideways")
    finally:
        await context.close()
    assert problems + refused_by_policy == [], "\n".join(problems + refused_by_policy)

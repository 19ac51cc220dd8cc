"""Caseworkers in a real browser: refer a youth with a danger zone chosen by town, ask for a match a
real worker answers, read the proposals and their terms, ask why not another bed, accept one or
cancel the request, find it among the youth's requests; no page of theirs shows an address, a
coordinate or an exact distance; another caseworker's youth is not found."""

from __future__ import annotations

import math
import re
import uuid
from datetime import date
from typing import Any

import httpx
from arq.worker import Worker
from litestar import Litestar
from playwright.async_api import Browser, Page, expect
from sqlalchemy import delete, select

from placement.core.resources import Resources
from placement.core.uow import unit_of_work
from placement.matches.models import MatchRequest
from placement.placements.models import Placement
from placement.reference.models import Municipality
from placement.safehouses.models import Bed
from placement.web.casework_pages import PER_PAGE, REQUESTS_PER_PAGE
from placement.youth.models import Youth
from tests.caregivers.factories import make_household
from tests.conftest import TEST_PASSWORD, SignedIn, county_id, region_id
from tests.factories import API, SPRINGFIELD, make_safe_house, make_youth
from tests.matches.asking import accept, ask
from tests.web.test_page_guards import CSRF_COOKIE, signed_in
from tests.web.test_staff_pages import signed_in_page

LINKED_REQUEST = r'href="/casework/match-requests/([0-9a-f-]{36})"'


def km_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    (lat1, lon1), (lat2, lon2) = (tuple(map(math.radians, p)) for p in (a, b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


async def centre_of(client: httpx.AsyncClient, who: SignedIn, town: str) -> tuple[float, float]:
    [found] = [
        m
        for m in (await client.get(f"{API}/municipalities?q={town}", headers=who.headers)).json()
        if m["name"] == town
    ]
    return found["lat"], found["lon"]


async def test_a_caseworker_refers_a_youth_asks_for_a_match_asks_why_not_and_accepts_a_proposal(
    client: httpx.AsyncClient,
    sign_in: Any,
    resources: Resources,
    browser: Browser,
    site: str,
    worker: Worker,
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    springfield = await centre_of(client, staff, "Springfield")
    worcester = await centre_of(client, staff, "Worcester")
    boston_house = await make_safe_house(client, staff, beds=1)
    hidden_point = (springfield[0] + 0.0123, springfield[1] - 0.0117)
    hidden_house = await make_safe_house(
        client,
        staff,
        beds=1,
        municipality_id=str(SPRINGFIELD),
        street_address="77 Hidden Lane, Springfield, MA 01103",
        lat=hidden_point[0],
        lon=hidden_point[1],
    )
    await make_household(resources.sessionmaker, capacity=1, name="Maple")
    pages: list[str] = []

    async def seen(page: Page) -> None:
        pages.append(await page.content())

    page = await signed_in_page(browser, site, caseworker.username, "/casework")
    await expect(page.get_by_text("No youth on your caseload.")).to_be_visible()
    await seen(page)

    await page.get_by_role("main").get_by_role("link", name="Refer a youth").click()
    await page.get_by_label("Case reference").fill("MA-WEB-0042")
    await page.get_by_label("Date of birth").fill(date(date.today().year - 15, 3, 1).isoformat())
    await page.get_by_label("Gender").select_option("female")
    await page.get_by_label("Origin municipality").fill("Worcester")
    await page.get_by_label("English").check()
    await page.get_by_label("Trauma-focused therapy").check()
    await page.get_by_label("Danger zone 1: town").fill("Springfield")
    await page.get_by_label("Danger zone 1: radius (km)").fill("15")
    await seen(page)
    await page.get_by_role("button", name="Refer youth").click()

    await expect(page.get_by_role("status")).to_have_text("Youth referred.")
    await expect(page.get_by_text("15.0 km around Springfield")).to_be_visible()
    await seen(page)
    async with resources.sessionmaker() as session:
        youth = await session.scalar(select(Youth).where(Youth.case_reference == "MA-WEB-0042"))
    assert youth is not None and youth.caseworker_id == caseworker.id
    assert youth.danger_zones == [
        {"lat": springfield[0], "lon": springfield[1], "radius_km": 15.0, "label": "Springfield"}
    ]

    await page.get_by_role("button", name="Request a match").click()
    await expect(page.get_by_role("heading", name="Proposals, best first")).to_be_visible(timeout=20_000)
    await expect(
        page.get_by_role("heading", name=f"Proposal 1: {boston_house['name']}, Boston")
    ).to_be_visible()
    await expect(page.get_by_role("row", name="Closeness to the origin").first).to_be_visible()
    request_id = page.url.rsplit("/", 1)[1]
    await seen(page)

    await page.get_by_label("Bed or home", exact=True).select_option(
        label=f"{hidden_house['name']}, bed B1, Springfield"
    )
    await page.get_by_role("button", name="Explain").click()
    await expect(page.get_by_role("heading", name=f"Why not {hidden_house['name']}")).to_be_visible()
    await expect(page.get_by_text("danger zone", exact=False).first).to_be_visible()
    await expect(page.get_by_text("inside danger zone 1")).to_be_visible()
    await seen(page)

    await page.get_by_role("link", name="Back to the request").click()
    await page.get_by_role("button", name="Accept proposal 1").click()
    await expect(page.get_by_role("status")).to_have_text("Proposal accepted.")
    await expect(page.get_by_text("Proposal 1 was accepted")).to_be_visible()
    await seen(page)
    async with resources.sessionmaker() as session:
        held = await session.scalar(select(Placement).where(Placement.youth_id == youth.id))
        assert held is not None and held.status == "held"
        house_id = await session.scalar(select(Bed.safe_house_id).where(Bed.id == held.bed_id))
    assert house_id == uuid.UUID(boston_house["id"])

    await page.goto(f"{site}/casework")
    await expect(page.get_by_role("row", name="MA-WEB-0042")).to_contain_text("held")
    await seen(page)
    await page.goto(f"{site}/casework/youth/{youth.id}")
    await seen(page)

    staff_view = (await client.get(f"{API}/match-requests/{request_id}", headers=staff.headers)).json()
    exact = [a["distance_km"] for p in staff_view["proposals"] for a in p["assignments"]]
    exact += [km_between(worcester, hidden_point), km_between(springfield, hidden_point)]
    secrets = {boston_house["street_address"], hidden_house["street_address"], "7 Confidential Way"}
    for place in (boston_house, hidden_house):
        secrets |= {str(place["lat"]), str(place["lon"])}
    secrets |= {"42.2701", "-71.8043", *map(str, springfield), *map(str, worcester)}  # home, centres
    for km in exact:
        secrets |= {str(km), f"{km:.1f} km", f"{km:.2f}"}
    for html in pages:
        assert not [s for s in secrets if s in html], [s for s in secrets if s in html]
    await page.context.close()


async def test_a_caseworker_cannot_open_another_caseworkers_youth_or_match_request(
    client: httpx.AsyncClient, sign_in: Any, browser: Browser, site: str, worker: Worker
) -> None:
    staff, theirs, mine = (
        await sign_in("placement_staff"),
        await sign_in("caseworker"),
        await sign_in("caseworker"),
    )
    await make_safe_house(client, staff, beds=1)
    youth = await make_youth(client, theirs)
    asked = await client.post(
        f"{API}/match-requests", json={"youth_ids": [youth["id"]]}, headers=theirs.headers
    )
    assert asked.status_code == 202, asked.text
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{site}/sign-in")
    await page.get_by_label("Username").fill(mine.username)
    await page.get_by_label("Password").fill(TEST_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()

    for path in (f"/casework/youth/{youth['id']}", f"/casework/match-requests/{asked.json()['id']}"):
        answer = await page.goto(f"{site}{path}")
        assert answer is not None and answer.status == 404, path
        await expect(page.get_by_role("alert")).to_contain_text("on your caseload")
        assert youth["case_reference"] not in await page.content()
    await page.goto(f"{site}/casework")
    await expect(page.get_by_text("No youth on your caseload.")).to_be_visible()
    await context.close()


async def test_accepting_a_proposal_whose_bed_was_taken_shows_what_changed_and_the_proposals_still_valid(
    client: httpx.AsyncClient, sign_in: Any, browser: Browser, site: str, worker: Worker
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    for _ in range(3):
        await make_safe_house(client, staff, beds=1)
    youth, other = await make_youth(client, caseworker), await make_youth(client, caseworker)
    answer = await ask(client, caseworker, [youth])
    assert len(answer["proposals"]) == 3
    page = await signed_in_page(
        browser, site, caseworker.username, f"/casework/match-requests/{answer['id']}"
    )
    taken = answer["proposals"][0]["assignments"][0]["target_id"]
    held = await client.post(
        f"{API}/placements", json={"youth_id": other["id"], "bed_id": taken}, headers=staff.headers
    )
    assert held.status_code == 201, held.text

    await page.get_by_role("button", name="Accept proposal 1").click()
    await expect(page.get_by_role("heading", name="The proposal could not be held")).to_be_visible()
    await expect(page.get_by_text("What changed")).to_contain_text("already held or occupied")
    await expect(page.get_by_role("button", name="Accept proposal 1")).to_have_count(0)
    await expect(page.get_by_role("button", name="Accept proposal 3")).to_be_visible()
    await page.get_by_role("button", name="Accept proposal 2").click()
    await expect(page.get_by_role("status")).to_have_text("Proposal accepted.")
    mine = (await client.get(f"{API}/youth/{youth['id']}", headers=caseworker.headers)).json()
    assert mine["status"] == "held"
    await page.context.close()


async def test_the_caseload_is_shown_a_page_at_a_time(
    app: Litestar, client: httpx.AsyncClient, sign_in: Any
) -> None:
    caseworker = await sign_in("caseworker")
    for _ in range(PER_PAGE + 3):
        await make_youth(client, caseworker)
    browser = await signed_in(app, caseworker.username)
    try:
        first = await browser.get("/casework")
        assert first.status_code == 200
        assert first.text.count("/casework/youth/") == PER_PAGE and "page 1 of 2" in first.text
        assert 'href="/casework?page=2"' in first.text
        second = await browser.get("/casework?page=2")
        assert second.text.count("/casework/youth/") == 3 and 'href="/casework?page=1"' in second.text
        held = await browser.get("/casework?status=held")
        assert "No youth held on your caseload." in held.text
    finally:
        await browser.aclose()


def referral_form(browser: httpx.AsyncClient, case_reference: str, **fields: str) -> dict[str, str]:
    """The referral form as a browser posts it: a 14-year-old from Worcester with one 10 km danger
    zone (`zone_1_place` given), with its CSRF token."""
    return {
        "_csrf_token": browser.cookies[CSRF_COOKIE],
        "case_reference": case_reference,
        "date_of_birth": date(date.today().year - 14, 1, 2).isoformat(),
        "gender": "male",
        "origin": "Worcester",
        "zone_1_km": "10",
        **fields,
    }


async def test_a_referral_naming_no_known_town_is_shown_again_with_what_was_typed(
    app: Litestar, client: httpx.AsyncClient, sign_in: Any
) -> None:
    caseworker = await sign_in("caseworker")
    browser = await signed_in(app, caseworker.username)
    form = referral_form(browser, "MA-TYPO-1", zone_1_place="Atlantis")
    try:
        answer = await browser.post("/casework/refer", data=form)
        assert answer.status_code == 400
        assert "Danger zone 1: no municipality is named &#39;Atlantis&#39;" in answer.text
        assert 'value="MA-TYPO-1"' in answer.text and 'value="Atlantis"' in answer.text
        listed = (await client.get(f"{API}/youth", headers=caseworker.headers)).json()
        assert listed["total"] == 0
    finally:
        await browser.aclose()


async def test_a_danger_zone_naming_a_town_two_counties_share_must_say_which(
    app: Litestar, client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    """A zone centred on the wrong Springfield would leave the real one unguarded: a shared name is
    refused until the county is written, and the form offers the names that way."""
    twin = Municipality(
        id=uuid.uuid4(),
        name="Springfield",
        county_id=county_id("Worcester"),
        region_id=region_id("Central"),
        lat=42.30,
        lon=-71.90,
    )
    async with unit_of_work(resources.sessionmaker) as session:
        session.add(twin)
    caseworker = await sign_in("caseworker")
    browser = await signed_in(app, caseworker.username)
    form = referral_form(browser, "MA-TWIN-1", zone_1_place="springfield")
    try:
        offered = await browser.get("/casework/refer")
        shared = await browser.post("/casework/refer", data=form)
        named = await browser.post("/casework/refer", data={**form, "zone_1_place": "Springfield, Hampden"})
    finally:
        await browser.aclose()
        async with unit_of_work(resources.sessionmaker) as session:
            await session.execute(delete(Municipality).where(Municipality.id == twin.id))
    assert '<option value="Springfield, Hampden">' in offered.text
    assert '<option value="Springfield, Worcester">' in offered.text
    assert shared.status_code == 400, shared.text
    assert "2 municipalities are named &#39;springfield&#39;" in shared.text
    assert named.status_code == 303, named.text
    youth = (await client.get(f"{API}/youth", headers=caseworker.headers)).json()["items"][0]
    springfield = (await client.get(f"{API}/municipalities?q=Springfield", headers=caseworker.headers)).json()
    hampden = next(m for m in springfield if m["county"] == "Hampden")
    assert youth["danger_zones"][0]["lat"] == hampden["lat"]


async def test_a_sibling_group_is_asked_for_together_from_a_siblings_page(
    app: Litestar, client: httpx.AsyncClient, sign_in: Any
) -> None:
    caseworker = await sign_in("caseworker")
    first, second = [await make_youth(client, caseworker, sibling_group="G-7") for _ in range(2)]
    await make_youth(client, caseworker, sibling_group="G-8")
    browser = await signed_in(app, caseworker.username)
    try:
        shown = await browser.get(f"/casework/youth/{first['id']}")
        assert f'name="youth_ids" value="{second["id"]}" checked' in shown.text
        assert shown.text.count('name="youth_ids"') == 2  # the youth and one sibling, not group G-8
        form = {"_csrf_token": browser.cookies["csrftoken"], "youth_ids": [first["id"], second["id"]]}
        asked = await browser.post("/casework/match-requests", data=form)
        assert asked.status_code == 303
        request_id = asked.headers["location"].rsplit("/", 1)[1]
        stored = (await client.get(f"{API}/match-requests/{request_id}", headers=caseworker.headers)).json()
        assert set(stored["youth_ids"]) == {first["id"], second["id"]}
    finally:
        await browser.aclose()


async def test_a_caseworker_cancels_a_request_with_a_note_and_finds_it_on_the_youths_page(
    client: httpx.AsyncClient,
    sign_in: Any,
    resources: Resources,
    browser: Browser,
    site: str,
    worker: Worker,
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    await make_safe_house(client, staff, beds=1)
    youth = await make_youth(client, caseworker)
    page = await signed_in_page(browser, site, caseworker.username, f"/casework/youth/{youth['id']}")
    await expect(page.get_by_text("No match request for this youth yet.")).to_be_visible()
    await page.get_by_role("button", name="Request a match").click()
    await expect(page.get_by_role("heading", name="Proposals, best first")).to_be_visible(timeout=20_000)
    request_id = page.url.rsplit("/", 1)[1]

    await page.get_by_label("Why it is cancelled (optional)").fill("A kin home came forward.")
    await page.get_by_role("button", name="Cancel this request").click()
    await expect(page).to_have_url(f"{site}/casework/match-requests/{request_id}?done=cancelled")
    await expect(page.get_by_role("status")).to_have_text("Request cancelled.")
    await expect(page.get_by_text("Status: cancelled")).to_be_visible()
    await expect(page.get_by_role("button", name="Cancel this request")).to_have_count(0)
    await expect(page.get_by_role("button", name="Accept proposal 1")).to_have_count(0)
    async with resources.sessionmaker() as session:
        stored = await session.get(MatchRequest, uuid.UUID(request_id))
    assert stored is not None and stored.close_note == "A kin home came forward."

    await page.get_by_role("link", name=f"Youth {youth['case_reference']}").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Open the request of"))
    await expect(row).to_have_count(1)
    await expect(row.get_by_role("cell").nth(1)).to_contain_text("cancelled")
    await row.get_by_role("link").click()
    await expect(page).to_have_url(f"{site}/casework/match-requests/{request_id}")
    await page.context.close()


async def test_an_accepted_request_cannot_be_cancelled_nor_another_caseworkers_request(
    app: Litestar, client: httpx.AsyncClient, sign_in: Any, worker: Worker
) -> None:
    staff, mine, theirs = (
        await sign_in("placement_staff"),
        await sign_in("caseworker"),
        await sign_in("caseworker"),
    )
    await make_safe_house(client, staff, beds=2)
    accepted = await ask(client, mine, [await make_youth(client, mine)])
    assert (await accept(client, mine, accepted["id"], 1)).status_code == 200
    open_one = await ask(client, theirs, [await make_youth(client, theirs)])
    browser = await signed_in(app, mine.username)
    note = {"_csrf_token": browser.cookies[CSRF_COOKIE], "note": "no longer needed"}
    try:
        shown = await browser.get(f"/casework/match-requests/{accepted['id']}")
        assert "Cancel this request" not in shown.text
        refused = await browser.post(f"/casework/match-requests/{accepted['id']}/cancel", data=note)
        assert refused.status_code == 409 and "text/html" in refused.headers["content-type"]
        assert "Only an open request can be cancelled; this one is accepted." in refused.text
        hidden = await browser.post(f"/casework/match-requests/{open_one['id']}/cancel", data=note)
        assert hidden.status_code == 404 and "on your caseload" in hidden.text
    finally:
        await browser.aclose()
    still = await client.get(f"{API}/match-requests/{open_one['id']}", headers=theirs.headers)
    assert still.json()["status"] == "proposed"


async def test_a_youths_match_requests_are_shown_newest_first_a_page_at_a_time(
    app: Litestar, client: httpx.AsyncClient, sign_in: Any
) -> None:
    caseworker = await sign_in("caseworker")
    youth = await make_youth(client, caseworker)
    asked = []
    for _ in range(REQUESTS_PER_PAGE + 2):  # each replaces the one before: unsolved, no worker here
        made = await client.post(
            f"{API}/match-requests", json={"youth_ids": [youth["id"]]}, headers=caseworker.headers
        )
        asked.append(made.json()["id"])
    newest_first = list(reversed(asked))
    browser = await signed_in(app, caseworker.username)
    try:
        first = await browser.get(f"/casework/youth/{youth['id']}")
        assert re.findall(LINKED_REQUEST, first.text) == newest_first[:REQUESTS_PER_PAGE]
        assert first.text.count("<td>queued</td>") == 1
        assert f"Match requests 1\N{EN DASH}{REQUESTS_PER_PAGE} of {len(asked)}" in first.text
        assert f'href="/casework/youth/{youth["id"]}?offset={REQUESTS_PER_PAGE}"' in first.text
        second = await browser.get(f"/casework/youth/{youth['id']}?offset={REQUESTS_PER_PAGE}")
        assert re.findall(LINKED_REQUEST, second.text) == newest_first[REQUESTS_PER_PAGE:]
        assert second.text.count("<td>cancelled ") == 2
    finally:
        await browser.aclose()

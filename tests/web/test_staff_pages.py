"""Placement staff in a real browser: sign in, hold a bed from the board, confirm the arrival, end
the placement; other roles are refused the board; a form without its CSRF token is refused."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from playwright.async_api import Browser, expect
from sqlalchemy import select

from placement.core.resources import Resources
from placement.placements.models import Placement
from tests.conftest import TEST_PASSWORD
from tests.factories import SPRINGFIELD, make_safe_house, make_youth
from tests.web.test_page_guards import signed_in


async def signed_in_page(browser: Browser, site: str, username: str, path: str) -> Any:
    """A new browser context that opened `path`, was sent to sign in, and came back."""
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{site}{path}")
    await expect(page).to_have_url(f"{site}/sign-in?next={path}")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(TEST_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{site}{path}")
    return page


async def test_staff_hold_a_bed_confirm_the_arrival_and_end_the_placement_from_the_board(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, browser: Browser, site: str
) -> None:
    staff = await sign_in("placement_staff")
    house = await make_safe_house(client, staff, beds=1)
    youth = await make_youth(client, staff, await sign_in("caseworker"))
    page = await signed_in_page(browser, site, staff.username, "/board")
    await expect(page.get_by_role("heading", name=house["name"])).to_be_visible()
    await expect(page.get_by_text(house["street_address"])).to_be_visible()  # staff see addresses

    await expect(page.get_by_role("button", name="Hold bed")).to_have_count(0)  # for whom?
    await page.get_by_label("Youth to place").select_option(youth["id"])
    await page.get_by_role("button", name="Show free beds").click()
    await expect(page.get_by_label("Age")).to_have_value(str(youth["age"]))  # beds that fit them
    await page.get_by_role("button", name=f"Hold bed B1 for {youth['case_reference']}").click()
    await expect(page.get_by_role("status")).to_have_text("Placement held.")
    await page.get_by_role("button", name="Confirm arrival").click()
    await expect(page.get_by_role("status")).to_have_text("Placement confirmed.")
    await page.get_by_label(f"Reason to end placement of {youth['case_reference']}").select_option(
        "reunified_with_family"
    )
    await page.get_by_role("button", name="End placement").click()
    await expect(page.get_by_role("status")).to_have_text("Placement ended.")

    async with resources.sessionmaker() as session:
        placement = await session.scalar(
            select(Placement).where(Placement.youth_id == uuid.UUID(youth["id"]))
        )
    assert placement is not None
    assert (placement.status, placement.close_reason) == ("ended", "reunified_with_family")
    await page.context.close()


async def test_a_caseworker_opening_the_bed_board_is_refused_with_a_page(
    sign_in: Any, browser: Browser, site: str
) -> None:
    caseworker = await sign_in("caseworker")
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{site}/sign-in")
    await page.get_by_label("Username").fill(caseworker.username)
    await page.get_by_label("Password").fill(TEST_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()

    answer = await page.goto(f"{site}/board")

    assert answer is not None and answer.status == 403
    await expect(page.get_by_role("alert")).to_contain_text("may not use")
    await context.close()


async def test_a_form_posted_without_its_csrf_token_is_refused(sign_in: Any, site: str) -> None:
    staff = await sign_in("placement_staff")
    async with httpx.AsyncClient(base_url=site) as outside:
        answer = await outside.post(
            "/sign-in", data={"username": staff.username, "password": TEST_PASSWORD}, follow_redirects=False
        )
    assert answer.status_code == 403
    assert "placement_session" not in answer.cookies


async def test_a_filter_left_at_any_is_no_filter_and_a_malformed_one_is_a_400_page(
    app: Any, client: httpx.AsyncClient, sign_in: Any
) -> None:
    staff = await sign_in("placement_staff")
    house = await make_safe_house(client, staff, beds=2)
    browser = await signed_in(app, staff.username)
    try:
        anything = await browser.get("/board", params={"youth": "", "region": "", "age": "", "gender": ""})
        malformed = await browser.get("/board", params={"age": "fifteen"})
    finally:
        await browser.aclose()
    assert anything.status_code == 200 and house["name"] in anything.text
    assert "Free beds now (2)" in anything.text
    assert malformed.status_code == 400 and "Age: &#39;fifteen&#39; is not a valid value" in malformed.text


async def test_the_board_filters_free_beds_by_services_and_distance_from_a_town_as_the_api_does(
    app: Any, client: httpx.AsyncClient, sign_in: Any
) -> None:
    staff = await sign_in("placement_staff")
    boston_therapy = await make_safe_house(client, staff, beds=1, services=["trauma_therapy"])
    boston_plain = await make_safe_house(client, staff, beds=1, services=["education"])
    far_therapy = await make_safe_house(
        client, staff, beds=1, services=["trauma_therapy"], municipality_id=str(SPRINGFIELD),
        lat=42.10, lon=-72.59,
    )  # fmt: skip
    browser = await signed_in(app, staff.username)
    try:
        near = {"services": ["trauma_therapy"], "near": "Boston", "within_km": "25"}
        shown = await browser.get("/board", params=near)
        anywhere = await browser.get("/board", params={"services": ["trauma_therapy"]})
        unknown = await browser.get("/board", params={"near": "Atlantis", "within_km": "10"})
    finally:
        await browser.aclose()
    assert shown.status_code == 200, shown.text
    assert boston_therapy["name"] in shown.text
    assert boston_plain["name"] not in shown.text and far_therapy["name"] not in shown.text
    assert far_therapy["name"] in anywhere.text and boston_plain["name"] not in anywhere.text
    assert unknown.status_code == 422 and "no municipality is named &#39;Atlantis&#39;" in unknown.text

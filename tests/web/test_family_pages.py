"""A caregiver on a phone (360 x 740), in a real browser: pause the home until a day, re-confirm
it, record a module finished and see readiness change; a page left open elsewhere is refused as
changed meanwhile; another caregiver can neither open nor post to this household's forms; and no
family page carries a safe house's address or position."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
from litestar import Litestar
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, expect
from sqlalchemy import select

from caregivers.households.models import Household
from caregivers.reminders.models import Notification
from caregivers.training.models import Completion
from placement.core.resources import Resources
from placement.core.uow import unit_of_work
from placement.web.family_pages import NOTIFICATIONS_PER_PAGE
from tests.caregivers.factories import make_caregiver, make_household
from tests.conftest import TEST_PASSWORD
from tests.factories import make_safe_house
from tests.web.test_page_guards import signed_in

PHONE = ViewportSize(width=360, height=740)


async def phone_signed_in(browser: Browser, site: str, username: str) -> tuple[BrowserContext, Page]:
    """A phone-sized browser context that opened /family, signed in, and landed on its home."""
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    await page.goto(f"{site}/family")
    await expect(page).to_have_url(f"{site}/sign-in?next=/family")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(TEST_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Taking children")).to_be_visible()
    return context, page


async def fits_the_phone(page: Page) -> None:
    """Nothing wider than the screen: no sideways scrolling."""
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


async def csrf_token(context: BrowserContext) -> str:
    return next(c["value"] for c in await context.cookies() if c["name"] == "csrftoken")


async def test_a_caregiver_pauses_confirms_and_records_training_on_a_phone(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, browser: Browser, site: str
) -> None:
    house = await make_safe_house(client, await sign_in("placement_staff"))
    secrets = [house["street_address"], str(house["lat"]), str(house["lon"])]
    login = await sign_in("caregiver")
    household = await make_household(resources.sessionmaker)
    me = await make_caregiver(resources.sessionmaker, household, login, name="Dana Reyes")
    async with unit_of_work(resources.sessionmaker) as session:
        session.add(
            Notification(
                caregiver_id=me,
                household_id=household,
                reason="availability_stale",
                subject_id=household,
                due_on=date.today(),
                message="Please confirm whether you can take a child.",
            )
        )
    seen: list[str] = []

    context, page = await phone_signed_in(browser, site, login.username)
    await expect(page).to_have_url(f"{site}/family/households/{household}")
    await fits_the_phone(page)
    # Another window, opened now, will be stale once the first one saves.
    stale_context, stale = await phone_signed_in(browser, site, login.username)

    back_on = date.today() + timedelta(days=14)
    await page.get_by_text("Change your availability").click()
    await page.get_by_label("Paused until a day").check()
    await page.get_by_label("Paused until (the day").fill(back_on.isoformat())
    await page.get_by_label("Note for placement staff").fill("Away for a family wedding")
    await page.get_by_role("button", name="Save availability").click()
    await expect(page.get_by_role("status")).to_have_text("Your availability is saved.")
    await expect(page.locator(".now")).to_contain_text(f"Paused until {back_on.day} {back_on:%B %Y}")
    await expect(page.locator(".facts dd").last).to_have_text("Away for a family wedding")
    seen.append(await page.content())

    await page.get_by_role("button", name="Nothing changed: confirm").click()
    await expect(page.get_by_role("status")).to_have_text("Your availability is confirmed, unchanged.")
    changes = page.locator("section", has=page.get_by_role("heading", name="What changed and when"))
    paused = f"paused until {back_on.day} {back_on:%B %Y}"
    await expect(changes.get_by_role("listitem")).to_contain_text(
        [
            f"you confirmed it unchanged: {paused}.",
            f"you set it to {paused} (it was open), noting “Away for a family wedding”.",
        ]
    )

    readiness = page.locator("section", has=page.get_by_role("heading", name="Ready for placements"))
    first_basic = "What trauma is and how it affects children"
    await expect(readiness.get_by_text(f"{first_basic}: not done yet").first).to_be_visible()
    await page.get_by_label("Training module").select_option(label=f"1. {first_basic}")
    await page.get_by_role("button", name="Record training").click()
    await expect(page.get_by_role("status")).to_contain_text("Your training is recorded")
    await expect(
        readiness.get_by_text(f"{first_basic}: done, waiting for placement staff to check it").first
    ).to_be_visible()
    await expect(readiness.get_by_text(f"{first_basic}: not done yet")).to_have_count(0)
    await fits_the_phone(page)
    seen.append(await page.content())

    await page.get_by_role("link", name="Reminders").first.click()
    await expect(page.get_by_text("Please confirm whether you can take a child.")).to_be_visible()
    await page.get_by_role("button", name="Mark as read").click()
    await expect(page.get_by_role("status")).to_have_text("Marked as read.")
    await fits_the_phone(page)
    seen.append(await page.content())

    await stale.get_by_role("button", name="Nothing changed: confirm").click()
    await expect(stale.get_by_role("alert")).to_contain_text("changed since this page was opened")
    await expect(stale.get_by_text("It is now paused")).to_be_visible()
    seen.append(await stale.content())

    async with resources.sessionmaker() as session:
        home = await session.get(Household, household)
        recorded = (await session.scalars(select(Completion).where(Completion.caregiver_id == me))).all()
    assert home is not None and (home.availability, home.paused_until) == ("paused", back_on)
    assert [(c.source, c.verified_at) for c in recorded] == [("self_reported", None)]
    for html in seen:
        assert not [s for s in secrets if s in html]
    await context.close()
    await stale_context.close()


async def test_a_stale_page_is_refused_with_status_412_and_nothing_is_saved(
    sign_in: Any, resources: Resources, browser: Browser, site: str
) -> None:
    login = await sign_in("caregiver")
    household = await make_household(resources.sessionmaker)
    await make_caregiver(resources.sessionmaker, household, login)
    context, page = await phone_signed_in(browser, site, login.username)
    async with unit_of_work(resources.sessionmaker) as session:
        home = await session.get(Household, household)
        assert home is not None
        home.availability, home.version = "closed", home.version + 1  # staff, meanwhile

    async with page.expect_response(f"{site}/family/households/{household}/availability") as answer:
        await page.get_by_text("Change your availability").click()
        await page.get_by_label("Open: we can take a child").check()
        await page.get_by_role("button", name="Save availability").click()

    assert (await answer.value).status == 412
    await expect(page.get_by_role("heading", name="Your availability changed meanwhile")).to_be_visible()
    async with resources.sessionmaker() as session:
        assert (await session.get(Household, household)).availability == "closed"  # type: ignore[union-attr]
    await context.close()


async def test_another_caregiver_can_neither_open_nor_post_to_this_households_forms(
    sign_in: Any, resources: Resources, browser: Browser, site: str
) -> None:
    theirs = await make_household(resources.sessionmaker)
    someone = await make_caregiver(resources.sessionmaker, theirs, await sign_in("caregiver"))
    other = await sign_in("caregiver")
    await make_caregiver(resources.sessionmaker, await make_household(resources.sessionmaker), other)
    context, page = await phone_signed_in(browser, site, other.username)
    token = await csrf_token(context)

    opened = await page.goto(f"{site}/family/households/{theirs}")
    assert opened is not None and opened.status == 404
    await expect(page.get_by_role("alert")).to_contain_text("No household")
    posts = {
        f"/family/households/{theirs}/availability": {"status": "closed", "version": "1"},
        f"/family/households/{theirs}/availability/confirm": {"version": "1"},
        f"/family/caregivers/{someone}/completions": {
            "module_id": str(uuid.uuid4()),
            "completed_on": date.today().isoformat(),
        },
    }
    for path, form in posts.items():
        answer = await page.request.post(f"{site}{path}", form={**form, "_csrf_token": token})
        assert answer.status == 404, f"{path}: {answer.status}"
        assert "text/html" in answer.headers["content-type"]
    async with resources.sessionmaker() as session:
        home = await session.get(Household, theirs)
    assert home is not None and (home.availability, home.version) == ("open", 1)
    await context.close()


async def test_a_caseworker_is_refused_the_family_pages(sign_in: Any, browser: Browser, site: str) -> None:
    caseworker = await sign_in("caseworker")
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    await page.goto(f"{site}/sign-in")
    await page.get_by_label("Username").fill(caseworker.username)
    await page.get_by_label("Password").fill(TEST_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    for path in ("/family", "/family/notifications"):
        answer = await page.goto(f"{site}{path}")
        assert answer is not None and answer.status == 403, path
    await context.close()


async def test_reminders_come_a_page_at_a_time_the_latest_due_first(
    app: Litestar, sign_in: Any, resources: Resources
) -> None:
    login = await sign_in("caregiver")
    household = await make_household(resources.sessionmaker)
    me = await make_caregiver(resources.sessionmaker, household, login)
    async with unit_of_work(resources.sessionmaker) as session:
        for n in range(NOTIFICATIONS_PER_PAGE + 5):
            session.add(
                Notification(
                    caregiver_id=me,
                    household_id=household,
                    reason="completion_expiring",
                    subject_id=uuid.uuid4(),
                    due_on=date.today() + timedelta(days=n),
                    message=f"Reminder number {n}.",
                )
            )
    browser = await signed_in(app, login.username)
    try:
        first = (await browser.get("/family/notifications")).text
        second = (await browser.get(f"/family/notifications?offset={NOTIFICATIONS_PER_PAGE}")).text
    finally:
        await browser.aclose()
    latest = NOTIFICATIONS_PER_PAGE + 4
    assert (
        f"Reminders 1 to {NOTIFICATIONS_PER_PAGE} of {latest + 1}" in first
        and f"Reminder number {latest}." in first
    )
    assert "Reminder number 4." not in first and 'rel="next"' in first
    assert "Reminder number 4." in second and "Reminder number 0." in second
    assert 'rel="prev"' in second and 'rel="next"' not in second


async def test_a_refused_change_is_shown_on_the_page_with_what_was_typed_and_nothing_is_saved(
    app: Litestar, sign_in: Any, resources: Resources
) -> None:
    login = await sign_in("caregiver")
    household = await make_household(resources.sessionmaker)
    await make_caregiver(resources.sessionmaker, household, login)
    browser = await signed_in(app, login.username)
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    form = {
        "status": "paused",
        "paused_until": yesterday,
        "note": "Back after the surgery",
        "version": "1",
        "_csrf_token": browser.cookies["csrftoken"],
    }
    try:
        refused = await browser.post(f"/family/households/{household}/availability", data=form)
    finally:
        await browser.aclose()
    assert refused.status_code == 422, refused.text
    assert f"Not saved: paused_until: {yesterday} is not after today" in refused.text
    assert ">Back after the surgery</textarea>" in refused.text and f'value="{yesterday}"' in refused.text
    assert 'id="status-paused" name="status" value="paused" checked' in refused.text
    async with resources.sessionmaker() as session:
        home = await session.get(Household, household)
    assert home is not None and (home.availability, home.version) == ("open", 1)

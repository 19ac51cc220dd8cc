"""Administrators in a real browser: add a user, change its role, set its password (it signs in
with the new one only), deactivate it (it can no longer sign in), and read the audit trail with the
chain's status; the last active admin is kept."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.async_api import Browser, expect
from sqlalchemy import select

from placement.core.resources import Resources
from placement.core.security.models import User
from tests.conftest import TEST_PASSWORD
from tests.web.test_page_guards import CSRF_COOKIE, signed_in
from tests.web.test_staff_pages import signed_in_page

NEW_PASSWORD = "a long new password 42"


async def test_an_admin_adds_a_user_changes_its_role_deactivates_it_and_reads_the_audit_trail(
    sign_in: Any, resources: Resources, browser: Browser, site: str
) -> None:
    admin = await sign_in("admin")
    page = await signed_in_page(browser, site, admin.username, "/users")

    await page.get_by_label("Username").fill("dana.reyes")
    await page.get_by_label("Display name").fill("Dana Reyes")
    await page.get_by_label("Role", exact=True).select_option("caseworker")
    await page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Add user").click()
    await expect(page.get_by_role("status")).to_have_text("User added.")
    row = page.get_by_role("row").filter(has_text="dana.reyes")
    await expect(row).to_contain_text("caseworker")

    await row.get_by_label("Role for dana.reyes").select_option("placement_staff")
    await row.get_by_role("button", name="Change role").click()
    await expect(page.get_by_role("status")).to_have_text("Role changed.")

    async with httpx.AsyncClient(base_url=f"{site}/api/v1") as api:
        login = {"username": "dana.reyes", "password": NEW_PASSWORD}
        assert (await api.post("/auth/login", json=login)).status_code == 200
        await row.get_by_role("button", name="Deactivate").click()
        await expect(page.get_by_role("status")).to_have_text("User deactivated.")
        await expect(row).to_contain_text("deactivated")
        assert (await api.post("/auth/login", json=login)).status_code == 401

    async with resources.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.username == "dana.reyes"))
    assert user is not None and (user.role, user.active) == ("placement_staff", False)

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit trail").click()
    await expect(page.get_by_role("heading", name="Audit trail", level=1)).to_be_visible()
    await expect(page.locator("#chain-status")).to_contain_text("Not verified on this view")
    await page.get_by_role("link", name="Verify the whole chain").click()
    await expect(page.locator("#chain-status")).to_contain_text("Chain intact")
    await page.get_by_label("Record id").fill(str(user.id))
    await page.get_by_role("button", name="Show").click()
    entries = page.get_by_role("table")
    await expect(entries).to_contain_text("create user")
    await expect(entries).to_contain_text("update user")
    await expect(entries).to_contain_text("fields=active")
    await page.context.close()


async def test_a_user_an_admin_deactivated_can_no_longer_sign_in_to_the_pages(
    sign_in: Any, browser: Browser, site: str
) -> None:
    admin, other = await sign_in("admin"), await sign_in("caseworker")
    page = await signed_in_page(browser, site, admin.username, "/users")
    row = page.get_by_role("row").filter(has_text=other.username)
    await row.get_by_role("button", name="Deactivate").click()
    await expect(page.get_by_role("status")).to_contain_text("deactivated")

    context = await browser.new_context()
    theirs = await context.new_page()
    await theirs.goto(f"{site}/sign-in")
    await theirs.get_by_label("Username").fill(other.username)
    await theirs.get_by_label("Password", exact=True).fill(TEST_PASSWORD)
    await theirs.get_by_role("button", name="Sign in").click()
    await expect(theirs.get_by_role("alert")).to_contain_text("disabled")
    await context.close()
    await page.context.close()


async def test_the_last_active_admin_cannot_change_their_own_role_and_is_told_on_a_page(
    sign_in: Any, browser: Browser, site: str
) -> None:
    admin = await sign_in("admin")
    page = await signed_in_page(browser, site, admin.username, "/users")
    row = page.get_by_role("row").filter(has_text=admin.username)
    await row.get_by_label(f"Role for {admin.username}").select_option("caseworker")
    await row.get_by_role("button", name="Change role").click()
    await expect(page.get_by_role("alert")).to_contain_text("last active administrator")
    await page.go_back()
    await page.reload()
    await expect(page.get_by_role("row").filter(has_text=admin.username)).to_contain_text("admin")
    await page.context.close()


async def test_an_admin_sets_a_users_password_and_the_user_signs_in_with_it_not_the_old_one(
    client: httpx.AsyncClient, sign_in: Any, browser: Browser, site: str
) -> None:
    admin, other = await sign_in("admin"), await sign_in("caseworker")
    page = await signed_in_page(browser, site, admin.username, "/users")
    row = page.get_by_role("row").filter(has_text=other.username)
    field = row.get_by_label(f"New password for {other.username}")
    assert await field.get_attribute("autocomplete") == "new-password"
    assert await field.get_attribute("minlength") == "12"
    await field.fill(NEW_PASSWORD)
    await row.get_by_role("button", name="Set password").click()
    await expect(page.get_by_role("status")).to_have_text("Password set: the user was signed out everywhere.")
    assert (await client.get("/api/v1/me", headers=other.headers)).status_code == 401  # signed out

    context = await browser.new_context()
    theirs = await context.new_page()
    await theirs.goto(f"{site}/sign-in")
    await theirs.get_by_label("Username").fill(other.username)
    await theirs.get_by_label("Password", exact=True).fill(TEST_PASSWORD)
    await theirs.get_by_role("button", name="Sign in").click()
    await expect(theirs.get_by_role("alert")).to_contain_text("password is wrong")
    await theirs.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    await theirs.get_by_role("button", name="Sign in").click()
    await expect(theirs).to_have_url(f"{site}/")
    await context.close()
    await page.context.close()


async def test_a_password_shorter_than_the_api_allows_is_refused_with_a_page_and_nothing_changes(
    app: Any, client: httpx.AsyncClient, sign_in: Any
) -> None:
    admin, other = await sign_in("admin"), await sign_in("caseworker")
    browser = await signed_in(app, admin.username)
    try:
        form = {"password": "too short", "_csrf_token": browser.cookies[CSRF_COOKIE]}
        refused = await browser.post(f"/users/{other.id}/password", data=form)
    finally:
        await browser.aclose()
    assert refused.status_code == 400 and "text/html" in refused.headers["content-type"]
    assert "length &gt;= 12" in refused.text
    assert (await client.get("/api/v1/me", headers=other.headers)).status_code == 200  # still signed in
    login = {"username": other.username, "password": TEST_PASSWORD}
    assert (await client.post("/api/v1/auth/login", json=login)).status_code == 200


async def test_a_mistake_in_the_new_user_form_comes_back_on_the_form(
    sign_in: Any, browser: Browser, site: str
) -> None:
    admin = await sign_in("admin")
    page = await signed_in_page(browser, site, admin.username, "/users")
    await page.get_by_label("Username").fill("short.pass")
    await page.get_by_label("Display name").fill("Short Pass")
    await page.get_by_label("Password", exact=True).fill("x" * 12)  # long enough for the browser ...
    await page.evaluate("document.getElementById('new-password').value = 'too short'")  # ... not now
    await page.get_by_role("button", name="Add user").click()
    await expect(page.get_by_role("alert")).to_contain_text("Password")
    await expect(page.get_by_label("Username")).to_have_value("short.pass")
    await page.context.close()


async def test_the_users_list_pages_through_many_users(
    client: httpx.AsyncClient, sign_in: Any, browser: Browser, site: str
) -> None:
    admin = await sign_in("admin")
    for n in range(55):
        await sign_in("caregiver", username=f"zz-family-{n:02d}")
    page = await signed_in_page(browser, site, admin.username, "/users")
    await expect(page.get_by_text("Users 1\N{EN DASH}50 of 56")).to_be_visible()
    await page.get_by_role("link", name="Next page").click()
    await expect(page.get_by_text("Users 51\N{EN DASH}56 of 56")).to_be_visible()
    await expect(page.get_by_role("row").filter(has_text="zz-family-54")).to_be_visible()
    await page.context.close()

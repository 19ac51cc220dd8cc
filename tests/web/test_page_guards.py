"""Every page is guarded as the API is: deny by default, each role admitted to exactly the pages
that list it, a refusal a page (403) and no sign-in a trip to the sign-in page; every form needs
its CSRF token."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar import Litestar, get
from litestar.exceptions import ImproperlyConfiguredException

from placement.core.security.roles import ROLES
from placement.web.pages import page_opt
from placement.web.session import require_csrf_on_pages
from tests.conftest import TEST_PASSWORD
from tests.core.test_route_guards import concrete, http_routes

CSRF_COOKIE, CSRF_HEADER = "csrftoken", "x-csrftoken"


async def signed_in(app: Litestar, username: str) -> httpx.AsyncClient:
    """A browser-like client (cookies kept) signed in through the sign-in page."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    browser = httpx.AsyncClient(transport=transport, base_url="http://testserver.local")
    await browser.get("/sign-in")
    form = {"username": username, "password": TEST_PASSWORD, "_csrf_token": browser.cookies[CSRF_COOKIE]}
    answer = await browser.post("/sign-in", data=form)
    assert answer.status_code == 303, answer.text
    return browser


def test_every_page_names_its_roles_or_is_explicitly_public(app: Litestar) -> None:
    unguarded = [
        f"{m} {p}"
        for m, p, h in http_routes(app, pages=True)
        if not (h.opt.get("public") or h.opt.get("roles"))
    ]
    assert unguarded == []
    public = {(m, p) for m, p, h in http_routes(app, pages=True) if h.opt.get("public")}
    assert public == {
        ("GET", "/sign-in"),
        ("POST", "/sign-in"),
        ("GET", "/static/{file_path:path}"),
        ("HEAD", "/static/{file_path:path}"),
    }


async def test_a_page_asked_for_without_signing_in_sends_the_browser_to_sign_in(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    for method, path, handler in http_routes(app, pages=True):
        if method == "GET" and not handler.opt.get("public"):
            answer = await client.get(concrete(path))
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/sign-in?next=")


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_is_admitted_to_exactly_the_pages_that_list_it(
    role: str, app: Litestar, client: httpx.AsyncClient, sign_in: Any
) -> None:
    user = await sign_in(role)
    browser = await signed_in(app, user.username)
    token = {CSRF_HEADER: browser.cookies[CSRF_COOKIE]}
    try:
        for method, path, handler in http_routes(app, pages=True):
            if handler.opt.get("public") or path == "/sign-out":
                continue
            answer = await browser.request(method, concrete(path), headers=token)
            where = f"{role} {method} {path}: {answer.status_code} {answer.text[:200]}"
            if role in handler.opt["roles"]:
                assert answer.status_code not in (401, 403, 500), where
            else:
                assert answer.status_code == 403 and "text/html" in answer.headers["content-type"], where
    finally:
        await browser.aclose()


async def test_a_page_form_without_its_csrf_token_is_refused(
    app: Litestar, client: httpx.AsyncClient, sign_in: Any
) -> None:
    """Each form is posted by a role its route admits, so the refusal is the CSRF check's, not the
    role guard's."""
    browsers = {role: await signed_in(app, (await sign_in(role)).username) for role in ROLES}
    try:
        for method, path, handler in http_routes(app, pages=True):
            if method != "POST" or handler.opt.get("public"):
                continue
            role = sorted(handler.opt["roles"])[0]
            answer = await browsers[role].post(concrete(path), data={})
            assert answer.status_code == 403, f"{role} {path}: {answer.status_code}"
            assert "CSRF" in answer.text, f"{role} {path}: {answer.text[:300]}"
        staff = browsers["placement_staff"]
        answer = await staff.post("/sign-out", headers={CSRF_HEADER: staff.cookies[CSRF_COOKIE]})
        assert answer.status_code == 303
        assert (await staff.get("/board")).status_code == 303  # signed out: back to sign-in
    finally:
        for browser in browsers.values():
            await browser.aclose()


async def test_a_link_cannot_put_its_own_words_in_a_pages_success_line(app: Litestar, sign_in: Any) -> None:
    staff = await sign_in("placement_staff")
    browser = await signed_in(app, staff.username)
    try:
        spoofed = await browser.get("/board", params={"done": "reset your password at evil.example"})
        honest = await browser.get("/board", params={"done": "held"})
    finally:
        await browser.aclose()
    assert "evil.example" not in spoofed.text and 'role="status"' not in spoofed.text
    assert "Placement held." in honest.text
    assert spoofed.headers["x-frame-options"] == "DENY"  # nor shown inside another site's frame
    policy = spoofed.headers["content-security-policy"]  # and no script slipped into a page runs
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert "frame-ancestors 'none'" in policy


async def test_a_browser_asking_for_no_such_page_gets_a_page_and_an_api_client_a_problem(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/no-such-page", headers={"Accept": "text/html,*/*;q=0.8"})
    api = await client.get("/api/v1/no-such-thing", headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "That was not done" in page.text
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"


async def test_a_form_posted_after_the_sign_in_lapsed_comes_back_to_its_page_after_signing_in(
    app: Litestar,
) -> None:
    """The form's address answers only a post: signing in again leads to the page it was on."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as browser:
        await browser.get("/sign-in")  # a page was open; its sign-in has since lapsed
        form = {"_csrf_token": browser.cookies[CSRF_COOKIE]}
        action = "/board/placements/00000000-0000-0000-0000-000000000001/confirm"
        posted = await browser.post(
            action, data=form, headers={"Referer": "http://testserver.local/board?x=1"}
        )
        elsewhere = await browser.post(action, data=form, headers={"Referer": "https://evil.example//evil/x"})
    assert posted.status_code == 303 and posted.headers["location"] == "/sign-in?next=/board"
    assert elsewhere.headers["location"] == "/sign-in?next=/"


@pytest.mark.parametrize(("scheme", "secure"), [("https", True), ("http", False)])
async def test_the_session_cookie_is_secure_when_the_page_was_asked_for_over_https(
    scheme: str, secure: bool, app: Litestar, sign_in: Any
) -> None:
    staff = await sign_in("placement_staff")
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url=f"{scheme}://testserver.local") as browser:
        await browser.get("/sign-in")
        token = browser.cookies[CSRF_COOKIE]
        form = {"username": staff.username, "password": TEST_PASSWORD, "_csrf_token": token}
        answer = await browser.post("/sign-in", data=form)
    session = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("placement_session="))
    assert answer.status_code == 303
    assert ("Secure" in session) is secure and "HttpOnly" in session and "SameSite=lax" in session


def test_an_app_with_a_signed_in_page_outside_the_csrf_check_is_refused() -> None:
    @get("/stray-page", opt=page_opt("admin", entity="test"), sync_to_thread=False)
    def stray_page() -> None:
        return None

    with pytest.raises(ImproperlyConfiguredException, match="skips the CSRF check"):
        require_csrf_on_pages(Litestar(route_handlers=[stray_page]))

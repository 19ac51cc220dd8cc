"""Pages: sign-in and sign-out, each role's home, and the pages of each domain."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core import audit
from placement.core.errors import TooManyRequests, Unauthorized
from placement.core.resources import Resources
from placement.core.security import service
from placement.core.security.guards import SESSION_COOKIE
from placement.core.security.roles import ROLES
from placement.core.security.schemas import LoginRequest
from placement.core.security.tokens import revoke_token
from placement.core.settings import Settings
from placement.web import (
    admin_pages,
    batch_pages,
    board,
    capacity_pages,
    casework_pages,
    family_pages,
    match_request_pages,
)
from placement.web.pages import PAGE_ERRORS, PUBLIC_PAGE, Form, page, page_opt, safe_next
from placement.web.session import csrf_check, ended_session, session_cookie

STATIC = Path(__file__).parent / "static"
TEMPLATES = Path(__file__).parent / "templates"


def over_https(request: Request[Any, Any, Any]) -> bool:
    return request.url.scheme == "https"


class SignInForm(msgspec.Struct):
    username: str
    password: str
    next: str = "/"


@get("/sign-in", opt=PUBLIC_PAGE)
async def sign_in_page(request: Request[Any, Any, Any], next: str = "/") -> Template:
    return page(request, "sign_in.html", next=safe_next(next))


@post("/sign-in", opt=PUBLIC_PAGE, status_code=303)
async def sign_in(
    request: Request[Any, Any, Any],
    data: Annotated[SignInForm, Form],
    session: AsyncSession,
    resources: Resources,
) -> Response[Any]:
    """Check the password as `POST /auth/login` does (same throttle), then keep the token in the
    session cookie."""
    address = request.client.host if request.client else "unknown"
    try:
        login = msgspec.convert({"username": data.username, "password": data.password}, LoginRequest)
        signed_in = await service.sign_in(session, resources, login, address)
    except (Unauthorized, TooManyRequests, msgspec.ValidationError) as refused:
        detail = getattr(refused, "detail", "Give a username (up to 80 characters) and a password.")
        status = getattr(refused, "status", 400)
        return page(
            request, "sign_in.html", status, next=safe_next(data.next), error=detail, username=data.username
        )
    response: Response[Any] = Redirect(safe_next(data.next), status_code=303)
    response.set_cookie(session_cookie(signed_in.access_token, resources.settings, over_https(request)))
    return response


@post("/sign-out", opt=page_opt(*ROLES, entity="user"), status_code=303)
async def sign_out(
    request: Request[Any, Any, Any], session: AsyncSession, resources: Resources, actor: audit.Actor
) -> Response[Any]:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await revoke_token(session, resources, token, resources.clock())
    audit.record(session, "sign_out", "user", actor.user_id)
    response: Response[Any] = Redirect("/sign-in", status_code=303)
    response.set_cookie(ended_session(resources.settings, over_https(request)))
    return response


@get("/", opt=page_opt(*ROLES, entity="user"))
async def home(request: Request[Any, Any, Any]) -> Template:
    """Each role's home: what it can do from here."""
    return page(request, "home.html")


router = Router(
    path="/",
    route_handlers=[
        sign_in_page,
        sign_in,
        sign_out,
        home,
        *board.handlers,
        *batch_pages.handlers,
        *family_pages.handlers,
        *capacity_pages.handlers,
        *casework_pages.handlers,
        *match_request_pages.handlers,
        *admin_pages.handlers,
    ],
    exception_handlers=PAGE_ERRORS,
    include_in_schema=False,
)


def pages(settings: Settings) -> Router:
    """The pages, each behind the CSRF check."""
    checked = [csrf_check(settings)]
    return Router(path="/", route_handlers=[router], middleware=checked, include_in_schema=False)


static = create_static_files_router(
    path="/static", directories=[STATIC], opt=PUBLIC_PAGE, include_in_schema=False
)

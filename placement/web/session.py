"""Signing in to pages: the API's own token, carried in a cookie instead of a header.

The cookie is HttpOnly and SameSite=Lax, and Secure when the page was asked for over HTTPS or
the setting says to; the guard reads it on pages only, never on the API, so a form on another site cannot act
through the API with it. Every page form also carries a CSRF token (Litestar's double-submit
check, keyed by the page secret shared by all of the service's processes).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Cookie
from litestar.exceptions import ImproperlyConfiguredException
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware

from placement.core.http import every_handler
from placement.core.security.guards import SESSION_COOKIE
from placement.core.settings import Settings


def page_secret(settings: Settings) -> str:
    """The setting, or a secret kept in the data directory (made once, shared by every process of
    this installation): pages' CSRF tokens are signed with it."""
    if settings.page_secret:
        return settings.page_secret
    path = Path(settings.data_dir) / "page-secret"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written whole and private under a name of its own, then linked into place: a process
        # starting beside this one finds no file, or the whole secret, never an empty one.
        draft = path.with_name(f"page-secret.{os.getpid()}")
        descriptor = os.open(draft, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as new:
            new.write(secrets.token_urlsafe(32))
        with contextlib.suppress(FileExistsError):  # another process linked its own first
            os.link(draft, path)
        draft.unlink()
    return path.read_text(encoding="ascii").strip()


def csrf_check(settings: Settings) -> DefineMiddleware:
    """Litestar's CSRF middleware, for the pages' router only: pages are the one place a cookie
    signs in, so the API and the probes are spared its work."""
    config = CSRFConfig(
        secret=page_secret(settings),
        cookie_secure=settings.secure_cookies,
        cookie_samesite="lax",
        cookie_httponly=True,  # the token reaches forms from the server; no script needs the cookie
    )
    return DefineMiddleware(CSRFMiddleware, config=config)


def require_csrf_on_pages(app: Litestar) -> None:
    """Refuse to build an app with a signed-in page (a route the guard lets a cookie into)
    outside the CSRF check, as a page added beside `web.routes.pages` would be."""
    for path, handler in every_handler(app):
        checked = any(getattr(m, "middleware", m) is CSRFMiddleware for m in handler.resolve_middleware())
        if handler.opt.get("pages") and not handler.opt.get("public") and not checked:
            raise ImproperlyConfiguredException(f"{path} ({handler.handler_name}) skips the CSRF check")


def session_cookie(token: str, settings: Settings, over_https: bool) -> Cookie:
    """The signed-in page session: the token, for the browser to send back and scripts not to read;
    Secure when the setting says so or the page was asked for over HTTPS (directly, or through a
    trusted proxy that says so), so it is never sent back over plain HTTP."""
    return Cookie(
        key=SESSION_COOKIE,
        value=token,
        path="/",
        httponly=True,
        secure=settings.secure_cookies or over_https,
        samesite="lax",
        max_age=settings.token_lifetime_hours * 3600 if token else 0,
    )


def ended_session(settings: Settings, over_https: bool) -> Cookie:
    """The session cookie emptied and expired: signed out."""
    return session_cookie("", settings, over_https)

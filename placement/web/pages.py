"""Rendering pages, and refusals as pages: not signed in goes to the sign-in page, anything else a
page a person reads (403, 404, 409 ...), never an empty shell."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlparse

import msgspec
from litestar import Request, Response
from litestar.enums import RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.params import Body
from litestar.response import Redirect, Template

from placement.core.errors import EXCEPTION_HANDLERS, Unauthorized
from placement.core.security.guards import PUBLIC, allow

T = TypeVar("T")
PUBLIC_PAGE: dict[str, Any] = {**PUBLIC, "pages": True}
Form = Body(media_type=RequestEncodingType.URL_ENCODED)
"""A page form's body, as a browser posts it: `data: Annotated[SomeForm, Form]`."""


def page_opt(*roles: str, entity: str) -> dict[str, Any]:
    """A page's route options: the roles it admits (as an API route's) and that it is a page."""
    return {**allow(*roles, entity=entity), "pages": True}


REFRESH_SECONDS = 3
"""How often a page still waiting for a solve asks again (its `Refresh` header: no script)."""

DONE_CODE = re.compile(r"[a-z_]{1,30}")
"""What `?done=` may say after a form: a word the page turns into its sentence, never free text a
link could put in a trusted page ("reset your password at ...")."""


def page(request: Request[Any, Any, Any], name: str, status_code: int = 200, **context: Any) -> Template:
    if not DONE_CODE.fullmatch(str(context.get("done") or "_")):
        context["done"] = None
    actor = request.scope.get("user")
    return Template(template_name=name, context={"actor": actor, **context}, status_code=status_code)


def to_sign_in(request: Request[Any, Any, Any], _: Unauthorized) -> Response[Any]:
    """A page asked for without a live sign-in: sign in, then come back (after a form posted once
    the sign-in had lapsed, to the page the form was on: a form's address answers only a post)."""
    back = request.url.path if request.method == "GET" else urlparse(request.headers.get("referer", "")).path
    return Redirect(f"/sign-in?next={quote(safe_next(back))}", status_code=303)


def as_page(answer_problem: Callable[..., Response[Any]]) -> Callable[..., Response[Any]]:
    """An API exception handler's problem response (status, detail, Retry-After), as a page."""

    def refusal_page(request: Request[Any, Any, Any], refused: Exception) -> Response[Any]:
        problem = answer_problem(request, refused)
        shown = page(request, "refused.html", problem.status_code or 500, detail=problem.content["detail"])
        shown.headers.update({k: v for k, v in problem.headers.items() if k == "Retry-After"})
        return shown

    return refusal_page


NOT_PAGES = ("/api/", "/health/", "/metrics", "/schema", "/static/")
"""What the service serves besides pages: refusals there are problem documents, even to a browser."""


def page_or_problem(answer_problem: Callable[..., Response[Any]]) -> Callable[..., Response[Any]]:
    """An app-wide refusal (no such address, a method it does not take) as a page when a browser
    asked for one, and as the API's problem document otherwise."""
    as_a_page = as_page(answer_problem)

    def refusal(request: Request[Any, Any, Any], refused: Exception) -> Response[Any]:
        browsing = "text/html" in request.headers.get("accept", "")
        if browsing and not request.url.path.startswith(NOT_PAGES):
            return as_a_page(request, refused)
        return answer_problem(request, refused)

    return refusal


def invalid_form_page(request: Request[Any, Any, Any], invalid: ValidationException) -> Response[Any]:
    return page(
        request, "refused.html", 400, detail=f"The form was not filled in as expected: {invalid.detail}"
    )


PAGE_ERRORS: dict[Any, Any] = {
    **{kind: as_page(answer) for kind, answer in EXCEPTION_HANDLERS.items()},
    Unauthorized: to_sign_in,
    ValidationException: invalid_form_page,
}
"""Every refusal the API answers as a problem (a conflict, a unique key already taken, a service
down) answers a page as a page with the same status and words."""


def checked(value: Any, into: type[Any]) -> Any:
    """`value` as `into` (the API's input schema), or the form refused as a 400 page saying why,
    as the API refuses the same body."""
    try:
        return msgspec.convert(value, into, strict=False)
    except msgspec.ValidationError as invalid:
        raise ValidationException(detail=str(invalid)) from None


def optional(value: str | None, into: type[T], field: str) -> T | None:
    """A filter field as sent by a GET form, where "Any" is sent empty: None, or the value as
    `into`; a 400 page naming the field otherwise."""
    if value is None or not value.strip():
        return None
    try:
        return msgspec.convert(value.strip(), into, strict=False)
    except msgspec.ValidationError:
        raise ValidationException(detail=f"{field}: {value!r} is not a valid value") from None


def listed(value: list[str] | str) -> list[str]:
    """A field sent once or several times (checkboxes, multiple selects), as a list."""
    return [value] if isinstance(value, str) else list(value)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def pager(path: str, total: int, limit: int, offset: int, **params: Any) -> dict[str, Any]:
    """Where this page of a list starts and ends, and links to the pages before and after it
    (keeping the filters)."""

    def link(at: int) -> str:
        kept = {k: v for k, v in params.items() if v not in (None, "", [])}
        return f"{path}?{urlencode({**kept, 'offset': at}, doseq=True)}"

    return {
        "first": min(offset + 1, total),
        "last": min(offset + limit, total),
        "total": total,
        "previous": link(max(offset - limit, 0)) if offset > 0 else None,
        "next": link(offset + limit) if offset + limit < total else None,
    }

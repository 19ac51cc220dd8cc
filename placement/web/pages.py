"""Rendering pages, and refusals as pages: not signed in goes to the sign-in page, anything else a
page a person reads (403, 404, 409 ...), never an empty shell."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.enums import RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.params import Body
from litestar.response import Redirect, Template

from placement.core.errors import DomainError, Unauthorized
from placement.core.security.guards import PUBLIC, allow

PUBLIC_PAGE: dict[str, Any] = {**PUBLIC, "pages": True}
Form = Body(media_type=RequestEncodingType.URL_ENCODED)
"""A page form's body, as a browser posts it: `data: Annotated[SomeForm, Form]`."""


def page_opt(*roles: str, entity: str) -> dict[str, Any]:
    """A page's route options: the roles it admits (as an API route's) and that it is a page."""
    return {**allow(*roles, entity=entity), "pages": True}


DONE_CODE = re.compile(r"[a-z_]{1,30}")
"""What `?done=` may say after a form: a word the page turns into its sentence, never free text a
link could put in a trusted page ("reset your password at ...")."""


def page(request: Request[Any, Any, Any], name: str, status_code: int = 200, **context: Any) -> Template:
    if not DONE_CODE.fullmatch(str(context.get("done") or "_")):
        context["done"] = None
    actor = request.scope.get("user")
    return Template(template_name=name, context={"actor": actor, **context}, status_code=status_code)


def to_sign_in(request: Request[Any, Any, Any], _: Unauthorized) -> Response[Any]:
    """A page asked for without a live sign-in: sign in, then come back."""
    return Redirect(f"/sign-in?next={quote(request.url.path)}", status_code=303)


def refusal_page(request: Request[Any, Any, Any], refused: DomainError) -> Response[Any]:
    return page(request, "refused.html", refused.status, detail=refused.detail)


def invalid_form_page(request: Request[Any, Any, Any], invalid: ValidationException) -> Response[Any]:
    return page(
        request, "refused.html", 400, detail=f"The form was not filled in as expected: {invalid.detail}"
    )


PAGE_ERRORS: dict[Any, Any] = {
    Unauthorized: to_sign_in,
    DomainError: refusal_page,
    ValidationException: invalid_form_page,
}


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"

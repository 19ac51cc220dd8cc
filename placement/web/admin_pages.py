"""The administrators' pages: users (list, add, change role, set a password, deactivate and
reactivate) through the same service as `GET/POST /users` and `PATCH /users/{id}`, and the audit
trail as `GET /audit` reads it, with the chain's verification as `placement audit verify` computes
it."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, get_args
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import ValidationException
from litestar.params import Parameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core.audit import Actor, Outcome, anchor_holds, count_unsealed, verify_chain
from placement.core.audit_routes import read_audit
from placement.core.errors import Conflict
from placement.core.resources import Resources
from placement.core.schemas import Offset
from placement.core.security import service
from placement.core.security.roles import ROLES, Role
from placement.core.security.schemas import Password, UserCreate, UserUpdate
from placement.web.pages import Form, checked, page, page_opt, pager

USERS = page_opt("admin", entity="user")
AUDIT = page_opt("admin", entity="audit")
USERS_PER_PAGE = 50
ENTRIES_PER_PAGE = 50
FIELD_NAMES = {"username": "Username", "display_name": "Display name", "role": "Role", "password": "Password"}
PASSWORD_RULE = msgspec.inspect.type_info(Password)
"""The API's length rule for a password, for the forms' own `minlength` and `maxlength`."""


class NewUserForm(msgspec.Struct):
    """As typed: checked by `UserCreate` itself, so a mistake comes back on the form."""

    username: str = ""
    display_name: str = ""
    role: str = ""
    password: str = ""


class RoleForm(msgspec.Struct):
    role: Role


class StatusForm(msgspec.Struct):
    active: bool


class PasswordForm(msgspec.Struct):
    """As typed: checked by `UserUpdate` itself, as `PATCH /users/{id}` checks it."""

    password: str = ""


def plain_words(invalid: msgspec.ValidationError) -> str:
    """msgspec's message with the field's label for its path (`... - at `$.password``)."""
    message, _, where = str(invalid).partition(" - at `$.")
    field = FIELD_NAMES.get(where.rstrip("`"), where.rstrip("`"))
    return f"{field}: {message}" if field else message


async def users_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    offset: int,
    status_code: int = 200,
    **context: Any,
) -> Template:
    users = await service.list_users(session, USERS_PER_PAGE, offset)
    return page(
        request,
        "admin_users.html",
        status_code,
        users=users.items,
        pages=pager("/users", users.total, USERS_PER_PAGE, offset),
        roles=ROLES,
        password_rule=PASSWORD_RULE,
        **context,
    )


@get("/users", opt=USERS)
async def list_users(
    request: Request[Any, Any, Any], session: AsyncSession, offset: Offset = 0, done: str | None = None
) -> Template:
    """Every user, a page at a time, with the forms to add one and change one."""
    return await users_page(request, session, offset, done=done, entered={})


@post("/users", opt=USERS, status_code=303)
async def create_user(
    request: Request[Any, Any, Any], data: Annotated[NewUserForm, Form], session: AsyncSession
) -> Response[Any]:
    """Add a user as `POST /users` does; a mistake or a taken username comes back on the form."""
    entered = {"username": data.username, "display_name": data.display_name, "role": data.role}
    try:
        new = msgspec.convert({**entered, "password": data.password}, UserCreate)
        await service.create_user(session, new)
    except msgspec.ValidationError as invalid:
        return await users_page(request, session, 0, 400, error=plain_words(invalid), entered=entered)
    except Conflict as taken:
        return await users_page(request, session, 0, taken.status, error=taken.detail, entered=entered)
    return back("added")


@post("/users/{id:uuid}/role", opt=USERS, status_code=303)
async def change_role(
    id: uuid.UUID,
    data: Annotated[RoleForm, Form],
    session: AsyncSession,
    resources: Resources,
    actor: Actor,
) -> Response[Any]:
    """As `PATCH /users/{id}` with a role: refused (a page) if it would leave no active admin."""
    await service.update_user(session, resources, actor, id, UserUpdate(role=data.role))
    return back("role_changed")


@post("/users/{id:uuid}/status", opt=USERS, status_code=303)
async def change_status(
    id: uuid.UUID,
    data: Annotated[StatusForm, Form],
    session: AsyncSession,
    resources: Resources,
    actor: Actor,
) -> Response[Any]:
    """Deactivate (signed out everywhere) or reactivate a user, as `PATCH /users/{id}` does."""
    user = await service.update_user(session, resources, actor, id, UserUpdate(active=data.active))
    return back("reactivated" if user.active else "deactivated")


@post("/users/{id:uuid}/password", opt=USERS, status_code=303)
async def set_password(
    id: uuid.UUID,
    data: Annotated[PasswordForm, Form],
    session: AsyncSession,
    resources: Resources,
    actor: Actor,
) -> Response[Any]:
    """Give a user a new password as `PATCH /users/{id}` does: it signs them out everywhere."""
    change: UserUpdate = checked({"password": data.password}, UserUpdate)
    await service.update_user(session, resources, actor, id, change)
    return back("password_set")


def back(done: str) -> Response[Any]:
    """Post, then redirect: the users again, saying what was done."""
    return Redirect(f"/users?{urlencode({'done': done})}", status_code=303)


@get("/audit", opt=AUDIT)
async def audit_trail(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    entity: Annotated[str | None, Parameter(max_length=60)] = None,
    entity_id: Annotated[str | None, Parameter(max_length=80)] = None,
    actor_id: Annotated[str | None, Parameter(max_length=40)] = None,
    outcome: Annotated[str | None, Parameter(max_length=10)] = None,
    anchor: Annotated[str | None, Parameter(max_length=100)] = None,
    verify: bool = False,
    offset: Offset = 0,
) -> Template:
    """The audit trail newest first, filtered as `GET /audit`; whether an anchor kept from an
    earlier verify is still in the chain; and, when asked (`verify`), whether the whole chain holds,
    as `placement audit verify` says. That walks every entry, so browsing the trail does not."""
    chosen = {
        "entity": entity or None,
        "entity_id": entity_id or None,
        "actor_id": actor_id or None,
        "outcome": outcome or None,
    }
    try:  # the filter form sends empty fields for "any": those are left out
        filters = msgspec.convert({k: v for k, v in chosen.items() if v}, AuditFilters, strict=False)
    except msgspec.ValidationError as invalid:
        raise ValidationException(f"Filters: {invalid}") from None
    entries = await read_audit(
        session,
        filters.entity,
        filters.entity_id,
        filters.actor_id,
        filters.outcome,
        ENTRIES_PER_PAGE,
        offset,
    )
    report = await verify_chain(session) if verify else None
    unsealed = report.unsealed if report else await count_unsealed(session)
    anchored: bool | str | None = None
    if anchor:
        try:
            anchored = await anchor_holds(session, anchor.strip())
        except ValueError as bad:
            anchored = str(bad)
    return page(
        request,
        "admin_audit.html",
        entries=entries.items,
        pages=pager("/audit", entries.total, ENTRIES_PER_PAGE, offset, anchor=anchor, **chosen),
        chosen=chosen,
        outcomes=get_args(Outcome),
        report=report,
        unsealed=unsealed,
        anchor=anchor,
        anchored=anchored,
    )


class AuditFilters(msgspec.Struct, forbid_unknown_fields=True):
    entity: str | None = None
    entity_id: str | None = None
    actor_id: uuid.UUID | None = None
    outcome: Outcome | None = None


handlers = [list_users, create_user, change_role, set_password, change_status, audit_trail]

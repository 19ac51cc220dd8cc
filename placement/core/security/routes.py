"""HTTP routes: sign-in, sign-out, the current user, and user management (admin)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Router, get, patch, post
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core import audit
from placement.core.errors import problem_responses
from placement.core.resources import Resources
from placement.core.schemas import Limit, Offset, Page
from placement.core.security import service
from placement.core.security.guards import PUBLIC, allow, bearer_token
from placement.core.security.roles import ROLES
from placement.core.security.schemas import LoginRequest, LoginResponse, UserCreate, UserOut, UserUpdate
from placement.core.security.tokens import revoke_token


@post("/auth/login", opt={**PUBLIC, "entity": "user"}, status_code=200, responses=problem_responses(429, 503))
async def login(
    data: LoginRequest, session: AsyncSession, resources: Resources, request: Request[Any, Any, Any]
) -> LoginResponse:
    """Sign in with username and password; returns an opaque bearer token."""
    address = request.client.host if request.client else "unknown"
    return await service.sign_in(session, resources, data, address)


@post("/auth/logout", opt=allow(*ROLES, entity="user"), status_code=204)
async def logout(
    session: AsyncSession, resources: Resources, actor: audit.Actor, request: Request[Any, Any, Any]
) -> None:
    """Revoke the token this request was made with."""
    token = bearer_token(request)
    if token:
        await revoke_token(session, resources, token, resources.clock())
    audit.record(session, "sign_out", "user", actor.user_id)


@get("/me", opt=allow(*ROLES, entity="user"))
async def me(session: AsyncSession, actor: audit.Actor) -> UserOut:
    """The signed-in user."""
    return await service.me(session, actor)


@get("/users", opt=allow("admin", entity="user"))
async def list_users(session: AsyncSession, limit: Limit = 50, offset: Offset = 0) -> Page[UserOut]:
    return await service.list_users(session, limit, offset)


@post("/users", opt=allow("admin", entity="user"))
async def create_user(data: UserCreate, session: AsyncSession) -> UserOut:
    return await service.create_user(session, data)


@patch("/users/{id:uuid}", opt=allow("admin", entity="user"))
async def update_user(
    id: uuid.UUID, data: UserUpdate, session: AsyncSession, resources: Resources, actor: audit.Actor
) -> UserOut:
    """Change a user's name, role, password or status (refused if it would leave no active admin)."""
    return await service.update_user(session, resources, actor, id, data)


router = Router(
    path="/", route_handlers=[login, logout, me, list_users, create_user, update_user], tags=["auth"]
)

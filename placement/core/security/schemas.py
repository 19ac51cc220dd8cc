"""Request and response bodies for sign-in and user management."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from placement.core.schemas import Name, Schema
from placement.core.security.passwords import MIN_PASSWORD_LENGTH
from placement.core.security.roles import Role

Username = Annotated[str, msgspec.Meta(min_length=3, max_length=80, pattern=r"^[A-Za-z0-9._@-]+$")]
Password = Annotated[str, msgspec.Meta(min_length=MIN_PASSWORD_LENGTH, max_length=200)]


class LoginRequest(Schema):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class UserOut(Schema):
    id: uuid.UUID
    username: str
    display_name: str
    role: Role
    active: bool


class LoginResponse(Schema):
    access_token: str
    token_type: str
    expires_at: datetime
    idle_timeout_minutes: int
    user: UserOut


class UserCreate(Schema):
    username: Username
    display_name: Name
    role: Role
    password: Password


class UserUpdate(Schema):
    display_name: Name | msgspec.UnsetType = msgspec.UNSET
    role: Role | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    password: Password | msgspec.UnsetType = msgspec.UNSET

"""Base msgspec Structs for request and response bodies."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

import msgspec
from litestar.params import QueryParameter

from placement.core.errors import Unprocessable

T = TypeVar("T")

Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90, description="Decimal degrees")]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180, description="Decimal degrees")]
Age = Annotated[int, msgspec.Meta(ge=0, le=25)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Codes = Annotated[list[str], msgspec.Meta(max_length=30, description="Codes of a shared vocabulary")]
Limit = Annotated[int, QueryParameter(name="limit", ge=1, le=200, description="Page size")]
Offset = Annotated[int, QueryParameter(name="offset", ge=0, le=10_000_000)]


class Schema(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every input and output body: unknown fields are refused."""


class Page(Schema, Generic[T]):
    """One page of a list, with the total the filters match."""

    items: list[T]
    total: int
    limit: int
    offset: int


def changed_fields(data: msgspec.Struct) -> dict[str, Any]:
    """The fields a PATCH body sets (left-out fields are UNSET)."""
    return {f: v for f in data.__struct_fields__ if (v := getattr(data, f)) is not msgspec.UNSET}


def check_codes(field: str, given: list[str], known: dict[str, str] | tuple[str, ...]) -> list[str]:
    """Return `given` without duplicates, in order; raise Unprocessable naming unknown codes."""
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise Unprocessable(
            f"{field}: unknown code(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return list(dict.fromkeys(given))

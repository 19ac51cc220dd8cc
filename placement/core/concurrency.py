"""Optimistic concurrency: a record's version is its ETag; a change names the one it read.

A write without `If-Match` is refused (428), and one whose tag is no longer current (412): two
people editing at once cannot overwrite each other without seeing the other's change.
"""

from __future__ import annotations

from typing import Annotated

from litestar.params import HeaderParameter

from placement.core.errors import PreconditionFailed, PreconditionRequired

IfMatch = Annotated[
    str | None,
    HeaderParameter(name="If-Match", description="The ETag of your last read of the record", max_length=200),
]


def etag(version: int) -> str:
    return f'"{version}"'


def check_if_match(if_match: str | None, version: int, what: str) -> None:
    """Admit the change only if `If-Match` names the current version. `*` (any version) is refused
    like a missing header: it would overwrite a change the caller never saw. Tags compare strongly
    (RFC 9110): a weak tag never matches."""
    tags = {tag.strip() for tag in (if_match or "").split(",")} - {""}
    if not tags or "*" in tags:
        raise PreconditionRequired(
            f"Send If-Match with the ETag of your last read of the {what} (not *), "
            "so that a change made since is not lost."
        )
    if etag(version) not in tags:
        raise PreconditionFailed(
            f"The {what} changed since you read it (its ETag is now {etag(version)}); "
            "read it again, then repeat your change."
        )

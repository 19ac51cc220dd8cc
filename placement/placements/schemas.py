"""Placements as the API takes and returns them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from placement.core.schemas import Schema

PlacementStatus = Literal["held", "active", "ended", "cancelled", "expired"]
EndReason = Literal[
    "reunified_with_family",
    "stepped_down_to_foster_or_kin",
    "transferred_to_other_program",
    "aged_out",
    "left_without_notice",
    "other",
]
CancelReason = Literal[
    "youth_declined",
    "program_declined",
    "better_match_found",
    "youth_needs_changed",
    "entered_in_error",
    "other",
]
CloseNote = Annotated[str, msgspec.Meta(max_length=2000)]


class PlacementCreate(Schema):
    """A hold on a bed of a safe house, or on a place in a household: name exactly one."""

    youth_id: uuid.UUID
    bed_id: uuid.UUID | None = None
    household_id: uuid.UUID | None = None
    # The hold's deadline; by default the configured hold length from now.
    held_until: datetime | None = None


class PlacementEnd(Schema):
    reason: EndReason
    note: CloseNote = ""


class PlacementCancel(Schema):
    reason: CancelReason
    note: CloseNote = ""


class PlacementOut(Schema):
    id: uuid.UUID
    youth_id: uuid.UUID
    # In a bed of a safe house, or in a household (the other fields null).
    bed_id: uuid.UUID | None
    bed_label: str | None
    safe_house_id: uuid.UUID | None
    safe_house: str | None
    household_id: uuid.UUID | None
    household: str | None
    status: PlacementStatus
    held_until: datetime
    created_by: uuid.UUID | None
    created_at: datetime
    confirmed_at: datetime | None
    closed_at: datetime | None
    close_reason: str | None
    close_note: str | None

"""The roles a user may have: a vocabulary of their own, so that naming them loads no models."""

from __future__ import annotations

from typing import Final, Literal

Role = Literal["placement_staff", "caseworker", "caregiver", "program_lead", "admin"]
ROLES: Final[tuple[str, ...]] = ("placement_staff", "caseworker", "caregiver", "program_lead", "admin")

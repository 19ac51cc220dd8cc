"""Who may see what, beyond the role check on each route."""

from __future__ import annotations

from typing import Final

from placement.core.audit import Actor

# Street addresses and exact positions of safe houses (and later households).
LOCATION_READERS: Final = frozenset({"placement_staff", "admin"})


def may_see_locations(actor: Actor) -> bool:
    return actor.role in LOCATION_READERS

"""Default weights of the soft score, each with the reason it has its size.

The service's Settings embed :class:`Weights`; an instance file may carry its own (any field left
out takes the default below), so a saved case replays with the weights it was solved with.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

Points = Annotated[int, msgspec.Meta(ge=0, le=10_000)]


class Weights(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Points per score term; scores are integers so that solutions are exact and reproducible."""

    closeness: Points = 40
    """Full points at the youth's origin, falling linearly to 0 at their maximum distance.
    The largest term: staying near school, family, court and the caseworker is what most often
    keeps a placement stable."""

    extra_service: Points = 3
    """Per service offered beyond those the youth requires: spare support helps when needs change,
    but a dozen of them must not outweigh being near home."""

    readiness: Points = 15
    """The target is ready for trafficking-specialised care (a safe house, or a household whose
    caregivers completed the training): trained caregivers recognise and handle recruitment and
    running away, also for youth not flagged as needing it."""

    language: Points = 15
    """At least one language in common: a youth who cannot talk to their caregivers is isolated,
    and an interpreter is not there at night."""

    same_region: Points = 10
    """The target is in the youth's region: the same regional office, court and provider network,
    which distance alone does not capture near a region's border."""

    stale_availability: Points = 20
    """Subtracted when a household has not confirmed its availability within ``stale_after_days``
    (or never did): such a slot is often no longer real, and proposing it delays the youth."""

    stale_after_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] = 30
    """How old a household's availability confirmation may be before it counts as stale."""

    urgency_base: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 4
    """A placed youth counts ``urgency_base + urgency`` in a batch (urgency 1..5). With 4, two
    placed youth (at least 10) always outweigh one (at most 9): urgency decides *who* is placed
    when not all can be, never that fewer are."""

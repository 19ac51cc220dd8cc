"""Holding a place of the service's admission for a block, as the front door holds one for a request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from placement.core.admission import Admission, Turn


@asynccontextmanager
async def held(admission: Admission) -> AsyncIterator[Turn]:
    turn = await admission.admit()
    try:
        yield turn
    finally:
        turn.leave()

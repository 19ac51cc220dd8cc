"""The instance a request or batch solved, as the engine's JSON, for replay offline."""

from __future__ import annotations

import uuid
import zlib

from sqlalchemy import select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core import audit
from placement.core.errors import NotFound
from placement.matches.engine_calls import decode_instance
from placement.matches.models import MatchBatch, MatchInstance, MatchRequest
from placement.matching.schema import encode


async def exported_instance(session: AsyncSession, solved_id: uuid.UUID) -> bytes:
    """Pretty JSON of the instance; the export is audited. NotFound if nothing was solved."""
    digests = union_all(
        select(MatchRequest.instance_digest.label("digest")).where(MatchRequest.id == solved_id),
        select(MatchBatch.instance_digest.label("digest")).where(MatchBatch.id == solved_id),
    ).subquery()
    packed = await session.scalar(
        select(MatchInstance.body).join(digests, digests.c.digest == MatchInstance.digest)
    )
    if packed is None:
        raise NotFound(f"No solved match request or batch with id {solved_id}.")
    audit.record(session, "export_match_instance", "match_request", solved_id)
    return encode(decode_instance(zlib.decompress(packed)))

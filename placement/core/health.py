"""Liveness and readiness probes (public, outside /api/v1)."""

from __future__ import annotations

from litestar import Response, Router, get
from sqlalchemy import text

from placement.core.resources import Resources
from placement.core.schemas import Schema
from placement.core.security.guards import PUBLIC


class Health(Schema):
    status: str
    database: str | None = None
    redis: str | None = None


@get("/live", opt=PUBLIC)
async def live() -> Health:
    return Health(status="ok")


@get("/ready", opt=PUBLIC)
async def ready(resources: Resources) -> Response[Health]:
    """Ready when the database and Redis both answer."""
    database = redis = "ok"
    try:
        async with resources.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        database = "unavailable"
    try:
        await resources.redis.ping()
    except Exception:
        redis = "unavailable"
    ok = database == redis == "ok"
    return Response(
        Health(status="ok" if ok else "unavailable", database=database, redis=redis),
        status_code=200 if ok else 503,
    )


router = Router(path="/health", route_handlers=[live, ready], tags=["health"])

"""Liveness and readiness probes (public, outside /api/v1)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get
from sqlalchemy import text

from placement.core.admission import Admission
from placement.core.resources import Resources
from placement.core.schemas import Schema
from placement.core.security.guards import PUBLIC


class Load(Schema):
    """How busy this process is: its database pool and its admission queue."""

    pool_size: int
    connections_in_use: int
    requests_in_flight: int
    requests_queued: int


class Health(Schema):
    status: str
    database: str | None = None
    redis: str | None = None
    load: Load | None = None


def current_load(resources: Resources, admission: Admission) -> Load:
    pool = resources.engine.pool
    return Load(
        pool_size=pool.size(),  # type: ignore[attr-defined]
        connections_in_use=pool.checkedout(),  # type: ignore[attr-defined]
        requests_in_flight=admission.in_flight,
        requests_queued=admission.waiting,
    )


def saturated(load: Load) -> bool:
    """Every connection is in use and requests are waiting for one (or for a turn)."""
    return load.connections_in_use >= load.pool_size and (
        load.requests_queued > 0 or load.requests_in_flight > load.pool_size
    )


@get("/live", opt=PUBLIC)
async def live() -> Health:
    return Health(status="ok")


@get("/ready", opt=PUBLIC)
async def ready(resources: Resources, request: Request[Any, Any, Any]) -> Response[Health]:
    """Ready when the database and Redis both answer and the database pool is not saturated."""
    load = current_load(resources, request.app.state.admission)
    database = redis = "ok"
    if load.connections_in_use >= load.pool_size:  # asking it would only wait for a connection
        database = "saturated" if saturated(load) else "busy"
    else:
        try:
            async with resources.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            database = "unavailable"
    try:
        await resources.redis.ping()
    except Exception:
        redis = "unavailable"
    ok = database in ("ok", "busy") and redis == "ok"
    return Response(
        Health(status="ok" if ok else "unavailable", database=database, redis=redis, load=load),
        status_code=200 if ok else 503,
    )


router = Router(path="/health", route_handlers=[live, ready], tags=["health"])

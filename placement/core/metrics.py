"""Prometheus metrics at `/metrics` (admins): requests by route template, load, audit sealing, jobs.

Each app keeps its own registry (never the process-wide default: tests build many apps in one
process), so a scrape shows the one process that answers it.
"""

from __future__ import annotations

import math
from typing import Any

from arq.constants import default_queue_name
from litestar import Request, Response, Router, get
from litestar.types import Scope
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core.audit import count_unsealed
from placement.core.health import Load, current_load, saturated
from placement.core.resources import Resources
from placement.core.security.guards import allow

MEDIA_TYPE = "text/plain; version=0.0.4"  # the text format every scraper reads (Litestar adds the charset)
disable_created_metrics()  # type: ignore[no-untyped-call]  # no `_created` series: noise here

UNMATCHED = "unmatched"  # the route label of a request no route matched (404, 405)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SEALING_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class ServiceMetrics:
    """One app's metrics, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        ProcessCollector(registry=registry)  # process_*: CPU, memory, start time (which process answered)
        by_request = ["route", "method", "status"]
        self.requests = Counter(
            "placement_http_requests",
            "HTTP requests answered, by route template, method and status",
            by_request,
            registry=registry,
        )
        self.request_seconds = Histogram(
            "placement_http_request_duration_seconds",
            "Time to answer an HTTP request (its wait for admission included), by route, method, status",
            by_request,
            buckets=REQUEST_BUCKETS,
            registry=registry,
        )
        self._request_series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        """Each (route, method, status)'s counter and histogram: looked up on every request. Few:
        routes and methods are templates and a closed list, statuses the service's own."""
        self.pool_size = Gauge(
            "placement_db_pool_size", "Connections in the database pool", registry=registry
        )
        self.connections_in_use = Gauge(
            "placement_db_connections_in_use", "Database connections checked out", registry=registry
        )
        self.requests_in_flight = Gauge(
            "placement_requests_in_flight", "Requests admitted and being served", registry=registry
        )
        self.requests_queued = Gauge(
            "placement_requests_queued", "Requests waiting for admission", registry=registry
        )
        self.audit_unsealed = Gauge(
            "placement_audit_unsealed_entries",
            "Audit entries committed and waiting for the sealer (NaN: not counted, the pool is saturated)",
            registry=registry,
        )
        self.sealing_delay = Histogram(
            "placement_audit_sealing_delay_seconds",
            "From an audit entry's recording to its sealing, for the entries this process sealed",
            buckets=SEALING_BUCKETS,
            registry=registry,
        )
        self.jobs_queued = Gauge(
            "placement_jobs_queued",
            "Jobs in the arq queue, due or deferred (NaN: Redis did not answer)",
            registry=registry,
        )
        self.job_duration = Histogram(
            "placement_job_duration_seconds",
            "Run time of the jobs this process ran, failures included, by function",
            ["function"],
            buckets=JOB_BUCKETS,
            registry=registry,
        )

    def observe_answer(self, scope: Scope, status: int, seconds: float) -> None:
        """An answer sent (`http.front_door` tells): counted and timed by route, method and status."""
        labels = (route_label(scope), method_label(scope), status)
        series = self._request_series.get(labels)
        if series is None:  # a route, method and status not seen yet: find its two series once
            answered = (labels[0], labels[1], str(status))
            series = self._request_series[labels] = (
                self.requests.labels(*answered),
                self.request_seconds.labels(*answered),
            )
        series[0].inc()
        series[1].observe(seconds)

    def observe_sealing(self, delays: list[float]) -> None:
        """An `AuditSealer` observer: each sealed entry's delay, in seconds."""
        for delay in delays:
            self.sealing_delay.observe(max(delay, 0.0))

    def observe_job(self, function: str, seconds: float) -> None:
        self.job_duration.labels(function).observe(seconds)

    def show_load(self, load: Load) -> None:
        self.pool_size.set(load.pool_size)
        self.connections_in_use.set(load.connections_in_use)
        self.requests_in_flight.set(load.requests_in_flight)
        self.requests_queued.set(load.requests_queued)


def route_label(scope: Scope) -> str:
    """The matched route's template (`/api/v1/youth/{id}`), never the path with its ids."""
    template: str | None = scope.get("path_template")
    return template or UNMATCHED


def method_label(scope: Scope) -> str:
    """The method, or `other` (clients may send any token: labels must stay few)."""
    method = scope.get("method", "")
    return method if method in METHODS else "other"


async def queue_depth(resources: Resources) -> float:
    try:
        return float(await resources.redis.zcard(default_queue_name))
    except RedisError:
        return math.nan


@get("/metrics", opt=allow("admin", entity="metrics"), media_type=MEDIA_TYPE)
async def read_metrics(
    request: Request[Any, Any, Any], resources: Resources, session: AsyncSession
) -> Response[bytes]:
    """This process's metrics, in the Prometheus text format."""
    metrics: ServiceMetrics = request.app.state.metrics
    load = current_load(resources, request.app.state.admission)
    metrics.show_load(load)
    # Counting needs a connection: when none is free, say "unknown" rather than join the queue.
    metrics.audit_unsealed.set(math.nan if saturated(load) else await count_unsealed(session))
    metrics.jobs_queued.set(await queue_depth(resources))
    return Response(generate_latest(metrics.registry), media_type=MEDIA_TYPE)


router = Router(path="/", route_handlers=[read_metrics], tags=["metrics"])

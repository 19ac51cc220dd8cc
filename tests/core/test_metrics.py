"""/metrics: admins read the load in the Prometheus text format, labelled by route template, never by id."""

from __future__ import annotations

import asyncio
import re
import uuid
from contextlib import AsyncExitStack
from typing import Any, cast

import httpx
import pytest
from arq.worker import Worker
from litestar import Litestar
from litestar.types import Scope
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from placement.core.admission import Admission
from placement.core.http import route_template
from placement.core.metrics import UNMATCHED, ServiceMetrics, route_label
from placement.core.resources import Resources
from placement.core.security.roles import ROLES
from placement.core.settings import Settings
from placement.worker import worker_settings
from tests.core.turns import held
from tests.factories import API, make_safe_house

FAMILIES = {
    "placement_http_requests",
    "placement_http_request_duration_seconds",
    "placement_db_pool_size",
    "placement_db_connections_in_use",
    "placement_requests_in_flight",
    "placement_requests_queued",
    "placement_audit_unsealed_entries",
    "placement_audit_sealing_delay_seconds",
    "placement_jobs_queued",
    "placement_job_duration_seconds",
}
AN_ID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.IGNORECASE)
YOUTH_TEMPLATE = f"{API}/youth/{{id}}"


async def scrape(client: httpx.AsyncClient, admin: Any) -> list[Sample]:
    response = await client.get("/metrics", headers=admin.headers)
    assert response.status_code == 200, response.text
    return [sample for family in text_string_to_metric_families(response.text) for sample in family.samples]


def total(samples: list[Sample], name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels`."""
    return sum(
        s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def gauge(samples: list[Sample], name: str) -> float:
    (value,) = [s.value for s in samples if s.name == name]
    return value


async def test_admins_read_every_family_in_the_prometheus_text_format(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    admin = await sign_in("admin")
    response = await client.get("/metrics", headers=admin.headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    names = {family.name for family in text_string_to_metric_families(response.text)}
    assert names >= FAMILIES


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
async def test_other_roles_are_refused_the_metrics(
    role: str, client: httpx.AsyncClient, sign_in: Any
) -> None:
    user = await sign_in(role)
    assert (await client.get("/metrics", headers=user.headers)).status_code == 403


async def test_the_metrics_ask_an_anonymous_caller_to_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_requests_are_counted_and_timed_by_route_template_never_by_path(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    admin, caseworker = await sign_in("admin"), await sign_in("caseworker")
    before = await scrape(client, admin)
    for _ in range(2):
        await client.get(f"{API}/youth/{uuid.uuid4()}", headers=caseworker.headers)
    assert (await client.get(f"/nowhere/{uuid.uuid4()}")).status_code == 404
    after = await scrape(client, admin)

    for name in ("placement_http_requests_total", "placement_http_request_duration_seconds_count"):
        counted = total(after, name, route=YOUTH_TEMPLATE, method="GET")
        assert counted - total(before, name, route=YOUTH_TEMPLATE, method="GET") == 2
    unmatched = {"route": UNMATCHED, "method": "GET", "status": "404"}
    assert total(after, "placement_http_requests_total", **unmatched) > total(
        before, "placement_http_requests_total", **unmatched
    )
    labels = {value for sample in after for value in sample.labels.values()}
    assert not [value for value in labels if AN_ID.search(value)]


async def test_the_load_gauges_show_the_pool_and_the_admission_queue(
    app: Litestar, client: httpx.AsyncClient, sign_in: Any, settings: Settings
) -> None:
    admin = await sign_in("admin")
    samples = await scrape(client, admin)
    assert gauge(samples, "placement_db_pool_size") == settings.db_pool_size
    assert 0 <= gauge(samples, "placement_db_connections_in_use") <= settings.db_pool_size
    assert gauge(samples, "placement_requests_in_flight") == 0  # the scrape itself is not admitted
    assert gauge(samples, "placement_requests_queued") == 0
    assert gauge(samples, "placement_audit_unsealed_entries") >= 0
    assert gauge(samples, "placement_jobs_queued") == 0


async def test_a_request_turned_away_by_admission_is_counted_under_its_route(
    app: Litestar, client: httpx.AsyncClient, sign_in: Any
) -> None:
    admin, caseworker = await sign_in("admin"), await sign_in("caseworker")
    admission: Admission = app.state.admission
    shed = {"route": YOUTH_TEMPLATE, "method": "GET", "status": "503"}
    before = total(await scrape(client, admin), "placement_http_requests_total", **shed)
    queue = admission.queue
    async with AsyncExitStack() as every_turn:
        admission.queue = 0
        try:
            for _ in range(admission.limit):
                await every_turn.enter_async_context(held(admission))
            refused = await client.get(f"{API}/youth/{uuid.uuid4()}", headers=caseworker.headers)
            busy = await scrape(client, admin)
        finally:
            admission.queue = queue
    assert refused.status_code == 503
    assert total(busy, "placement_http_requests_total", **shed) == before + 1
    assert gauge(busy, "placement_requests_in_flight") == admission.limit


def test_a_request_no_route_matched_is_labelled_unmatched() -> None:
    assert route_label(cast(Scope, {"path_template": YOUTH_TEMPLATE})) == YOUTH_TEMPLATE
    assert route_label(cast(Scope, {})) == UNMATCHED


async def test_an_audited_request_shows_in_the_sealing_delay(client: httpx.AsyncClient, sign_in: Any) -> None:
    admin, staff = await sign_in("admin"), await sign_in("placement_staff")
    before = total(await scrape(client, admin), "placement_audit_sealing_delay_seconds_count")
    await make_safe_house(client, staff, beds=0)  # audited: create_safe_house
    for _ in range(50):
        sealed = total(await scrape(client, admin), "placement_audit_sealing_delay_seconds_count")
        if sealed > before:
            break
        await asyncio.sleep(0.1)
    assert sealed > before


async def test_a_job_run_is_timed_by_function_and_the_queue_depth_shown(
    app: Litestar, client: httpx.AsyncClient, sign_in: Any, settings: Settings, resources: Resources
) -> None:
    admin = await sign_in("admin")
    metrics: ServiceMetrics = app.state.metrics
    before = total(
        await scrape(client, admin), "placement_job_duration_seconds_count", function="expire_holds"
    )
    await resources.redis.enqueue_job("expire_holds")
    assert gauge(await scrape(client, admin), "placement_jobs_queued") == 1

    run = worker_settings(settings, resources, metrics.observe_job)
    worker = Worker(**{**run, "burst": True, "poll_delay": 0.05})
    await worker.async_run()
    await worker.close()

    after = await scrape(client, admin)
    assert gauge(after, "placement_jobs_queued") == 0
    assert total(after, "placement_job_duration_seconds_count", function="expire_holds") >= before + 1


async def test_a_failed_job_run_is_timed_too(settings: Settings) -> None:
    metrics = ServiceMetrics()
    expire = worker_settings(settings, None, metrics.observe_job)["functions"][0]
    with pytest.raises(KeyError):
        await expire({})  # no resources in its context
    assert (
        metrics.registry.get_sample_value(
            "placement_job_duration_seconds_count", {"function": "expire_holds"}
        )
        == 1
    )


@pytest.mark.parametrize("root_path", ["", "/placement"])
def test_a_request_is_labelled_by_its_route_under_a_root_path_too(app: Litestar, root_path: str) -> None:
    """Behind a proxy that mounts the service under a prefix, the path carries the prefix."""
    scope = cast(
        Scope, {"path": f"{root_path}{API}/youth/{uuid.uuid4()}", "root_path": root_path, "method": "GET"}
    )
    assert route_template(app)(scope) == YOUTH_TEMPLATE

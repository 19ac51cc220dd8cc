"""The Litestar application: `create_app(settings)` wires the kernel and the domains."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from arq.worker import Worker
from litestar import Litestar, Router
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from caregivers.households import routes as household_routes
from caregivers.households.occupancy import PlacesTaken
from caregivers.reminders import routes as reminder_routes
from caregivers.training import routes as training_routes
from placement.capacity import routes as capacity_routes
from placement.core import audit_routes, health, metrics
from placement.core.admission import Admission, admitting
from placement.core.errors import EXCEPTION_HANDLERS, http_error_handler, problem_responses
from placement.core.http import (
    DEPENDENCIES,
    every_handler,
    front_door,
    require_screening,
    route_template,
    screen_request,
)
from placement.core.logs import configure_logging
from placement.core.resources import Resources, utc_now
from placement.core.security import routes as security_routes
from placement.core.security.guards import PUBLIC, audit_refusal
from placement.core.settings import Settings
from placement.matches import routes as match_routes
from placement.placements import routes as placement_routes
from placement.placements.occupancy import places_taken
from placement.reference import routes as reference_routes
from placement.safehouses import routes as safehouse_routes
from placement.web import routes as web_routes
from placement.web.pages import page_or_problem
from placement.web.session import require_csrf_on_pages
from placement.worker import worker_settings
from placement.youth import routes as youth_routes

API_PREFIX = "/api/v1"
log = logging.getLogger("placement.app")


def provide_places_taken(resources: Resources) -> PlacesTaken:
    """The placement domain's count of places taken in households, for the families' reads. (It
    takes `resources` so Litestar resolves it after them, not beside them in a task group.)"""
    return places_taken


def create_app(settings: Settings, clock: Callable[[], datetime] = utc_now) -> Litestar:
    """Build the API. With `settings.run_worker_inline`, the arq worker runs in this process."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        resources = await Resources.open(settings, clock, prompt_sealing=settings.run_worker_inline)
        app.state.resources = resources
        app.state.admission = admission
        resources.sealer.observers.append(service_metrics.observe_sealing)
        revocations = asyncio.create_task(resources.tokens.listen(resources.redis))
        resources.sealer.start()
        worker_task = None
        if settings.run_worker_inline:
            worker = Worker(**worker_settings(settings, resources, service_metrics.observe_job))
            worker_task = asyncio.create_task(worker.async_run())
        try:
            yield
        finally:
            await stop_background(revocations, worker_task)
            if worker_task is not None:
                await worker.close()
            await resources.close()

    admission = Admission(settings.max_in_flight, settings.max_queued, settings.queue_wait_seconds)
    service_metrics = metrics.ServiceMetrics()
    api = Router(
        path=API_PREFIX,
        route_handlers=[
            security_routes.router,
            reference_routes.router,
            safehouse_routes.router,
            youth_routes.router,
            placement_routes.router,
            match_routes.router,
            household_routes.router,
            training_routes.router,
            audit_routes.router,
            reminder_routes.router,
            capacity_routes.router,
        ],
    )
    app = Litestar(
        route_handlers=[api, health.router, metrics.router, web_routes.pages(settings), web_routes.static],
        before_request=screen_request,
        after_exception=[audit_refusal],
        dependencies={**DEPENDENCIES, "places_taken": Provide(provide_places_taken, sync_to_thread=False)},
        exception_handlers={**EXCEPTION_HANDLERS, HTTPException: page_or_problem(http_error_handler)},
        lifespan=[lifespan],
        template_config=TemplateConfig(directory=web_routes.TEMPLATES, engine=JinjaTemplateEngine),
        logging_config=None,  # logging is the process's to set up (placement.core.logs), not the app's
        openapi_config=OpenAPIConfig(
            title="Safe-house placement and caregiver support",
            version="0.1.0",
            description="Placing youth at risk of or recovering from trafficking, safely and fast.",
            openapi_router=Router(path="/schema", route_handlers=[], opt=PUBLIC),
            components=Components(security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}),
            security=[{"bearer": []}],
            use_handler_docstrings=True,
        ),
        debug=False,
    )
    require_screening(app)
    require_csrf_on_pages(app)
    document_problems(app)
    app.state.metrics = service_metrics
    # Round the whole handler: Litestar runs app middleware only once a route has matched.
    admitted = admitting(app.asgi_handler, admission, route_template(app))
    app.asgi_handler = front_door(admitted, service_metrics.observe_answer)
    return app


async def stop_background(*tasks: asyncio.Task[object] | None) -> None:
    """Cancel the app's background tasks and wait until each has stopped."""
    running = [task for task in tasks if task is not None]
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)


def document_problems(app: Litestar) -> None:
    """Every guarded route may answer these problems: say so in the OpenAPI document (which is
    built on first use, after this)."""
    common = problem_responses(400, 401, 403, 404, 409, 422, 503)
    for _, handler in every_handler(app):
        if isinstance(handler, HTTPRouteHandler) and not handler.opt.get("public"):
            handler.responses = {**common, **(handler.responses or {})}


def app_from_env() -> Litestar:
    """The factory each of uvicorn's API processes imports: settings and logging from the environment."""
    settings = Settings.from_env()
    configure_logging(settings.log_format)
    return create_app(settings)

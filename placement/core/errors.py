"""Domain errors and their rendering as RFC 9457 problem details (`application/problem+json`)."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import ClientException, HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap, Scope
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("placement.errors")


class DomainError(Exception):
    """A refusal that carries its HTTP status and a sentence a person can act on."""

    status = 400
    # Refusals of access (and probes like them) are audited although the request rolls back.
    audited = False

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    status = 404
    audited = True


class Forbidden(DomainError):
    status = 403
    audited = True


class Conflict(DomainError):
    status = 409


class Unprocessable(DomainError):
    status = 422


class NotAcceptable(DomainError):
    status = 406


class Unavailable(DomainError):
    """A part the request needs (a solver process, say) failed: try again."""

    status = 503


class PreconditionFailed(DomainError):
    status = 412


class PreconditionRequired(DomainError):
    status = 428


class Unauthorized(DomainError):
    status = 401
    audited = True


class TooManyRequests(DomainError):
    status = 429


# Constraint names (from the naming convention), what they mean to a person and the status they
# answer, given by the modules that own the tables. The services check first, for a kinder
# message; these answer a write that lost a race past those checks, or a reference to a record
# that does not exist (422).
CONSTRAINT_MEANINGS: dict[str, tuple[str, int]] = {}


def explain_constraint(name: str, meaning: str, status: int = 409) -> None:
    """Give an integrity constraint a sentence and a status, shown when a write breaks it."""
    CONSTRAINT_MEANINGS[name] = (meaning, status)


class Problem(msgspec.Struct, kw_only=True):
    """An RFC 9457 problem document, as every error is answered (for the OpenAPI document)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str
    request_id: str | None = None


PROBLEM_MEANINGS = {
    400: "The request is malformed: not JSON, unknown fields, wrong types or values out of range",
    401: "Not signed in, or the sign-in has expired or was revoked",
    403: "Your role may not use this route",
    404: "No such record, or not one you may see",
    406: "The Accept header asks for no media type this route answers in (see its 200 answer)",
    409: "Conflicts with the current state (e.g. the bed is already held)",
    412: "The record changed since you read it (If-Match no longer matches its ETag): read it again",
    422: "Well-formed but refused: unknown references, rules of the domain",
    428: "This change needs If-Match with the ETag of your last read",
    429: "Too many attempts: wait for Retry-After seconds",
    503: "Busy or a service this request needs is unavailable: try again after Retry-After seconds",
}


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the problems a route may answer."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_MEDIA_TYPE,
            description=PROBLEM_MEANINGS[status],
            generate_examples=False,
        )
        for status in statuses
    }


def problem_document(status: int, detail: str, scope: Scope, **extra: Any) -> dict[str, Any]:
    """A problem document; with type about:blank, the title is the status's own phrase (RFC 9457)."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": scope["path"],
        **extra,
    }
    request_id = scope.get("state", {}).get("request_id")
    if request_id:
        body["request_id"] = request_id
    return body


def problem(
    status: int, detail: str, request: Request[Any, Any, Any], **extra: Any
) -> Response[dict[str, Any]]:
    """A problem response; `retry_after` (seconds) also becomes the Retry-After header."""
    body = problem_document(status, detail, request.scope, **extra)
    headers = {"Retry-After": str(extra["retry_after"])} if "retry_after" in extra else None
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def domain_error_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    return problem(exc.status, exc.detail, request, **exc.extra)


def validation_handler(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = exc.extra if isinstance(exc.extra, list) else []
    messages = [
        f"{e.get('key') or e.get('source') or 'body'}: {e.get('message')}"
        for e in errors
        if isinstance(e, dict)
    ]
    detail = "; ".join(messages) if messages else exc.detail
    return problem(400, detail, request, errors=errors)


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Framework refusals: unknown routes and methods, and bodies that are not JSON at all."""
    status = exc.status_code
    if isinstance(exc, ClientException) and status == 400:
        return problem(400, f"The request body is not valid JSON: {exc.detail}", request)
    return problem(status, exc.detail, request)


def integrity_handler(request: Request[Any, Any, Any], exc: IntegrityError) -> Response[Any]:
    name = getattr(getattr(exc.orig, "__cause__", None), "constraint_name", None) or ""
    detail, status = CONSTRAINT_MEANINGS.get(name, ("The change conflicts with data already recorded.", 409))
    return problem(status, detail, request)


UNUSABLE_VALUE = (
    "A value in the request cannot be stored or compared (e.g. a NUL character or a number out of range)."
)


def database_error_handler(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[Any]:
    """Values the database cannot take (SQLSTATE class 22: a NUL character, a number out of range),
    and a connection lost (the database restarted): the pool drops it, the client may retry."""
    if isinstance(getattr(exc.orig, "__cause__", None), asyncpg.exceptions.DataError):
        return problem(400, UNUSABLE_VALUE, request)
    if exc.connection_invalidated:
        log.error("database connection lost on %s %s", request.method, route_of(request))
        return problem(503, UNAVAILABLE, request, retry_after=RETRY_AFTER_SECONDS)
    return unexpected_handler(request, exc)


def driver_data_handler(request: Request[Any, Any, Any], exc: asyncpg.exceptions.DataError) -> Response[Any]:
    """The same, from a read run straight through the driver."""
    return problem(400, UNUSABLE_VALUE, request)


CONNECTION_LOST = (
    asyncpg.exceptions.PostgresConnectionError,  # SQLSTATE class 08: the connection failed
    asyncpg.exceptions.AdminShutdownError,  # 57P01: the server ended the session (a restart)
    asyncpg.exceptions.CrashShutdownError,  # 57P02
    asyncpg.exceptions.CannotConnectNowError,  # 57P03: the server is starting or stopping
    asyncpg.exceptions.InternalClientError,  # the driver's connection is in no state to go on
)
"""A connection lost under a statement run straight through the driver (the engine's own way of
saying so is a `DBAPIError` with `connection_invalidated`). The pool replaces the connection at
its next checkout (`db.refuse_closed_connection`); the client may retry."""


def driver_connection_lost_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.error("database connection lost on %s %s", request.method, route_of(request))
    return problem(503, UNAVAILABLE, request, retry_after=RETRY_AFTER_SECONDS)


OVERLOADED = "The service is busy; nothing was changed. Try again in a moment."
RETRY_AFTER_SECONDS = 1


def route_of(request: Request[Any, Any, Any]) -> str:
    """The route's template, for logs: the path itself carries the ids of youth and houses."""
    return str(request.scope.get("path_template", "unmatched"))


UNAVAILABLE = "A service this request needs is unavailable; try again shortly."


def redis_down_handler(request: Request[Any, Any, Any], exc: RedisError) -> Response[Any]:
    log.error("Redis unavailable on %s %s: %s", request.method, route_of(request), type(exc).__name__)
    return problem(503, UNAVAILABLE, request, retry_after=RETRY_AFTER_SECONDS)


def pool_exhausted_handler(request: Request[Any, Any, Any], exc: PoolTimeout) -> Response[Any]:
    """No database connection came free within the wait: shed the request (its transaction had
    not begun, so nothing was written)."""
    return problem(503, OVERLOADED, request, retry_after=RETRY_AFTER_SECONDS)


def unexpected_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, route_of(request), exc_info=exc)
    return problem(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "The service failed to handle this request; nothing was changed.",
        request,
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DomainError: domain_error_handler,
    ValidationException: validation_handler,
    HTTPException: http_error_handler,
    IntegrityError: integrity_handler,
    DBAPIError: database_error_handler,
    asyncpg.exceptions.DataError: driver_data_handler,
    **dict.fromkeys(CONNECTION_LOST, driver_connection_lost_handler),
    RedisError: redis_down_handler,
    PoolTimeout: pool_exhausted_handler,
    Exception: unexpected_handler,
}

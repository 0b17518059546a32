"""The one table from domain error codes to HTTP statuses; and the JSON error body."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from commands.outages import STORE_UNAVAILABLE, UNAVAILABLE_MESSAGE
from domain.errors import DomainError

log = logging.getLogger("confab.api")

HTTP_STATUS = {
    "conversation_not_found": 404,
    "bot_not_found": 404,
    "user_not_found": 404,
    "invalid_field": 422,
    "email_taken": 409,
    "not_allowed": 403,
    "authentication_failed": 401,
    "response_not_found": 404,
    "response_already_finished": 409,
    "message_rejected": 422,
    "invalid_request": 400,
    "bad_frame": 400,
    "store_unavailable": 503,
    "file_not_found": 404,
    "file_rejected": 415,
    "file_too_large": 413,
}


RETRY_AFTER_S = "2"
HTTP_CODES = {401: "not_authenticated", 403: "forbidden", 404: "not_found", 413: "too_large"}


def error_body(code: str, message: str, field: str | None = None) -> dict[str, dict[str, str]]:
    error = {"code": code, "message": message}
    if field:
        error["field"] = field
    return {"error": error}


def domain_error_handler(_: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    return Response(
        error_body(exc.code, exc.message, getattr(exc, "field", None)),
        status_code=HTTP_STATUS.get(exc.code, 400),
    )


def http_error_handler(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Litestar's own refusals (validation, auth, size), in our one error shape."""
    code = HTTP_CODES.get(exc.status_code, "invalid_request")
    message, field = str(exc.detail), None
    extra = exc.extra if isinstance(exc.extra, list) else []
    if extra and isinstance(extra[0], dict):
        message = str(extra[0].get("message", message))
        field = extra[0].get("key") or None
        if field is None and "at `$." in message:
            field = message.rsplit("at `$.", 1)[1].rstrip("`")
    return Response(error_body(code, message, field), status_code=exc.status_code)


def store_unavailable_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """PostgreSQL is down or restarting: 503, a body that says so, and a hint when to retry."""
    log.warning("store unavailable on %s %s: %s", request.method, request.url.path, exc)
    return Response(
        error_body("store_unavailable", UNAVAILABLE_MESSAGE),
        status_code=HTTP_STATUS["store_unavailable"],
        headers={"Retry-After": RETRY_AFTER_S},
    )


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return Response(
        error_body("internal_error", "Something went wrong on our side; it has been logged."),
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
    )


EXCEPTION_HANDLERS: dict[
    int | type[Exception], Callable[[Request[Any, Any, Any], Any], Response[Any]]
] = {
    DomainError: domain_error_handler,
    HTTPException: http_error_handler,
    **{error: store_unavailable_handler for error in STORE_UNAVAILABLE},
    Exception: internal_error_handler,
}

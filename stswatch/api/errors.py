"""Error answers of the API: one JSON shape (`ErrorBody`), clear 4xx, never a stack trace.

- invalid or unknown parameters: 422 `invalid_parameter`, with one entry per problem
  (`parameter`, `location`, `message`);
- unknown MMSI or alert id: 404 `not_found`; unknown path: 404; wrong method: 405;
- missing or wrong bearer token: 401 `unauthorized` with `WWW-Authenticate: Bearer`;
- Redis unreachable: 503 `redis_unavailable`;
- anything else: 500 `internal_error`; the traceback goes to the server log only.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

_MAX_ECHO_CHARS = 80
_HTTP_ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "too_large",
}


class ApiError(Exception):
    """An answer other than 200, raised from an endpoint."""

    def __init__(
        self,
        status_code: int,
        error: str,
        message: str,
        *,
        problems: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error = error
        self.message = message
        self.problems = problems
        self.headers = headers


def invalid_parameter(parameter: str, location: str, message: str) -> ApiError:
    return ApiError(
        422,
        "invalid_parameter",
        f"{parameter}: {message}",
        problems=[{"parameter": parameter, "location": location, "message": message}],
    )


def error_response(
    status_code: int,
    error: str,
    message: str,
    problems: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"error": error, "message": message}
    if problems is not None:
        body["problems"] = problems
    return JSONResponse(body, status_code=status_code, headers=headers)


def _echo(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_ECHO_CHARS else text[: _MAX_ECHO_CHARS - 3] + "..."


def validation_problems(exc: RequestValidationError) -> list[dict[str, Any]]:
    """pydantic's errors as `{parameter, location, message}`, worded for API users."""
    problems = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        location = loc[0] if loc else "request"
        parameter = ".".join(loc[1:]) or location
        message = str(error.get("msg", "invalid"))
        if error.get("type") == "missing":
            message = "required"
        elif "input" in error:
            message = f"{message} (got {_echo(error['input'])})"
        problems.append({"parameter": parameter, "location": location, "message": message})
    return problems


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status_code, exc.error, exc.message, exc.problems, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = validation_problems(exc)
        summary = "; ".join(f"{p['parameter']}: {p['message']}" for p in problems)
        return error_response(422, "invalid_parameter", summary, problems)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_ERROR_CODES.get(exc.status_code, f"http_{exc.status_code}")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        headers = dict(exc.headers) if exc.headers else None
        return error_response(exc.status_code, code, message, headers=headers)

    @app.exception_handler(redis.RedisError)
    async def redis_down(request: Request, exc: redis.RedisError) -> JSONResponse:
        log.warning("redis error on %s: %s", request.url.path, exc)
        return error_response(
            503, "redis_unavailable", "the status store (Redis) is not reachable; try again"
        )

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error on %s", request.url.path, exc_info=exc)
        return error_response(500, "internal_error", "internal error; see the server log")

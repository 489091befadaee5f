"""The one place where errors become HTTP: domain errors to status codes, every error body
``{"detail": str, "status_code": int}`` (the original's client reads the body's status_code)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from flowdapt.api.state import ServiceDisabledError
from flowdapt.domain.errors import (
    AlreadyExistsError,
    ExecutorError,
    FlowdaptError,
    InvalidResourceError,
    NotFoundError,
)
from flowdapt.services.compute import ServiceDrainingError
from flowdapt.settings import SettingsError
from flowdapt.storage.base import StorageUnavailableError

logger = logging.getLogger(__name__)

STATUS_BY_ERROR: list[tuple[type[Exception], int]] = [
    (NotFoundError, 404),
    (AlreadyExistsError, 409),
    (InvalidResourceError, 422),
    (StorageUnavailableError, 503),
    (ServiceDrainingError, 503),
    (ServiceDisabledError, 503),
    (ExecutorError, 503),
    (SettingsError, 500),
]


def error_response(status_code: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail, "status_code": status_code}, status_code=status_code)


def status_for(error: FlowdaptError) -> int:
    for kind, status in STATUS_BY_ERROR:
        if isinstance(error, kind):
            return status
    return 500


def install_error_handlers(app: FastAPI) -> None:
    async def domain_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, FlowdaptError)
        status = status_for(exc)
        if status >= 500:
            logger.warning("%s %s: %s", request.method, request.url.path, exc)
        return error_response(status, str(exc))

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        return error_response(exc.status_code, str(exc.detail))

    async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = [
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        ]
        return error_response(422, "; ".join(problems) or "invalid request")

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("%s %s failed", request.method, request.url.path)
        return error_response(500, f"internal error: {type(exc).__name__}")

    app.add_exception_handler(FlowdaptError, domain_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Exception, unexpected)

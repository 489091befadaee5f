"""The original's ``flowdapt.lib.errors``, placed in the project's one error hierarchy.

Each class keeps the original's ``status_code`` and ``detail`` (as attributes, with
``str(e) == "<status_code>: <detail>"``), but none of them is an HTTP exception: the status the
API answers is decided in one place, :mod:`flowdapt.api.errors`. Where the project has a domain
error for the same situation, the class is also that error, so either ``except`` catches it.
``APIError`` and ``ResourceNotFoundError`` live in :mod:`flowdapt.domain.errors` (the object
store's not-found error is a ``ResourceNotFoundError``) and are re-exported here::

    FlowdaptError
    └── APIError                     500 Internal Server Error
        ├── DatabaseConnectionError    0 (also storage.base.StorageUnavailableError)
        ├── MethodNotAllowedError    405
        ├── NotAuthorizedError       403
        ├── ResourceNotFoundError    404 (also domain.errors.NotFoundError; the object store's
        │                                 ObjectNotFoundError is one)
        ├── InvalidCredentialsError  403
        ├── InactiveUserError        403
        ├── InvalidJWTError          403
        ├── UserNotFoundError        404 (also domain.errors.NotFoundError)
        ├── NonUniqueValue           422
        ├── BadRequestError          400
        └── ServiceDrainingError     503 (also services.compute.ServiceDrainingError)

    try:
        neighbour = object_store.get(key)
    except ResourceNotFoundError:
        neighbour = None
"""

from __future__ import annotations

from pydantic import BaseModel

from flowdapt.domain.errors import APIError, NotFoundError, ResourceNotFoundError
from flowdapt.services import compute as _compute
from flowdapt.storage.base import StorageUnavailableError

__all__ = [
    "APIError",
    "APIErrorModel",
    "BadRequestError",
    "DatabaseConnectionError",
    "InactiveUserError",
    "InvalidCredentialsError",
    "InvalidJWTError",
    "MethodNotAllowedError",
    "NonUniqueValue",
    "NotAuthorizedError",
    "ResourceNotFoundError",
    "ServiceDrainingError",
    "UserNotFoundError",
]


class APIErrorModel(BaseModel):
    """The original's schema of an error body."""

    status_code: int = 500
    detail: str = "string"


class DatabaseConnectionError(APIError, StorageUnavailableError):
    status_code = 0  # the original's value, kept as plugins may read it
    detail = "Could not connect to the Database"


class MethodNotAllowedError(APIError):
    status_code = 405
    detail = "Method not allowed"


class NotAuthorizedError(APIError):
    status_code = 403
    detail = "Not authorized"


class InvalidCredentialsError(APIError):
    status_code = 403
    detail = "Invalid credentials"


class InactiveUserError(APIError):
    status_code = 403
    detail = "Inactive user"


class InvalidJWTError(APIError):
    status_code = 403
    detail = "Invalid JWT token"


class UserNotFoundError(APIError, NotFoundError):
    status_code = 404
    detail = "User not found"


class NonUniqueValue(APIError):
    status_code = 422
    detail = "Value does not satisfy unique constraint"


class BadRequestError(APIError):
    status_code = 400
    detail = "Bad request"


class ServiceDrainingError(APIError, _compute.ServiceDrainingError):
    status_code = 503
    detail = "Service is draining, no new workflow runs accepted"

"""flowdapt.lib.errors: the original's error classes in the project's hierarchy (§8)."""

from __future__ import annotations

import pickle

import pytest

from flowdapt.domain.errors import FlowdaptError, NotFoundError
from flowdapt.lib import errors
from flowdapt.services.compute import ServiceDrainingError as ComputeDrainingError
from flowdapt.storage.base import StorageUnavailableError

TABLE = [
    (errors.APIError, 500, "Internal Server Error"),
    (errors.DatabaseConnectionError, 0, "Could not connect to the Database"),
    (errors.MethodNotAllowedError, 405, "Method not allowed"),
    (errors.NotAuthorizedError, 403, "Not authorized"),
    (errors.ResourceNotFoundError, 404, "Resource not found"),
    (errors.InvalidCredentialsError, 403, "Invalid credentials"),
    (errors.InactiveUserError, 403, "Inactive user"),
    (errors.InvalidJWTError, 403, "Invalid JWT token"),
    (errors.UserNotFoundError, 404, "User not found"),
    (errors.NonUniqueValue, 422, "Value does not satisfy unique constraint"),
    (errors.BadRequestError, 400, "Bad request"),
    (
        errors.ServiceDrainingError,
        503,
        "Service is draining, no new workflow runs accepted",
    ),
]


@pytest.mark.parametrize(("cls", "status_code", "detail"), TABLE)
def test_defaults_of_every_class(cls, status_code, detail):
    error = cls()
    assert (error.status_code, error.detail) == (status_code, detail)
    assert (cls.status_code, cls.detail) == (status_code, detail)
    assert str(error) == f"{status_code}: {detail}"
    assert isinstance(error, errors.APIError) and isinstance(error, FlowdaptError)


@pytest.mark.parametrize(("cls", "status_code", "detail"), TABLE)
def test_every_class_pickles_as_itself(cls, status_code, detail):
    error = pickle.loads(pickle.dumps(cls(detail="custom")))
    assert type(error) is cls
    assert (error.status_code, error.detail) == (status_code, "custom")


def test_given_values_win_and_falsy_ones_take_the_default():
    error = errors.ResourceNotFoundError(410, "gone", headers={"Retry-After": "1"})
    assert str(error) == "410: gone" and error.headers == {"Retry-After": "1"}
    falsy = errors.ResourceNotFoundError(status_code=0, detail="")
    assert (falsy.status_code, falsy.detail) == (404, "Resource not found")
    assert errors.BadRequestError(detail="no city").status_code == 400


def test_domain_errors_catch_the_compatible_classes():
    with pytest.raises(NotFoundError):
        raise errors.ResourceNotFoundError()
    with pytest.raises(LookupError):
        raise errors.UserNotFoundError()
    with pytest.raises(StorageUnavailableError):
        raise errors.DatabaseConnectionError()
    with pytest.raises(ComputeDrainingError):
        raise errors.ServiceDrainingError()


def neighbour(error: Exception) -> str:
    try:  # N's construct_dataframes
        raise error
    except errors.ResourceNotFoundError:
        return "skipped"


def test_the_plugins_except_clause():
    assert neighbour(errors.ResourceNotFoundError(detail="no such neighbour")) == "skipped"
    with pytest.raises(KeyError):
        neighbour(KeyError("x"))


def test_resource_not_found_has_one_home_the_object_stores_error_shares():
    from flowdapt.domain import errors as domain_errors
    from flowdapt.objects.errors import ObjectNotFoundError

    assert errors.ResourceNotFoundError is domain_errors.ResourceNotFoundError
    assert errors.APIError is domain_errors.APIError
    assert neighbour(ObjectNotFoundError("Bergen_raw", "testing")) == "skipped"


def test_error_model_defaults():
    assert errors.APIErrorModel().model_dump() == {"status_code": 500, "detail": "string"}
    assert errors.APIErrorModel(status_code=404, detail="x").status_code == 404


def test_surface():
    assert errors.__all__ == sorted(errors.__all__)
    assert {cls.__name__ for cls, _, _ in TABLE} | {"APIErrorModel"} == set(errors.__all__)

"""The one error hierarchy of Flowdapt.

Domain errors say what went wrong in the product's own words and know nothing about HTTP; the API
maps them to status codes in one place.

    FlowdaptError
    ├── ResourceError
    │   ├── InvalidResourceError      malformed, of an unknown kind, or failing validation
    │   ├── NotFoundError             no resource/run with that name or uid
    │   │   └── ResourceNotFoundError the original's name for it (also an APIError)
    │   └── AlreadyExistsError        a resource with that name exists already
    ├── APIError                      the original's flowdapt.lib.errors base (see below)
    └── ExecutionError
        ├── StageCallError            a stage's function cannot take the arguments it is given
        ├── StageFailedError          a stage raised, timed out, or could not be called
        ├── RunCancelledError         the run was cancelled before it finished
        └── ExecutorError             the executor is not running or lost a worker

``APIError`` and ``ResourceNotFoundError`` are the original's ``flowdapt.lib.errors`` classes,
homed here because the object layer raises a ``ResourceNotFoundError`` for a missing object
(plugins catch it there); ``flowdapt.lib.errors`` re-exports them beside their siblings. Their
``status_code`` and ``detail`` are the original's attributes, kept for plugin code that reads
them; the status the API answers is still decided by class in :mod:`flowdapt.api.errors`.
"""

from __future__ import annotations

from collections.abc import Mapping


class FlowdaptError(Exception):
    """Root of every error Flowdapt raises on purpose."""


class ResourceError(FlowdaptError):
    """A problem with a resource document or its identity."""


class InvalidResourceError(ResourceError, ValueError):
    """A resource document could not be accepted.

    `problems` lists one human-readable line per offending field, each naming its location
    (for example ``spec.stages[1].depends_on: unknown stage 'fetch'``).
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = problems or [message]
        super().__init__(message)


class NotFoundError(ResourceError, LookupError):
    """No resource or run matches the identifier."""


class APIError(FlowdaptError):
    """An error with the original's ``status_code`` and ``detail``; a missing or falsy argument
    takes the class's value (``ResourceNotFoundError.status_code == 404``).

    >>> str(ResourceNotFoundError(detail="no such city"))
    '404: no such city'
    """

    status_code: int = 500
    detail: str = "Internal Server Error"

    def __init__(
        self,
        status_code: int | None = None,
        detail: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status_code = status_code or type(self).status_code
        self.detail = detail or type(self).detail
        self.headers = headers
        super().__init__(self.detail)

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __reduce__(self) -> tuple[type[APIError], tuple[object, ...]]:
        # Picklable as itself: a stage's error crosses process boundaries to reach the caller.
        return type(self), (self.status_code, self.detail, self.headers)


class ResourceNotFoundError(APIError, NotFoundError):
    """The original's 404 error; plugins catch it around ``object_store.get``, which raises
    ``flowdapt.objects.errors.ObjectNotFoundError``, one of these."""

    status_code = 404
    detail = "Resource not found"


class AlreadyExistsError(ResourceError):
    """A resource with the same kind and name exists already."""


class ExecutionError(FlowdaptError):
    """A run could not complete."""


class StageCallError(ExecutionError, TypeError, ValueError):
    """A stage's signature does not fit its arguments (a TypeError, and a ValueError as the
    original raised, so existing ``pytest.raises`` keep working)."""


class StageFailedError(ExecutionError):
    """A stage of a run failed; `stage` names it and `item` the failing item, if any."""

    def __init__(self, message: str, *, stage: str, item: int | None = None) -> None:
        self.stage = stage
        self.item = item
        super().__init__(message)


class StageTimeoutError(StageFailedError, TimeoutError):
    """A stage attempt ran longer than its `timeout` option."""


class RunCancelledError(ExecutionError):
    """The run was cancelled; its running stages were stopped and nothing downstream started."""


class ExecutorError(ExecutionError):
    """The executor cannot run tasks: not started, closed, or a worker died."""

"""The one error hierarchy of Flowdapt.

Domain errors say what went wrong in the product's own words and know nothing about HTTP; the API
maps them to status codes in one place.

    FlowdaptError
    ├── ResourceError
    │   ├── InvalidResourceError      malformed, of an unknown kind, or failing validation
    │   ├── NotFoundError             no resource/run with that name or uid
    │   └── AlreadyExistsError        a resource with that name exists already
    └── ExecutionError
        ├── StageCallError            a stage's function cannot take the arguments it is given
        ├── StageFailedError          a stage raised, timed out, or could not be called
        ├── RunCancelledError         the run was cancelled before it finished
        └── ExecutorError             the executor is not running or lost a worker
"""

from __future__ import annotations


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

"""The worker-process side of the LocalExecutor's process pool.

A task travels as cloudpickle bytes and its outcome comes back the same way. What cannot make the
trip back — a returned lock, an exception class that cannot be rebuilt — becomes a clear failure
of that item instead of a hang, a broken pool, or the loss of the batch's other results.
"""

from __future__ import annotations

from typing import Any

import cloudpickle

from flowdapt.engine.log_capture import prepare_worker_process
from flowdapt.engine.task import ItemFailure, TaskOutcome
from flowdapt.executors.remote_values import lower


def ready() -> bool:
    """A no-op task used to start every worker before the first stage needs it."""
    return True


def run_pickled(payload: bytes, *arguments: Any) -> bytes:
    """Run the task in `payload`; `arguments` fill its argument slots (see remote_values).

    An empty payload runs nothing: an executor's probe for a live worker (see executors.ray).
    """
    if not payload:
        return b""
    prepare_worker_process()
    task = lower(cloudpickle.loads(payload), arguments)
    return _pickled(task.stage, task())


def run_pickled_keeping(payload: bytes, *arguments: Any) -> tuple[bytes, Any]:
    """As run_pickled, but the call's value comes back apart from the outcome (which holds None
    in its place), for an engine to keep on the cluster: ``(outcome bytes, value)``."""
    prepare_worker_process()
    task = lower(cloudpickle.loads(payload), arguments)
    outcome = task()
    value = None
    if outcome.values and not outcome.failures:
        problem = _unsendable(outcome.values[0])
        if problem is None:
            value, outcome.values = outcome.values[0], [None]
        else:
            failure = _send_failure(task.stage, outcome.values[0], problem, position=0)
            outcome.values, outcome.failures = [None], [failure]
    return _pickled(task.stage, outcome), value


def _pickled(stage: str, outcome: TaskOutcome) -> bytes:
    try:
        data: bytes = cloudpickle.dumps(outcome)
        cloudpickle.loads(data)  # exceptions may pickle yet fail to rebuild in the parent
        return data
    except Exception:
        safe: bytes = cloudpickle.dumps(_transportable(stage, outcome))
        return safe


def _unsendable(value: Any) -> str | None:
    """Why `value` cannot be pickled, or None; large buffers are handed out of band, not
    copied, so that checking a big array costs little."""
    try:
        cloudpickle.dumps(value, protocol=5, buffer_callback=lambda _: None)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _send_failure(stage: str, value: Any, problem: str, *, position: int) -> ItemFailure:
    error = TypeError(
        f"stage {stage!r} returned a {type(value).__name__} that cannot be sent back from "
        f"the worker process: {problem}"
    )
    return ItemFailure.capture(position, error)


def _transportable(stage: str, outcome: TaskOutcome) -> TaskOutcome:
    failures = {failure.position: failure for failure in outcome.failures}
    for failure in failures.values():
        if not _round_trips(failure.exception):
            failure.exception = None  # the error record (type, message, traceback) stays
    values: list[Any] = []
    for position, value in enumerate(outcome.values):
        if position in failures or _round_trips(value):
            values.append(value)
            continue
        values.append(None)
        problem = _pickling_error(value)
        failures[position] = _send_failure(stage, value, problem, position=position)
    outcome.values = values
    outcome.failures = sorted(failures.values(), key=lambda f: f.position)
    return outcome


def _round_trips(value: Any) -> bool:
    try:
        cloudpickle.loads(cloudpickle.dumps(value))
    except Exception:
        return False
    return True


def _pickling_error(value: Any) -> str:
    try:
        cloudpickle.loads(cloudpickle.dumps(value))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return "unknown error"

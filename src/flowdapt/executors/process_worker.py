"""The worker-process side of the LocalExecutor's process pool.

A task travels as cloudpickle bytes and its outcome comes back the same way. What cannot make the
trip back — a returned lock, an exception class that cannot be rebuilt — becomes a clear failure
of that item instead of a hang, a broken pool, or the loss of the batch's other results.
"""

from __future__ import annotations

from typing import Any

import cloudpickle

from flowdapt.engine.task import ItemFailure, StageTask, TaskOutcome


def ready() -> bool:
    """A no-op task used to start every worker before the first stage needs it."""
    return True


def run_pickled(payload: bytes) -> bytes:
    task: StageTask = cloudpickle.loads(payload)
    outcome = task()
    try:
        data: bytes = cloudpickle.dumps(outcome)
        cloudpickle.loads(data)  # exceptions may pickle yet fail to rebuild in the parent
        return data
    except Exception:
        safe: bytes = cloudpickle.dumps(_transportable(task.stage, outcome))
        return safe


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
        problem = TypeError(
            f"stage {stage!r} returned a {type(value).__name__} that cannot be sent back from "
            f"the worker process: {_pickling_error(value)}"
        )
        failures[position] = ItemFailure.capture(position, problem)
    return TaskOutcome(values, sorted(failures.values(), key=lambda f: f.position))


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

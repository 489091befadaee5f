"""What every backend does the same way: identifiers, (de)serialising documents, run settlement.

Keeping these in one place is what makes the backends interchangeable: a run whose result holds
an object JSON cannot express comes back as that object's ``repr`` from every backend, an
interrupted run is settled with the same error everywhere, and so on.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, TypeVar

from flowdapt.domain.resources import TRUSTED, ResourceBase
from flowdapt.domain.runs import ErrorInfo, RunState, StageRun, StageState, WorkflowRun
from flowdapt.domain.timestamps import as_utc

R = TypeVar("R", bound=ResourceBase)
ModelWithTimes = TypeVar("ModelWithTimes", WorkflowRun, StageRun)

INTERRUPTED_ERROR_TYPE = "RunInterruptedError"
"""`ErrorInfo.type` of runs settled by `fail_unfinished` (no stage raised: the server stopped)."""

UNFINISHED_STATES = (RunState.PENDING.value, RunState.RUNNING.value)
FINAL_STATES = (RunState.FINISHED.value, RunState.FAILED.value, RunState.CANCELLED.value)


def parse_uid(identifier: str) -> uuid.UUID | None:
    """The identifier as a uid when it is one, else None (then it can only be a name)."""
    try:
        return uuid.UUID(identifier)
    except ValueError:
        return None


def utc_key(moment: datetime) -> str:
    """A fixed-width string that sorts like the instant it names (for document backends)."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%f")


def dump_resource(resource: ResourceBase) -> dict[str, Any]:
    return resource.model_dump(mode="json")


def load_resource(model: type[R], document: dict[str, Any]) -> R:
    return model.model_validate(document, context={TRUSTED: True})


def restamp(resource: R, uid: uuid.UUID, created_at: datetime, now: datetime) -> R:
    """`resource` as an update stores it: the stored identity and creation time, updated now."""
    metadata = resource.metadata.model_copy(
        update={"uid": uid, "created_at": as_utc(created_at), "updated_at": as_utc(now)}
    )
    return resource.model_copy(update={"metadata": metadata})


def _utc_times(model: ModelWithTimes) -> ModelWithTimes:
    update = {
        field: as_utc(moment)
        for field in ("started_at", "finished_at")
        if (moment := getattr(model, field)) is not None
    }
    return model.model_copy(update=update)


def utc_run(run: WorkflowRun) -> WorkflowRun:
    """`run` with every time (its own and its stages') in UTC, as storage gives it back."""
    stages = [_utc_times(stage) for stage in run.stages]
    return _utc_times(run).model_copy(update={"stages": stages})


def dump_run(run: WorkflowRun) -> dict[str, Any]:
    # Results are whatever a stage returned; what JSON cannot express is kept as its repr
    # rather than failing the write that records the run's outcome.
    return utc_run(run).model_dump(mode="json", fallback=repr)


def load_run(document: dict[str, Any]) -> WorkflowRun:
    return WorkflowRun.model_validate(document)


def settle_interrupted(run: WorkflowRun, reason: str, finished_at: datetime) -> WorkflowRun:
    """The run as it is recorded after the process running it died: failed, with `reason`.

    Stages that were running fail with the same reason; stages that never started are skipped,
    so no record is left claiming to be in progress.
    """
    at = as_utc(finished_at)
    error = ErrorInfo(type=INTERRUPTED_ERROR_TYPE, message=reason)
    stages = []
    for stage in run.stages:
        if stage.state is StageState.RUNNING:
            stage = stage.model_copy(
                update={"state": StageState.FAILED, "finished_at": at, "error": error}
            )
        elif stage.state is StageState.PENDING:
            stage = stage.model_copy(update={"state": StageState.SKIPPED})
        stages.append(stage)
    return run.model_copy(
        update={
            "state": RunState.FAILED,
            "finished_at": at,
            "error": error,
            "result": error.as_result(),
            "stages": stages,
        }
    )

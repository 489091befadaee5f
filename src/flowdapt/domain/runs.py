"""Workflow runs and the per-stage records they carry."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from flowdapt.domain.timestamps import UtcDatetime, utcnow


class RunState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in (RunState.FINISHED, RunState.FAILED, RunState.CANCELLED)


class StageState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"  # an upstream stage failed or the run stopped before it could start


class ErrorInfo(BaseModel):
    """What went wrong, in a form that survives serialisation (type, message, traceback)."""

    type: str
    message: str
    traceback: str = ""
    stage: str | None = None
    item: int | None = None

    def as_result(self) -> tuple[str, str]:
        """The original's wire form of a failed run's result: ``(ExceptionTypeName, message)``."""
        return (self.type, self.message)


class StageRun(BaseModel):
    """Progress of one stage within a run; parameterized stages count their items."""

    model_config = ConfigDict(validate_assignment=False)

    name: str
    state: StageState = StageState.PENDING
    started_at: UtcDatetime | None = None
    finished_at: UtcDatetime | None = None
    attempts: int = 0
    error: ErrorInfo | None = None
    items_total: int | None = None
    items_done: int = 0
    items_failed: int = 0

    @property
    def duration(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


def generate_run_name(words: int = 2) -> str:
    """A human-friendly unique run name such as ``crafty-skunk-61d6c81e``."""
    from coolname import generate as _coolname_words  # its word lists load on first use

    return f"{'-'.join(_coolname_words(words))}-{uuid.uuid4().hex[:8]}"


class WorkflowRun(BaseModel):
    """One execution of a workflow.

    ``result`` is the sink stage's return value when finished, or ``(ErrorType, message)`` when
    failed (the original's shape); ``error`` keeps the full detail including the traceback.
    ``server`` is the configured name of the server executing the run (None in records written
    before runs had an owner): a server starting up settles only its own unfinished runs.
    """

    uid: uuid.UUID = Field(default_factory=uuid.uuid4)
    name: str = Field(default_factory=generate_run_name)
    workflow: str
    source: str | None = "api"
    server: str | None = None
    state: RunState = RunState.PENDING
    started_at: UtcDatetime = Field(default_factory=utcnow)
    finished_at: UtcDatetime | None = None
    result: Any = None
    error: ErrorInfo | None = None
    stages: list[StageRun] = Field(default_factory=list)

    def stage(self, name: str) -> StageRun:
        for record in self.stages:
            if record.name == name:
                return record
        raise KeyError(name)

    def set_finished(self, result: Any, state: RunState | str = RunState.FINISHED) -> None:
        """Mark the run final with its result (the original's method, which plugins call)."""
        self.result = result
        self.state = RunState(state)
        self.finished_at = utcnow()

"""The port the runner drives. Executors (local, Dask, Ray) implement it; they know no graphs.

An executor starts and stops its workers, runs :class:`~flowdapt.engine.task.StageTask` objects and
says how to chunk a fan-out. Cancelling the future returned by ``submit`` stops the task: at once
where the executor can (a worker process is terminated), cooperatively otherwise (a thread finishes
its current item and sees ``get_run_context().cancelled``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from flowdapt.domain.workflow_rules import StageOptions, StageResources
from flowdapt.engine.task import StageTask, TaskOutcome


@dataclass(frozen=True, slots=True)
class Placement:
    """Where and how a stage's tasks want to run: its resources and options.

    ``keep_result``: the stage's one value is only passed on to later stages' calls, so the
    executor may leave it where it was made (a Ray object, a Dask future) and return a handle of
    its own as the outcome's value; it then accepts those handles among later tasks' ``plan.args``.
    """

    resources: StageResources
    options: StageOptions
    keep_result: bool = False


@runtime_checkable
class Executor(Protocol):
    """Runs tasks; ``kind`` is what ``get_run_context().executor`` reports."""

    kind: str

    @property
    def running(self) -> bool: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def batch_size(self, item_count: int, placement: Placement) -> int:
        """Items per task for a fan-out of `item_count` items."""
        ...

    def submit(self, task: StageTask, placement: Placement) -> asyncio.Future[TaskOutcome]:
        """Start `task`; the future resolves to its outcome (user errors are inside the outcome)."""
        ...

"""Stage results left on a cluster, and how they travel as arguments of later tasks.

A cluster executor that keeps a stage's value where it was made (``Placement.keep_result``)
hands the runner a handle of its own instead (a Ray object ref, a Dask future). When a later
task carries such handles among its call's arguments, :func:`lift` swaps each one for an
:class:`ArgumentSlot` and gives the handles back, so the executor passes them to the engine as the
task's own arguments — the engine moves the data from worker to worker, never through the server.
In the worker, :func:`lower` puts the values it received into the slots again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, TypeVar

from flowdapt.engine.task import StageTask

Handle = TypeVar("Handle")


@dataclasses.dataclass(frozen=True, slots=True)
class ArgumentSlot:
    """Stands in a task's call arguments for the value of the task's `index`-th extra argument."""

    index: int


def lift(task: StageTask, kind: type[Handle]) -> tuple[StageTask, list[Handle]]:
    """`task` with its `kind` handles swapped for slots, and those handles in slot order."""
    args = task.plan.args
    if not any(isinstance(arg, kind) for arg in args):
        return task, []
    handles: list[Handle] = []
    swapped: list[Any] = []
    for arg in args:
        if isinstance(arg, kind):
            swapped.append(ArgumentSlot(len(handles)))
            handles.append(arg)
        else:
            swapped.append(arg)
    plan = dataclasses.replace(task.plan, args=tuple(swapped))
    return dataclasses.replace(task, plan=plan), handles


def lower(task: StageTask, values: Sequence[Any]) -> StageTask:
    """`task` (just unpickled in a worker) with the values of its slots filled in."""
    if not values:
        return task
    args = tuple(
        values[arg.index] if isinstance(arg, ArgumentSlot) else arg for arg in task.plan.args
    )
    task.plan = dataclasses.replace(task.plan, args=args)
    return task

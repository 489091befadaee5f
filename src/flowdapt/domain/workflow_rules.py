"""The rules a workflow must satisfy before it is stored or run, and the stage option models.

Every problem is reported as one line that names its location, so a user sees all of them at once:

    spec.stages[1] (fetch).depends_on: unknown stage 'fetch_list'
    spec.stages: dependency cycle a -> b -> a
"""

from __future__ import annotations

import graphlib
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flowdapt.domain.sizes import parse_byte_size

if TYPE_CHECKING:
    from flowdapt.domain.resources import WorkflowStage

STAGE_TYPES = ("simple", "parameterized")
DEFAULT_ASYNC_CONCURRENCY = 100  # items of an async fan-out awaited at once per task


class StageOptions(BaseModel):
    """Options a stage may set under ``options``; unknown keys are kept for executors.

    - ``map_on``: input key whose list a parameterized stage maps over.
    - ``retries`` / ``retry_delay`` (seconds) / ``retry_backoff`` (factor per attempt): a failed
      attempt is tried again after ``retry_delay * retry_backoff ** (attempt - 1)`` seconds; for a
      parameterized stage only the failed items are tried again.
    - ``timeout``: seconds one attempt may take (the whole fan-out for a parameterized stage).
    - ``allow_partial_failure`` (default true, as in the original): a fan-out drops the items
      whose call raised (logged at WARNING, counted in ``items_failed``) and goes on; false fails
      the stage at its first failed item. Failures that are not the item's own — a timeout, a
      lost worker, a closed executor — fail the stage either way.
    - ``pool``: ``thread`` or ``process`` on the LocalExecutor (default: the executor's choice).
    - ``batch_size``: items per task for a parameterized stage (default: the executor's choice).
    - ``max_concurrency``: items of an ``async def`` parameterized stage awaited at once per task.
    """

    model_config = ConfigDict(extra="allow")

    map_on: str | None = None
    retries: int = Field(default=0, ge=0)
    retry_delay: float = Field(default=1.0, ge=0)
    retry_backoff: float = Field(default=2.0, ge=1)
    timeout: float | None = Field(default=None, gt=0)
    allow_partial_failure: bool = True
    pool: Literal["thread", "process"] | None = None
    batch_size: int | None = Field(default=None, ge=1)
    max_concurrency: int = Field(default=DEFAULT_ASYNC_CONCURRENCY, ge=1)


class StageResources(BaseModel):
    """What a stage needs from a worker; executors map it to their own resource model."""

    model_config = ConfigDict(frozen=True)

    cpus: float | None = None
    gpus: float | None = None
    memory: int | None = None  # bytes
    custom: dict[str, float] = Field(default_factory=dict)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> StageResources:
        """Parse ``{cpus: 1, gpus: 0, memory: 2GB, my_label: 1}``; ValueError names the key."""
        values: dict[str, Any] = {"custom": {}}
        for key, value in raw.items():
            if key == "memory":
                try:
                    values["memory"] = None if value is None else parse_byte_size(value)
                except ValueError as exc:
                    raise ValueError(f"resources.memory: {exc}") from None
                continue
            number = _non_negative_number(value)
            if number is None:
                raise ValueError(f"resources.{key}: expected a non-negative number, got {value!r}")
            if key in ("cpus", "gpus"):
                values[key] = number
            else:
                values["custom"][str(key)] = number
        return cls.model_validate(values)


def _non_negative_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return float(value)


def workflow_problems(stages: Sequence[WorkflowStage]) -> list[str]:
    """Every reason the stages do not form a valid workflow graph; empty when they do."""
    return check_stages(stages)[0]


def check_stages(stages: Sequence[WorkflowStage]) -> tuple[list[str], list[list[str]]]:
    """The problems, and the dependency groups of :func:`stage_groups` when there are none."""
    problems: list[str] = []
    first_index: dict[str, int] = {}
    for index, stage in enumerate(stages):
        if stage.name in first_index:
            problems.append(
                f"spec.stages[{index}].name: duplicate stage name {stage.name!r} "
                f"(first used by spec.stages[{first_index[stage.name]}])"
            )
        else:
            first_index[stage.name] = index
    for index, stage in enumerate(stages):
        problems.extend(_stage_problems(f"spec.stages[{index}] ({stage.name})", stage, first_index))
    if problems:
        return problems, []
    try:
        return [], stage_groups(stages)
    except graphlib.CycleError as exc:
        cycle = list(reversed(exc.args[1]))
        return [f"spec.stages: dependency cycle {' -> '.join(cycle)}"], []


def _stage_problems(where: str, stage: WorkflowStage, known: Mapping[str, int]) -> list[str]:
    problems: list[str] = []
    if not stage.name:
        problems.append(f"{where}.name: a stage needs a name")
    if stage.type not in STAGE_TYPES:
        problems.append(
            f"{where}.type: unknown stage type {stage.type!r} (expected simple or parameterized)"
        )
    for dependency in stage.depends_on:
        if dependency not in known:
            problems.append(f"{where}.depends_on: unknown stage {dependency!r}")
    duplicates = sorted({d for d in stage.depends_on if stage.depends_on.count(d) > 1})
    if duplicates:
        problems.append(f"{where}.depends_on: {', '.join(duplicates)} listed more than once")
    try:
        options = stage.parsed_options()
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            problems.append(f"{where}.options.{field}: {error['msg']}")
        options = None
    try:
        stage.parsed_resources()
    except ValueError as exc:
        problems.append(f"{where}.{exc}")
    if (
        stage.type == "parameterized"
        and not stage.depends_on
        and options is not None
        and not options.map_on
    ):
        problems.append(
            f"{where}: a parameterized stage needs something to map over: depend on a stage "
            "that returns an iterable, or set options.map_on to an input key"
        )
    return problems


def stage_groups(stages: Sequence[WorkflowStage]) -> list[list[str]]:
    """Stage names in dependency order, grouped: each group depends only on earlier groups.

    Within a group, stages keep their declaration order. Raises ``graphlib.CycleError``.
    """
    position = {stage.name: index for index, stage in enumerate(stages)}
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for stage in stages:
        sorter.add(stage.name, *stage.depends_on)
    sorter.prepare()
    groups: list[list[str]] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=position.__getitem__)
        groups.append(ready)
        sorter.done(*ready)
    return groups

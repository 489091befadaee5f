"""The workflow graph: built and validated once per run from a workflow resource, then frozen."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from flowdapt.domain.resources import StageType, WorkflowResource
from flowdapt.domain.workflow_rules import StageOptions, StageResources


@dataclass(frozen=True, slots=True)
class StageNode:
    """Everything the scheduler and runner need about one stage, parsed once."""

    index: int
    name: str
    target: str | Callable[..., Any]
    parameterized: bool
    depends_on: tuple[str, ...]
    options: StageOptions
    resources: StageResources
    priority: int


@dataclass(frozen=True, slots=True)
class WorkflowGraph:
    """Stages by name, their dependents, the dependency groups and the sinks.

    The run's result is the sink's return value; with several sinks it is a mapping
    ``{sink_name: value}`` in declaration order.
    """

    workflow: WorkflowResource
    nodes: Mapping[str, StageNode]
    dependents: Mapping[str, tuple[str, ...]]
    groups: tuple[tuple[str, ...], ...]
    sinks: tuple[str, ...]
    # Stages whose result is only ever an argument of later stages' calls: never the run's result
    # and never the items a fan-out maps over, so the driver never needs the value itself.
    passed_on: frozenset[str] = frozenset()

    @classmethod
    def build(cls, workflow: WorkflowResource) -> WorkflowGraph:
        """Freeze a validated workflow resource (its model validation already checked the rules)."""
        stages = workflow.spec.stages
        nodes = {
            stage.name: StageNode(
                index=index,
                name=stage.name,
                target=stage.target,
                parameterized=stage.stage_type is StageType.PARAMETERIZED,
                depends_on=tuple(stage.depends_on),
                options=stage.parsed_options(),
                resources=stage.parsed_resources(),
                priority=stage.priority or 0,
            )
            for index, stage in enumerate(stages)
        }
        dependents: dict[str, list[str]] = {name: [] for name in nodes}
        for node in nodes.values():
            for dependency in node.depends_on:
                dependents[dependency].append(node.name)
        return cls(
            workflow=workflow,
            nodes=MappingProxyType(nodes),
            dependents=MappingProxyType({k: tuple(v) for k, v in dependents.items()}),
            groups=tuple(tuple(group) for group in workflow.stage_groups()),
            sinks=tuple(name for name in nodes if not dependents[name]),
            passed_on=frozenset(
                name
                for name, node in nodes.items()
                if not node.parameterized  # a fan-out's items come back one by one anyway
                and dependents[name]
                and not any(_maps_over(nodes[d], name) for d in dependents[name])
            ),
        )

    @property
    def order(self) -> tuple[str, ...]:
        """A topological order (group by group, declaration order within a group)."""
        return tuple(name for group in self.groups for name in group)


def _maps_over(node: StageNode, dependency: str) -> bool:
    """Whether `node` is a fan-out over `dependency`'s result (its first dependency, no map_on)."""
    return node.parameterized and not node.options.map_on and node.depends_on[0] == dependency

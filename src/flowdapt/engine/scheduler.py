"""The one place that knows graph semantics at run time: a pure state machine, no I/O, no clock.

scheduler = Scheduler(graph)
for stage in scheduler.take_ready():      # roots first
    ...run stage.name with stage.inputs...
    scheduler.complete(stage.name, value)  # may make dependents ready
scheduler.result()                         # the sink's value (or {sink: value, ...})
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowdapt.engine.graph import WorkflowGraph


@dataclass(frozen=True, slots=True)
class ReadyStage:
    name: str
    inputs: tuple[Any, ...]  # the results of its dependencies, in `depends_on` order


class Scheduler:
    """Releases stages whose dependencies have all finished, highest `priority` first.

    Results are dropped as soon as every dependent has taken them (sinks keep theirs), so a long
    chain does not hold every intermediate value in memory.
    """

    def __init__(self, graph: WorkflowGraph) -> None:
        self._graph = graph
        self._missing = {name: len(node.depends_on) for name, node in graph.nodes.items()}
        self._takers_left = {name: len(graph.dependents[name]) for name in graph.nodes}
        self._ready = [name for name, count in self._missing.items() if count == 0]
        self._not_started = set(graph.nodes)
        self._running: set[str] = set()
        self._results: dict[str, Any] = {}
        self._stopped = False

    def take_ready(self) -> list[ReadyStage]:
        """The stages that may start now; each is handed out once, with its inputs."""
        if self._stopped:
            return []
        nodes, ready = self._graph.nodes, self._ready
        if len(ready) > 1:
            ready.sort(key=lambda n: (-nodes[n].priority, nodes[n].index))
        self._ready = []
        released = []
        for name in ready:
            self._not_started.discard(name)
            self._running.add(name)
            released.append(ReadyStage(name, self._take_inputs(name)))
        return released

    def _take_inputs(self, name: str) -> tuple[Any, ...]:
        inputs = []
        for dependency in self._graph.nodes[name].depends_on:
            inputs.append(self._results[dependency])
            self._takers_left[dependency] -= 1
            if self._takers_left[dependency] == 0 and dependency not in self._graph.sinks:
                del self._results[dependency]
        return tuple(inputs)

    def complete(self, name: str, value: Any) -> None:
        """Record a stage's result and release the dependents it was the last one missing for."""
        self._running.discard(name)
        self._results[name] = value
        for dependent in self._graph.dependents[name]:
            self._missing[dependent] -= 1
            if self._missing[dependent] == 0:
                self._ready.append(dependent)

    def abandon(self, name: str) -> None:
        """A running stage ended without a result (failed or cancelled); stop releasing stages."""
        self._running.discard(name)
        self._stopped = True

    def stop(self) -> None:
        """Release nothing more (the run failed or was cancelled)."""
        self._stopped = True

    @property
    def running(self) -> frozenset[str]:
        return frozenset(self._running)

    @property
    def not_started(self) -> frozenset[str]:
        return frozenset(self._not_started)

    @property
    def done(self) -> bool:
        """Nothing runs and nothing more will be released."""
        return not self._running and (self._stopped or not self._not_started)

    def result(self) -> Any:
        """The run's result: the sink's value, or ``{sink: value}`` for several sinks."""
        sinks = self._graph.sinks
        if len(sinks) == 1:
            return self._results[sinks[0]]
        return {name: self._results[name] for name in sinks}

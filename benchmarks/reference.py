"""What a run costs by itself, in process: the reference the server benchmarks print beside
their HTTP figures (no HTTP, no database)."""

from __future__ import annotations

import statistics
import time

from flowdapt.compute.resources.workflow.execute import execute_workflow
from flowdapt.domain.resources import WorkflowResource
from flowdapt.executors.local import LocalExecutor

TRIVIAL = {
    "kind": "workflow",
    "metadata": {"name": "trivial"},
    "spec": {"stages": [{"name": "only", "target": "builtins.dict"}]},
}


async def raw_engine_latency(samples: int) -> float:
    """Median seconds of `execute_workflow` of a one-stage trivial workflow on threads."""
    definition = WorkflowResource.model_validate(TRIVIAL)
    durations = []
    async with LocalExecutor(use_processes=False) as executor:
        for _ in range(samples):
            began = time.perf_counter()
            await execute_workflow(definition, executor=executor, return_result=True)
            durations.append(time.perf_counter() - began)
    return statistics.median(durations)

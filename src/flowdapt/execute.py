"""Run a workflow in this process, without a server: for scripts and plugin authors' tests.

from flowdapt.compute.resources.workflow.execute import execute_workflow

result = await execute_workflow(
    {"metadata": {"name": "hello"}, "spec": {"stages": [{"name": "hi", "target": greet}]}},
    input={"who": "world"},
    return_result=True,
)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowdapt.domain.documents import validate_resource
from flowdapt.domain.resources import WorkflowResource
from flowdapt.domain.runs import RunState, WorkflowRun
from flowdapt.engine.executor import Executor
from flowdapt.engine.graph import WorkflowGraph
from flowdapt.engine.runner import RunObserver, WorkflowRunner
from flowdapt.executors.local import LocalExecutor


async def execute_workflow(
    workflow: Mapping[str, Any] | WorkflowResource,
    input: Mapping[str, Any] | None = None,
    *,
    namespace: str = "default",
    return_result: bool = False,
    run: WorkflowRun | None = None,
    executor: Executor | None = None,
    config: Mapping[str, Any] | None = None,
    observer: RunObserver | None = None,
    **params: Any,
) -> Any:
    """Validate and run `workflow`; return the run, or its result with ``return_result=True``.

    The call shape is the original's. Without an `executor` a thread-based
    ``LocalExecutor(**params)`` is started for this run and closed after it; a running executor
    is used and left running. Invalid definitions raise ``InvalidResourceError`` at once. A failing
    stage fails the run (``state == "failed"``, ``result == (ErrorType, message)``); with
    ``return_result=True`` the stage's own exception is raised instead.
    """
    definition = _as_workflow(workflow)
    if executor is None:
        executor = LocalExecutor(**{"use_processes": False, **params})
    started_here = not executor.running
    if started_here:
        await executor.start()
    record = run if run is not None else WorkflowRun(workflow=definition.name, source="manual")
    runner = WorkflowRunner(
        WorkflowGraph.build(definition),
        executor,
        record,
        input=input,
        namespace=namespace,
        config=config,
        observer=observer,
    )
    try:
        await runner.run()
    finally:
        if started_here:
            await executor.close()
    if return_result:
        if record.state is not RunState.FINISHED and runner.exception is not None:
            raise runner.exception
        return record.result
    return record


def _as_workflow(workflow: Mapping[str, Any] | WorkflowResource) -> WorkflowResource:
    if isinstance(workflow, WorkflowResource):
        return workflow
    return validate_resource(
        WorkflowResource, {**workflow, "kind": workflow.get("kind", "workflow")}
    )

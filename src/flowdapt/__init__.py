"""Flowdapt: adaptive ML workflows of plain-Python stages, run on Local, Dask or Ray executors."""

from flowdapt.domain import (
    ConfigResource,
    FlowdaptError,
    InvalidResourceError,
    RunState,
    StageState,
    TriggerRuleResource,
    WorkflowResource,
    WorkflowRun,
    load_resources,
)
from flowdapt.engine import get_run_context
from flowdapt.execute import execute_workflow
from flowdapt.executors import LocalExecutor

__version__ = "0.2.0"  # the one place the version is written (pyproject reads it from here)

__all__ = [
    "ConfigResource",
    "FlowdaptError",
    "InvalidResourceError",
    "LocalExecutor",
    "RunState",
    "StageState",
    "TriggerRuleResource",
    "WorkflowResource",
    "WorkflowRun",
    "__version__",
    "execute_workflow",
    "get_run_context",
    "load_resources",
]

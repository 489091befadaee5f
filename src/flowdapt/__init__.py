"""Flowdapt: adaptive ML workflows of plain-Python stages, run on Local, Dask or Ray executors."""

from importlib.metadata import PackageNotFoundError, version

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

try:
    __version__ = version("flowdapt")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

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

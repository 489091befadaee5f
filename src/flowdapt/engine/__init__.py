"""The engine: graph, scheduler, runner, run context, and the Executor port. Imports domain only."""

from flowdapt.engine.calling import CallPlan, plan_call
from flowdapt.engine.config_selection import resolve_config, select_configs
from flowdapt.engine.context import (
    ConfigData,
    WorkflowRunContext,
    get_run_context,
    reset_run_context,
    set_run_context,
)
from flowdapt.engine.executor import Executor, Placement
from flowdapt.engine.graph import StageNode, WorkflowGraph
from flowdapt.engine.runner import RunObserver, WorkflowRunner
from flowdapt.engine.scheduler import ReadyStage, Scheduler
from flowdapt.engine.targets import import_from_string, resolve_target
from flowdapt.engine.task import ItemFailure, StageTask, TaskOutcome

__all__ = [
    "CallPlan",
    "ConfigData",
    "Executor",
    "ItemFailure",
    "Placement",
    "ReadyStage",
    "RunObserver",
    "Scheduler",
    "StageNode",
    "StageTask",
    "TaskOutcome",
    "WorkflowGraph",
    "WorkflowRunContext",
    "WorkflowRunner",
    "get_run_context",
    "import_from_string",
    "plan_call",
    "reset_run_context",
    "resolve_config",
    "resolve_target",
    "select_configs",
    "set_run_context",
]

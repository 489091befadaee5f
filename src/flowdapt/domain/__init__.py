"""Domain models: resources, runs, events and the error hierarchy. Imports nothing else of ours."""

from flowdapt.domain.documents import load_documents, load_resources, parse_resource
from flowdapt.domain.errors import (
    AlreadyExistsError,
    ExecutionError,
    ExecutorError,
    FlowdaptError,
    InvalidResourceError,
    NotFoundError,
    ResourceError,
    RunCancelledError,
    StageFailedError,
    StageTimeoutError,
)
from flowdapt.domain.events import Event
from flowdapt.domain.resources import (
    ConfigResource,
    ConfigSelector,
    Resource,
    ResourceMetadata,
    StageType,
    TriggerRuleResource,
    WorkflowResource,
    WorkflowStage,
)
from flowdapt.domain.runs import ErrorInfo, RunState, StageRun, StageState, WorkflowRun
from flowdapt.domain.workflow_rules import StageOptions, StageResources

__all__ = [
    "AlreadyExistsError",
    "ConfigResource",
    "ConfigSelector",
    "ErrorInfo",
    "Event",
    "ExecutionError",
    "ExecutorError",
    "FlowdaptError",
    "InvalidResourceError",
    "NotFoundError",
    "Resource",
    "ResourceError",
    "ResourceMetadata",
    "RunCancelledError",
    "RunState",
    "StageFailedError",
    "StageOptions",
    "StageResources",
    "StageRun",
    "StageState",
    "StageTimeoutError",
    "StageType",
    "TriggerRuleResource",
    "WorkflowResource",
    "WorkflowRun",
    "WorkflowStage",
    "load_documents",
    "load_resources",
    "parse_resource",
]

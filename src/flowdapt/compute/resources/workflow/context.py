"""``get_run_context`` at the original's path; the real home is :mod:`flowdapt.engine.context`."""

from flowdapt.engine.context import (
    WorkflowRunContext,
    get_run_context,
    reset_run_context,
    set_run_context,
)

__all__ = ["WorkflowRunContext", "get_run_context", "reset_run_context", "set_run_context"]

"""Stages the trigger tests run."""

from __future__ import annotations

from typing import Any

from flowdapt.compute.resources.workflow.context import get_run_context


def fail_always(**_: Any) -> None:
    raise ValueError("the upstream data was empty")


def report_event(**kwargs: Any) -> dict[str, Any]:
    """What a triggered run sees: its input and the event that caused it."""
    context = get_run_context()
    event = context.event or {}
    return {"input": kwargs, "event_type": event.get("type"), "event_data": event.get("data")}


def noop(**_: Any) -> str:
    return "ok"

"""Small real resources and runs for the storage tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flowdapt.domain.resources import ConfigResource, TriggerRuleResource, WorkflowResource


def workflow(name: str, *, target: str = "builtins.dict", **annotations: str) -> WorkflowResource:
    return WorkflowResource.model_validate(
        {
            "metadata": {"name": name, "annotations": annotations},
            "spec": {"stages": [{"name": "a", "target": target, "options": {"retries": 1}}]},
        }
    )


def config(name: str, *, value: int = 1) -> ConfigResource:
    return ConfigResource.model_validate(
        {
            "metadata": {"name": name},
            "spec": {"selector": {"type": "name", "value": "w"}, "data": {"z": value, "a": [1]}},
        }
    )


def trigger(name: str, *, target: str = "w") -> TriggerRuleResource:
    return TriggerRuleResource.model_validate(
        {
            "metadata": {"name": name},
            "spec": {"type": "schedule", "rule": ["* * * * *"], "action": {"target": target}},
        }
    )


RESOURCES: dict[str, Callable[..., Any]] = {
    "workflows": workflow,
    "configs": config,
    "triggers": trigger,
}

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """A fixed instant `seconds` after T0 (with microseconds, to test exact round trips)."""
    return T0 + timedelta(seconds=seconds)

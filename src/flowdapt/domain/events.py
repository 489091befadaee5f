"""Events published on the bus by every service (and received from outside)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from flowdapt.domain.timestamps import UtcDatetime, utcnow

WORKFLOW_STARTED = "com.event.workflow.workflow_started"
WORKFLOW_FINISHED = "com.event.workflow.workflow_finished"
# Types under this prefix are the system's own; events sent in from outside may not use it (a
# forged workflow_finished would start fallback workflows).
INTERNAL_PREFIX = "com.event."
# How many trigger firings led to this event (0: nothing triggered it). The loop guard reads it.
TRIGGER_DEPTH = "trigger_depth"


def resource_event_type(kind: str, change: str) -> str:
    """``resource_event_type("workflow", "created")`` → ``com.event.workflow.workflow_created``;
    `change` is ``created``, ``updated`` or ``deleted``."""
    return f"{INTERNAL_PREFIX}{kind}.{kind}_{change}"


class Event(BaseModel):
    """A CloudEvents-like envelope; ``data`` for workflow events is shaped like the run record."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    time: UtcDatetime = Field(default_factory=utcnow)
    headers: dict[str, str] = Field(default_factory=dict)
    correlation_id: str | None = None
    reply_channel: str | None = None
    trace_parent: str | None = None
    channel: str = "events"
    source: str = ""
    type: str
    data: Any = None

    @property
    def trigger_depth(self) -> int:
        """How many trigger firings led to this event (a malformed header reads as 0)."""
        value = self.headers.get(TRIGGER_DEPTH, "0")
        return int(value) if value.isdigit() else 0

    def follow_up(self, **fields: Any) -> Event:
        """An event caused by this one (through a trigger firing): same correlation, one deeper.

        >>> cause = Event(type="com.example.data_arrived")
        >>> cause.follow_up(type=WORKFLOW_STARTED).correlation_id == cause.id
        True
        """
        headers = {**fields.pop("headers", {}), TRIGGER_DEPTH: str(self.trigger_depth + 1)}
        return Event(correlation_id=self.correlation_id or self.id, headers=headers, **fields)

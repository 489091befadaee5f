"""Events published on the bus by every service (and received from outside)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from flowdapt.domain.timestamps import UtcDatetime, utcnow

WORKFLOW_STARTED = "com.event.workflow.workflow_started"
WORKFLOW_FINISHED = "com.event.workflow.workflow_finished"


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

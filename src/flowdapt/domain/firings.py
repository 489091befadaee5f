"""Firings: each time a trigger rule fired (or was stopped from firing), and what came of it.

A firing is keyed by what caused it — ``event:<event id>`` for a condition rule,
``schedule:<ISO instant>`` for a schedule rule — and the key is unique per rule in the database.
Claiming a firing is inserting it: when several servers share a database, only the one whose
insert succeeds runs the action, so every firing happens once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from flowdapt.domain.timestamps import UtcDatetime, utcnow


class FiringState(StrEnum):
    PENDING = "pending"  # claimed, the action is being carried out
    STARTED = "started"  # the action ran (e.g. the workflow run was started)
    FAILED = "failed"  # the action could not be carried out; `error` says why
    SKIPPED = "skipped"  # not carried out on purpose (the loop guard); `error` says why


class Firing(BaseModel):
    uid: uuid.UUID = Field(default_factory=uuid.uuid4)
    rule: str  # the trigger rule's name
    key: str  # what caused it; unique per rule
    fired_at: UtcDatetime = Field(default_factory=utcnow)
    state: FiringState = FiringState.PENDING
    run: str | None = None  # the name of the run the action started, if any
    error: str | None = None


class TriggerRuleStatus(BaseModel):
    """What a trigger rule's API answer adds as ``status``: its last and next firing."""

    last_fired_at: UtcDatetime | None = None
    last_state: FiringState | None = None
    last_run: str | None = None
    last_error: str | None = None
    next_fire_at: UtcDatetime | None = None  # schedule rules only

    @classmethod
    def of(cls, last: Firing | None, next_fire_at: datetime | None) -> TriggerRuleStatus:
        if last is None:
            return cls(next_fire_at=next_fire_at)
        return cls(
            last_fired_at=last.fired_at,
            last_state=last.state,
            last_run=last.run,
            last_error=last.error,
            next_fire_at=next_fire_at,
        )

"""The storage port: one repository per resource kind plus runs, behind one `Storage`.

Backends (SQL for SQLite and PostgreSQL, TinyDB, memory) implement these protocols; services see
nothing else. Every method raises domain errors: `NotFoundError` for an unknown name/uid,
`AlreadyExistsError` for a duplicate name (enforced by the backend itself, never
check-then-insert), `StorageUnavailableError` when the database cannot be reached.

    storage = SQLStorage("sqlite:///~/.flowdapt/flowdapt.db")
    await storage.start()
    workflow = await storage.workflows.create(resource)
    runs = await storage.runs.list(workflow="nowcast", limit=50)
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol, TypeVar
from uuid import UUID

from flowdapt.domain.errors import FlowdaptError
from flowdapt.domain.firings import Firing
from flowdapt.domain.resources import (
    ConfigResource,
    ResourceBase,
    TriggerRuleResource,
    WorkflowResource,
)
from flowdapt.domain.run_logs import LogLine
from flowdapt.domain.runs import RunState, WorkflowRun

R = TypeVar("R", bound=ResourceBase)


class StorageUnavailableError(FlowdaptError):
    """The database cannot be reached right now (the API answers 503; retry later)."""


class ResourceRepository(Protocol[R]):
    """Resources of one kind, unique by `metadata.name`, addressable by name or uid."""

    async def create(self, resource: R) -> R:
        """Store a new resource as given (uid and timestamps included)."""
        ...

    async def get(self, identifier: str) -> R:
        """The resource whose name — or uid, if `identifier` is one — matches."""
        ...

    async def update(self, resource: R) -> R:
        """Replace the stored resource of the same name; keeps the stored uid and created_at,
        sets updated_at to now, and returns what is stored."""
        ...

    async def delete(self, identifier: str) -> R:
        """Remove the resource and return it as it was."""
        ...

    async def list(self, *, limit: int | None = None, offset: int = 0) -> list[R]:
        """Resources ordered by name; `limit=None` means all."""
        ...

    async def count(self) -> int: ...


class RunRepository(Protocol):
    """Workflow runs, unique by uid and by name; listed newest first."""

    async def create(self, run: WorkflowRun) -> WorkflowRun: ...

    async def update(self, run: WorkflowRun) -> None:
        """Write the run's current state, result, error, times and stage records."""
        ...

    async def get(self, identifier: str) -> WorkflowRun:
        """By uid or by name."""
        ...

    async def delete(self, identifier: str) -> WorkflowRun: ...

    async def list(
        self,
        *,
        workflow: str | None = None,
        state: RunState | None = None,
        limit: int | None = 100,
        offset: int = 0,
    ) -> list[WorkflowRun]:
        """Newest first (by started_at); filtered by workflow name and/or state."""
        ...

    async def count(self, *, workflow: str | None = None, state: RunState | None = None) -> int: ...

    async def fail_unfinished(
        self, reason: str, finished_at: datetime, *, server: str | None
    ) -> int:
        """Mark the pending or running runs of `server` failed with `reason` (start-up after a
        crash), plus those with no server recorded (written before runs had an owner); return
        how many were settled. Runs of other servers sharing the database are left alone."""
        ...

    async def delete_finished_before(self, cutoff: datetime) -> int:
        """Retention: remove runs in a final state that finished before `cutoff`."""
        ...


class FiringRepository(Protocol):
    """Firings of trigger rules, unique by (rule, key); see `flowdapt.domain.firings`."""

    async def claim(self, firing: Firing) -> bool:
        """Insert the firing; False (and nothing written) when one with the same rule and key
        exists already — another server, or an earlier delivery of the same event, has it."""
        ...

    async def update(self, firing: Firing) -> None:
        """Write the state, run and error of a claimed firing (by uid)."""
        ...

    async def latest(self, rules: Collection[str] | None = None) -> dict[str, Firing]:
        """The most recent firing (by fired_at) of each rule in `rules` (every rule if None)
        that has fired at all."""
        ...

    async def list(self, rule: str, *, limit: int | None = 100, offset: int = 0) -> list[Firing]:
        """One rule's firings, newest first."""
        ...

    async def delete_before(self, cutoff: datetime) -> int:
        """Retention: remove firings older than `cutoff`; return how many."""
        ...

    async def fail_pending_before(self, cutoff: datetime, reason: str) -> int:
        """Mark firings still pending that were claimed before `cutoff` failed with `reason`
        (their server stopped between the claim and the action); return how many."""
        ...


class RunLogRepository(Protocol):
    """Runs' logs (`flowdapt.domain.run_logs`): lines by run uid, numbered by ``seq``."""

    async def append(self, run: UUID, lines: Sequence[LogLine]) -> None:
        """Store `lines` (their ``seq`` follow the run's stored ones)."""
        ...

    async def page(
        self, run: UUID, *, stage: str | None = None, offset: int = 0, limit: int | None = 500
    ) -> tuple[int, list[LogLine]]:
        """How many lines the run (or its `stage`) has, and lines offset.. in seq order."""
        ...

    async def after(
        self, run: UUID, seq: int, *, stage: str | None = None, limit: int = 500
    ) -> list[LogLine]:
        """The run's (or `stage`'s) lines with a seq above `seq`, in order (to follow a log)."""
        ...

    async def delete_orphans(self) -> int:
        """Remove the lines of runs that no longer exist; return how many lines."""
        ...


class Storage(Protocol):
    """A database: the repositories plus lifecycle and health."""

    kind: str  # "sqlite", "postgresql", "tinydb", "memory": shown by /status

    workflows: ResourceRepository[WorkflowResource]
    configs: ResourceRepository[ConfigResource]
    triggers: ResourceRepository[TriggerRuleResource]
    runs: RunRepository
    firings: FiringRepository
    logs: RunLogRepository

    async def start(self) -> None:
        """Connect and bring the schema up to date (runs pending migrations)."""
        ...

    async def close(self) -> None: ...

    async def ping(self) -> bool:
        """True when the database answers now."""
        ...

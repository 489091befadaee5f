"""Repositories over a table of JSON records: what the memory and TinyDB backends share.

A backend supplies a `DocumentTable` (plain synchronous record storage) and an `Atomic` runner.
Every repository operation is one synchronous function handed to the runner, which executes it
without interleaving with any other operation: the memory backend calls it directly (there is no
`await` inside, so nothing else runs meanwhile), the TinyDB backend holds one lock and runs it in
a thread. That is what makes the uniqueness checks here safe: check and insert happen in one
uninterruptible step, the way a database constraint would do it.

Records keep the fields the repositories select and sort on next to the document itself:

    resources: {"uid", "name", "document"}
    runs:      {"uid", "name", "workflow", "state", "started", "finished", "run"}
    firings:   {"uid", "name", "rule", "fired", "firing"}
    run logs:  {"uid", "name", "run", "first", "lines"}  (one record per appended batch)

A firing has no name of its own: its record's ``name`` is its (rule, key) identity, which a
claim looks up and inserts in one uninterruptible operation, as names are kept unique.

Documents are loaded through a JSON round trip so that a caller mutating a returned model can
never change what is stored.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar
from uuid import UUID

from flowdapt.domain.errors import AlreadyExistsError, NotFoundError
from flowdapt.domain.firings import Firing, FiringState
from flowdapt.domain.run_logs import LogLine
from flowdapt.domain.runs import RunState, WorkflowRun
from flowdapt.domain.timestamps import utcnow
from flowdapt.storage.base import R
from flowdapt.storage.codec import (
    FINAL_STATES,
    UNFINISHED_STATES,
    dump_resource,
    dump_run,
    parse_uid,
    restamp,
    settle_interrupted,
    utc_key,
)

T = TypeVar("T")
Record = dict[str, Any]


class DocumentTable(Protocol):
    """Synchronous storage of records, each unique by its ``uid`` field."""

    def find(self, field: str, value: str) -> Record | None:
        """The record whose `field` ("uid" or "name") equals `value`."""
        ...

    def records(self) -> list[Record]:
        """Every record; callers only read them."""
        ...

    def insert(self, record: Record) -> None: ...

    def replace(self, records: Collection[Record]) -> None:
        """Replace the stored records having these records' uids, in one write."""
        ...

    def remove(self, uids: Collection[str]) -> None: ...


class Atomic(Protocol):
    """Runs one repository operation with no other operation interleaved."""

    async def __call__(self, operation: Callable[[], T]) -> T: ...


def _find(table: DocumentTable, identifier: str, what: str) -> Record:
    uid = parse_uid(identifier)
    record = table.find("uid", str(uid)) if uid is not None else None
    if record is None:
        record = table.find("name", identifier)
    if record is None:
        raise NotFoundError(f"{what} {identifier!r} not found")
    return record


def _check_unique(table: DocumentTable, record: Record, what: str) -> None:
    if table.find("name", record["name"]) is not None:
        raise AlreadyExistsError(f"{what} {record['name']!r} already exists")
    if table.find("uid", record["uid"]) is not None:
        raise AlreadyExistsError(f"{what} with uid {record['uid']} already exists")


def _page(records: list[Record], limit: int | None, offset: int) -> list[Record]:
    return records[offset:] if limit is None else records[offset : offset + limit]


class DocumentResourceRepository(Generic[R]):
    """`ResourceRepository` over a `DocumentTable`."""

    def __init__(
        self,
        model: type[R],
        table: DocumentTable,
        atomic: Atomic,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._model = model
        self._table = table
        self._atomic = atomic
        self._clock = clock
        self._what: str = str(model.model_fields["kind"].default)

    def _load(self, record: Record) -> R:
        return self._model.model_validate_json(json.dumps(record["document"]))

    def _record(self, resource: R) -> Record:
        return {
            "uid": str(resource.metadata.uid),
            "name": resource.metadata.name,
            "document": dump_resource(resource),
        }

    async def create(self, resource: R) -> R:
        def create() -> R:
            record = self._record(resource)
            _check_unique(self._table, record, self._what)
            self._table.insert(record)
            return self._load(record)

        return await self._atomic(create)

    async def get(self, identifier: str) -> R:
        return await self._atomic(lambda: self._load(_find(self._table, identifier, self._what)))

    async def update(self, resource: R) -> R:
        def update() -> R:
            stored = self._table.find("name", resource.metadata.name)
            if stored is None:
                raise NotFoundError(f"{self._what} {resource.metadata.name!r} not found")
            created_at = datetime.fromisoformat(stored["document"]["metadata"]["created_at"])
            new = restamp(resource, uuid.UUID(stored["uid"]), created_at, self._clock())
            record = self._record(new)
            self._table.replace([record])
            return self._load(record)

        return await self._atomic(update)

    async def delete(self, identifier: str) -> R:
        def delete() -> R:
            record = _find(self._table, identifier, self._what)
            self._table.remove([record["uid"]])
            return self._load(record)

        return await self._atomic(delete)

    async def count(self) -> int:
        return await self._atomic(lambda: len(self._table.records()))

    async def list(self, *, limit: int | None = None, offset: int = 0) -> list[R]:
        def list_() -> list[R]:
            ordered = sorted(self._table.records(), key=lambda record: record["name"])
            return [self._load(record) for record in _page(ordered, limit, offset)]

        return await self._atomic(list_)


def _run_record(run: WorkflowRun) -> Record:
    document = dump_run(run)
    return {
        "uid": document["uid"],
        "name": run.name,
        "workflow": run.workflow,
        "state": run.state.value,
        "started": utc_key(run.started_at),
        "finished": None if run.finished_at is None else utc_key(run.finished_at),
        "run": document,
    }


def _load_run(record: Record) -> WorkflowRun:
    return WorkflowRun.model_validate_json(json.dumps(record["run"]))


def _matches(record: Record, workflow: str | None, state: RunState | None) -> bool:
    return (workflow is None or record["workflow"] == workflow) and (
        state is None or record["state"] == RunState(state).value
    )


class DocumentRunRepository:
    """`RunRepository` over a `DocumentTable`."""

    def __init__(self, table: DocumentTable, atomic: Atomic) -> None:
        self._table = table
        self._atomic = atomic

    async def create(self, run: WorkflowRun) -> WorkflowRun:
        def create() -> WorkflowRun:
            record = _run_record(run)
            _check_unique(self._table, record, "run")
            self._table.insert(record)
            return _load_run(record)

        return await self._atomic(create)

    async def update(self, run: WorkflowRun) -> None:
        def update() -> None:
            stored = self._table.find("uid", str(run.uid))
            if stored is None:
                raise NotFoundError(f"run {run.uid} not found")
            # Identity (name, workflow, source, server) is fixed at creation, as in the SQL
            # backend; records written before runs had a server have no "server" key.
            identity = {
                key: stored["run"].get(key) for key in ("name", "workflow", "source", "server")
            }
            self._table.replace([_run_record(run.model_copy(update=identity))])

        await self._atomic(update)

    async def get(self, identifier: str) -> WorkflowRun:
        return await self._atomic(lambda: _load_run(_find(self._table, identifier, "run")))

    async def delete(self, identifier: str) -> WorkflowRun:
        def delete() -> WorkflowRun:
            record = _find(self._table, identifier, "run")
            self._table.remove([record["uid"]])
            return _load_run(record)

        return await self._atomic(delete)

    async def count(self, *, workflow: str | None = None, state: RunState | None = None) -> int:
        return await self._atomic(
            lambda: sum(_matches(r, workflow, state) for r in self._table.records())
        )

    async def fail_unfinished(
        self, reason: str, finished_at: datetime, *, server: str | None
    ) -> int:
        def fail() -> int:
            settled = [
                _run_record(settle_interrupted(_load_run(record), reason, finished_at))
                for record in self._table.records()
                if record["state"] in UNFINISHED_STATES
                and record["run"].get("server") in (None, server)
            ]
            if settled:
                self._table.replace(settled)
            return len(settled)

        return await self._atomic(fail)

    async def delete_finished_before(self, cutoff: datetime) -> int:
        def delete() -> int:
            before = utc_key(cutoff)
            uids = [
                record["uid"]
                for record in self._table.records()
                if record["state"] in FINAL_STATES
                and record["finished"] is not None
                and record["finished"] < before
            ]
            if uids:
                self._table.remove(uids)
            return len(uids)

        return await self._atomic(delete)

    async def list(
        self,
        *,
        workflow: str | None = None,
        state: RunState | None = None,
        limit: int | None = 100,
        offset: int = 0,
    ) -> list[WorkflowRun]:
        def list_() -> list[WorkflowRun]:
            selected = [r for r in self._table.records() if _matches(r, workflow, state)]
            selected.sort(key=lambda record: (record["started"], record["uid"]), reverse=True)
            return [_load_run(record) for record in _page(selected, limit, offset)]

        return await self._atomic(list_)


def _firing_identity(rule: str, key: str) -> str:
    return json.dumps([rule, key])  # unambiguous whatever characters rule and key hold


def _firing_record(firing: Firing) -> Record:
    return {
        "uid": str(firing.uid),
        "name": _firing_identity(firing.rule, firing.key),
        "rule": firing.rule,
        "fired": utc_key(firing.fired_at),
        "firing": firing.model_dump(mode="json"),
    }


def _load_firing(record: Record) -> Firing:
    return Firing.model_validate(record["firing"])


def _recency(record: Record) -> tuple[str, str]:
    return record["fired"], record["uid"]  # the SQL backend's order: fired_at, then uid


class DocumentFiringRepository:
    """`FiringRepository` over a `DocumentTable`."""

    def __init__(self, table: DocumentTable, atomic: Atomic) -> None:
        self._table = table
        self._atomic = atomic

    async def claim(self, firing: Firing) -> bool:
        def claim() -> bool:
            record = _firing_record(firing)
            if self._table.find("name", record["name"]) is not None:
                return False
            if self._table.find("uid", record["uid"]) is not None:
                raise AlreadyExistsError(f"firing with uid {firing.uid} already exists")
            self._table.insert(record)
            return True

        return await self._atomic(claim)

    async def update(self, firing: Firing) -> None:
        def update() -> None:
            stored = self._table.find("uid", str(firing.uid))
            if stored is None:
                raise NotFoundError(f"firing {firing.uid} not found")
            changes = {"state": firing.state, "run": firing.run, "error": firing.error}
            self._table.replace([_firing_record(_load_firing(stored).model_copy(update=changes))])

        await self._atomic(update)

    async def latest(self, rules: Collection[str] | None = None) -> dict[str, Firing]:
        wanted = None if rules is None else set(rules)

        def latest() -> dict[str, Firing]:
            newest: dict[str, Record] = {}
            for record in self._table.records():
                rule = record["rule"]
                if wanted is not None and rule not in wanted:
                    continue
                if rule not in newest or _recency(record) > _recency(newest[rule]):
                    newest[rule] = record
            return {rule: _load_firing(record) for rule, record in newest.items()}

        return await self._atomic(latest)

    async def list(self, rule: str, *, limit: int | None = 100, offset: int = 0) -> list[Firing]:
        def list_() -> list[Firing]:
            selected = [record for record in self._table.records() if record["rule"] == rule]
            selected.sort(key=_recency, reverse=True)
            return [_load_firing(record) for record in _page(selected, limit, offset)]

        return await self._atomic(list_)

    async def delete_before(self, cutoff: datetime) -> int:
        def delete() -> int:
            before = utc_key(cutoff)
            uids = [record["uid"] for record in self._table.records() if record["fired"] < before]
            if uids:
                self._table.remove(uids)
            return len(uids)

        return await self._atomic(delete)

    async def fail_pending_before(self, cutoff: datetime, reason: str) -> int:
        def fail() -> int:
            before = utc_key(cutoff)
            stale = [
                _load_firing(record)
                for record in self._table.records()
                if record["fired"] < before and record["firing"]["state"] == FiringState.PENDING
            ]
            failed = {"state": FiringState.FAILED, "error": reason}
            self._table.replace([_firing_record(f.model_copy(update=failed)) for f in stale])
            return len(stale)

        return await self._atomic(fail)


class DocumentRunLogRepository:
    """`RunLogRepository` over a `DocumentTable`: one record per appended batch of lines, so a
    file-backed table (TinyDB rewrites its file on every change) writes once per batch."""

    def __init__(self, table: DocumentTable, atomic: Atomic, runs: DocumentTable) -> None:
        self._table = table
        self._atomic = atomic
        self._runs = runs

    async def append(self, run: UUID, lines: Sequence[LogLine]) -> None:
        if not lines:
            return
        record: Record = {
            "uid": f"{run}:{lines[0].seq:010d}",
            "name": f"{run}:{lines[0].seq:010d}",  # the tables keep names unique
            "run": str(run),
            "first": lines[0].seq,
            "lines": [line.model_dump(mode="json") for line in lines],
        }
        await self._atomic(lambda: self._table.insert(record))

    def _lines(self, run: UUID, stage: str | None) -> list[LogLine]:
        batches = [record for record in self._table.records() if record["run"] == str(run)]
        batches.sort(key=lambda record: int(record["first"]))
        lines = (LogLine.model_validate(line) for batch in batches for line in batch["lines"])
        return [line for line in lines if stage is None or line.stage == stage]

    async def page(
        self, run: UUID, *, stage: str | None = None, offset: int = 0, limit: int | None = 500
    ) -> tuple[int, list[LogLine]]:
        def page() -> tuple[int, list[LogLine]]:
            lines = self._lines(run, stage)
            end = None if limit is None else offset + limit
            return len(lines), lines[offset:end]

        return await self._atomic(page)

    async def after(
        self, run: UUID, seq: int, *, stage: str | None = None, limit: int = 500
    ) -> list[LogLine]:
        def after() -> list[LogLine]:
            return [line for line in self._lines(run, stage) if line.seq > seq][:limit]

        return await self._atomic(after)

    async def delete_orphans(self) -> int:
        def delete() -> int:
            existing = {record["uid"] for record in self._runs.records()}
            orphans = [r for r in self._table.records() if r["run"] not in existing]
            if orphans:
                self._table.remove([record["uid"] for record in orphans])
            return sum(len(record["lines"]) for record in orphans)

        return await self._atomic(delete)

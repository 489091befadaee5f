"""Repositories on SQL tables (SQLite and PostgreSQL alike, SQLAlchemy Core).

Each operation is one synchronous function of a `Connection` that `SQLDatabase` runs in one
transaction (on SQLite's own thread, or in ``run_sync`` on PostgreSQL); the async methods only
hand it over.

Uniqueness is the database's job: an insert that violates the name (or uid) constraint fails
inside the database and becomes `AlreadyExistsError`, so two concurrent creates of one name can
never both succeed. Lookups by name or uid, listings and counts are single indexed queries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import Connection

from flowdapt.domain.errors import AlreadyExistsError, NotFoundError
from flowdapt.domain.runs import RunState, WorkflowRun
from flowdapt.domain.timestamps import as_utc, utcnow
from flowdapt.storage.base import R
from flowdapt.storage.codec import (
    FINAL_STATES,
    UNFINISHED_STATES,
    dump_resource,
    dump_run,
    load_resource,
    parse_uid,
    restamp,
    settle_interrupted,
)
from flowdapt.storage.sql_database import SQLDatabase
from flowdapt.storage.sql_schema import runs as runs_table


class _Lookup:
    """Finds the row whose uid (when the identifier is one) or else name matches: two indexed
    lookups, with statements built once (a prebuilt statement skips SQLAlchemy's per-statement
    cache-key work, which costs more than SQLite's own work here)."""

    def __init__(self, table: sa.Table, columns: Sequence[sa.ColumnElement[Any]], what: str):
        self._by_uid = sa.select(*columns).where(table.c.uid == sa.bindparam("uid"))
        self._by_name = sa.select(*columns).where(table.c.name == sa.bindparam("name"))
        self._what = what

    def __call__(self, connection: Connection, identifier: str) -> sa.Row[Any]:
        uid = parse_uid(identifier)
        if uid is not None:
            row = connection.execute(self._by_uid, {"uid": uid}).first()
            if row is not None:
                return row
        row = connection.execute(self._by_name, {"name": identifier}).first()
        if row is None:
            raise NotFoundError(f"{self._what} {identifier!r} not found")
        return row


class SQLResourceRepository(Generic[R]):
    """`ResourceRepository` on one resource table."""

    def __init__(
        self,
        database: SQLDatabase,
        table: sa.Table,
        model: type[R],
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = database
        self._table = table
        self._model = model
        self._clock = clock
        self._what: str = str(model.model_fields["kind"].default)
        by_uid = table.c.uid == sa.bindparam("match_uid")
        self._find_document = _Lookup(table, [table.c.document], self._what)
        self._find_for_delete = _Lookup(table, [table.c.uid, table.c.document], self._what)
        self._insert = sa.insert(table)
        self._stored_identity = sa.select(table.c.uid, table.c.created_at).where(
            table.c.name == sa.bindparam("name")
        )
        self._update_by_uid = sa.update(table).where(by_uid)
        self._delete_by_uid = sa.delete(table).where(by_uid)
        self._count_all = sa.select(sa.func.count()).select_from(table)

    # The operations, each run in one transaction by `SQLDatabase`.

    def _create(self, connection: Connection, resource: R) -> R:
        document = dump_resource(resource)
        values = {
            "uid": resource.metadata.uid,
            "name": resource.metadata.name,
            "created_at": resource.metadata.created_at,
            "updated_at": resource.metadata.updated_at,
            "document": document,
        }
        try:
            connection.execute(self._insert, values)
        except exc.IntegrityError as error:
            raise AlreadyExistsError(
                f"{self._what} {resource.metadata.name!r} (uid {resource.metadata.uid}) "
                "already exists"
            ) from error
        return load_resource(self._model, document)

    def _get(self, connection: Connection, identifier: str) -> R:
        return load_resource(self._model, self._find_document(connection, identifier).document)

    def _update(self, connection: Connection, resource: R) -> R:
        name = resource.metadata.name
        stored = connection.execute(self._stored_identity, {"name": name}).first()
        if stored is not None:
            now = self._clock()
            document = dump_resource(restamp(resource, stored.uid, stored.created_at, now))
            result = connection.execute(
                self._update_by_uid,
                {"match_uid": stored.uid, "updated_at": now, "document": document},
            )
            if result.rowcount == 1:
                return load_resource(self._model, document)
        # Never stored, or deleted concurrently between the two statements.
        raise NotFoundError(f"{self._what} {name!r} not found")

    def _delete(self, connection: Connection, identifier: str) -> R:
        row = self._find_for_delete(connection, identifier)
        result = connection.execute(self._delete_by_uid, {"match_uid": row.uid})
        if result.rowcount != 1:  # deleted concurrently
            raise NotFoundError(f"{self._what} {identifier!r} not found")
        return load_resource(self._model, row.document)

    def _count(self, connection: Connection) -> int:
        return int(connection.execute(self._count_all).scalar_one())

    def _list(self, connection: Connection, limit: int | None, offset: int) -> list[R]:
        query = sa.select(self._table.c.document).order_by(self._table.c.name)
        documents = connection.execute(query.limit(limit).offset(offset)).scalars().all()
        return [load_resource(self._model, document) for document in documents]

    # The port: each method hands its operation over.

    async def create(self, resource: R) -> R:
        return await self._db.write(self._create, resource)

    async def get(self, identifier: str) -> R:
        return await self._db.read(self._get, identifier)

    async def update(self, resource: R) -> R:
        return await self._db.write(self._update, resource)

    async def delete(self, identifier: str) -> R:
        return await self._db.write(self._delete, identifier)

    async def count(self) -> int:
        return await self._db.read(self._count)

    async def list(self, *, limit: int | None = None, offset: int = 0) -> list[R]:
        return await self._db.read(self._list, limit, offset)


_RUN_COLUMNS = [runs_table.c[name] for name in WorkflowRun.model_fields]


def _run_values(run: WorkflowRun) -> dict[str, Any]:
    document = dump_run(run)  # JSON-ready result, error and stages
    return {
        "uid": run.uid,
        "name": run.name,
        "workflow": run.workflow,
        "source": run.source,
        "server": run.server,
        "state": run.state.value,
        "started_at": as_utc(run.started_at),
        "finished_at": None if run.finished_at is None else as_utc(run.finished_at),
        "result": document["result"],
        "error": document["error"],
        "stages": document["stages"],
    }


def _load_run(row: sa.Row[Any]) -> WorkflowRun:
    return WorkflowRun.model_validate(row._asdict())


def _filters(workflow: str | None, state: RunState | None) -> list[sa.ColumnElement[bool]]:
    conditions = []
    if workflow is not None:
        conditions.append(runs_table.c.workflow == workflow)
    if state is not None:
        conditions.append(runs_table.c.state == RunState(state).value)
    return conditions


_find_run = _Lookup(runs_table, _RUN_COLUMNS, "run")
_insert_run = sa.insert(runs_table)
_update_run_by_uid = sa.update(runs_table).where(runs_table.c.uid == sa.bindparam("match_uid"))
_delete_run_by_uid = sa.delete(runs_table).where(runs_table.c.uid == sa.bindparam("match_uid"))


def _create_run(connection: Connection, run: WorkflowRun) -> WorkflowRun:
    values = _run_values(run)
    try:
        connection.execute(_insert_run, values)
    except exc.IntegrityError as error:
        raise AlreadyExistsError(f"run {run.name!r} (uid {run.uid}) already exists") from error
    return WorkflowRun.model_validate(values)


def _update_run(connection: Connection, run: WorkflowRun) -> None:
    values = _run_values(run)
    for identity in ("uid", "name", "workflow", "source", "server"):  # fixed at creation
        del values[identity]
    if connection.execute(_update_run_by_uid, {**values, "match_uid": run.uid}).rowcount != 1:
        raise NotFoundError(f"run {run.uid} not found")


def _get_run(connection: Connection, identifier: str) -> WorkflowRun:
    return _load_run(_find_run(connection, identifier))


def _delete_run(connection: Connection, identifier: str) -> WorkflowRun:
    row = _find_run(connection, identifier)
    if connection.execute(_delete_run_by_uid, {"match_uid": row.uid}).rowcount != 1:
        raise NotFoundError(f"run {identifier!r} not found")
    return _load_run(row)


def _count_runs(connection: Connection, workflow: str | None, state: RunState | None) -> int:
    query = sa.select(sa.func.count()).select_from(runs_table).where(*_filters(workflow, state))
    return int(connection.execute(query).scalar_one())


def _fail_unfinished(
    connection: Connection, reason: str, finished_at: datetime, server: str | None
) -> int:
    unfinished = runs_table.c.state.in_(UNFINISHED_STATES)
    owned = sa.or_(runs_table.c.server.is_(None), runs_table.c.server == server)
    settled = 0
    for row in connection.execute(sa.select(*_RUN_COLUMNS).where(unfinished, owned)).all():
        run = settle_interrupted(_load_run(row), reason, finished_at)
        values = _run_values(run)
        query = (
            sa.update(runs_table)
            .where(runs_table.c.uid == run.uid, unfinished)
            .values(
                {key: values[key] for key in ("state", "finished_at", "result", "error", "stages")}
            )
        )
        settled += connection.execute(query).rowcount
    return settled


def _delete_finished_before(connection: Connection, cutoff: datetime) -> int:
    query = sa.delete(runs_table).where(
        runs_table.c.state.in_(FINAL_STATES), runs_table.c.finished_at < cutoff
    )
    return int(connection.execute(query).rowcount)


def _list_runs(
    connection: Connection,
    workflow: str | None,
    state: RunState | None,
    limit: int | None,
    offset: int,
) -> list[WorkflowRun]:
    query = (
        sa.select(*_RUN_COLUMNS)
        .where(*_filters(workflow, state))
        .order_by(runs_table.c.started_at.desc(), runs_table.c.uid.desc())
        .limit(limit)
        .offset(offset)
    )
    return [_load_run(row) for row in connection.execute(query).all()]


class SQLRunRepository:
    """`RunRepository` on the runs table, indexed by (workflow, started_at), started_at, state."""

    def __init__(self, database: SQLDatabase) -> None:
        self._db = database

    async def create(self, run: WorkflowRun) -> WorkflowRun:
        return await self._db.write(_create_run, run)

    async def update(self, run: WorkflowRun) -> None:
        await self._db.write(_update_run, run)

    async def get(self, identifier: str) -> WorkflowRun:
        return await self._db.read(_get_run, identifier)

    async def delete(self, identifier: str) -> WorkflowRun:
        return await self._db.write(_delete_run, identifier)

    async def count(self, *, workflow: str | None = None, state: RunState | None = None) -> int:
        return await self._db.read(_count_runs, workflow, state)

    async def fail_unfinished(
        self, reason: str, finished_at: datetime, *, server: str | None
    ) -> int:
        return await self._db.write(_fail_unfinished, reason, finished_at, server)

    async def delete_finished_before(self, cutoff: datetime) -> int:
        return await self._db.write(_delete_finished_before, cutoff)

    async def list(
        self,
        *,
        workflow: str | None = None,
        state: RunState | None = None,
        limit: int | None = 100,
        offset: int = 0,
    ) -> list[WorkflowRun]:
        return await self._db.read(_list_runs, workflow, state, limit, offset)

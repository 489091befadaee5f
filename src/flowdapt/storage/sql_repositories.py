"""Repositories on SQL tables (SQLite and PostgreSQL alike, SQLAlchemy Core).

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
from sqlalchemy.ext.asyncio import AsyncConnection

from flowdapt.domain.errors import AlreadyExistsError, NotFoundError
from flowdapt.domain.resources import utcnow
from flowdapt.domain.runs import RunState, WorkflowRun
from flowdapt.storage.base import R
from flowdapt.storage.codec import (
    FINAL_STATES,
    UNFINISHED_STATES,
    as_utc,
    dump_resource,
    dump_run,
    load_resource,
    parse_uid,
    restamp,
    settle_interrupted,
)
from flowdapt.storage.sql_database import SQLDatabase
from flowdapt.storage.sql_schema import runs as runs_table


async def _find(
    connection: AsyncConnection,
    table: sa.Table,
    columns: Sequence[sa.ColumnElement[Any]],
    identifier: str,
    what: str,
) -> sa.Row[Any]:
    """The row whose uid (when `identifier` is one) or else name matches; two indexed lookups."""
    uid = parse_uid(identifier)
    if uid is not None:
        row = (await connection.execute(sa.select(*columns).where(table.c.uid == uid))).first()
        if row is not None:
            return row
    query = sa.select(*columns).where(table.c.name == identifier)
    row = (await connection.execute(query)).first()
    if row is None:
        raise NotFoundError(f"{what} {identifier!r} not found")
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

    async def create(self, resource: R) -> R:
        document = dump_resource(resource)
        values = {
            "uid": resource.metadata.uid,
            "name": resource.metadata.name,
            "created_at": resource.metadata.created_at,
            "updated_at": resource.metadata.updated_at,
            "document": document,
        }
        async with self._db.write() as connection:
            try:
                await connection.execute(sa.insert(self._table).values(values))
            except exc.IntegrityError as error:
                raise AlreadyExistsError(
                    f"{self._what} {resource.metadata.name!r} (uid {resource.metadata.uid}) "
                    "already exists"
                ) from error
        return load_resource(self._model, document)

    async def get(self, identifier: str) -> R:
        async with self._db.read() as connection:
            row = await _find(
                connection, self._table, [self._table.c.document], identifier, self._what
            )
        return load_resource(self._model, row.document)

    async def update(self, resource: R) -> R:
        table = self._table
        async with self._db.write() as connection:
            query = sa.select(table.c.uid, table.c.created_at).where(
                table.c.name == resource.metadata.name
            )
            stored = (await connection.execute(query)).first()
            if stored is not None:
                now = self._clock()
                new = restamp(resource, stored.uid, stored.created_at, now)
                document = dump_resource(new)
                result = await connection.execute(
                    sa.update(table)
                    .where(table.c.uid == stored.uid)
                    .values(updated_at=now, document=document)
                )
                if result.rowcount == 1:
                    return load_resource(self._model, document)
        # Never stored, or deleted concurrently between the two statements.
        raise NotFoundError(f"{self._what} {resource.metadata.name!r} not found")

    async def delete(self, identifier: str) -> R:
        table = self._table
        async with self._db.write() as connection:
            row = await _find(
                connection, table, [table.c.uid, table.c.document], identifier, self._what
            )
            result = await connection.execute(sa.delete(table).where(table.c.uid == row.uid))
            if result.rowcount != 1:  # deleted concurrently
                raise NotFoundError(f"{self._what} {identifier!r} not found")
        return load_resource(self._model, row.document)

    async def count(self) -> int:
        async with self._db.read() as connection:
            query = sa.select(sa.func.count()).select_from(self._table)
            return int((await connection.execute(query)).scalar_one())

    async def list(self, *, limit: int | None = None, offset: int = 0) -> list[R]:
        query = sa.select(self._table.c.document).order_by(self._table.c.name)
        query = query.limit(limit).offset(offset)
        async with self._db.read() as connection:
            documents = (await connection.execute(query)).scalars().all()
        return [load_resource(self._model, document) for document in documents]


_RUN_COLUMNS = [runs_table.c[name] for name in WorkflowRun.model_fields]


def _run_values(run: WorkflowRun) -> dict[str, Any]:
    document = dump_run(run)  # JSON-ready result, error and stages
    return {
        "uid": run.uid,
        "name": run.name,
        "workflow": run.workflow,
        "source": run.source,
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


class SQLRunRepository:
    """`RunRepository` on the runs table, indexed by (workflow, started_at), started_at, state."""

    def __init__(self, database: SQLDatabase) -> None:
        self._db = database

    async def create(self, run: WorkflowRun) -> WorkflowRun:
        values = _run_values(run)
        async with self._db.write() as connection:
            try:
                await connection.execute(sa.insert(runs_table).values(values))
            except exc.IntegrityError as error:
                raise AlreadyExistsError(
                    f"run {run.name!r} (uid {run.uid}) already exists"
                ) from error
        return WorkflowRun.model_validate(values)

    async def update(self, run: WorkflowRun) -> None:
        values = _run_values(run)
        for identity in ("uid", "name", "workflow", "source"):  # fixed at creation
            del values[identity]
        async with self._db.write() as connection:
            query = sa.update(runs_table).where(runs_table.c.uid == run.uid).values(values)
            if (await connection.execute(query)).rowcount != 1:
                raise NotFoundError(f"run {run.uid} not found")

    async def get(self, identifier: str) -> WorkflowRun:
        async with self._db.read() as connection:
            return _load_run(await _find(connection, runs_table, _RUN_COLUMNS, identifier, "run"))

    async def delete(self, identifier: str) -> WorkflowRun:
        async with self._db.write() as connection:
            row = await _find(connection, runs_table, _RUN_COLUMNS, identifier, "run")
            query = sa.delete(runs_table).where(runs_table.c.uid == row.uid)
            if (await connection.execute(query)).rowcount != 1:
                raise NotFoundError(f"run {identifier!r} not found")
        return _load_run(row)

    async def count(self, *, workflow: str | None = None, state: RunState | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(runs_table).where(*_filters(workflow, state))
        async with self._db.read() as connection:
            return int((await connection.execute(query)).scalar_one())

    async def fail_unfinished(self, reason: str, finished_at: datetime) -> int:
        unfinished = runs_table.c.state.in_(UNFINISHED_STATES)
        settled = 0
        async with self._db.write() as connection:
            rows = (await connection.execute(sa.select(*_RUN_COLUMNS).where(unfinished))).all()
            for row in rows:
                run = settle_interrupted(_load_run(row), reason, finished_at)
                values = _run_values(run)
                query = (
                    sa.update(runs_table)
                    .where(runs_table.c.uid == run.uid, unfinished)
                    .values(
                        {
                            key: values[key]
                            for key in ("state", "finished_at", "result", "error", "stages")
                        }
                    )
                )
                settled += (await connection.execute(query)).rowcount
        return settled

    async def delete_finished_before(self, cutoff: datetime) -> int:
        query = sa.delete(runs_table).where(
            runs_table.c.state.in_(FINAL_STATES), runs_table.c.finished_at < cutoff
        )
        async with self._db.write() as connection:
            return int((await connection.execute(query)).rowcount)

    async def list(
        self,
        *,
        workflow: str | None = None,
        state: RunState | None = None,
        limit: int | None = 100,
        offset: int = 0,
    ) -> list[WorkflowRun]:
        query = (
            sa.select(*_RUN_COLUMNS)
            .where(*_filters(workflow, state))
            .order_by(runs_table.c.started_at.desc(), runs_table.c.uid.desc())
            .limit(limit)
            .offset(offset)
        )
        async with self._db.read() as connection:
            rows = (await connection.execute(query)).all()
        return [_load_run(row) for row in rows]

"""`RunLogRepository` on the run_logs table (SQLite and PostgreSQL alike, SQLAlchemy Core).

Written like `sql_repositories`: each operation is one synchronous function of a `Connection`,
run in one transaction by `SQLDatabase`. A batch of lines is one multi-row insert.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from flowdapt.domain.run_logs import LogLine
from flowdapt.storage.sql_database import SQLDatabase
from flowdapt.storage.sql_schema import run_logs as table
from flowdapt.storage.sql_schema import runs as runs_table

_COLUMNS = [table.c[name] for name in LogLine.model_fields]


def _where(run: UUID, stage: str | None) -> list[sa.ColumnElement[bool]]:
    conditions = [table.c.run == run]
    if stage is not None:
        conditions.append(table.c.stage == stage)
    return conditions


def _load(row: sa.Row[Any]) -> LogLine:
    return LogLine.model_validate(row._asdict())


def _append(connection: Connection, run: UUID, lines: Sequence[LogLine]) -> None:
    connection.execute(sa.insert(table), [{"run": run, **line.model_dump()} for line in lines])


def _page(
    connection: Connection, run: UUID, stage: str | None, offset: int, limit: int | None
) -> tuple[int, list[LogLine]]:
    conditions = _where(run, stage)
    total = connection.execute(sa.select(sa.func.count()).where(*conditions)).scalar_one()
    query = (
        sa.select(*_COLUMNS).where(*conditions).order_by(table.c.seq).offset(offset).limit(limit)
    )
    return int(total), [_load(row) for row in connection.execute(query).all()]


def _after(
    connection: Connection, run: UUID, seq: int, stage: str | None, limit: int
) -> list[LogLine]:
    query = (
        sa.select(*_COLUMNS)
        .where(*_where(run, stage), table.c.seq > seq)
        .order_by(table.c.seq)
        .limit(limit)
    )
    return [_load(row) for row in connection.execute(query).all()]


def _delete_orphans(connection: Connection) -> int:
    existing = sa.select(runs_table.c.uid)
    return int(connection.execute(sa.delete(table).where(table.c.run.not_in(existing))).rowcount)


class SQLRunLogRepository:
    """`RunLogRepository` on the run_logs table, keyed by (run, seq)."""

    def __init__(self, database: SQLDatabase) -> None:
        self._db = database

    async def append(self, run: UUID, lines: Sequence[LogLine]) -> None:
        if lines:
            await self._db.write(_append, run, list(lines))

    async def page(
        self, run: UUID, *, stage: str | None = None, offset: int = 0, limit: int | None = 500
    ) -> tuple[int, list[LogLine]]:
        return await self._db.read(_page, run, stage, offset, limit)

    async def after(
        self, run: UUID, seq: int, *, stage: str | None = None, limit: int = 500
    ) -> list[LogLine]:
        return await self._db.read(_after, run, seq, stage, limit)

    async def delete_orphans(self) -> int:
        return await self._db.write(_delete_orphans)

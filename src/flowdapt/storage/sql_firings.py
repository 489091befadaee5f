"""`FiringRepository` on the firings table (SQLite and PostgreSQL alike, SQLAlchemy Core).

Written like `sql_repositories`: each operation is one synchronous function of a `Connection`,
run in one transaction by `SQLDatabase`.

Claiming is one ``INSERT … ON CONFLICT (rule, key) DO NOTHING``. The unique constraint on
(rule, key) decides inside the database which of several concurrent claims — from this server or
from another one sharing the database — inserts the row; the others insert nothing and get
False. Nothing fails on the losing side, so no transaction is left aborted and PostgreSQL's log
does not get a duplicate-key error per firing for every other server. A uid that clashes under
another (rule, key) is a bug, not a lost race: it still fails, as `AlreadyExistsError`.

`latest` is one query for all the rules asked about: the newest row of each rule by a window
function, served by the (rule, fired_at) index.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import Connection

from flowdapt.domain.errors import AlreadyExistsError, NotFoundError
from flowdapt.domain.firings import Firing, FiringState
from flowdapt.storage.sql_database import SQLDatabase
from flowdapt.storage.sql_schema import firings as firings_table

_COLUMNS = [firings_table.c[name] for name in Firing.model_fields]
_NEWEST_FIRST = (firings_table.c.fired_at.desc(), firings_table.c.uid.desc())
_update_by_uid = (
    sa.update(firings_table)
    .where(firings_table.c.uid == sa.bindparam("match_uid"))
    .values(state=sa.bindparam("state"), run=sa.bindparam("run"), error=sa.bindparam("error"))
)


@functools.cache
def _claim_statement(dialect: str) -> sa.Insert:
    """The claiming insert in the dialect's spelling (both render ``ON CONFLICT … DO NOTHING``)."""
    conflict = ["rule", "key"]
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(firings_table).on_conflict_do_nothing(index_elements=conflict)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(firings_table).on_conflict_do_nothing(index_elements=conflict)


def _values(firing: Firing) -> dict[str, Any]:
    return {**firing.model_dump(), "state": firing.state.value}


def _load(row: sa.Row[Any]) -> Firing:
    return Firing.model_validate(row._asdict())


def _claim(connection: Connection, firing: Firing) -> bool:
    statement = _claim_statement(connection.dialect.name)
    try:
        return int(connection.execute(statement, _values(firing)).rowcount) == 1
    except exc.IntegrityError as error:  # the uid, under another rule and key
        raise AlreadyExistsError(f"firing with uid {firing.uid} already exists") from error


def _update(connection: Connection, firing: Firing) -> None:
    values = {
        "match_uid": firing.uid,
        "state": firing.state.value,
        "run": firing.run,
        "error": firing.error,
    }
    if connection.execute(_update_by_uid, values).rowcount != 1:
        raise NotFoundError(f"firing {firing.uid} not found")


def _latest(connection: Connection, rules: list[str] | None) -> dict[str, Firing]:
    recency = sa.func.row_number().over(partition_by=firings_table.c.rule, order_by=_NEWEST_FIRST)
    ranked = sa.select(*_COLUMNS, recency.label("recency"))
    if rules is not None:
        ranked = ranked.where(firings_table.c.rule.in_(rules))
    newest = ranked.subquery()
    query = sa.select(*[newest.c[column.name] for column in _COLUMNS]).where(newest.c.recency == 1)
    return {row.rule: _load(row) for row in connection.execute(query).all()}


def _list(connection: Connection, rule: str, limit: int | None, offset: int) -> list[Firing]:
    query = (
        sa.select(*_COLUMNS)
        .where(firings_table.c.rule == rule)
        .order_by(*_NEWEST_FIRST)
        .limit(limit)
        .offset(offset)
    )
    return [_load(row) for row in connection.execute(query).all()]


def _delete_before(connection: Connection, cutoff: datetime) -> int:
    query = sa.delete(firings_table).where(firings_table.c.fired_at < cutoff)
    return int(connection.execute(query).rowcount)


def _fail_pending_before(connection: Connection, cutoff: datetime, reason: str) -> int:
    query = (
        sa.update(firings_table)
        .where(
            firings_table.c.state == FiringState.PENDING.value, firings_table.c.fired_at < cutoff
        )
        .values(state=FiringState.FAILED.value, error=reason)
    )
    return int(connection.execute(query).rowcount)


class SQLFiringRepository:
    """`FiringRepository` on the firings table, unique by (rule, key), indexed by
    (rule, fired_at) and fired_at."""

    def __init__(self, database: SQLDatabase) -> None:
        self._db = database

    async def claim(self, firing: Firing) -> bool:
        return await self._db.write(_claim, firing)

    async def update(self, firing: Firing) -> None:
        await self._db.write(_update, firing)

    async def latest(self, rules: Collection[str] | None = None) -> dict[str, Firing]:
        return await self._db.read(_latest, None if rules is None else sorted(set(rules)))

    async def list(self, rule: str, *, limit: int | None = 100, offset: int = 0) -> list[Firing]:
        return await self._db.read(_list, rule, limit, offset)

    async def delete_before(self, cutoff: datetime) -> int:
        return await self._db.write(_delete_before, cutoff)

    async def fail_pending_before(self, cutoff: datetime, reason: str) -> int:
        return await self._db.write(_fail_pending_before, cutoff, reason)

"""Listing at 10k workflows and 100k runs: correct pages, and queries that use their indexes."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flowdapt.domain.runs import RunState, WorkflowRun
from flowdapt.storage import SQLStorage, sql_schema
from flowdapt.storage.codec import dump_resource
from tests.storage.samples import at, workflow

WORKFLOWS, RUNS = 10_000, 100_000


async def fill(storage: SQLStorage) -> None:
    """Bulk rows straight into the tables: 100k repository calls would test the wrong thing."""
    document = dump_resource(workflow("template"))
    workflows = []
    for number in range(WORKFLOWS):
        row_document = {**document, "metadata": {**document["metadata"], "name": f"w{number:05}"}}
        workflows.append(
            {
                "uid": uuid.uuid4(),
                "name": f"w{number:05}",
                "created_at": at(0),
                "updated_at": at(0),
                "document": row_document,
            }
        )
    runs = [
        {
            "uid": uuid.uuid4(),
            "name": f"r{number}",
            "workflow": f"w{number % WORKFLOWS:05}",
            "source": "api",
            "state": "finished" if number % 10 else "failed",
            "started_at": at(number),
            "finished_at": at(number + 1),
            "result": number,
            "error": None,
            "stages": [],
        }
        for number in range(RUNS)
    ]

    def insert(connection: sa.Connection) -> None:
        connection.execute(sa.insert(sql_schema.workflows), workflows)
        connection.execute(sa.insert(sql_schema.runs), runs)
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("ANALYZE"))

    await storage.write(insert)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_listing_pages_is_correct_at_scale(
    backend: str, tmp_path: Path, pg_databases: Callable[[], Awaitable[str]]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/big.db" if backend == "sqlite" else await pg_databases()
    storage = SQLStorage(url)
    await storage.start()
    try:
        await fill(storage)
        page = await storage.workflows.list(limit=100, offset=5000)
        assert [w.metadata.name for w in page][:2] == ["w05000", "w05001"]
        newest = await storage.runs.list(limit=50)
        assert newest[0].name == f"r{RUNS - 1}" and len(newest) == 50
        of_one = await storage.runs.list(workflow="w00007", limit=50)
        assert [r.name for r in of_one][:2] == ["r90007", "r80007"]
        assert await storage.runs.count(state=RunState.FAILED) == RUNS // 10
        # How fast these are is measured by benchmarks/server.py, not asserted here.
    finally:
        await storage.close()


async def explain(storage: SQLStorage, call: Callable[[], Awaitable[Any]]) -> str:
    """SQLite's plan for the statement(s) that a repository call really executes."""
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.startswith("SELECT"):
            statements.append((statement, parameters))

    engine = storage.engine
    assert isinstance(engine, sa.Engine)  # SQLite's engine is the synchronous one
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        await call()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)

    def plan(connection: sa.Connection) -> list[str]:
        return [
            str(row[-1])
            for statement, parameters in statements
            for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        ]

    return " | ".join(await storage.read(plan))


async def test_sqlite_listings_use_the_indexes(tmp_path: Path) -> None:
    """The plans, not timings: this fails the day a listing stops using its index."""
    storage = SQLStorage(f"sqlite+aiosqlite:///{tmp_path}/plan.db")
    await storage.start()
    await storage.runs.create(WorkflowRun(workflow="w", name="known"))
    expected: dict[str, Callable[[], Awaitable[Any]]] = {
        "ix_runs_workflow_started_at": lambda: storage.runs.list(workflow="w", limit=100),
        "ix_runs_started_at": lambda: storage.runs.list(limit=100, offset=100),
        "ix_runs_state": lambda: storage.runs.count(state=RunState.FAILED),
        "sqlite_autoindex_workflows": lambda: storage.workflows.list(limit=100),
        "sqlite_autoindex_runs": lambda: storage.runs.get("known"),
    }
    try:
        for index, call in expected.items():
            plan = await explain(storage, call)
            assert f"INDEX {index}" in plan, plan
            assert "TEMP B-TREE FOR ORDER BY" not in plan, plan  # never sorts a whole table
    finally:
        await storage.close()

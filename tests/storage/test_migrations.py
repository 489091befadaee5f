"""Schema migrations on SQLite and PostgreSQL: from empty to head, down and up, data kept."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from flowdapt.domain.errors import AlreadyExistsError
from flowdapt.domain.firings import Firing
from flowdapt.domain.run_logs import LogLine
from flowdapt.domain.runs import RunState, WorkflowRun
from flowdapt.domain.timestamps import utcnow
from flowdapt.storage import SQLStorage, sql_migrations
from flowdapt.storage.sql_schema import UTCDateTime, metadata
from tests.storage.conftest import CreateDatabase
from tests.storage.samples import T0, workflow

TEST_REVISIONS = Path(__file__).with_name("migration_versions")
HEAD = "0004"
TABLES = {"workflows", "configs", "triggers", "runs", "firings", "run_logs"}


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty(
    request: pytest.FixtureRequest, tmp_path: Path, pg_databases: CreateDatabase
) -> AsyncIterator[SQLStorage]:
    """A storage on a database that has never been migrated."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/new/flowdapt.db"  # directory made by start()
    else:
        url = await pg_databases()
    storage = SQLStorage(url)
    yield storage
    await storage.close()


async def table_names(storage: SQLStorage) -> set[str]:
    names = await storage.read(lambda connection: sa.inspect(connection).get_table_names())
    return set(names) - {"alembic_version"}


async def test_start_migrates_an_empty_database_to_head(empty: SQLStorage) -> None:
    assert await empty.current_revision() is None

    await empty.start()

    assert await empty.current_revision() == HEAD
    assert await table_names(empty) == TABLES
    await empty.start()  # idempotent
    assert await empty.current_revision() == HEAD


@pytest.mark.parametrize("how", ["migrations", "start"])
async def test_schema_matches_the_metadata_the_repositories_query(
    empty: SQLStorage, how: str
) -> None:
    # `start` creates an empty database from the metadata directly; the migrations must build
    # the very same schema, so that both paths leave identical databases.
    if how == "migrations":
        await empty.upgrade()
    else:
        await empty.start()

    differences = await empty.read(
        lambda connection: compare_metadata(MigrationContext.configure(connection), metadata)
    )

    assert differences == []
    assert await empty.current_revision() == HEAD


async def test_downgrade_to_base_and_back(empty: SQLStorage) -> None:
    await empty.start()

    await empty.downgrade("base")
    assert await empty.current_revision() is None
    assert await table_names(empty) == set()

    await empty.upgrade()
    assert await empty.current_revision() == HEAD
    await empty.workflows.create(workflow("w"))


async def test_downgrade_below_firings_drops_only_that_table(empty: SQLStorage) -> None:
    await empty.start()
    await empty.workflows.create(workflow("w"))
    assert await empty.firings.claim(Firing(rule="r", key="event:1"))

    await empty.downgrade("0001")
    assert await empty.current_revision() == "0001"
    assert await table_names(empty) == TABLES - {"firings", "run_logs"}
    assert (await empty.workflows.get("w")).metadata.name == "w"

    await empty.start()  # this version starting on a database at the previous revision
    assert await empty.current_revision() == HEAD
    assert await empty.firings.latest() == {}
    assert await empty.firings.claim(Firing(rule="r", key="event:1"))


async def test_downgrade_below_run_logs_drops_only_that_table(empty: SQLStorage) -> None:
    await empty.start()
    run = await empty.runs.create(WorkflowRun(workflow="w"))
    line = LogLine(seq=0, time=utcnow(), level="INFO", message="kept until the downgrade")
    await empty.logs.append(run.uid, [line])

    await empty.downgrade("0003")
    assert await table_names(empty) == TABLES - {"run_logs"}
    assert (await empty.runs.get(str(run.uid))).uid == run.uid

    await empty.start()
    assert await empty.logs.page(run.uid) == (0, [])
    await empty.logs.append(run.uid, [line])
    assert (await empty.logs.page(run.uid))[1] == [line]


async def test_an_upgrade_that_rebuilds_a_table_keeps_rows_and_constraints(
    empty: SQLStorage,
) -> None:
    config = sql_migrations.alembic_config([TEST_REVISIONS])
    await empty.upgrade(HEAD)
    await empty.workflows.create(workflow("w"))
    run = await empty.runs.create(WorkflowRun(workflow="w", server="a", result={"x": [1, 2]}))

    await empty.write(sql_migrations.upgrade, "head", config)
    assert await empty.current_revision() == "0005_test"

    assert (await empty.runs.get(run.name)).model_dump() == run.model_dump()
    assert (await empty.workflows.get("w")).metadata.name == "w"
    with pytest.raises(AlreadyExistsError):
        await empty.runs.create(WorkflowRun(workflow="w", name=run.name))

    await empty.write(sql_migrations.downgrade, HEAD, config)
    assert await empty.current_revision() == HEAD
    assert (await empty.runs.get(str(run.uid))).model_dump() == run.model_dump()


async def test_runs_written_before_0003_have_no_server_and_are_settled_by_any(
    empty: SQLStorage,
) -> None:
    await empty.upgrade("0002")
    # The repositories write the server column, which 0002 lacks: insert as 0002's code did.
    runs_at_0002 = sa.Table(
        "runs",
        sa.MetaData(),
        sa.Column("uid", sa.Uuid()),
        sa.Column("name", sa.String(255)),
        sa.Column("workflow", sa.String(255)),
        sa.Column("state", sa.String(16)),
        sa.Column("started_at", UTCDateTime()),
        sa.Column("stages", sa.JSON()),
    )
    row = {"uid": uuid.uuid4(), "name": "old", "workflow": "w", "state": "running"}
    await empty.write(
        lambda connection: connection.execute(
            runs_at_0002.insert(), {**row, "started_at": T0, "stages": []}
        )
    )

    await empty.start()  # this version starting on a database at 0002

    assert await empty.current_revision() == HEAD
    assert (await empty.runs.get("old")).server is None
    assert await empty.runs.fail_unfinished("stopped", T0, server="a") == 1
    assert (await empty.runs.get("old")).state is RunState.FAILED

"""Schema migrations with Alembic, configured in code (no alembic.ini at run time).

The revisions ship inside the package (``migrations/versions``). Each function here takes a
synchronous connection, as `AsyncConnection.run_sync` provides, and runs inside the caller's
transaction; on PostgreSQL a transaction-scoped advisory lock makes concurrent start-ups (two
servers, or a server and ``flowdapt db upgrade``) migrate one after the other.

    async with database.write() as connection:
        await connection.run_sync(upgrade, "head")
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

MIGRATIONS = Path(__file__).with_name("migrations")
_LOCK_ID = 0x666C6F77  # "flow": any constant shared by every Flowdapt process


def alembic_config(extra_version_locations: Sequence[Path] = ()) -> Config:
    """Alembic's configuration for the packaged revisions (plus extra directories, if given)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    locations = [MIGRATIONS / "versions", *extra_version_locations]
    config.set_main_option("version_locations", os.pathsep.join(str(path) for path in locations))
    return config


def _serialise(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_ID})")


def upgrade(connection: Connection, revision: str = "head", config: Config | None = None) -> None:
    config = config or alembic_config()
    config.attributes["connection"] = connection
    _serialise(connection)
    command.upgrade(config, revision)


def downgrade(connection: Connection, revision: str, config: Config | None = None) -> None:
    config = config or alembic_config()
    config.attributes["connection"] = connection
    _serialise(connection)
    command.downgrade(config, revision)


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()

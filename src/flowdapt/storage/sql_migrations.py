"""Schema migrations with Alembic, configured in code (no alembic.ini at run time).

The revisions ship inside the package (``migrations/versions``). Each function here takes a
synchronous connection, as `SQLDatabase.write` provides, and runs inside the caller's
transaction; on PostgreSQL a transaction-scoped advisory lock makes concurrent start-ups (two
servers, or a server and ``flowdapt db upgrade``) migrate one after the other.

    await database.write(upgrade, "head")
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import Connection

if TYPE_CHECKING:  # Alembic is imported only when a migration actually runs
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
_LOCK_ID = 0x666C6F77  # "flow": any constant shared by every Flowdapt process


def alembic_config(extra_version_locations: Sequence[Path] = ()) -> Config:
    """Alembic's configuration for the packaged revisions (plus extra directories, if given)."""
    from alembic.config import Config

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
    from alembic import command

    config = config or alembic_config()
    config.attributes["connection"] = connection
    _serialise(connection)
    command.upgrade(config, revision)


def downgrade(connection: Connection, revision: str, config: Config | None = None) -> None:
    from alembic import command

    config = config or alembic_config()
    config.attributes["connection"] = connection
    _serialise(connection)
    command.downgrade(config, revision)


def current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


@functools.cache
def packaged_head() -> str:
    """The newest packaged revision: the one no other revision names as its parent."""
    revisions: dict[str, str | None] = {}
    for script in (MIGRATIONS / "versions").glob("*.py"):
        text = script.read_text(encoding="utf-8")
        revision = re.search(r"^revision\b[^=]*=\s*[\"']([^\"']+)", text, re.M)
        parent = re.search(r"^down_revision\b[^=]*=\s*[\"']([^\"']+)", text, re.M)
        if revision:
            revisions[revision.group(1)] = parent.group(1) if parent else None
    heads = set(revisions) - set(revisions.values())
    if len(heads) != 1:
        raise RuntimeError(f"expected one head revision among {sorted(revisions)}, found {heads}")
    return heads.pop()


def is_at_head(connection: Connection) -> bool:
    """True when the database records the packaged head revision (one query, no Alembic)."""
    if not sa.inspect(connection).has_table("alembic_version"):
        return False
    stored = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
    return list(stored) == [packaged_head()]


_VERSION_TABLE = sa.Table(
    "alembic_version",
    sa.MetaData(),
    sa.Column("version_num", sa.String(32), nullable=False),
    sa.PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def create_if_empty(connection: Connection, metadata: sa.MetaData) -> bool:
    """On a database with no tables at all, create the current schema and stamp it at the
    packaged head, as a full upgrade would leave it; return whether it did.

    A test checks that the migrations and this metadata produce the same schema.
    """
    _serialise(connection)  # a second server starting now waits, then sees the tables
    if sa.inspect(connection).get_table_names():
        return False
    metadata.create_all(connection)
    _VERSION_TABLE.create(connection)
    connection.execute(_VERSION_TABLE.insert().values(version_num=packaged_head()))
    return True

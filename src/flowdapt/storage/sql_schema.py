"""The SQL schema as the repositories query it. Migrations (``migrations/versions``) create it.

A test compares this metadata with the database that the migrations produce, so the two cannot
drift apart silently.

Choices that matter:

- `UTCDateTime` stores instants so that both databases give back exactly what was written, to
  the microsecond: PostgreSQL as ``timestamptz``, SQLite as naive UTC text of fixed width (which
  also sorts and compares correctly as text).
- Names use the "C" collation on PostgreSQL, so listing by name orders byte-wise as SQLite and
  the document backends do, whatever the database's locale.
- Documents are ``JSON`` rather than PostgreSQL ``JSONB``: JSONB reorders keys, and users expect
  their config data back as they wrote it. Nothing queries inside the documents.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from flowdapt.domain.timestamps import as_utc

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on every dialect."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


def name_type() -> sa.types.TypeEngine[str]:
    return sa.String(255).with_variant(sa.String(255, collation="C"), "postgresql")


def _resource_table(name: str) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("uid", sa.Uuid(), primary_key=True),
        sa.Column("name", name_type(), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
    )


workflows = _resource_table("workflows")
configs = _resource_table("configs")
triggers = _resource_table("triggers")

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("uid", sa.Uuid(), primary_key=True),
    sa.Column("name", name_type(), nullable=False, unique=True),
    sa.Column("workflow", name_type(), nullable=False),
    sa.Column("source", sa.String(255), nullable=True),
    # The server that executes the run (its configured name); NULL in rows older than 0003.
    sa.Column("server", name_type(), nullable=True),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("started_at", UTCDateTime(), nullable=False, index=True),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    sa.Column("result", sa.JSON(none_as_null=True), nullable=True),
    sa.Column("error", sa.JSON(none_as_null=True), nullable=True),
    sa.Column("stages", sa.JSON(), nullable=False),
    sa.Index("ix_runs_workflow_started_at", "workflow", "started_at"),
)

# Keys are ``event:<event id>`` or ``schedule:<ISO instant>`` (under 50 characters for the
# system's own ids); 512 leaves room for ids of events sent in from outside, and keeps the
# (rule, key) index entry within PostgreSQL's B-tree limit (~2700 bytes) for any UTF-8 text.
FIRING_KEY_LENGTH = 512

firings = sa.Table(
    "firings",
    metadata,
    sa.Column("uid", sa.Uuid(), primary_key=True),
    sa.Column("rule", name_type(), nullable=False),
    sa.Column("key", sa.String(FIRING_KEY_LENGTH), nullable=False),
    sa.Column("fired_at", UTCDateTime(), nullable=False, index=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("run", name_type(), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    # Claiming a firing is inserting it: this constraint is what lets one server win.
    sa.UniqueConstraint("rule", "key", name="uq_firings_rule_key"),
    sa.Index("ix_firings_rule_fired_at", "rule", "fired_at"),
)

# Runs' logs: a line per row, numbered per run; pages are read by (run, seq) or (run, stage, seq).
run_logs = sa.Table(
    "run_logs",
    metadata,
    sa.Column("run", sa.Uuid(), primary_key=True),
    sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("time", UTCDateTime(), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("stage", name_type(), nullable=True),
    sa.Column("item", sa.Integer(), nullable=True),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("message", sa.Text(), nullable=False),
    sa.Index("ix_run_logs_run_stage_seq", "run", "stage", "seq"),
)

RESOURCE_TABLES: dict[str, sa.Table] = {
    "workflows": workflows,
    "configs": configs,
    "triggers": triggers,
}

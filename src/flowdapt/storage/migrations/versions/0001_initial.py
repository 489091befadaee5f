"""Initial schema: a table per resource kind, and runs indexed for listing.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Migrations spell their types out instead of importing `sql_schema`: a revision must keep
creating the schema as it was when written, whatever the application's metadata says later.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

RESOURCE_TABLES = ("workflows", "configs", "triggers")


def _name() -> sa.types.TypeEngine[str]:
    # Byte-wise ordering on PostgreSQL, like SQLite's default collation.
    return sa.String(255).with_variant(sa.String(255, collation="C"), "postgresql")


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    for table in RESOURCE_TABLES:
        op.create_table(
            table,
            sa.Column("uid", sa.Uuid(), nullable=False),
            sa.Column("name", _name(), nullable=False),
            sa.Column("created_at", _timestamp(), nullable=False),
            sa.Column("updated_at", _timestamp(), nullable=False),
            sa.Column("document", sa.JSON(), nullable=False),
            sa.PrimaryKeyConstraint("uid", name=f"pk_{table}"),
            sa.UniqueConstraint("name", name=f"uq_{table}_name"),
        )
    op.create_table(
        "runs",
        sa.Column("uid", sa.Uuid(), nullable=False),
        sa.Column("name", _name(), nullable=False),
        sa.Column("workflow", _name(), nullable=False),
        sa.Column("source", sa.String(255), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("started_at", _timestamp(), nullable=False),
        sa.Column("finished_at", _timestamp(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("stages", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("uid", name="pk_runs"),
        sa.UniqueConstraint("name", name="uq_runs_name"),
    )
    op.create_index("ix_runs_workflow_started_at", "runs", ["workflow", "started_at"])
    op.create_index("ix_runs_started_at", "runs", ["started_at"])
    op.create_index("ix_runs_state", "runs", ["state"])


def downgrade() -> None:
    op.drop_table("runs")  # drops its indexes with it
    for table in reversed(RESOURCE_TABLES):
        op.drop_table(table)

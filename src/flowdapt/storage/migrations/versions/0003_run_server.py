"""The server that executes a run, so that a server starting up settles only its own runs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-02-01

Rows written before this revision keep NULL: no server is known to own them, so any server
starting up settles them (as every server did before). Types are spelled out, as in 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def _name() -> sa.types.TypeEngine[str]:
    # Byte-wise ordering on PostgreSQL, like SQLite's default collation.
    return sa.String(255).with_variant(sa.String(255, collation="C"), "postgresql")


def upgrade() -> None:
    # Batch mode: SQLite adds the column in place; dropping it (below) rebuilds the table.
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("server", _name(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("server")

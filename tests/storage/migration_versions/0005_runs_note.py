"""Test-only revision: rebuilds the runs table (SQLite batch mode) to add a column.

Used to prove that an upgrade which recreates a table keeps its rows and its constraints.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_test"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs", recreate="always") as batch:
        batch.add_column(sa.Column("note", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs", recreate="always") as batch:
        batch.drop_column("note")

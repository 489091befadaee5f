"""Firings of trigger rules, unique by (rule, key), indexed for the latest per rule.

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-01

Types are spelled out, as in 0001: a revision keeps creating the schema as it was when written.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def _name() -> sa.types.TypeEngine[str]:
    # Byte-wise ordering on PostgreSQL, like SQLite's default collation.
    return sa.String(255).with_variant(sa.String(255, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "firings",
        sa.Column("uid", sa.Uuid(), nullable=False),
        sa.Column("rule", _name(), nullable=False),
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("run", _name(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("uid", name="pk_firings"),
        sa.UniqueConstraint("rule", "key", name="uq_firings_rule_key"),
    )
    op.create_index("ix_firings_rule_fired_at", "firings", ["rule", "fired_at"])
    op.create_index("ix_firings_fired_at", "firings", ["fired_at"])


def downgrade() -> None:
    op.drop_table("firings")  # drops its indexes with it

"""Runs' logs: one row per line, numbered per run.

Revision ID: 0004
Revises: 0003
Create Date: 2026-03-01

Types are spelled out, as in 0001: a revision keeps creating the schema as it was when written.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def _name() -> sa.types.TypeEngine[str]:
    # Byte-wise ordering on PostgreSQL, like SQLite's default collation.
    return sa.String(255).with_variant(sa.String(255, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "run_logs",
        sa.Column("run", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("stage", _name(), nullable=True),
        sa.Column("item", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("run", "seq", name="pk_run_logs"),
    )
    op.create_index("ix_run_logs_run_stage_seq", "run_logs", ["run", "stage", "seq"])


def downgrade() -> None:
    op.drop_table("run_logs")  # drops its index with it

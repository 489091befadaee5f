"""Alembic environment: runs migrations on the connection `sql_migrations` hands over.

There is no alembic.ini and no URL here: `SQLStorage` owns the engine and passes an open
connection in `config.attributes["connection"]`, so migrations run in its transaction (on
PostgreSQL the whole upgrade is atomic). Batch mode lets the same migration alter tables on
SQLite, which rebuilds a table for most ALTERs.
"""

from __future__ import annotations

from alembic import context

from flowdapt.storage.sql_schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

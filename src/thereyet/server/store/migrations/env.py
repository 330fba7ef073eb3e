"""Alembic environment: the hub passes its own connection in (see store/migrate.py)."""

from __future__ import annotations

from alembic import context

from thereyet.server.store.migrate import include_object
from thereyet.server.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()

"""Alembic's entry point: runs our migrations against the database the Settings name.

`recoverops.store.migrate` passes the Settings (and usually an open connection) in
`config.attributes`; the environment is never read here.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from recoverops.settings import Settings
from recoverops.store.engine import create_store_engine
from recoverops.store.tables import Base
from recoverops.store.url import database_url

config = context.config


def _settings() -> Settings:
    settings = config.attributes.get("settings")
    if not isinstance(settings, Settings):
        raise RuntimeError("run migrations through recoverops.store.migrate, which passes Settings")
    return settings


def run_offline() -> None:
    """Emit the SQL instead of running it (`alembic upgrade --sql`)."""
    context.configure(
        url=database_url(_settings()),
        target_metadata=Base.metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    engine = create_store_engine(database_url(_settings()))
    try:
        with engine.begin() as opened:
            _run_on(opened)
    finally:
        engine.dispose()


def _run_on(connection: Connection) -> None:
    # Batch mode lets later migrations alter SQLite tables (which cannot ALTER most things).
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()

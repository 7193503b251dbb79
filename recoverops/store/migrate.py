"""Bring a database to the newest schema with the migrations shipped in this package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, text

from recoverops.settings import Settings
from recoverops.store.engine import create_store_engine
from recoverops.store.url import database_url

MIGRATIONS = Path(__file__).parent / "migrations"

# Any constant shared by every RecoverOps process: PostgreSQL hands this lock to one migrator
# at a time, so replicas that start together do not race to create the same tables.
_MIGRATION_LOCK_ID = 0x5245434F  # "RECO"


def alembic_config(settings: Settings, *, connection: Connection | None = None) -> Config:
    """An Alembic config for our migrations; env.py takes the database from `settings`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["settings"] = settings
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_to_head(settings: Settings) -> None:
    """Apply every migration the database has not had yet."""
    engine = create_store_engine(database_url(settings))
    try:
        upgrade_engine(engine, settings)
    finally:
        engine.dispose()


def upgrade_engine(engine: Engine, settings: Settings) -> None:
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            lock = text("SELECT pg_advisory_xact_lock(:id)")
            connection.execute(lock, {"id": _MIGRATION_LOCK_ID})
        command.upgrade(alembic_config(settings, connection=connection), "head")


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None before the first migration."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()

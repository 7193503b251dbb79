"""The shipped migrations build the schema from nothing, and it is the one the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from recoverops.settings import Settings
from recoverops.store import Store, upgrade_to_head
from recoverops.store.engine import create_store_engine
from recoverops.store.migrate import alembic_config, current_revision
from recoverops.store.tables import Base
from recoverops.store.url import database_url

TABLES = {"events", "incidents", "timeline_entries", "actions", "audit_log", "outbox", "feedback"}
HEAD = "0006"


def test_upgrade_from_empty_creates_every_table(store_settings: Settings) -> None:
    engine = create_store_engine(database_url(store_settings))
    try:
        assert current_revision(engine) is None
        upgrade_to_head(store_settings)
        assert current_revision(engine) == HEAD
        assert TABLES <= set(inspect(engine).get_table_names())
        upgrade_to_head(store_settings)  # a second start finds nothing to do
        assert current_revision(engine) == HEAD
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_models(store_settings: Settings) -> None:
    upgrade_to_head(store_settings)
    engine = create_store_engine(database_url(store_settings))
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_downgrade_to_base_and_up_again(store_settings: Settings) -> None:
    upgrade_to_head(store_settings)
    engine = create_store_engine(database_url(store_settings))
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(store_settings, connection=connection), "base")
        assert not TABLES & set(inspect(engine).get_table_names())
        upgrade_to_head(store_settings)
        assert TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_default_store_is_sqlite_under_home(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", database_url=None)
    store = Store.open(settings)
    store.close()
    assert (tmp_path / "home" / "recoverops.db").is_file()

"""The shipped migrations build the schema from nothing, and it is the one the models describe."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from recoverops.analysis import Analysis
from recoverops.detector import analyze_text
from recoverops.incidents import Source, fingerprint
from recoverops.settings import Settings
from recoverops.store import Store, upgrade_to_head
from recoverops.store.column_types import JSONDocument, UTCDateTime
from recoverops.store.engine import create_store_engine
from recoverops.store.migrate import alembic_config, current_revision, upgrade_engine
from recoverops.store.tables import Base
from recoverops.store.url import database_url
from recoverops.taxonomy import Category

TABLES = {
    "events",
    "incidents",
    "timeline_entries",
    "actions",
    "audit_log",
    "outbox",
    "feedback",
    "source_positions",
    "source_health",
    "anomaly_templates",
    "deploys",
    "ci_runs",
    "llm_answers",
}
HEAD = "0014"


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


def test_incidents_stored_before_0007_keep_grouping_their_failures(
    store_settings: Settings,
) -> None:
    """An incident fingerprinted with its category (before 0007) takes the failure's next
    occurrences after the upgrade; of two incidents one failure was split into by a category
    change, the one seen last does."""
    log = Path(__file__).parents[1] / "fixtures/cases/github-uv-python-downloads-dns-error"
    analysis = analyze_text((log / "log.txt").read_text())
    target = "github:acme/app:ci/build"
    templates = sorted(set(analysis.templates))
    engine = create_store_engine(database_url(store_settings))
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(store_settings, connection=connection), "0006")
        first = _legacy_incident(engine, target, Category.BUILD_TEST, templates, analysis, day=1)
        last = _legacy_incident(engine, target, Category.DEPLOY_NETWORK, templates, analysis, day=2)
        upgrade_engine(engine, store_settings)
        old = Store(engine)

        again = old.upsert_incident(
            fingerprint(target=target, template_ids=analysis.templates),
            target=target,
            category=Category.DEPLOY_NETWORK,
            source=Source.GITHUB,
            analysis=analysis,
        )
        assert again.incident.id == last and not again.created
        assert again.incident.occurrences == 2
        earlier = old.get_incident(first)
        assert earlier is not None and earlier.occurrences == 1  # its history, as it was

        with engine.begin() as connection:
            command.downgrade(alembic_config(store_settings, connection=connection), "0006")
        with engine.connect() as connection:
            rows = connection.execute(sa.select(_INCIDENTS.c.id, _INCIDENTS.c.fingerprint))
            fingerprints = {row.id: row.fingerprint for row in rows}
        assert fingerprints[last] == _legacy(target, Category.DEPLOY_NETWORK, templates)
    finally:
        engine.dispose()


def _legacy(target: str, category: Category, templates: list[str]) -> str:
    return hashlib.sha256(
        b"".join(part.encode() + b"\0" for part in (target, category.value, *templates))
    ).hexdigest()


# The incidents table as 0006 left it: the store's own model has the columns of later revisions.
_INCIDENTS = sa.table(
    "incidents",
    sa.column("id", sa.Integer()),
    *(sa.column(name, sa.String()) for name in ("fingerprint", "target", "category", "source")),
    sa.column("status", sa.String()),
    sa.column("occurrences", sa.Integer()),
    *(sa.column(name, UTCDateTime()) for name in ("first_seen", "last_seen", "updated_at")),
    sa.column("analysis", JSONDocument),
    sa.column("evidence", JSONDocument),
)


def _legacy_incident(
    engine: Engine,
    target: str,
    category: Category,
    templates: list[str],
    analysis: Analysis,
    *,
    day: int,
) -> int:
    """An incident as the store kept it before 0007, written with 0006's columns."""
    seen = datetime(2026, 11, day, tzinfo=UTC)
    stored = replace(analysis, category=category).to_json()
    values = {
        "fingerprint": _legacy(target, category, templates),
        "target": target,
        "category": category.value,
        "source": Source.GITHUB.value,
        "status": "open",
        "occurrences": 1,
        "first_seen": seen,
        "last_seen": seen,
        "updated_at": seen,
        "analysis": stored,
        "evidence": stored["evidence"],
    }
    with engine.begin() as connection:
        inserted = connection.execute(
            sa.insert(_INCIDENTS).values(values).returning(_INCIDENTS.c.id)
        )
        return int(inserted.scalar_one())

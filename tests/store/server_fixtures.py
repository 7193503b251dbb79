"""The real servers the store and queue tests run against, as pytest fixtures.

PostgreSQL and Redis are not optional: CI starts them, and a test that needs one fails with a
clear message when it is unreachable rather than skipping. Every test gets its own empty
PostgreSQL schema inside one database made for this session (dropped at the end), its own SQLite
file, and its own Redis stream key, so tests never see each other's rows and may run in any order.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from sqlalchemy.engine import make_url

from recoverops.settings import Settings
from recoverops.store import Store

# The servers CI starts; the variables let a developer point the tests elsewhere.
POSTGRES_ADMIN_URL = os.environ.get(
    "RECOVEROPS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("RECOVEROPS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

STORE_BACKENDS = ("sqlite", "postgresql")

_DATABASE_KEY = pytest.StashKey[str]()


def _admin_connection() -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({error}). The store tests "
            "need a real server: start it, or set RECOVEROPS_TEST_POSTGRES_URL.",
            pytrace=False,
        )


def _session_database(config: pytest.Config) -> str:
    """A database made for this test session on first use, and dropped when the session ends."""
    if _DATABASE_KEY in config.stash:
        return config.stash[_DATABASE_KEY]
    name = f"recoverops_test_{uuid.uuid4().hex[:12]}"
    with _admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with _admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    config.add_cleanup(drop)
    config.stash[_DATABASE_KEY] = name
    return name


@pytest.fixture
def postgresql_settings(request: pytest.FixtureRequest) -> Iterator[Settings]:
    """Settings naming an empty schema of the session's PostgreSQL database."""
    database = _session_database(request.config)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    server = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql+psycopg", database=database)
    with psycopg.connect(server.set(drivername="postgresql").render_as_string(False)) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = server.update_query_dict({"options": f"-csearch_path={schema}"})
    yield Settings(database_url=url.render_as_string(hide_password=False), redis_url=None)
    with psycopg.connect(server.set(drivername="postgresql").render_as_string(False)) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", database_url=None, redis_url=None)


@pytest.fixture(params=STORE_BACKENDS)
def store_settings(request: pytest.FixtureRequest) -> Settings:
    """Settings for each store backend in turn: a SQLite file, then a PostgreSQL schema."""
    settings: Settings = request.getfixturevalue(f"{request.param}_settings")
    return settings


@pytest.fixture
def store(store_settings: Settings) -> Iterator[Store]:
    opened = Store.open(store_settings)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.ConnectionError as error:
        client.close()
        pytest.fail(
            f"Redis is not reachable at {REDIS_URL} ({error}). The queue tests need a real "
            "server: start it, or set RECOVEROPS_TEST_REDIS_URL.",
            pytrace=False,
        )
    yield client
    client.close()


@pytest.fixture
def stream_key(redis_client: redis.Redis) -> Iterator[str]:
    """A stream key no other test uses; the stream and its companion keys are deleted after."""
    key = f"recoverops-test:{uuid.uuid4().hex}"
    yield key
    leftovers = list(redis_client.scan_iter(match=f"{key}*"))
    if leftovers:
        redis_client.delete(*leftovers)

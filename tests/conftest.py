"""Fixtures every test folder shares: the real servers (a PostgreSQL database made for the
session, a Redis client, stream keys) and per-test store settings. Defined once here, so the
session database is created once for the whole run, not once per folder."""

from tests.store.server_fixtures import (
    postgresql_settings,
    redis_client,
    redis_url,
    sqlite_settings,
    store,
    store_settings,
    stream_key,
)

__all__ = [
    "postgresql_settings",
    "redis_client",
    "redis_url",
    "sqlite_settings",
    "store",
    "store_settings",
    "stream_key",
]

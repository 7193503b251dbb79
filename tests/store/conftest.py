from tests.store.server_fixtures import (
    postgresql_settings,
    redis_client,
    sqlite_settings,
    store,
    store_settings,
    stream_key,
)

__all__ = [
    "postgresql_settings",
    "redis_client",
    "sqlite_settings",
    "store",
    "store_settings",
    "stream_key",
]

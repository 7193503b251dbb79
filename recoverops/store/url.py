"""Where the store lives: the configured database, or SQLite under RECOVEROPS_HOME."""

from __future__ import annotations

from recoverops.settings import Settings

SQLITE_FILENAME = "recoverops.db"


def database_url(settings: Settings) -> str:
    """The SQLAlchemy URL of the store: `settings.database_url`, else `<home>/recoverops.db`."""
    if settings.database_url:
        return settings.database_url
    return f"sqlite:///{(settings.home / SQLITE_FILENAME).resolve()}"

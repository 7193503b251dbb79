"""One engine per store, tuned so that SQLite behaves under concurrent writers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

# How long a SQLite writer waits for another writer's lock before failing.
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
# The execution option that marks a store's read-only transactions (`read_only_engine`).
READ_ONLY = "recoverops_read_only"


def create_store_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets its parent folder created and safe transaction settings."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
    )
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_immediate)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own implicit BEGIN would start transactions as readers that later fail to
    # upgrade to writers ("database is locked"); we begin them ourselves in `_begin_immediate`.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        # WAL lets readers proceed while one writer commits.
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def read_only_engine(engine: Engine) -> Engine:
    """`engine` for transactions that only read: on SQLite they begin DEFERRED and read the
    last committed snapshot (WAL) without waiting for a writer; on PostgreSQL they are READ
    ONLY, so a write that strays into one fails at once instead of going unnoticed."""
    options: dict[str, Any] = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["postgresql_readonly"] = True
    return engine.execution_options(**options)


def _begin_immediate(connection: Any) -> None:
    # Take the write lock up front for a transaction that may write: every one is short, and
    # one that reads then writes (claim a lease, count an occurrence) must not interleave with
    # another. One that only reads takes no lock: GET /incidents, /metrics and /healthz must not
    # queue behind a writer (issue #13).
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

"""Storage: events, incidents, timelines, actions, the audit log and the outbox queue.

SQLite under RECOVEROPS_HOME by default, PostgreSQL when RECOVEROPS_DATABASE_URL is set; the
schema is migrated by the Alembic scripts shipped in `migrations/`.
"""

from recoverops.store.migrate import upgrade_to_head
from recoverops.store.records import (
    AuditEntry,
    EventAdded,
    IncidentPage,
    IncidentUpsert,
    OutboxEntry,
    StoredEvent,
    StoredIncident,
)
from recoverops.store.store import Store
from recoverops.store.url import database_url

__all__ = [
    "AuditEntry",
    "EventAdded",
    "IncidentPage",
    "IncidentUpsert",
    "OutboxEntry",
    "Store",
    "StoredEvent",
    "StoredIncident",
    "database_url",
    "upgrade_to_head",
]

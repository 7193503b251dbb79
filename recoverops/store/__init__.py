"""Storage: events, incidents, timelines, actions, the audit log and the outbox queue.

SQLite under RECOVEROPS_HOME by default, PostgreSQL when RECOVEROPS_DATABASE_URL is set; the
schema is migrated by the Alembic scripts shipped in `migrations/`.
"""

from recoverops.store.feedback import FIX_OUTCOMES
from recoverops.store.migrate import upgrade_to_head
from recoverops.store.records import (
    AuditEntry,
    DeadLetter,
    EventAdded,
    FeedbackRecord,
    IncidentPage,
    IncidentUpsert,
    LabelledIncident,
    OutboxEntry,
    StoredDeploy,
    StoredEvent,
    StoredIncident,
    StoredTemplate,
    WatchedOccurrence,
)
from recoverops.store.stages import StageRecord
from recoverops.store.store import Store
from recoverops.store.url import database_url

__all__ = [
    "AuditEntry",
    "DeadLetter",
    "FIX_OUTCOMES",
    "EventAdded",
    "FeedbackRecord",
    "IncidentPage",
    "IncidentUpsert",
    "LabelledIncident",
    "OutboxEntry",
    "StageRecord",
    "Store",
    "StoredDeploy",
    "StoredEvent",
    "StoredIncident",
    "StoredTemplate",
    "WatchedOccurrence",
    "database_url",
    "upgrade_to_head",
]

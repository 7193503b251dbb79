"""The outbox table as a queue: enqueue once per key, claim with a lease, delete on ack.

A claim is a lease (claimed_by, claimed_until). An entry whose lease ran out without an ack is
claimable again, so a consumer that died mid-work loses nothing: at-least-once delivery. On
PostgreSQL concurrent claimers skip each other's locked rows (FOR UPDATE SKIP LOCKED) instead of
waiting; SQLite runs the same UPDATE under its single write lock, where the clause is not emitted.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from recoverops.store.insert_or_ignore import insert_or_ignore
from recoverops.store.records import OutboxEntry
from recoverops.store.tables import OutboxRow


def enqueue(
    session: Session, queue: str, *, key: str, payload: Mapping[str, Any], now: datetime
) -> bool:
    """Add a message; False when one with the same key is still waiting or being worked on."""
    new_id = insert_or_ignore(
        session,
        OutboxRow.id,
        {
            "queue": queue,
            "dedup_key": key,
            "payload": dict(payload),
            "enqueued_at": now,
            "attempts": 0,
        },
        unique_columns=("queue", "dedup_key"),
    )
    return new_id is not None


def claim(
    session: Session,
    queue: str,
    *,
    consumer: str,
    limit: int,
    now: datetime,
    lease_until: datetime,
) -> list[OutboxEntry]:
    """Lease up to `limit` unclaimed or expired entries, oldest first, to `consumer`."""
    claimable = (
        select(OutboxRow.id)
        .where(OutboxRow.queue == queue, _free(now))
        .order_by(OutboxRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = session.execute(
        update(OutboxRow)
        .where(OutboxRow.id.in_(claimable.scalar_subquery()))
        .values(claimed_by=consumer, claimed_until=lease_until, attempts=OutboxRow.attempts + 1)
        .returning(OutboxRow.id, OutboxRow.dedup_key, OutboxRow.payload, OutboxRow.attempts)
        .execution_options(synchronize_session=False)
    ).all()
    entries = [
        OutboxEntry(id=row.id, dedup_key=row.dedup_key, payload=row.payload, attempts=row.attempts)
        for row in claimed
    ]
    return sorted(entries, key=lambda entry: entry.id)


def ack(session: Session, queue: str, ids: Collection[int]) -> int:
    """Delete the entries; how many were still there.

    Deleting rather than marking done keeps the table as small as the backlog. An ack from a
    consumer whose lease already expired still counts: it finished the work, which is idempotent.
    """
    if not ids:
        return 0
    deleted = session.execute(
        delete(OutboxRow)
        .where(OutboxRow.queue == queue, OutboxRow.id.in_(list(ids)))
        .returning(OutboxRow.id)
        .execution_options(synchronize_session=False)
    ).all()
    return len(deleted)


def depth(session: Session, queue: str, *, now: datetime) -> tuple[int, int]:
    """(waiting, in flight): entries free to claim, and entries under a live lease."""
    total, free = session.execute(
        select(func.count(), func.count().filter(_free(now))).where(OutboxRow.queue == queue)
    ).one()
    return int(free), int(total) - int(free)


def _free(now: datetime) -> Any:
    return or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until <= now)

"""Listing incidents newest first, a page at a time, with an opaque keyset cursor.

Pages are ordered by (first_seen, id), which never change once an incident exists, so walking the
pages while new occurrences arrive neither skips nor repeats an incident; new incidents simply
appear on the first page.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from recoverops.errors import InvalidCursorError
from recoverops.incidents import IncidentStatus, Source
from recoverops.store.incidents import to_stored_incident
from recoverops.store.records import IncidentPage
from recoverops.store.tables import IncidentRow
from recoverops.taxonomy import Category

MAX_PAGE_SIZE = 500


def list_incidents(
    session: Session,
    *,
    status: IncidentStatus | None,
    category: Category | None,
    source: Source | None,
    target: str | None,
    limit: int,
    cursor: str | None,
) -> IncidentPage:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}, not {limit}")
    conditions: list[ColumnElement[bool]] = []
    if status is not None:
        conditions.append(IncidentRow.status == status.value)
    if category is not None:
        conditions.append(IncidentRow.category == category.value)
    if source is not None:
        conditions.append(IncidentRow.source == source.value)
    if target is not None:
        conditions.append(IncidentRow.target == target)
    if cursor is not None:
        first_seen, incident_id = decode_cursor(cursor)
        conditions.append(
            or_(
                IncidentRow.first_seen < first_seen,
                and_(IncidentRow.first_seen == first_seen, IncidentRow.id < incident_id),
            )
        )
    # One row more than asked tells whether there is a next page without a COUNT.
    rows = list(
        session.execute(
            select(IncidentRow)
            .where(*conditions)
            .order_by(IncidentRow.first_seen.desc(), IncidentRow.id.desc())
            .limit(limit + 1)
        ).scalars()
    )
    items = tuple(to_stored_incident(row) for row in rows[:limit])
    next_cursor = encode_cursor(items[-1].first_seen, items[-1].id) if len(rows) > limit else None
    return IncidentPage(items=items, next_cursor=next_cursor)


def encode_cursor(first_seen: datetime, incident_id: int) -> str:
    raw = f"{first_seen.isoformat()}|{incident_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        first_seen, incident_id = raw.split("|")
        when = datetime.fromisoformat(first_seen)
        if when.tzinfo is None:
            raise ValueError("cursor time has no zone")
        return when, int(incident_id)
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise InvalidCursorError(f"not a cursor this store handed out: {cursor!r}") from error

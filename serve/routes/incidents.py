"""GET /incidents and GET /incidents/{id}: what failed, why, and what happened since."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from recoverops.incidents import IncidentStatus, Source
from recoverops.store.incident_pages import MAX_PAGE_SIZE
from recoverops.taxonomy import Category

from ..deps import StoreDep
from ..errors import NOT_FOUND, Rejection
from ..schemas import IncidentDetail, IncidentOut, IncidentPageOut, Refusal

DEFAULT_PAGE_SIZE = 50

router = APIRouter(prefix="/incidents", tags=["incidents"])


@router.get("", response_model=IncidentPageOut, responses={400: {"model": Refusal}})
def list_incidents(
    store: StoreDep,
    status: IncidentStatus | None = None,
    category: Category | None = None,
    source: Source | None = None,
    target: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(description="A previous page's next_cursor")] = None,
) -> IncidentPageOut:
    """Incidents newest first (by first seen), a page at a time."""
    page = store.list_incidents(
        status=status, category=category, source=source, target=target, limit=limit, cursor=cursor
    )
    return IncidentPageOut(
        items=[IncidentOut.of(incident) for incident in page.items], next_cursor=page.next_cursor
    )


@router.get("/{incident_id}", response_model=IncidentDetail, responses={404: {"model": Refusal}})
def get_incident(incident_id: int, store: StoreDep) -> IncidentDetail:
    """One incident with its analysis, evidence and timeline."""
    incident = store.get_incident(incident_id)
    if incident is None:
        raise Rejection(NOT_FOUND, "not_found", f"no incident {incident_id}")
    return IncidentDetail.with_timeline(incident, store.incident_timeline(incident_id))

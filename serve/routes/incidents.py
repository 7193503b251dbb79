"""GET /incidents and GET /incidents/{id}: what failed, why, and what happened since; and
POST /incidents/{id}/fixes/{n}/pull-request: a fix with a patch, as a pull or merge request.

The pull request route is an operator's act (it pushes a branch and opens a request in the
team's repository): the API's role rules must give it to operators only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel

from recoverops.errors import (
    DefaultBranchRefused,
    FixNotApplicable,
    ForgeFailed,
    ForgeNotConfigured,
    NotFoundError,
)
from recoverops.incidents import IncidentStatus, Source
from recoverops.remediation.pull_requests import PullRequest, open_pull_request
from recoverops.store.incident_pages import MAX_PAGE_SIZE
from recoverops.taxonomy import Category

from ..deps import SettingsDep, StoreDep
from ..errors import BAD_GATEWAY, NOT_FOUND, UNPROCESSABLE, Rejection
from ..schemas import IncidentDetail, IncidentOut, IncidentPageOut, Refusal

DEFAULT_PAGE_SIZE = 50
CONFLICT = 409

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


class PullRequestOut(BaseModel):
    """The pull (GitHub) or merge (GitLab) request of a fix; `created` is False when it had
    been opened before and this request opened nothing."""

    url: str
    number: int
    forge: str
    project: str
    branch: str
    base: str
    commit: str | None
    created: bool

    @classmethod
    def of(cls, request: PullRequest) -> PullRequestOut:
        return cls.model_validate(request, from_attributes=True)


@router.post(
    "/{incident_id}/fixes/{n}/pull-request",
    status_code=201,
    response_model=PullRequestOut,
    responses={
        200: {"model": PullRequestOut, "description": "Opened before: the same request"},
        **{status: {"model": Refusal} for status in (404, 409, 422, 502)},
    },
)
def open_fix_pull_request(
    incident_id: int,
    n: Annotated[int, Path(ge=0, description="The fix's index; 0 is the fix the incident shows")],
    store: StoreDep,
    settings: SettingsDep,
    response: Response,
) -> PullRequestOut:
    """Push the fix's patch to a branch of its own and open a pull or merge request (201), or
    answer the one opened before (200). 404: no such incident or fix; 409: the fix has no patch,
    its patch no longer applies, or the branch is the default branch; 422: the incident names no
    GitHub or GitLab repository, or the forge's token is not set; 502: GitHub, GitLab or git
    failed."""
    try:
        request = open_pull_request(store, settings, incident_id, n, actor="api")
    except NotFoundError as error:
        raise Rejection(NOT_FOUND, "not_found", str(error)) from None
    except FixNotApplicable as error:
        raise Rejection(CONFLICT, "no_applicable_patch", str(error)) from None
    except DefaultBranchRefused as error:
        raise Rejection(CONFLICT, "default_branch", str(error)) from None
    except ForgeNotConfigured as error:
        raise Rejection(UNPROCESSABLE, "forge_not_configured", str(error)) from None
    except ForgeFailed as error:
        raise Rejection(BAD_GATEWAY, "forge_failed", str(error)) from None
    if not request.created:
        response.status_code = 200
    return PullRequestOut.of(request)

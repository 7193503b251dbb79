"""Remediation actions over HTTP: read them with their audit trail, approve or reject them.

    GET  /actions                     newest first; ?status=&incident_id=&system=&target=&limit=
    GET  /actions/{id}                one action, its snapshot, result and audit trail
    POST /actions/{id}/approve        {"note": "…"}: 200, 404, 409, 422
    POST /actions/{id}/reject         the same

The operator who answers is the bearer token's subject; a body's `operator` is accepted and
ignored for one release (deprecated).

An approval after the action's deadline is refused (409) and the action expires. An approved
action is carried out by its system's remediator (`recoverops up`), not by this request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from recoverops.errors import ActionStateError, NotFoundError
from recoverops.remediation.clients import Clients
from recoverops.remediation.engine import Engine
from recoverops.remediation.model import ActionRecord, ActionStatus, System
from recoverops.settings import Settings
from recoverops.store import AuditEntry, Store

from ..access import PrincipalDep
from ..deps import JsonBody, SettingsDep, StoreDep
from ..errors import NOT_FOUND, UNPROCESSABLE, Rejection
from ..schemas import Refusal
from ..webhooks import parse_json_object

CONFLICT = 409
MAX_NOTE_CHARS = 4_000

router = APIRouter(prefix="/actions", tags=["actions"])


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operator: str | None = Field(
        default=None,
        max_length=255,
        deprecated=True,
        description="Ignored: the answer is recorded as the bearer token's subject. Accepted "
        "until the next release so that older clients keep working.",
    )
    note: str = Field(default="", max_length=MAX_NOTE_CHARS)


class AuditOut(BaseModel):
    at: datetime
    actor: str
    verb: str
    detail: dict[str, Any]

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditOut:
        return cls(at=entry.at, actor=entry.actor, verb=entry.verb, detail=entry.detail)


class ActionOut(BaseModel):
    id: int
    key: str
    incident_id: int | None
    kind: str
    system: System
    target: str
    environment: str
    risk: str
    params: dict[str, Any]
    reason: str
    status: ActionStatus
    decision: dict[str, Any]
    decided_by: str | None
    approval_deadline: datetime | None
    validate_deadline: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: ActionRecord) -> ActionOut:
        return cls.model_validate(record, from_attributes=True)


class ActionDetail(ActionOut):
    snapshot: dict[str, Any] | None
    result: dict[str, Any]
    trail: list[AuditOut]


class ActionList(BaseModel):
    items: list[ActionOut]


def _engine(store: Store, settings: Settings) -> Engine:
    # Approving and rejecting need neither the policy nor a target system's client.
    return Engine(store, policy=None, clients=Clients(settings), actor="api")


@router.get("", response_model=ActionList)
def list_actions(
    store: StoreDep,
    settings: SettingsDep,
    status: ActionStatus | None = None,
    incident_id: int | None = None,
    system: System | None = None,
    target: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ActionList:
    """Actions newest first."""
    records = _engine(store, settings).actions.find(
        status=None if status is None else {status},
        incident_id=incident_id,
        system=system,
        target=target,
        limit=limit,
    )
    return ActionList(items=[ActionOut.of(r) for r in records])


@router.get("/{action_id}", response_model=ActionDetail, responses={404: {"model": Refusal}})
def get_action(action_id: int, store: StoreDep, settings: SettingsDep) -> ActionDetail:
    """One action with its snapshot, result and audit trail (oldest first)."""
    actions = _engine(store, settings).actions
    record = actions.get(action_id)
    if record is None:
        raise Rejection(NOT_FOUND, "not_found", f"no action {action_id}")
    return _detail(record, actions.trail(action_id))


_ANSWER_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": AnswerIn.model_json_schema()}},
    }
}
_REFUSALS: dict[int | str, dict[str, Any]] = {
    status: {"model": Refusal} for status in (400, 404, 409, 413, 415, 422)
}


@router.post(
    "/{action_id}/approve",
    response_model=ActionDetail,
    responses=_REFUSALS,
    openapi_extra=_ANSWER_BODY,
)
def approve(
    action_id: int, body: JsonBody, store: StoreDep, settings: SettingsDep, who: PrincipalDep
) -> ActionDetail:
    """Approve an action awaiting approval, before its deadline, as the token's subject."""
    return _answer(action_id, body.raw, store, settings, who.subject, approved=True)


@router.post(
    "/{action_id}/reject",
    response_model=ActionDetail,
    responses=_REFUSALS,
    openapi_extra=_ANSWER_BODY,
)
def reject(
    action_id: int, body: JsonBody, store: StoreDep, settings: SettingsDep, who: PrincipalDep
) -> ActionDetail:
    """Reject an action awaiting approval, as the token's subject: it is never carried out, and
    its incident goes to a person."""
    return _answer(action_id, body.raw, store, settings, who.subject, approved=False)


def _answer(
    action_id: int, raw: bytes, store: Store, settings: Settings, operator: str, *, approved: bool
) -> ActionDetail:
    try:
        given = AnswerIn.model_validate(parse_json_object(raw))
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
            for e in error.errors(include_url=False)
        )
        raise Rejection(UNPROCESSABLE, "invalid", problems) from None
    engine = _engine(store, settings)
    answer = engine.approve if approved else engine.reject
    try:
        record = answer(action_id, operator=operator, note=given.note)
    except NotFoundError as error:
        raise Rejection(NOT_FOUND, "not_found", str(error)) from None
    except ActionStateError as error:
        raise Rejection(CONFLICT, "conflict", str(error)) from None
    return _detail(record, engine.actions.trail(action_id))


def _detail(record: ActionRecord, trail: list[AuditEntry]) -> ActionDetail:
    return ActionDetail(
        **ActionOut.of(record).model_dump(),
        snapshot=record.snapshot,
        result=record.result,
        trail=[AuditOut.of(entry) for entry in trail],
    )

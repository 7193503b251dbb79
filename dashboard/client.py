"""The dashboard's only way into RecoverOps: the HTTP API, over httpx.

Every function takes an `Api` (the base URL and the signed-in user's bearer token) and answers
with plain typed data, or raises `ApiUnavailable` with a sentence an operator can act on: the API
is not reachable, did not answer in time, or answered with an error (`SignInRequired` when it
answered 401 or 403). Every request goes through `_call`, which sends the token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict, cast

import httpx

PAGE_SIZE = 50
# The dashboard reads a local or in-cluster API: a slow answer is as good as none.
TIMEOUT = httpx.Timeout(5.0)
NOT_FOUND = 404
UNAUTHORIZED = (401, 403)
# Who the dashboard is while the API has no sign-in (GET /me answers 404): everything is allowed.
NO_AUTH_SUBJECT = "dashboard"

# The filters GET /incidents takes, named as the API's OpenAPI schema names their enums.
FILTER_SCHEMAS = {"status": "IncidentStatus", "category": "Category", "source": "Source"}


class ApiUnavailable(Exception):
    """The API could not be reached, timed out, or answered with an error."""


class SignInRequired(ApiUnavailable):
    """The API refused the token (or its absence): 401 or 403."""


class NotFound(ApiUnavailable):
    """The API has no such incident or action: 404."""


@dataclass(frozen=True, slots=True)
class Api:
    """Where the API is, and the bearer token to send (None: none, as in development)."""

    base_url: str
    token: str | None = None


@dataclass(frozen=True, slots=True)
class Identity:
    """GET /me: who the token names, their role (viewer, operator, admin), and how they signed
    in ("disabled": the API has no sign-in, and everyone may do everything)."""

    subject: str
    role: str
    auth: str

    @property
    def may_act(self) -> bool:
        """Approve, reject and give feedback: operators and admins."""
        return self.role in ("operator", "admin")


class Incident(TypedDict):
    """One row of GET /incidents (timestamps as the API's ISO 8601 strings)."""

    id: int
    fingerprint: str
    target: str
    category: str
    source: str
    status: str
    occurrences: int
    first_seen: str
    last_seen: str
    updated_at: str


class EvidenceLine(TypedDict):
    line: int
    text: str


class TimelineEntry(TypedDict):
    at: str
    stage: str
    detail: str


class IncidentDetail(Incident):
    """GET /incidents/{id}: the row, its analysis (None before one ran), evidence and timeline."""

    analysis: dict[str, Any] | None
    evidence: list[EvidenceLine]
    timeline: list[TimelineEntry]


class Feedback(TypedDict):
    """POST /incidents/{id}/feedback's answer: the feedback as stored."""

    id: int
    incident_id: int
    category: str | None
    fix_outcome: str | None
    operator: str
    note: str
    created_at: str


class AuditEntry(TypedDict):
    at: str
    actor: str
    verb: str
    detail: dict[str, Any]


class Action(TypedDict):
    """One row of GET /actions."""

    id: int
    key: str
    incident_id: int | None
    kind: str
    system: str
    target: str
    environment: str
    risk: str
    params: dict[str, Any]
    reason: str
    status: str
    decision: dict[str, Any]
    decided_by: str | None
    approval_deadline: str | None
    validate_deadline: str | None
    started_at: str | None
    finished_at: str | None
    created_at: str
    updated_at: str


class ActionDetail(Action):
    """GET /actions/{id}: the row, the snapshot taken before, the result, the audit trail."""

    snapshot: dict[str, Any] | None
    result: dict[str, Any]
    trail: list[AuditEntry]


class DeadLetter(TypedDict):
    id: int
    queue: str
    key: str
    event_id: int | None
    attempts: int
    last_error: str
    dead_at: str


@dataclass(frozen=True, slots=True)
class Filters:
    """What the operator narrowed the list to; None is "any"."""

    status: str | None = None
    category: str | None = None
    source: str | None = None
    target: str | None = None

    def params(self) -> dict[str, str]:
        chosen = {
            "status": self.status,
            "category": self.category,
            "source": self.source,
            "target": self.target,
        }
        return {name: value for name, value in chosen.items() if value}


@dataclass(frozen=True, slots=True)
class IncidentPage:
    items: list[Incident]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Health:
    """GET /healthz: `ok`, and the names of the checks that failed."""

    ok: bool
    down: list[str]


def me(api: Api) -> Identity:
    """Who the token names; an API without sign-in (404) lets the dashboard do everything."""
    response = _call("GET", api, "/me", accept=(200, NOT_FOUND))
    if response.status_code == NOT_FOUND:
        return Identity(subject=NO_AUTH_SUBJECT, role="admin", auth="disabled")
    body = _json(response, "GET /me")
    return Identity(
        subject=str(body.get("subject") or ""),
        role=str(body.get("role") or "viewer"),
        auth=str(body.get("auth") or ""),
    )


def health(api: Api) -> Health:
    """The API's own health; a 503 is an answer (a degraded API), not an error."""
    body = _get(api, "/healthz", accept=(200, 503))
    checks = cast(dict[str, dict[str, Any]], body.get("checks", {}))
    down = sorted(name for name, check in checks.items() if not check.get("ok"))
    return Health(ok=bool(body.get("ok")), down=down)


def metrics_text(api: Api) -> str:
    """GET /metrics, in Prometheus' text exposition format."""
    return _call("GET", api, "/metrics").text


def list_incidents(
    api: Api, filters: Filters, cursor: str | None = None, *, limit: int = PAGE_SIZE
) -> IncidentPage:
    """One page of incidents, newest first; pass the previous page's `next_cursor` for more."""
    params: dict[str, str | int] = {**filters.params(), "limit": limit}
    if cursor is not None:
        params["cursor"] = cursor
    body = _get(api, "/incidents", params=params)
    return IncidentPage(
        items=cast(list[Incident], body["items"]), next_cursor=body.get("next_cursor")
    )


def get_incident(api: Api, incident_id: int) -> IncidentDetail:
    """One incident with its analysis, evidence and timeline."""
    return cast(IncidentDetail, _get(api, f"/incidents/{incident_id}"))


def send_feedback(
    api: Api,
    incident_id: int,
    *,
    category: str | None,
    fix_outcome: str | None,
    operator: str,
    note: str = "",
) -> Feedback:
    """Record an operator's category (confirmed or corrected) and/or the fix's outcome.

    `operator` is the signed-in subject (GET /me), never a typed name. A refusal (an unknown
    incident, a body the API finds unusable) is an `ApiUnavailable` whose message is the API's
    reason.
    """
    body: dict[str, Any] = {"operator": operator, "note": note}
    if category is not None:
        body["category"] = category
    if fix_outcome is not None:
        body["fix_outcome"] = fix_outcome
    path = f"/incidents/{incident_id}/feedback"
    return cast(Feedback, _json(_call("POST", api, path, json=body, accept=(201,)), path))


def list_actions(
    api: Api, *, status: str | None = None, incident_id: int | None = None, limit: int = 100
) -> list[Action]:
    """Remediation actions, newest first."""
    params: dict[str, str | int] = {"limit": limit}
    if status is not None:
        params["status"] = status
    if incident_id is not None:
        params["incident_id"] = incident_id
    return cast(list[Action], _get(api, "/actions", params=params)["items"])


def get_action(api: Api, action_id: int) -> ActionDetail:
    """One action with its snapshot, result and audit trail (oldest first)."""
    return cast(ActionDetail, _get(api, f"/actions/{action_id}"))


def answer_action(
    api: Api, action_id: int, *, approve: bool, operator: str, note: str = ""
) -> ActionDetail:
    """Approve or reject an action awaiting approval, as `operator` (the signed-in subject)."""
    path = f"/actions/{action_id}/{'approve' if approve else 'reject'}"
    body = {"operator": operator, "note": note}
    return cast(ActionDetail, _json(_call("POST", api, path, json=body), path))


def dead_letters(api: Api, *, limit: int = 100) -> list[DeadLetter]:
    """Queued events given up on, newest first."""
    return cast(list[DeadLetter], _get(api, "/dead-letters", params={"limit": limit})["items"])


def filter_choices(api: Api) -> dict[str, list[str]]:
    """The values each filter takes, read from the API's OpenAPI schema so they never drift."""
    schemas = _get(api, "/openapi.json").get("components", {}).get("schemas", {})
    return {
        name: list(schemas.get(schema, {}).get("enum", []))
        for name, schema in FILTER_SCHEMAS.items()
    }


def _get(
    api: Api,
    path: str,
    *,
    params: dict[str, str | int] | None = None,
    accept: tuple[int, ...] = (200,),
) -> dict[str, Any]:
    return _json(_call("GET", api, path, params=params, accept=accept), f"GET {path}")


def _call(
    method: str,
    api: Api,
    path: str,
    *,
    params: dict[str, str | int] | None = None,
    json: dict[str, Any] | None = None,
    accept: tuple[int, ...] = (200,),
) -> httpx.Response:
    """The one way to the API: every request carries the signed-in user's token."""
    url = api.base_url.rstrip("/") + path
    headers = {} if api.token is None else {"Authorization": f"Bearer {api.token}"}
    try:
        response = httpx.request(
            method, url, params=params, json=json, headers=headers, timeout=TIMEOUT
        )
    except httpx.InvalidURL as error:
        raise ApiUnavailable(f"{api.base_url!r} is not a valid URL ({error})") from error
    except httpx.UnsupportedProtocol as error:
        raise ApiUnavailable(f"{api.base_url!r} is not an http(s) URL") from error
    except httpx.TimeoutException as error:
        raise ApiUnavailable(f"no answer from {url} within {TIMEOUT.read}s") from error
    except httpx.TransportError as error:
        raise ApiUnavailable(f"cannot reach {url} ({type(error).__name__})") from error
    if response.status_code in accept:
        return response
    refusal = f"{method} {path} answered {response.status_code}: {_reason(response)}"
    if response.status_code in UNAUTHORIZED:
        raise SignInRequired(refusal)
    if response.status_code == NOT_FOUND:
        raise NotFound(refusal)
    raise ApiUnavailable(refusal)


def _json(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as error:
        raise ApiUnavailable(f"{what} did not answer with JSON") from error
    if not isinstance(body, dict):
        raise ApiUnavailable(f"{what} answered with an unexpected shape")
    return cast(dict[str, Any], body)


def _reason(response: httpx.Response) -> str:
    """The API's `detail` (its Refusal shape), or the start of whatever else it said."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    return str(detail) if detail else response.text[:200] or response.reason_phrase

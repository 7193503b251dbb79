"""The dashboard's only way into RecoverOps: the HTTP API, over httpx.

Every function takes the API's base URL and answers with plain typed data, or raises
`ApiUnavailable` (the one exception here) with a sentence an operator can act on: the API is
not reachable, did not answer in time, or answered with an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict, cast

import httpx

PAGE_SIZE = 50
# The dashboard reads a local or in-cluster API: a slow answer is as good as none.
TIMEOUT = httpx.Timeout(5.0)

# The filters GET /incidents takes, named as the API's OpenAPI schema names their enums.
FILTER_SCHEMAS = {"status": "IncidentStatus", "category": "Category", "source": "Source"}


class ApiUnavailable(Exception):
    """The API could not be reached, timed out, or answered with an error."""


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


@dataclass(frozen=True, slots=True)
class Filters:
    """What the operator narrowed the list to; None is "any"."""

    status: str | None = None
    category: str | None = None
    source: str | None = None

    def params(self) -> dict[str, str]:
        chosen = {"status": self.status, "category": self.category, "source": self.source}
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


def health(base_url: str) -> Health:
    """The API's own health; a 503 is an answer (a degraded API), not an error."""
    body = _get(base_url, "/healthz", accept=(200, 503))
    checks = cast(dict[str, dict[str, Any]], body.get("checks", {}))
    down = sorted(name for name, check in checks.items() if not check.get("ok"))
    return Health(ok=bool(body.get("ok")), down=down)


def list_incidents(
    base_url: str, filters: Filters, cursor: str | None = None, *, limit: int = PAGE_SIZE
) -> IncidentPage:
    """One page of incidents, newest first; pass the previous page's `next_cursor` for more."""
    params: dict[str, str | int] = {**filters.params(), "limit": limit}
    if cursor is not None:
        params["cursor"] = cursor
    body = _get(base_url, "/incidents", params=params)
    return IncidentPage(
        items=cast(list[Incident], body["items"]), next_cursor=body.get("next_cursor")
    )


def get_incident(base_url: str, incident_id: int) -> IncidentDetail:
    """One incident with its analysis, evidence and timeline."""
    return cast(IncidentDetail, _get(base_url, f"/incidents/{incident_id}"))


def send_feedback(
    base_url: str,
    incident_id: int,
    *,
    category: str | None,
    fix_outcome: str | None,
    operator: str,
    note: str = "",
) -> Feedback:
    """Record an operator's category (confirmed or corrected) and/or the fix's outcome.

    A refusal (an unknown incident, a body the API finds unusable) is an `ApiUnavailable` whose
    message is the API's reason.
    """
    body: dict[str, Any] = {"operator": operator, "note": note}
    if category is not None:
        body["category"] = category
    if fix_outcome is not None:
        body["fix_outcome"] = fix_outcome
    path = f"/incidents/{incident_id}/feedback"
    return cast(Feedback, _call("POST", base_url, path, json=body, accept=(201,)))


def filter_choices(base_url: str) -> dict[str, list[str]]:
    """The values each filter takes, read from the API's OpenAPI schema so they never drift."""
    schemas = _get(base_url, "/openapi.json").get("components", {}).get("schemas", {})
    return {
        name: list(schemas.get(schema, {}).get("enum", []))
        for name, schema in FILTER_SCHEMAS.items()
    }


def _get(
    base_url: str,
    path: str,
    *,
    params: dict[str, str | int] | None = None,
    accept: tuple[int, ...] = (200,),
) -> dict[str, Any]:
    return _call("GET", base_url, path, params=params, accept=accept)


def _call(
    method: str,
    base_url: str,
    path: str,
    *,
    params: dict[str, str | int] | None = None,
    json: dict[str, Any] | None = None,
    accept: tuple[int, ...] = (200,),
) -> dict[str, Any]:
    url = base_url.rstrip("/") + path
    try:
        response = httpx.request(method, url, params=params, json=json, timeout=TIMEOUT)
    except httpx.InvalidURL as error:
        raise ApiUnavailable(f"{base_url!r} is not a valid URL ({error})") from error
    except httpx.UnsupportedProtocol as error:
        raise ApiUnavailable(f"{base_url!r} is not an http(s) URL") from error
    except httpx.TimeoutException as error:
        raise ApiUnavailable(f"no answer from {url} within {TIMEOUT.read}s") from error
    except httpx.TransportError as error:
        raise ApiUnavailable(f"cannot reach {url} ({type(error).__name__})") from error
    if response.status_code not in accept:
        raise ApiUnavailable(
            f"{method} {path} answered {response.status_code}: {_reason(response)}"
        )
    try:
        body = response.json()
    except ValueError as error:
        raise ApiUnavailable(f"{method} {path} did not answer with JSON") from error
    if not isinstance(body, dict):
        raise ApiUnavailable(f"{method} {path} answered with an unexpected shape")
    return cast(dict[str, Any], body)


def _reason(response: httpx.Response) -> str:
    """The API's `detail` (its Refusal shape), or the start of whatever else it said."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    return str(detail) if detail else response.text[:200] or response.reason_phrase

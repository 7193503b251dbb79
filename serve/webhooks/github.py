"""GitHub webhooks: `workflow_job`, `workflow_run`, `check_run` and `check_suite` events, and
`deployment` and `deployment_status` events, which are recorded as deploy markers
(`recoverops.correlation`) and never analyzed as failures: a failed deployment's job reports it.

GitHub signs the body it sends with the hook's secret (`X-Hub-Signature-256: sha256=<hex>`,
HMAC-SHA256) and names each delivery (`X-GitHub-Delivery`, kept when a delivery is redelivered).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from .base import Delivery, MalformedPayload, bounded_delivery_id, field, optional_field

DEPLOY_EVENTS = frozenset({"deployment", "deployment_status"})
EVENTS = frozenset({"workflow_job", "workflow_run", "check_run", "check_suite", *DEPLOY_EVENTS})
PING = "ping"
SIGNATURE_PREFIX = "sha256="
# Conclusions of a completed job, run or check that mean it failed. `cancelled`, `skipped`,
# `neutral`, `stale` and `action_required` are somebody's decision, not a failure to explain.
FAILED_CONCLUSIONS = frozenset({"failure", "timed_out", "startup_failure"})


def signature_matches(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is the HMAC-SHA256 of `body` under `secret`, compared in constant time."""
    if header is None or not header.startswith(SIGNATURE_PREFIX):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header[len(SIGNATURE_PREFIX) :].encode(), expected.encode())


def delivery(event: str, delivery_id: str, body: dict[str, Any]) -> Delivery:
    """The delivery of an `event` GitHub sent (one of EVENTS), read from its payload."""
    action = field(body, "action", str)
    repository = field(body, "repository.full_name", str)
    if event in DEPLOY_EVENTS:
        deployment = field(body, "deployment", dict)
        environment = optional_field(deployment, "environment", str) or "-"
        return Delivery(
            kind=f"{event}.{action}",
            delivery_id=bounded_delivery_id(delivery_id),
            failure=False,
            target=f"{repository}:deployment/{environment}",
            body=body,
        )
    obj = field(body, event, dict)
    status = field(obj, "status", str)
    conclusion = optional_field(obj, "conclusion", str)
    name = _name(event, obj, body)
    return Delivery(
        kind=f"{event}.{action}",
        delivery_id=bounded_delivery_id(delivery_id),
        failure=status == "completed" and conclusion in FAILED_CONCLUSIONS,
        target=f"{repository}:{name}",
        body=body,
    )


def _name(event: str, obj: dict[str, Any], body: dict[str, Any]) -> str:
    if event == "workflow_job":
        workflow = optional_field(obj, "workflow_name", str) or str(field(obj, "run_id", int))
        return f"{workflow}/{field(obj, 'name', str)}"
    if event == "workflow_run":
        name = optional_field(obj, "name", str) or optional_field(body, "workflow.name", str)
        return name or field(obj, "path", str)
    if event == "check_run":
        return f"checks/{field(obj, 'name', str)}"
    if event == "check_suite":
        return f"check_suite/{optional_field(obj, 'app.slug', str) or field(obj, 'id', int)}"
    raise MalformedPayload(f"not a {', '.join(sorted(EVENTS))} event: {event}")

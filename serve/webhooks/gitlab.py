"""GitLab webhooks: pipeline, job and deployment hooks.

GitLab sends the hook's secret token as is (`X-Gitlab-Token`) and names the event in
`X-Gitlab-Event`. A retried delivery keeps its `Idempotency-Key` (GitLab 17.4 and later);
`X-Gitlab-Event-UUID` is shared by the hooks one event triggers. Older GitLab sends neither,
and then identical bodies are taken as one delivery: a pipeline's body changes with its status.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from .base import Delivery, MalformedPayload, bounded_delivery_id, field, optional_field

# X-Gitlab-Event values and the object_kind their payload carries. "Build Hook" is the name
# GitLab used for job hooks before 9.x and still accepts in tests of a hook.
# A deployment hook is recorded as a deploy marker (`recoverops.correlation`), never a failure:
# a failed deployment's job reports it.
EVENTS = {
    "Pipeline Hook": "pipeline",
    "Job Hook": "build",
    "Build Hook": "build",
    "Deployment Hook": "deployment",
}
FAILED = "failed"


def delivery_key(headers: Mapping[str, str], raw: bytes) -> str:
    for name in ("idempotency-key", "x-gitlab-event-uuid"):
        value = headers.get(name)
        if value:
            return bounded_delivery_id(value)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def delivery(event: str, delivery_id: str, body: dict[str, Any]) -> Delivery:
    """The delivery of a pipeline or job hook (`event` is a key of EVENTS)."""
    kind = field(body, "object_kind", str)
    if kind != EVENTS[event]:
        raise MalformedPayload(f"X-Gitlab-Event is {event!r} but object_kind is {kind!r}")
    project = optional_field(body, "project.path_with_namespace", str) or field(
        body, "project_name", str
    )
    if kind == "deployment":
        field(body, "deployment_id", int)
        environment = optional_field(body, "environment", str) or "-"
        return Delivery(
            kind="deployment",
            delivery_id=delivery_id,
            failure=False,
            target=f"{project}:deployment/{environment}",
            body=body,
        )
    if kind == "pipeline":
        field(body, "object_attributes.id", int)  # the pipeline a log fetcher will look up
        status = field(body, "object_attributes.status", str)
        ref = optional_field(body, "object_attributes.ref", str) or "-"
        return Delivery(
            kind="pipeline",
            delivery_id=delivery_id,
            failure=status == FAILED,
            target=f"{project}:pipeline@{ref}",
            body=body,
        )
    field(body, "build_id", int)  # the job whose trace a log fetcher will read
    status = field(body, "build_status", str)
    stage = field(body, "build_stage", str)
    return Delivery(
        kind="job",
        delivery_id=delivery_id,
        # A job allowed to fail does not fail its pipeline: nothing for anyone to fix.
        failure=status == FAILED and not optional_field(body, "build_allow_failure", bool),
        target=f"{project}:{stage}/{field(body, 'build_name', str)}",
        body=body,
    )

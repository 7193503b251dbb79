"""Which job an event is about: its target identity and where its log is fetched from.

The stored payload is what ingestion keeps (`{"failure", "target", "body"}`, see serve's
`Delivery.stored_payload`); `target` there is the job as its CI system names it, and the body
is the webhook payload as received.

| source  | event kind              | JobRef.project             | JobRef.job           |
|---------|-------------------------|----------------------------|----------------------|
| github  | `workflow_job.*`        | `repository.full_name`     | `workflow_job.id`    |
| gitlab  | `job`                   | `project_id`               | `build_id`           |
| jenkins | `build.*`               | the job path (or `name`)   | `build.number`       |

Other kinds (a GitHub workflow run or check suite, a GitLab pipeline) name no single job: their
incident says so instead of carrying a log analysis.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from recoverops.connectors import JobRef
from recoverops.incidents import Source
from recoverops.store import StoredEvent


@dataclass(frozen=True, slots=True)
class JobIdentity:
    """`target` groups incidents ("github:owner/repo:workflow/job"); `ref` is None with `why`."""

    target: str
    ref: JobRef | None
    why: str = ""


def job_identity(event: StoredEvent) -> JobIdentity:
    payload: Mapping[str, Any] = event.payload if isinstance(event.payload, Mapping) else {}
    body = payload.get("body")
    body = body if isinstance(body, Mapping) else {}
    name = payload.get("target")
    target = f"{event.source.value}:{name if isinstance(name, str) and name else event.kind}"
    ref = _job_ref(event.source, event.kind, body, name if isinstance(name, str) else None)
    if ref is None:
        return JobIdentity(target, None, f"a {event.source.value} {event.kind} event names no job")
    return JobIdentity(target, ref)


def _job_ref(
    source: Source, kind: str, body: Mapping[str, Any], target: str | None
) -> JobRef | None:
    if source is Source.GITHUB and kind.startswith("workflow_job"):
        project = _get(body, "repository.full_name")
        job = _get(body, "workflow_job.id")
    elif source is Source.GITLAB and kind == "job":
        project = _get(body, "project_id")
        job = _get(body, "build_id")
    elif source is Source.JENKINS:
        project = target or _get(body, "name")
        job = _get(body, "build.number")
    else:
        return None
    if not _named(project) or not _named(job):
        return None
    return JobRef(source=source.value, project=str(project), job=str(job))


def _get(document: Mapping[str, Any], path: str) -> Any:
    value: Any = document
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _named(value: Any) -> bool:
    # bool is an int in Python; a JSON true is not an id.
    if isinstance(value, bool):
        return False
    return (isinstance(value, str) and bool(value)) or isinstance(value, int)

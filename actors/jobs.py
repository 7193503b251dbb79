"""Which job an event is about: its target identity and where its log is fetched from.

The stored payload is what ingestion keeps (`{"failure", "target", "body"}`, see serve's
`Delivery.stored_payload`); `target` there is the job as its CI system names it, and the body
is the webhook payload as received.

| source  | event kind              | JobRef.project             | JobRef.job           |
|---------|-------------------------|----------------------------|----------------------|
| github  | `workflow_job.*`        | `repository.full_name`     | `workflow_job.id`    |
| gitlab  | `job`                   | `project_id`               | `build_id`           |
| jenkins | `build.*`               | the job path (or `name`)   | `build.number`       |

A failure a watching source saw (`recoverops.sources`: a Kubernetes pod, event, Job or node)
has no log to fetch: its payload carries the text to analyze and the cause it is grouped by.

One failed GitHub Actions job is reported up to four times: as a `workflow_job` (the job, with
its workflow's name), as a `check_run` of the `github-actions` app (the same job: its id is the
job's id, but the payload does not name the workflow), and through its run as a `workflow_run`
and a `check_suite`. Likewise a failed GitLab job comes as a `job` event and inside its
`pipeline` event. Only the job's own event can be analyzed (it names the job and its log), and
the others would each open an incident of their own that says "logs unavailable". So:

- the job's own event (`workflow_job`, GitLab `job`, Jenkins `build`) opens or counts the incident;
- its echoes are *covered*: a `github-actions` check run, a check suite, a workflow run and a
  GitLab pipeline are recorded (stored, marked processed, audited with the reason) and open no
  incident, because each failed job in them sends its own event;
- except where no job event will come: a check run of another app (a third-party CI reporting
  through the Checks API) is that app's only report, and a workflow run that concluded
  `startup_failure` never started a job. These open an incident that names the check or the
  workflow and says why there is no log.

This relies on the GitHub hook sending `workflow_job` events, as the GitLab hook must send job
events: a hook that sends only check runs or pipelines sees its failures recorded, not analyzed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from recoverops.connectors import JobRef
from recoverops.incidents import Source
from recoverops.store import StoredEvent

ACTIONS_APP = "github-actions"


@dataclass(frozen=True, slots=True)
class JobIdentity:
    """`target` groups incidents ("github:owner/repo:workflow/job"); `ref` is None with `why`.

    `covered`: the event echoes failures that the jobs' own events report; `why` says which.
    """

    target: str
    ref: JobRef | None
    why: str = ""
    covered: bool = False
    # A watched failure (`recoverops.sources`) brings its text instead of a log to fetch, and
    # its cause: its incidents are grouped by target and cause, not by the text's templates.
    text: str | None = None
    cause: str | None = None
    # What the watching source knows of the workload (`recoverops.correlation.Identity`), and
    # why the anomaly model reported it (`recoverops.anomaly`), as stored in the payload.
    identity: Mapping[str, Any] | None = None
    anomaly: Mapping[str, Any] | None = None


def job_identity(event: StoredEvent) -> JobIdentity:
    payload: Mapping[str, Any] = event.payload if isinstance(event.payload, Mapping) else {}
    body = payload.get("body")
    body = body if isinstance(body, Mapping) else {}
    name = payload.get("target")
    target = f"{event.source.value}:{name if isinstance(name, str) and name else event.kind}"
    watched = _watched(target, payload)
    if watched is not None:
        return watched
    covered = _covered_by(event.source, event.kind, body)
    if covered is not None:
        return JobIdentity(target, None, covered, covered=True)
    ref = _job_ref(event.source, event.kind, body, name if isinstance(name, str) else None)
    if ref is None:
        return JobIdentity(target, None, _no_log(event.source, event.kind, body))
    return JobIdentity(target, ref)


def _watched(target: str, payload: Mapping[str, Any]) -> JobIdentity | None:
    """A failure a watching source saw, with its text inline (`recoverops.sources.sink`)."""
    text, cause = payload.get("text"), payload.get("cause")
    if not isinstance(text, str) or not isinstance(cause, str) or not cause:
        return None
    identity, anomaly = payload.get("identity"), payload.get("anomaly")
    return JobIdentity(
        target,
        None,
        text=text,
        cause=cause,
        identity=identity if isinstance(identity, Mapping) else None,
        anomaly=anomaly if isinstance(anomaly, Mapping) else None,
    )


def _covered_by(source: Source, kind: str, body: Mapping[str, Any]) -> str | None:
    """Why the event's failure is reported by its jobs' own events, or None when it is not."""
    event = kind.split(".", 1)[0]
    if source is Source.GITHUB and event == "check_run":
        if _get(body, "check_run.app.slug") == ACTIONS_APP:
            job = _get(body, "check_run.id")
            return f"GitHub Actions job {job} is analyzed from its workflow_job event"
    elif source is Source.GITHUB and event == "check_suite":
        return "a check suite fails through its check runs, each reported on its own"
    elif source is Source.GITHUB and event == "workflow_run":
        if _get(body, "workflow_run.conclusion") != "startup_failure":
            return "a workflow run fails through its jobs, each a workflow_job event"
    elif source is Source.GITLAB and event == "pipeline":
        return "a pipeline fails through its jobs, each a job event"
    return None


def _no_log(source: Source, kind: str, body: Mapping[str, Any]) -> str:
    event = kind.split(".", 1)[0]
    if source is Source.GITHUB and event == "check_run":
        app = _get(body, "check_run.app.slug") or "an unnamed app"
        where = _get(body, "check_run.details_url") or _get(body, "check_run.html_url")
        see = f"; see {where}" if isinstance(where, str) and where else ""
        return f"check run {_get(body, 'check_run.name')!r} of {app} has no job log{see}"
    if source is Source.GITHUB and event == "workflow_run":
        return "the workflow run did not start (startup_failure): no job ran, so there is no log"
    return f"a {source.value} {kind} event names no job"


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

"""What to do about an incident: the actions a remediator plans for it, from its category and the
event that reported it. The policy then decides whether each is carried out.

Today one rule: a CI job that failed for a transient reason (its surroundings, not its code) is
worth running again. Fix proposals with a patch become pull or merge requests when an operator
asks (`recoverops.remediation.pull_requests`); the watched Kubernetes and AWS sources will plan
their own kinds here; a failure RecoverOps does not know how to fix plans nothing and stays with
a person.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from recoverops.remediation.model import ActionSpec, System
from recoverops.store import StoredIncident
from recoverops.taxonomy import Category

# Failures that a rerun often clears: the job did nothing wrong, its surroundings did.
TRANSIENT = frozenset({Category.DEPLOY_NETWORK, Category.DEPLOY_RESOURCES, Category.INFRA_INSTANCE})
_JENKINS_JOB = re.compile(r"^(?:job/[^/]+/)+$")


def plan_for(
    incident: StoredIncident, *, payload: Mapping[str, Any] | None, system: System
) -> list[ActionSpec]:
    """The actions worth planning for `incident`, reported by an event with `payload` (the stored
    webhook: {"failure", "target", "body"})."""
    if incident.category not in TRANSIENT:
        return []
    body = (payload or {}).get("body")
    if not isinstance(body, Mapping):
        return []
    params = _rerun(system, body)
    if params is None:
        return []
    kind = {
        System.GITHUB: "github.rerun_failed_jobs",
        System.GITLAB: "gitlab.retry_job",
        System.JENKINS: "jenkins.rebuild",
    }[system]
    reason = f"{incident.category.value} is transient: run the job again"
    return [ActionSpec(kind=kind, params=params, reason=reason, incident_id=incident.id)]


def _rerun(system: System, body: Mapping[str, Any]) -> dict[str, Any] | None:
    if system is System.GITHUB:
        job, repo = body.get("workflow_job"), body.get("repository")
        if not isinstance(job, Mapping) or not isinstance(repo, Mapping):
            return None
        owner = (repo.get("owner") or {}).get("login")
        if not (isinstance(job.get("run_id"), int) and owner and repo.get("name")):
            return None
        return {"owner": owner, "repo": repo["name"], "run_id": job["run_id"]}
    if system is System.GITLAB:
        project, job_id = body.get("project_id"), body.get("build_id")
        if not isinstance(project, int) or not isinstance(job_id, int):
            return None
        return {"project": str(project), "job_id": job_id}
    if system is System.JENKINS:
        url, build = body.get("url"), body.get("build")
        if (
            not isinstance(url, str)
            or not _JENKINS_JOB.match(url)
            or not isinstance(build, Mapping)
        ):
            return None
        number = build.get("number")
        if not isinstance(number, int):
            return None
        job = "/".join(url.strip("/").split("/")[1::2])  # job/a/job/b/ → a/b
        return {"job": job, "build": number}
    return None

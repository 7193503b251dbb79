"""CI: run a failed job again — GitHub Actions (re-run the run's failed jobs), GitLab CI (retry
the job), Jenkins (the same build again, with its parameters).

A re-run changes nothing that could be undone, so none has an inverse; its validation is the new
attempt finishing green (a red one fails the validation at once, escalating the incident).

Opening a pull or merge request with a proposed fix is a change of another sort (a patch, a
branch, a review: nothing runs until a person merges it), asked for by an operator:
`recoverops.remediation.pull_requests`, not an action kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import Field

from recoverops.remediation.kind import ActionContext, ActionParams
from recoverops.remediation.model import Health, Risk, Snapshot, System

_NAME = r"^[A-Za-z0-9_.\-]{1,100}$"


class RunParams(ActionParams):
    owner: str = Field(pattern=_NAME)
    repo: str = Field(pattern=_NAME)
    run_id: int = Field(gt=0)

    def target(self) -> str:
        return f"github:{self.owner}/{self.repo}/actions/runs/{self.run_id}"


class GitHubRerunFailedJobs:
    kind: ClassVar[str] = "github.rerun_failed_jobs"
    system: ClassVar[System] = System.GITHUB
    risk: ClassVar[Risk] = Risk.LOW
    params: ClassVar[type[ActionParams]] = RunParams
    validate_within: ClassVar[float] = 3600.0
    sensitive: ClassVar[bool] = False

    def snapshot(self, ctx: ActionContext, params: RunParams) -> Snapshot:
        run = self._run(ctx, params)
        state = {k: run.get(k) for k in ("run_attempt", "status", "conclusion", "head_sha")}
        return Snapshot(state, inverse=None)

    def apply(self, ctx: ActionContext, params: RunParams, *, key: str) -> Mapping[str, Any]:
        path = f"repos/{params.owner}/{params.repo}/actions/runs/{params.run_id}/rerun-failed-jobs"
        response = ctx.clients.http(System.GITHUB).post(path, json={"enable_debug_logging": False})
        response.raise_for_status()
        return {"status": response.status_code}

    def check(
        self,
        ctx: ActionContext,
        params: RunParams,
        snapshot: Snapshot,
        applied: Mapping[str, Any] | None,
    ) -> Health:
        run = self._run(ctx, params)
        before = int(snapshot.state.get("run_attempt") or 0)
        attempt = int(run.get("run_attempt") or 0)
        if attempt <= before:
            return Health.waiting(f"run {params.run_id}: attempt {attempt}, no new attempt yet")
        return _verdict(
            f"run {params.run_id} attempt {attempt}",
            finished=run.get("status") == "completed",
            result=run.get("conclusion"),
            green={"success"},
        )

    @staticmethod
    def _run(ctx: ActionContext, params: RunParams) -> dict[str, Any]:
        path = f"repos/{params.owner}/{params.repo}/actions/runs/{params.run_id}"
        response = ctx.clients.http(System.GITHUB).get(path)
        response.raise_for_status()
        run: dict[str, Any] = response.json()
        return run


class JobParams(ActionParams):
    project: str = Field(min_length=1, max_length=255)  # the numeric id or "group/project"
    job_id: int = Field(gt=0)

    def target(self) -> str:
        return f"gitlab:{self.project}/jobs/{self.job_id}"

    def base(self) -> str:
        return f"projects/{quote(self.project, safe='')}"


class GitLabRetryJob:
    kind: ClassVar[str] = "gitlab.retry_job"
    system: ClassVar[System] = System.GITLAB
    risk: ClassVar[Risk] = Risk.LOW
    params: ClassVar[type[ActionParams]] = JobParams
    validate_within: ClassVar[float] = 3600.0
    sensitive: ClassVar[bool] = False

    def snapshot(self, ctx: ActionContext, params: JobParams) -> Snapshot:
        job = self._job(ctx, params, params.job_id)
        pipeline = (job.get("pipeline") or {}).get("id")
        state = {"status": job.get("status"), "name": job.get("name"), "pipeline_id": pipeline}
        return Snapshot(state, inverse=None)

    def apply(self, ctx: ActionContext, params: JobParams, *, key: str) -> Mapping[str, Any]:
        response = ctx.clients.http(System.GITLAB).post(
            f"{params.base()}/jobs/{params.job_id}/retry"
        )
        response.raise_for_status()
        job = response.json()
        return {"job_id": job["id"], "status": job.get("status")}

    def check(
        self,
        ctx: ActionContext,
        params: JobParams,
        snapshot: Snapshot,
        applied: Mapping[str, Any] | None,
    ) -> Health:
        new_id = (applied or {}).get("job_id") or self._newer_job(ctx, params, snapshot)
        if new_id is None:
            return Health.waiting(f"no retry of job {params.job_id} found")
        job = self._job(ctx, params, int(new_id))
        return _verdict(
            f"job {new_id}",
            finished=job.get("status") in ("success", "failed", "canceled", "skipped"),
            result=job.get("status"),
            green={"success"},
        )

    @staticmethod
    def _job(ctx: ActionContext, params: JobParams, job_id: int) -> dict[str, Any]:
        response = ctx.clients.http(System.GITLAB).get(f"{params.base()}/jobs/{job_id}")
        response.raise_for_status()
        job: dict[str, Any] = response.json()
        return job

    @staticmethod
    def _newer_job(ctx: ActionContext, params: JobParams, snapshot: Snapshot) -> int | None:
        """The retry of a job whose retry call went unrecorded: the newest job of the same name
        in the same pipeline."""
        pipeline = snapshot.state.get("pipeline_id")
        if pipeline is None:
            return None
        path = f"{params.base()}/pipelines/{pipeline}/jobs"
        response = ctx.clients.http(System.GITLAB).get(path, params={"include_retried": "true"})
        response.raise_for_status()
        same = [
            int(j["id"])
            for j in response.json()
            if j.get("name") == snapshot.state.get("name") and int(j["id"]) > params.job_id
        ]
        return max(same) if same else None


class BuildParams(ActionParams):
    job: str = Field(pattern=r"^[A-Za-z0-9_.\- ]+(/[A-Za-z0-9_.\- ]+)*$")  # "folder/name"
    build: int = Field(gt=0)

    def target(self) -> str:
        return f"jenkins:{self.job}#{self.build}"

    def job_path(self) -> str:
        return "".join(f"job/{quote(part)}/" for part in self.job.split("/"))


class JenkinsRebuild:
    kind: ClassVar[str] = "jenkins.rebuild"
    system: ClassVar[System] = System.JENKINS
    risk: ClassVar[Risk] = Risk.LOW
    params: ClassVar[type[ActionParams]] = BuildParams
    validate_within: ClassVar[float] = 3600.0
    sensitive: ClassVar[bool] = False

    def snapshot(self, ctx: ActionContext, params: BuildParams) -> Snapshot:
        build = self._get(ctx, f"{params.job_path()}{params.build}/api/json")
        # Older Jenkins versions leave out `_class`: an action with parameters is the one.
        parameters = {
            str(p["name"]): _form_value(p.get("value"))
            for action in build.get("actions", [])
            if isinstance(action, dict) and isinstance(action.get("parameters"), list)
            for p in action["parameters"]
            if isinstance(p, dict) and "name" in p
        }
        state = {"result": build.get("result"), "parameters": parameters}
        return Snapshot(state, inverse=None)

    def apply(self, ctx: ActionContext, params: BuildParams, *, key: str) -> Mapping[str, Any]:
        snapshot = self.snapshot(ctx, params)
        parameters = snapshot.state["parameters"]
        client = ctx.clients.http(System.JENKINS)
        if parameters:
            response = client.post(f"{params.job_path()}buildWithParameters", data=parameters)
        else:
            response = client.post(f"{params.job_path()}build")
        response.raise_for_status()
        return {"queue_item": response.headers.get("Location")}

    def check(
        self,
        ctx: ActionContext,
        params: BuildParams,
        snapshot: Snapshot,
        applied: Mapping[str, Any] | None,
    ) -> Health:
        number = self._new_build(ctx, params, (applied or {}).get("queue_item"))
        if number is None:
            return Health.waiting(f"{params.job}: the rebuild has not started")
        build = self._get(ctx, f"{params.job_path()}{number}/api/json")
        return _verdict(
            f"{params.job} #{number}",
            finished=not build.get("building", True),
            result=build.get("result"),
            green={"SUCCESS"},
        )

    def _new_build(
        self, ctx: ActionContext, params: BuildParams, queue_item: str | None
    ) -> int | None:
        if queue_item:  # Jenkins' own absolute URL of the queue item
            item = self._get(ctx, f"{queue_item.rstrip('/')}/api/json")
            executable = item.get("executable") or {}
            number = executable.get("number")
            return int(number) if number is not None else None
        # The rebuild call went unrecorded (a resumed action): the job's newest build, if newer.
        job = self._get(ctx, f"{params.job_path()}api/json")
        last = (job.get("lastBuild") or {}).get("number")
        return int(last) if last is not None and int(last) > params.build else None

    @staticmethod
    def _get(ctx: ActionContext, path: str) -> dict[str, Any]:
        response = ctx.clients.http(System.JENKINS).get(path)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body


def _form_value(value: Any) -> str:
    """A build parameter as Jenkins' form takes it back (booleans lower case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _verdict(what: str, *, finished: bool, result: Any, green: set[str]) -> Health:
    if not finished:
        return Health.waiting(f"{what} is running")
    if result in green:
        return Health.healthy(f"{what} passed")
    return Health.failed(f"{what} finished {result}")

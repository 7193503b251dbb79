"""Which CI runs deploy: the rule, in one place.

| source  | event                          | a deploy when                                     |
|---------|--------------------------------|---------------------------------------------------|
| github  | `deployment`                   | always (status `started`)                         |
| github  | `deployment_status`            | always (its `state`)                              |
| github  | `workflow_job`, `workflow_run` | the workflow's, job's or a step's name says so,   |
|         |                                | or the job comes with a deployment (environment)  |
| gitlab  | `deployment`                   | always (its `status`)                             |
| gitlab  | job (`build`)                  | it starts an environment, or its name or stage    |
|         |                                | says deploy                                       |
| jenkins | build                          | the job's path says deploy                        |

"Says deploy" is `DEPLOY_WORDS`: deploy, rollout, helm, `kubectl apply`, `kubectl rollout`,
`kubectl set image`, argocd/flux sync, skaffold. A release or a publish is not a deploy (it
pushes a package, not a running workload).

A run is one marker however many deliveries report it (`key`): a job that starts and then
completes updates its marker's status; GitHub's job and run events of one run share it.
The marker keeps the names the deployed workload may go by (`hints`): the repository and its
last part, the environment, the job's name without its deploy words, images named in the
payload. `matching` compares those with a failure's identity.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from recoverops.store.records import DeployDescription

DEPLOY_WORDS = re.compile(
    r"\bdeploy(?:s|ed|ing|ment)?\b|\broll[- ]?out\b|\bhelm\b"
    r"|\bkubectl\s+(?:apply|rollout|set\s+image)|\bargo(?:cd)?\s+(?:app\s+)?sync\b|\bflux\s+reconcile\b|\bskaffold\s+(?:run|deploy)\b",
    re.IGNORECASE,
)
# Words stripped from a job's name to leave what it deployed ("deploy-shop" → "shop").
_NOISE = re.compile(
    r"\b(?:deploy(?:s|ed|ing|ment)?|roll[- ]?out|helm|kubectl|apply|upgrade|install|to|the"
    r"|prod(?:uction)?|staging|stage|dev|job|pipeline|workflow|cd|ci)\b",
    re.IGNORECASE,
)
_IMAGE = re.compile(r"^[\w.-]+(?::\d+)?/[\w./-]+(?::[\w.-]+|@sha256:[0-9a-f]{64})?$")
_GITLAB_DEPLOY_ACTIONS = frozenset({"start", ""})


@dataclass(frozen=True, slots=True)
class Deploy(DeployDescription):
    """A CI run that deployed. `status` is the CI's word (success, failure, in_progress, …)."""

    source: str
    key: str
    repository: str
    name: str
    environment: str
    status: str
    why: str
    hints: tuple[str, ...]
    at: datetime


def says_deploy(*texts: object) -> str | None:
    """The first of `texts` that names a deploy, or None."""
    for text in texts:
        if isinstance(text, str) and DEPLOY_WORDS.search(text):
            return text
    return None


def recognise(source: str, kind: str, body: Mapping[str, Any], *, at: datetime) -> Deploy | None:
    """The deploy this delivery reports, or None; `at` is when it was received (the payload's
    own time is preferred where it has one)."""
    reader = _READERS.get(source)
    return None if reader is None else reader(kind, body, at)


def _github(kind: str, body: Mapping[str, Any], at: datetime) -> Deploy | None:
    event = kind.split(".", 1)[0]
    repository = _str(body, "repository.full_name")
    if event in ("deployment", "deployment_status"):
        deployment = _get(body, "deployment")
        if not isinstance(deployment, Mapping):
            return None
        status = (
            _str(body, "deployment_status.state") if event == "deployment_status" else "started"
        )
        environment = _str(deployment, "environment")
        name = _str(deployment, "task") or "deploy"
        return Deploy(
            source="github",
            key=f"{repository}:deployment:{_get(deployment, 'id')}",
            repository=repository,
            name=name,
            environment=environment,
            status=status or "unknown",
            why=f"a GitHub {event} event",
            hints=_hints(repository, environment, name, *_images(deployment.get("payload"))),
            at=_time(_get(deployment, "created_at")) or at,
        )
    if event not in ("workflow_job", "workflow_run"):
        return None
    obj = _get(body, event)
    if not isinstance(obj, Mapping):
        return None
    workflow = _str(obj, "workflow_name") if event == "workflow_job" else _str(obj, "name")
    job = _str(obj, "name") if event == "workflow_job" else ""
    steps = [_str(s, "name") for s in obj.get("steps") or [] if isinstance(s, Mapping)]
    # A job with an environment comes with the deployment GitHub made for it.
    deployment = _get(body, "deployment")
    environment = _str(deployment, "environment") if isinstance(deployment, Mapping) else ""
    said = says_deploy(workflow, job, *steps)
    if said is None and not environment:
        return None
    what = f"names a deploy: {said!r}" if said else f"deploys to environment {environment!r}"
    run = _get(obj, "run_id") if event == "workflow_job" else _get(obj, "id")
    status = _str(obj, "conclusion") or _str(obj, "status")
    return Deploy(
        source="github",
        key=f"{repository}:run:{run}",
        repository=repository,
        name=" / ".join(part for part in (workflow, job) if part),
        environment=environment,
        status=status or "unknown",
        why=f"the {'job' if event == 'workflow_job' else 'workflow'} {what}",
        hints=_hints(repository, environment, workflow, job),
        at=_time(_get(obj, "started_at") or _get(obj, "run_started_at")) or at,
    )


def _gitlab(kind: str, body: Mapping[str, Any], at: datetime) -> Deploy | None:
    repository = _str(body, "project.path_with_namespace") or _str(body, "project_name")
    if kind == "deployment":
        environment = _str(body, "environment")
        return Deploy(
            source="gitlab",
            # The deployment's job: its job event and its deployment event are one marker.
            key=f"{repository}:job:{_get(body, 'deployable_id')}",
            repository=repository,
            name=f"deployment {_get(body, 'deployment_id')}",
            environment=environment,
            status=_str(body, "status") or "unknown",
            why="a GitLab deployment event",
            hints=_hints(repository, environment),
            at=_time(_get(body, "status_changed_at")) or at,
        )
    if kind != "job":
        return None
    environment = _get(body, "environment")
    env_name = _str(environment, "name") if isinstance(environment, Mapping) else ""
    action = _str(environment, "action") if isinstance(environment, Mapping) else ""
    name, stage = _str(body, "build_name"), _str(body, "build_stage")
    if env_name and action in _GITLAB_DEPLOY_ACTIONS:
        why = f"the job starts environment {env_name!r}"
    else:
        said = says_deploy(name, stage)
        if said is None:
            return None
        why = f"the job names a deploy: {said!r}"
    return Deploy(
        source="gitlab",
        key=f"{repository}:job:{_get(body, 'build_id')}",
        repository=repository,
        name=f"{stage}/{name}",
        environment=env_name,
        status=_str(body, "build_status") or "unknown",
        why=why,
        hints=_hints(repository, env_name, name),
        at=_time(_get(body, "build_started_at")) or at,
    )


def _jenkins(kind: str, body: Mapping[str, Any], at: datetime) -> Deploy | None:
    del kind  # every Jenkins delivery is a build phase
    name = _str(body, "name")
    job = _job_path(_str(body, "url")) or name
    said = says_deploy(job, name)
    if said is None:
        return None
    repository = _repository_of(_str(body, "build.scm.url")) or job
    parameters = _get(body, "build.parameters")
    images = _images(parameters) if isinstance(parameters, Mapping) else ()
    status = _str(body, "build.status") or _str(body, "build.phase")
    return Deploy(
        source="jenkins",
        key=f"{job}#{_get(body, 'build.number')}",
        repository=repository,
        name=job,
        environment="",
        status=status.lower() or "unknown",
        why=f"the job names a deploy: {said!r}",
        hints=_hints(repository, "", *job.split("/"), *images),
        at=at,
    )


_READERS = {"github": _github, "gitlab": _gitlab, "jenkins": _jenkins}


def _hints(repository: str, environment: str, *names: str) -> tuple[str, ...]:
    """The names a deployed workload may go by, lower-cased, without repeats."""
    found: list[str] = []
    if repository:
        found += [repository, repository.rsplit("/", 1)[-1]]
    for name in names:
        if _IMAGE.match(name):
            found.append(name)
            continue
        rest = re.sub(r"[\s_/:]+", " ", _NOISE.sub(" ", name)).strip(" -")
        rest = re.sub(r"\s*-\s*", "-", rest)
        if rest and " " not in rest:
            found.append(rest)
    if environment:
        found.append(f"env:{environment}")
    return tuple(dict.fromkeys(h.lower() for h in found if h))


def _images(value: Any) -> tuple[str, ...]:
    """Image references among a payload's values (a deployment payload, build parameters)."""
    if isinstance(value, Mapping):
        values: list[Any] = list(value.values())
    elif isinstance(value, list):
        values = [v.get("value") if isinstance(v, Mapping) else v for v in value]
    else:
        return ()
    return tuple(v for v in values if isinstance(v, str) and _IMAGE.match(v))


def _repository_of(url: str) -> str:
    """`https://github.com/acme/shop.git` or `git@host:acme/shop.git` → `acme/shop`."""
    found = re.search(r"[:/]([\w.-]+/[\w.-]+?)(?:\.git)?/?$", url)
    return found.group(1) if found else ""


def _job_path(url: str) -> str:
    parts = [part for part in url.strip("/").split("/") if part]
    if not parts or len(parts) % 2 or any(part != "job" for part in parts[0::2]):
        return ""
    return "/".join(parts[1::2])


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" UTC", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _get(document: Any, path: str) -> Any:
    value = document
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _str(document: Any, path: str) -> str:
    value = _get(document, path)
    return value if isinstance(value, str) else ""

"""CI re-runs: GitHub against Prism serving GitHub's OpenAPI description (the requests must pass
its validation), GitLab and Jenkins against recorded real responses (tests/fixtures/ci_api)."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from pydantic import SecretStr

from recoverops.incidents import IncidentStatus, Source
from recoverops.remediation.clients import Clients
from recoverops.remediation.engine import Engine
from recoverops.remediation.kinds import KINDS
from recoverops.remediation.model import ActionRecord, ActionSpec, ActionStatus
from recoverops.remediation.policy import parse_policy
from recoverops.settings import Settings
from recoverops.store import Store
from recoverops.taxonomy import Category
from tests.connectors.fake_server import Reply
from tests.remediation.prism_fixture import prism_url
from tests.remediation.recorded_server import RecordedServer, recorded_server

__all__ = ["prism_url"]

RECORDED = Path(__file__).parent.parent / "fixtures" / "ci_api"
AUTO = "version: 1\ndefault: auto\n"


def engine_for(settings: Settings) -> Iterator[Engine]:
    store = Store.open(settings)
    clients = Clients(settings)
    policy = parse_policy(AUTO, source="policy.yaml", known_kinds=KINDS)
    yield Engine(store, policy=policy, clients=clients, actor="remediator:ci", poll_s=0.05)
    clients.close()
    store.close()


def json_reply(name: str, status: int = 200) -> Reply:
    return Reply(status, (RECORDED / name).read_bytes(), {"Content-Type": "application/json"})


def carry_out(
    engine: Engine,
    kind: str,
    params: dict[str, object],
    *,
    within: float,
    incident_id: int | None = None,
) -> ActionRecord:
    spec = ActionSpec(kind=kind, params=params, validate_within=within, incident_id=incident_id)
    action, _ = engine.plan(spec, key=uuid.uuid4().hex)
    done = engine.run(action.id)
    assert done is not None
    return done


def calls(engine: Engine, action_id: int) -> list[tuple[str, int]]:
    return [
        (e.detail["operation"], e.detail["status"])
        for e in engine.actions.trail(action_id)
        if e.verb == "api.call"
    ]


@pytest.fixture
def github_engine(tmp_path: Path, prism_url: str) -> Iterator[Engine]:
    settings = Settings(
        home=tmp_path / "home",
        database_url=None,
        github_api_url=prism_url,
        github_token=SecretStr("ghp_remediation_test"),
    )
    yield from engine_for(settings)


def test_github_rerun_of_failed_jobs_follows_githubs_contract(github_engine: Engine) -> None:
    params = {"owner": "octo-org", "repo": "octo-repo", "run_id": 30433642}
    done = carry_out(github_engine, "github.rerun_failed_jobs", params, within=1.0)
    run = "/repos/octo-org/octo-repo/actions/runs/30433642"
    made = calls(github_engine, done.id)
    # Prism validates each request against GitHub's description: a wrong one is answered 4xx.
    assert (f"GET {run}", 200) in made
    assert (f"POST {run}/rerun-failed-jobs", 201) in made
    assert done.snapshot is not None and done.snapshot["state"]["run_attempt"] >= 1
    # Prism's example never shows a new attempt, so the validation times out; a re-run has no
    # inverse, so the action fails and goes to a person.
    assert done.status is ActionStatus.FAILED
    assert "no new attempt yet" in done.result["error"]
    assert done.result["rollback"] == "this action has no inverse"


@pytest.fixture
def gitlab() -> Iterator[RecordedServer]:
    with recorded_server() as server:
        server.route(
            "GET", "/api/v4/projects/1/jobs/8", json_reply("gitlab/gitlab-docs-get-job.json")
        )
        server.route(
            "POST",
            "/api/v4/projects/1/jobs/8/retry",
            json_reply("gitlab/gitlab-docs-retry-job.json", 201),
        )
        # The retried job as GitLab reports it: pending, then failed again.
        server.route(
            "GET",
            "/api/v4/projects/1/jobs/1",
            json_reply("gitlab/gitlab-docs-retry-job.json"),
            json_reply("gitlab/gitlab-docs-erase-job.json"),
        )
        yield server


def test_gitlab_retry_that_fails_again_escalates(tmp_path: Path, gitlab: RecordedServer) -> None:
    settings = Settings(
        home=tmp_path / "home",
        database_url=None,
        gitlab_url=gitlab.url,
        gitlab_token=SecretStr("glpat-remediation-test"),
    )
    for engine in engine_for(settings):
        store = Store.open(settings)
        upsert = store.upsert_incident(
            "fp-gitlab",
            target="foo/bar:rubocop",
            category=Category.DEPLOY_NETWORK,
            source=Source.GITLAB,
        )
        store.move_incident(upsert.incident.id, IncidentStatus.ANALYZED)
        done = carry_out(
            engine,
            "gitlab.retry_job",
            {"project": "1", "job_id": 8},
            within=10,
            incident_id=upsert.incident.id,
        )
        assert done.status is ActionStatus.FAILED
        assert done.result["applied"] == {"job_id": 1, "status": "pending"}
        assert done.result["error"] == "validation failed: job 1 finished failed"
        assert done.snapshot is not None and done.snapshot["state"] == {
            "status": "failed",
            "name": "rubocop",
            "pipeline_id": 6,
        }
        incident = store.get_incident(upsert.incident.id)
        assert incident is not None and incident.status is IncidentStatus.ESCALATED
        store.close()
    retry = [r for r in gitlab.requests if r.method == "POST"]
    assert [r.path for r in retry] == ["/api/v4/projects/1/jobs/8/retry"]
    assert retry[0].headers["private-token"] == "glpat-remediation-test"


@pytest.fixture
def jenkins() -> Iterator[RecordedServer]:
    with recorded_server() as server:
        server.route(
            "GET", "/job/fish/10/api/json", json_reply("jenkins/jenkins-rest-build-info.json")
        )
        server.route(
            "POST",
            "/job/fish/buildWithParameters",
            Reply(201, b"", {"Location": "{url}/queue/item/143/"}),
        )
        server.route(
            "GET",
            "/queue/item/143/api/json",
            json_reply("jenkins/jenkins-rest-queueItemRunning.json"),
        )
        server.route(
            "GET", "/job/fish/14/api/json", json_reply("jenkins/jenkins-rest-build-info.json")
        )
        yield server


def test_jenkins_rebuild_with_the_builds_parameters(
    tmp_path: Path, jenkins: RecordedServer
) -> None:
    settings = Settings(
        home=tmp_path / "home",
        database_url=None,
        jenkins_url=jenkins.url,
        jenkins_user="remediator",
        jenkins_token=SecretStr("jenkins-api-token"),
    )
    for engine in engine_for(settings):
        done = carry_out(engine, "jenkins.rebuild", {"job": "fish", "build": 10}, within=10)
        assert done.status is ActionStatus.SUCCEEDED, done.result
        assert done.result["health"] == "fish #14 passed"
        assert done.snapshot is not None
        assert done.snapshot["state"]["parameters"] == {"bear": "true", "fish": "salmon"}
    posted = [r for r in jenkins.requests if r.method == "POST"]
    assert len(posted) == 1 and posted[0].path == "/job/fish/buildWithParameters"
    assert parse_qs(posted[0].body.decode()) == {"bear": ["true"], "fish": ["salmon"]}
    expected = base64.b64encode(b"remediator:jenkins-api-token").decode()
    assert posted[0].headers["authorization"] == f"Basic {expected}"

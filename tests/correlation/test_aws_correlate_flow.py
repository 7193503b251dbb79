"""A deploy from CI and the AWS events of the service it deployed become one incident, through
the real flow: the GitHub webhook and EventBridge events delivered by SNS (signed with the
test's certificate) into the API over PostgreSQL, the detector's `process_event`, and the
incident read back from the API.

    deploy (shop/api, 3 min ago) ─► ECS task of service api stopped ─► one incident whose root
        cause names the deploy
    alarm on the ECS service servicetest ─► its own incident, no deploy
    ECS service web impaired, then its deploy's webhook (started a minute before) ─► linked late
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from recoverops.actors.process import process_event
from recoverops.connectors import JobRef, LogResult
from recoverops.correlation import CorrelationRules, Correlator
from recoverops.detector import analyze_text
from recoverops.queue import OutboxQueue
from recoverops.settings import Settings
from recoverops.store import Store
from tests.serve.harness import WEBHOOKS, Backend, github_headers, with_secrets
from tests.serve.sns_signer import TOPIC, FakeSnsHost, fake_sns_host

RULES = CorrelationRules(window=timedelta(minutes=15))
IMAGE = "111122223333.dkr.ecr.us-west-2.amazonaws.com/shop/api:1.4"


@pytest.fixture(scope="module")
def sns() -> Iterator[FakeSnsHost]:
    with fake_sns_host() as host:
        yield host


@pytest.fixture
def backend(postgresql_settings: Settings, sns: FakeSnsHost) -> Iterator[Backend]:
    settings = with_secrets(postgresql_settings).model_copy(
        update={
            "env": "development",
            "aws_sns_dev_cert_host": sns.host,
            "aws_sns_topic_arns": [TOPIC],
        }
    )
    store = Store.open(settings)
    yield Backend("postgresql+outbox", settings, store, OutboxQueue(store, name="events"))
    store.close()


@pytest.fixture
def api(backend: Backend) -> Iterator[TestClient]:
    with backend.client() as test_client:
        yield test_client


def no_fetch(ref: JobRef) -> LogResult:
    raise AssertionError(f"nothing is fetched for an AWS event or a passed deploy ({ref})")


def deploy_run(repository: str, *, started: datetime, run: int) -> dict[str, Any]:
    return {
        "action": "completed",
        "repository": {"full_name": repository},
        "workflow_run": {
            "id": run,
            "name": "Deploy",
            "path": ".github/workflows/deploy.yml",
            "status": "completed",
            "conclusion": "success",
            "run_started_at": started.isoformat().replace("+00:00", "Z"),
        },
    }


def deliver_deploy(api: TestClient, body: dict[str, Any], delivery: str) -> None:
    raw = json.dumps(body).encode()
    headers = github_headers("workflow_run", delivery, raw)
    answer = api.post("/webhooks/github", content=raw, headers=headers)
    assert answer.status_code == 202 and answer.json()["failure"] is False, answer.text


def aws_event(name: str, **changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((WEBHOOKS / "aws" / name).read_text("utf-8"))
    return {**document, **changes}


def deliver_aws(api: TestClient, sns: FakeSnsHost, event: dict[str, Any]) -> None:
    message = sns.notification(event)
    answer = api.post(
        "/webhooks/aws",
        content=json.dumps(message),
        headers={"Content-Type": "text/plain", "x-amz-sns-message-type": "Notification"},
    )
    assert answer.status_code == 202 and answer.json()["failure"] is True, answer.text


def drain(backend: Backend) -> list[int]:
    """Run the detector's step on everything queued; the incidents of what it processed."""
    incidents = []
    for message in backend.queue.claim("detector", limit=10):
        outcome = process_event(
            backend.store,
            message.payload["event_id"],
            fetch=no_fetch,
            analyze=analyze_text,
            correlator=Correlator(backend.store, RULES),
        )
        backend.queue.ack([message])
        assert outcome.incident_id is not None
        incidents.append(outcome.incident_id)
    return incidents


def incident(api: TestClient, incident_id: int) -> dict[str, Any]:
    answer = api.get(f"/incidents/{incident_id}")
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def api_task_stopped() -> dict[str, Any]:
    """The OOM task-stopped event, of a task of service `api` in cluster prod running IMAGE."""
    event = aws_event("ecs-task-stopped-oom.json", id="api-task-oom")
    detail = dict(event["detail"])
    detail["clusterArn"] = "arn:aws:ecs:us-west-2:111122223333:cluster/prod"
    detail["group"] = "service:api"
    detail["containers"] = [{**detail["containers"][0], "name": "api", "image": IMAGE}]
    return {**event, "detail": detail}


def test_a_deploy_then_a_stopped_task_of_its_service_is_one_incident(
    backend: Backend, api: TestClient, sns: FakeSnsHost
) -> None:
    started = datetime.now(UTC) - timedelta(minutes=3)
    deliver_deploy(api, deploy_run("shop/api", started=started, run=1), "d-api")
    assert backend.waiting() == 0  # a passed deploy is a marker, not a failure

    deliver_aws(api, sns, api_task_stopped())
    deliver_aws(api, sns, aws_event("cloudwatch-alarm-cpu.json"))  # ECS service servicetest
    api_task, other = drain(backend)
    assert api_task != other

    found = incident(api, api_task)
    assert found["target"] == "aws:ecs/prod/service:api"
    cause = found["analysis"]["root_cause"]
    assert cause["components"][0]["kind"] == "deploy"
    assert cause["deploy"]["repository"] == "shop/api"
    assert cause["explanation"].startswith(
        "Likely caused by github deploy 'Deploy' of shop/api (success, "
    )
    assert f"the workload runs image {IMAGE}, built from shop/api." in cause["explanation"]
    texts = [e["text"] for e in found["evidence"]]
    assert any("OutOfMemoryError" in t for t in texts)  # the task's side
    assert texts[-1].startswith("deploy: github deploy 'Deploy' of shop/api")
    assert [e["stage"] for e in found["timeline"]].count("correlated") == 1

    unrelated = incident(api, other)
    assert unrelated["target"] == "aws:alarm/ServiceCpuHigh"
    assert "correlation" not in unrelated["analysis"]
    assert all(e["stage"] != "correlated" for e in unrelated["timeline"])
    assert len(api.get("/incidents").json()["items"]) == 2


def test_a_deploy_whose_webhook_comes_after_the_service_event_is_linked_to_it(
    backend: Backend, api: TestClient, sns: FakeSnsHost
) -> None:
    impaired = aws_event(
        "ecs-service-start-impaired.json",
        resources=["arn:aws:ecs:us-west-2:111122223333:service/prod/web"],
    )
    deliver_aws(api, sns, impaired)
    (web,) = drain(backend)
    assert "correlation" not in incident(api, web)["analysis"]

    started = datetime.now(UTC) - timedelta(minutes=1)
    deliver_deploy(api, deploy_run("shop/web", started=started, run=2), "d-web")
    cause = incident(api, web)["analysis"]["root_cause"]
    assert cause["deploy"]["repository"] == "shop/web"
    assert "the workload is named 'web', as the deploy of shop/web" in cause["explanation"]

"""POST /webhooks/aws: EventBridge events delivered by SNS, signed by a certificate the test makes
and serves itself (RECOVEROPS_AWS_SNS_DEV_CERT_HOST, development only). Each event type the
route reads becomes an incident of its category through the real app, store and queue; messages
SNS did not sign, topics that are not ours and malformed bodies are refused."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from recoverops.actors.process import process_event
from recoverops.connectors import JobRef, LogResult
from recoverops.detector import analyze_text
from recoverops.serve.webhooks.sns import check_sns_url
from recoverops.settings import Settings
from recoverops.taxonomy import Category
from tests.serve.harness import WEBHOOKS, Backend, Response
from tests.serve.sns_signer import TOPIC, FakeSnsHost, fake_sns_host, self_signed

AWS = WEBHOOKS / "aws"


def event(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((AWS / name).read_text("utf-8"))
    return document


def no_fetch(ref: JobRef) -> LogResult:
    raise AssertionError(f"nothing is fetched for an AWS event ({ref})")


@pytest.fixture(scope="module")
def sns() -> Iterator[FakeSnsHost]:
    with fake_sns_host() as host:
        yield host


def trusting(backend: Backend, sns: FakeSnsHost, **update: Any) -> Backend:
    """The backend with settings that trust the test's SNS host and accept its topic."""
    settings = backend.settings.model_copy(
        update={
            "env": "development",
            "aws_sns_dev_cert_host": sns.host,
            "aws_sns_topic_arns": [TOPIC],
            **update,
        }
    )
    return dataclasses.replace(backend, settings=settings)


@pytest.fixture
def aws(sqlite_backend: Backend, sns: FakeSnsHost) -> Backend:
    return trusting(sqlite_backend, sns)


@pytest.fixture
def client(aws: Backend) -> Iterator[TestClient]:
    with aws.client() as opened:
        yield opened


def post(client: TestClient, message: dict[str, str] | str | bytes, **headers: str) -> Response:
    body = message if isinstance(message, str | bytes) else json.dumps(message)
    kind = json.loads(body).get("Type") if isinstance(message, dict) else None
    sent = {"Content-Type": "text/plain; charset=UTF-8", **headers}
    if kind and "x-amz-sns-message-type" not in sent:
        sent["x-amz-sns-message-type"] = kind
    return client.post("/webhooks/aws", content=body, headers=sent)


# What each event becomes: (file, event kind, incident target, category).
FAILURES = [
    (
        "ec2-instance-stopped.json",
        "ec2.state-change",
        "aws:ec2/i-1234567890abcdef0",
        Category.INFRA_INSTANCE,
    ),
    (
        "ecs-task-stopped-oom.json",
        "ecs.task-state-change",
        "aws:ecs/FargateCluster/service:sample-fargate",
        Category.INFRA_CONTAINER,
    ),
    (
        "ecs-task-stopped-cannot-pull.json",
        "ecs.task-state-change",
        "aws:ecs/FargateCluster/service:sample-fargate",
        Category.INFRA_CONTAINER,
    ),
    (
        "ecs-service-placement-failure.json",
        "ecs.service-action",
        "aws:ecs/default/service:servicetest",
        Category.DEPLOY_RESOURCES,
    ),
    (
        "ecs-service-start-impaired.json",
        "ecs.service-action",
        "aws:ecs/default/service:servicetest",
        Category.INFRA_CONTAINER,
    ),
    (
        "ecs-deployment-failed.json",
        "ecs.deployment-state-change",
        "aws:ecs/default/service:servicetest",
        Category.INFRA_CONTAINER,
    ),
    (
        "codebuild-build-timed-out.json",
        "codebuild.build-state-change",
        "aws:codebuild/my-sample-project",
        Category.DEPLOY_RESOURCES,
    ),
    (
        "codebuild-build-failed-buildspec.json",
        "codebuild.build-state-change",
        "aws:codebuild/my-sample-project",
        Category.DEPLOY_CONFIG,
    ),
    (
        "codedeploy-deployment-failure.json",
        "codedeploy.deployment-state-change",
        "aws:codedeploy/myApplication/myDeploymentGroup",
        Category.DEPLOY_CONFIG,
    ),
    (
        "codepipeline-execution-failed.json",
        "codepipeline.execution-state-change",
        "aws:codepipeline/myPipeline",
        Category.DEPLOY_CONFIG,
    ),
    (
        "cloudwatch-alarm-status-check.json",
        "cloudwatch.alarm-state-change",
        "aws:alarm/ServerStatusCheck",
        Category.INFRA_INSTANCE,
    ),
    (
        "cloudwatch-alarm-unhealthy-hosts.json",
        "cloudwatch.alarm-state-change",
        "aws:alarm/TargetsUnhealthy",
        Category.INFRA_LOAD_BALANCER,
    ),
    (
        "cloudwatch-alarm-cpu.json",
        "cloudwatch.alarm-state-change",
        "aws:alarm/ServiceCpuHigh",
        Category.DEPLOY_RESOURCES,
    ),
]


@pytest.mark.parametrize(("name", "kind", "target", "category"), FAILURES)
def test_each_event_type_becomes_an_incident_of_its_category(
    client: TestClient,
    aws: Backend,
    sns: FakeSnsHost,
    name: str,
    kind: str,
    target: str,
    category: Category,
) -> None:
    answer = post(client, sns.notification(event(name)))
    assert answer.status_code == 202, answer.text
    assert answer.json()["failure"] is True
    (message,) = aws.queue.claim("test", limit=10)
    assert message.payload["source"] == "aws" and message.payload["kind"] == kind
    outcome = process_event(
        aws.store, message.payload["event_id"], fetch=no_fetch, analyze=analyze_text
    )
    assert outcome.status == "stored" and outcome.incident_id is not None
    shown = client.get(f"/incidents/{outcome.incident_id}").json()
    assert (shown["target"], shown["category"]) == (target, category.value)


def test_the_same_event_twice_is_one_event_and_one_cause_one_incident(
    backend: Backend, sns: FakeSnsHost
) -> None:
    aws = trusting(backend, sns)
    oom = event("ecs-task-stopped-oom.json")
    again = {**oom, "id": "another-task-same-cause", "time": "2026-12-02T09:41:00Z"}
    with aws.client() as client:
        first = post(client, sns.notification(oom))
        redelivered = post(client, sns.notification(oom))  # SNS retries with a new MessageId
        second = post(client, sns.notification(again))
        assert first.json()["event_id"] == redelivered.json()["event_id"]
        assert redelivered.json()["redelivery"] is True
        assert second.json()["event_id"] != first.json()["event_id"]
        messages = aws.queue.claim("test", limit=10)
        assert len(messages) == 2
        outcomes = [
            process_event(aws.store, m.payload["event_id"], fetch=no_fetch, analyze=analyze_text)
            for m in messages
        ]
    assert outcomes[0].incident_id == outcomes[1].incident_id  # one service, one cause
    incident = aws.store.get_incident(outcomes[0].incident_id or 0)
    assert incident is not None and incident.occurrences == 2


@pytest.mark.parametrize(
    "name",
    ["ec2-instance-running.json", "ecs-task-stopped-scaling.json", "ecs-service-steady-state.json"],
)
def test_events_that_report_no_failure_are_stored_and_not_queued(
    client: TestClient, aws: Backend, sns: FakeSnsHost, name: str
) -> None:
    answer = post(client, sns.notification(event(name)))
    assert answer.status_code == 202 and answer.json()["failure"] is False
    assert aws.queue.depth().total == 0


def test_an_event_type_it_does_not_read_is_accepted_and_ignored_with_the_reason(
    client: TestClient, aws: Backend, sns: FakeSnsHost
) -> None:
    answer = post(client, sns.notification(event("cloudtrail-api-call.json")))
    assert answer.status_code == 202
    assert answer.json() == {
        "ignored": True,
        "event": "AWS API Call via CloudTrail",
        "reason": "RecoverOps reads no 'AWS API Call via CloudTrail' events",
    }
    assert aws.queue.depth().total == 0


@pytest.mark.parametrize("version", ["1", "2"])
def test_both_signature_versions_verify_and_certificates_are_fetched_once(
    aws: Backend, sns: FakeSnsHost, version: str
) -> None:
    with aws.client() as client:  # a new app: a new certificate cache
        before = sns.certificate_gets
        for _ in range(3):
            subject = {"Subject": "an EventBridge event"}
            answer = post(
                client,
                sns.notification(event("ec2-instance-running.json"), version=version, **subject),
            )
            assert answer.status_code == 202, answer.text
        assert sns.certificate_gets == before + 1


def test_a_message_changed_after_signing_is_refused(client: TestClient, sns: FakeSnsHost) -> None:
    message = sns.notification(event("ec2-instance-stopped.json"))
    message["Message"] = message["Message"].replace("stopped", "running")
    answer = post(client, message)
    assert answer.status_code == 401
    assert answer.json() == {
        "detail": "not signed by SNS: the signature does not match the message",
        "reason": "bad_signature",
    }


def test_a_message_signed_with_another_key_is_refused(client: TestClient, sns: FakeSnsHost) -> None:
    other, _ = self_signed()
    message = sns.notification(event("ec2-instance-stopped.json"))
    unsigned = {k: v for k, v in message.items() if k != "Signature"}
    forged = sns.sign(unsigned, key=other)
    assert post(client, forged).status_code == 401


@pytest.mark.parametrize(
    ("cert_url", "why"),
    [
        ("https://sns.us-east-1.amazonaws.com.evil.example/cert.pem", "is not sns.<region>"),
        ("https://evil.example/SimpleNotificationService-1.pem", "is not sns.<region>"),
        ("http://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem", "must be https"),
        ("https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-1.pem", "is not sns"),
    ],
)
def test_a_certificate_from_a_host_that_is_not_sns_is_refused_before_it_is_fetched(
    client: TestClient, sns: FakeSnsHost, cert_url: str, why: str
) -> None:
    before = sns.certificate_gets
    message = sns.notification(event("ec2-instance-stopped.json"), SigningCertURL=cert_url)
    answer = post(client, message)
    assert answer.status_code == 401 and why in answer.json()["detail"]
    assert sns.certificate_gets == before


def test_sns_hosts_of_every_region_and_china_are_trusted() -> None:
    for url in (
        "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-a.pem",
        "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-a.pem",
    ):
        check_sns_url(url, extra_host=None, what="SigningCertURL")


def test_an_unknown_signature_version_and_a_non_pem_url_are_refused(
    client: TestClient, sns: FakeSnsHost
) -> None:
    three = sns.notification(event("ec2-instance-stopped.json"), version="3")
    assert "SignatureVersion '3' is not 1 or 2" in post(client, three).json()["detail"]
    not_pem = sns.notification(
        event("ec2-instance-stopped.json"), SigningCertURL=f"http://{sns.host}/cert.txt"
    )
    assert "does not name a .pem" in post(client, not_pem).json()["detail"]


def test_a_subscription_is_confirmed_at_its_subscribe_url(
    client: TestClient, sns: FakeSnsHost
) -> None:
    message = sns.subscription()
    answer = post(client, message)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"ok": True, "type": "SubscriptionConfirmation", "topic": TOPIC}
    assert sns.confirmations[-1] == f"/confirm?Token={message['Token']}"


def test_a_subscribe_url_on_another_host_is_not_visited(
    client: TestClient, sns: FakeSnsHost
) -> None:
    confirmed = len(sns.confirmations)
    message = sns.subscription(SubscribeURL="https://attacker.example/confirm?Token=x")
    answer = post(client, message)
    assert answer.status_code == 401 and answer.json()["reason"] == "bad_subscribe_url"
    assert len(sns.confirmations) == confirmed


def test_an_unsubscribe_confirmation_is_acknowledged(client: TestClient, sns: FakeSnsHost) -> None:
    answer = post(client, sns.subscription("UnsubscribeConfirmation"))
    assert answer.status_code == 200
    assert answer.json()["type"] == "UnsubscribeConfirmation"


def test_a_topic_that_is_not_configured_is_refused(
    sqlite_backend: Backend, sns: FakeSnsHost
) -> None:
    other = trusting(sqlite_backend, sns, aws_sns_topic_arns=["arn:aws:sns:us-east-1:1:mine"])
    with other.client() as client:
        answer = post(client, sns.notification(event("ec2-instance-stopped.json")))
    assert answer.status_code == 403 and answer.json()["reason"] == "topic_not_accepted"
    production = dataclasses.replace(
        sqlite_backend, settings=sqlite_backend.settings.model_copy(update={"env": "production"})
    )
    with production.client() as client:
        answer = post(client, sns.notification(event("ec2-instance-stopped.json")))
    assert answer.status_code == 403 and answer.json()["reason"] == "no_topic_configured"


def test_the_development_certificate_host_is_refused_outside_development(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="refused unless RECOVEROPS_ENV=development"):
        Settings(home=tmp_path, aws_sns_dev_cert_host="127.0.0.1:8443")


@pytest.mark.parametrize(
    ("body", "headers", "status", "detail"),
    [
        ("not json", {}, 400, "body is not JSON"),
        ('["a list"]', {}, 400, "body is a JSON list, not an object"),
        ('{"Type": "Bogus"}', {}, 400, "field Type must be one of"),
        ('{"Type": "Notification"}', {}, 400, "missing field Message (a string)"),
        ("{}", {"Content-Type": "application/xml"}, 415, ""),
    ],
)
def test_malformed_bodies_are_refused_with_the_reason(
    client: TestClient, body: str, headers: dict[str, str], status: int, detail: str
) -> None:
    answer = post(client, body, **headers)
    assert answer.status_code == status
    assert detail in answer.json()["detail"]


def test_a_message_type_header_that_contradicts_the_body_is_refused(
    client: TestClient, sns: FakeSnsHost
) -> None:
    message = sns.notification(event("ec2-instance-stopped.json"))
    answer = post(client, message, **{"x-amz-sns-message-type": "SubscriptionConfirmation"})
    assert answer.status_code == 400 and "x-amz-sns-message-type says" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("inner", "detail"),
    [
        ("not an event", "the SNS Message is not an EventBridge event: body is not JSON"),
        (json.dumps({"id": "1", "source": "aws.ec2"}), "missing field detail-type"),
        (
            json.dumps(
                {
                    "id": "1",
                    "source": "aws.ec2",
                    "detail-type": "EC2 Instance State-change Notification",
                    "detail": {"state": "stopped"},
                }
            ),
            "missing field instance-id",
        ),
    ],
)
def test_a_notification_that_carries_no_readable_event_is_refused(
    client: TestClient, sns: FakeSnsHost, inner: str, detail: str
) -> None:
    message = sns.sign(
        {
            "Type": "Notification",
            "MessageId": "m-1",
            "TopicArn": TOPIC,
            "Message": inner,
            "Timestamp": "2026-12-02T10:00:00.000Z",
        }
    )
    answer = post(client, message)
    assert answer.status_code == 400 and detail in answer.json()["detail"]


def test_a_certificate_the_sns_host_does_not_serve_now_is_a_503_to_retry(
    client: TestClient, sns: FakeSnsHost
) -> None:
    message = sns.notification(
        event("ec2-instance-stopped.json"), SigningCertURL=f"http://{sns.host}/gone.pem"
    )
    answer = post(client, message)
    assert answer.status_code == 503
    assert answer.json()["detail"] == (
        "the signing certificate could not be fetched (HTTPStatusError); retry"
    )

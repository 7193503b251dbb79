"""The workload each AWS event names, as it is stored with the failure for correlation
(`webhooks.aws.identity`): an ECS service with its cluster and images, an alarm's workload
dimension, a CodeDeploy deployment group; nothing for an event that names no workload."""

from __future__ import annotations

import json
from typing import Any

import pytest

from recoverops.serve.webhooks import aws
from recoverops.serve.webhooks.base import Delivery
from tests.serve.harness import WEBHOOKS

HELLO = "111122223333.dkr.ecr.us-west-2.amazonaws.com/hello-repository:latest"


def event(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((WEBHOOKS / "aws" / name).read_text("utf-8"))
    return document


def stored_identity(document: dict[str, Any]) -> Any:
    read = aws.delivery(document)
    assert isinstance(read, Delivery) and read.failure
    return read.stored_payload().get("identity")


def identity(
    workload: str, namespace: str = "", labels: dict[str, str] | None = None, images: Any = ()
) -> dict[str, Any]:
    return {
        "workload": workload,
        "namespace": namespace,
        "labels": labels or {},
        "images": list(images),
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ecs-task-stopped-oom.json", identity("sample-fargate", "FargateCluster", images=[HELLO])),
        ("ecs-service-placement-failure.json", identity("servicetest", "default")),
        ("ecs-deployment-failed.json", identity("servicetest", "default")),
        ("cloudwatch-alarm-cpu.json", identity("servicetest", "default")),
        ("cloudwatch-alarm-unhealthy-hosts.json", identity("my-targets")),
        (
            "codedeploy-deployment-failure.json",
            identity("myDeploymentGroup", "myApplication", {"app": "myApplication"}),
        ),
        ("cloudwatch-alarm-status-check.json", None),  # an instance: no workload
        ("ec2-instance-stopped.json", None),
        ("codebuild-build-timed-out.json", None),  # a CI build, not a workload
        ("codepipeline-execution-failed.json", None),
    ],
)
def test_each_event_stores_the_workload_it_names(name: str, expected: Any) -> None:
    assert stored_identity(event(name)) == expected


def alarm_on(dimensions: dict[str, str]) -> dict[str, Any]:
    document = event("cloudwatch-alarm-cpu.json")
    metric = document["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]
    metric["dimensions"] = dimensions
    return document


@pytest.mark.parametrize(
    ("dimensions", "expected"),
    [
        ({"FunctionName": "resize", "Resource": "resize:live"}, identity("resize")),
        ({"AutoScalingGroupName": "web-asg"}, identity("web-asg")),
        ({"QueueName": "orders"}, None),
        ({}, None),
    ],
)
def test_an_alarm_names_its_function_or_group_and_nothing_else(
    dimensions: dict[str, str], expected: Any
) -> None:
    assert stored_identity(alarm_on(dimensions)) == expected


def test_a_task_run_on_its_own_names_no_service() -> None:
    document = event("ecs-task-stopped-oom.json")
    document["detail"]["group"] = "family:nightly-report"
    assert stored_identity(document) is None


def test_an_event_that_reports_no_failure_stores_no_identity() -> None:
    read = aws.delivery(event("ecs-service-steady-state.json"))
    assert isinstance(read, Delivery) and not read.failure
    assert "identity" not in read.stored_payload()

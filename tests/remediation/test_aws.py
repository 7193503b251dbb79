"""Every AWS action against moto's server: applied, validated, and rolled back (by its inverse,
or by the engine when the apply fails), with each AWS call in the audit trail."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from recoverops.remediation.clients import Clients
from recoverops.remediation.engine import Engine
from recoverops.remediation.kinds import KINDS
from recoverops.remediation.model import ActionRecord, ActionSpec, ActionStatus
from recoverops.remediation.policy import parse_policy
from recoverops.settings import Settings
from recoverops.store import Store
from tests.remediation.moto_fixture import moto_url

__all__ = ["moto_url"]

POLICY = """\
version: 1
default: auto
rules:
  - name: iam-by-name-only
    kinds: ["iam.attach_role_policy"]
    targets: ["aws:iam:role/allowed-*"]
    effect: auto
"""


@pytest.fixture
def settings(tmp_path: Path, moto_url: str) -> Settings:
    return Settings(home=tmp_path / "home", database_url=None, aws_endpoint_url=moto_url)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    store = Store.open(settings)
    clients = Clients(settings)
    yield Engine(
        store,
        policy=parse_policy(POLICY, source="policy.yaml", known_kinds=KINDS),
        clients=clients,
        actor="remediator:aws",
        poll_s=0.05,
    )
    clients.close()
    store.close()


@pytest.fixture
def aws(moto_url: str) -> Any:
    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=moto_url, region_name="us-east-1")

    return client


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def carry_out(
    engine: Engine, kind: str, params: dict[str, Any], *, within: float = 30
) -> ActionRecord:
    action, _ = engine.plan(
        ActionSpec(kind=kind, params=params, validate_within=within), key=unique(kind)
    )
    done = engine.run(action.id)
    assert done is not None
    return done


def calls(engine: Engine, action_id: int) -> list[str]:
    return [e.detail["operation"] for e in engine.actions.trail(action_id) if e.verb == "api.call"]


def instance(aws: Any) -> str:
    # Any image id will do for moto (listing its catalogue of images takes half a minute).
    launched = aws("ec2").run_instances(ImageId="ami-0123456789abcdef0", MinCount=1, MaxCount=1)
    return str(launched["Instances"][0]["InstanceId"])


def test_ec2_reboot(engine: Engine, aws: Any) -> None:
    instance_id = instance(aws)
    done = carry_out(engine, "ec2.reboot", {"instance_id": instance_id})
    assert done.status is ActionStatus.SUCCEEDED, done.result
    assert done.result["health"] == f"{instance_id} running, status checks ok"
    assert done.snapshot is not None and done.snapshot["state"]["state"] == "running"
    assert "ec2.RebootInstances" in calls(engine, done.id)


def test_ec2_stop_start(engine: Engine, aws: Any) -> None:
    instance_id = instance(aws)
    done = carry_out(engine, "ec2.stop_start", {"instance_id": instance_id})
    assert done.status is ActionStatus.SUCCEEDED, done.result
    made = calls(engine, done.id)
    assert made.index("ec2.StopInstances") < made.index("ec2.StartInstances")
    state = aws("ec2").describe_instances(InstanceIds=[instance_id])["Reservations"][0][
        "Instances"
    ][0]["State"]
    assert state["Name"] == "running"


def test_ec2_recover_puts_the_recovery_alarm_and_its_rollback_removes_it(
    engine: Engine, aws: Any
) -> None:
    instance_id = instance(aws)
    done = carry_out(engine, "ec2.recover", {"instance_id": instance_id})
    assert done.status is ActionStatus.SUCCEEDED, done.result
    alarms = aws("cloudwatch").describe_alarms(AlarmNames=[f"recoverops-recover-{instance_id}"])[
        "MetricAlarms"
    ]
    assert alarms[0]["AlarmActions"] == ["arn:aws:automate:us-east-1:ec2:recover"]
    undone = engine.rollback(done.id, operator="alice")
    assert undone.status is ActionStatus.ROLLED_BACK
    assert (
        aws("cloudwatch").describe_alarms(AlarmNames=[f"recoverops-recover-{instance_id}"])[
            "MetricAlarms"
        ]
        == []
    )


def ecs_service(aws: Any, *, revisions: int) -> tuple[str, str, list[str]]:
    ecs = aws("ecs")
    cluster, service, family = unique("cluster"), unique("svc"), unique("family")
    ecs.create_cluster(clusterName=cluster)
    arns = [
        ecs.register_task_definition(
            family=family,
            containerDefinitions=[
                {"name": "app", "image": f"registry.example/app:{n}", "memory": 256}
            ],
        )["taskDefinition"]["taskDefinitionArn"]
        for n in range(1, revisions + 1)
    ]
    ecs.create_service(
        cluster=cluster, serviceName=service, taskDefinition=arns[-1], desiredCount=1
    )
    return cluster, service, arns


def test_ecs_force_new_deployment(engine: Engine, aws: Any) -> None:
    cluster, service, arns = ecs_service(aws, revisions=1)
    done = carry_out(engine, "ecs.force_deployment", {"cluster": cluster, "service": service})
    assert done.status is ActionStatus.SUCCEEDED, done.result
    assert "ecs.UpdateService" in calls(engine, done.id)
    assert done.snapshot is not None and done.snapshot["state"]["task_definition"] == arns[0]


def test_ecs_task_definition_rollback_and_its_inverse(engine: Engine, aws: Any) -> None:
    cluster, service, arns = ecs_service(aws, revisions=3)
    done = carry_out(
        engine, "ecs.rollback_task_definition", {"cluster": cluster, "service": service}
    )
    assert done.status is ActionStatus.SUCCEEDED, done.result
    running = aws("ecs").describe_services(cluster=cluster, services=[service])["services"][0][
        "taskDefinition"
    ]
    assert running == arns[1]  # the revision before the third
    undone = engine.rollback(done.id, operator="alice")
    assert undone.status is ActionStatus.ROLLED_BACK
    running = aws("ecs").describe_services(cluster=cluster, services=[service])["services"][0][
        "taskDefinition"
    ]
    assert running == arns[2]


def test_an_ecs_apply_that_fails_is_rolled_back_to_the_snapshot(engine: Engine, aws: Any) -> None:
    cluster, service, arns = ecs_service(aws, revisions=2)
    params = {"cluster": cluster, "service": service, "task_definition": "no-such-family:9"}
    done = carry_out(engine, "ecs.rollback_task_definition", params)
    assert done.status is ActionStatus.ROLLED_BACK
    assert done.result["error"].startswith("apply failed: ClientException")
    assert "UpdateService" in done.result["error"]
    running = aws("ecs").describe_services(cluster=cluster, services=[service])["services"][0][
        "taskDefinition"
    ]
    assert running == arns[1]


def lambda_function(aws: Any, *, versions: int = 0) -> str:
    role = aws("iam").create_role(
        RoleName=unique("lambda-role"),
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    name = unique("fn")
    lam = aws("lambda")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": _zip("def handler(event, context):\n    return 1\n")},
        MemorySize=128,
        Timeout=3,
    )
    for n in range(versions):
        lam.update_function_code(
            FunctionName=name, ZipFile=_zip(f"def handler(e, c):\n    return {n}\n")
        )
        lam.publish_version(FunctionName=name)
    return name


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def test_lambda_configuration_and_its_inverse(engine: Engine, aws: Any) -> None:
    name = lambda_function(aws)
    params = {
        "function_name": name,
        "memory_size": 512,
        "timeout": 30,
        "environment": {"MODE": "safe"},
    }
    done = carry_out(engine, "lambda.update_configuration", params)
    assert done.status is ActionStatus.SUCCEEDED, done.result
    config = aws("lambda").get_function_configuration(FunctionName=name)
    assert (config["MemorySize"], config["Timeout"], config["Environment"]["Variables"]) == (
        512,
        30,
        {"MODE": "safe"},
    )
    assert engine.rollback(done.id, operator="alice").status is ActionStatus.ROLLED_BACK
    config = aws("lambda").get_function_configuration(FunctionName=name)
    assert (config["MemorySize"], config["Timeout"]) == (128, 3)
    assert (config.get("Environment") or {}).get("Variables", {}) == {}


def test_lambda_reserved_concurrency_and_its_inverse(engine: Engine, aws: Any) -> None:
    name = lambda_function(aws)
    done = carry_out(engine, "lambda.reserved_concurrency", {"function_name": name, "reserved": 5})
    assert done.status is ActionStatus.SUCCEEDED, done.result
    assert (
        aws("lambda").get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"]
        == 5
    )
    assert engine.rollback(done.id, operator="alice").status is ActionStatus.ROLLED_BACK
    assert "ReservedConcurrentExecutions" not in aws("lambda").get_function_concurrency(
        FunctionName=name
    )


def test_lambda_alias_goes_back_to_the_previous_version_and_forward_again(
    engine: Engine, aws: Any
) -> None:
    name = lambda_function(aws, versions=3)
    aws("lambda").create_alias(FunctionName=name, Name="live", FunctionVersion="3")
    done = carry_out(engine, "lambda.alias_rollback", {"function_name": name, "alias": "live"})
    assert done.status is ActionStatus.SUCCEEDED, done.result
    assert aws("lambda").get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "2"
    assert done.target == f"aws:lambda:{name}:live"
    assert engine.rollback(done.id, operator="alice").status is ActionStatus.ROLLED_BACK
    assert aws("lambda").get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "3"


PUBLIC = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Public",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::BUCKET/*",
        }
    ],
}


def test_s3_bucket_policy_repair_and_its_inverse(engine: Engine, aws: Any) -> None:
    bucket = unique("assets")
    s3 = aws("s3")
    s3.create_bucket(Bucket=bucket)
    public = json.loads(json.dumps(PUBLIC).replace("BUCKET", bucket))
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(public))
    repaired = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TLSOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
    done = carry_out(engine, "s3.repair_bucket_policy", {"bucket": bucket, "policy": repaired})
    assert done.status is ActionStatus.SUCCEEDED, done.result
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == repaired
    assert engine.rollback(done.id, operator="alice").status is ActionStatus.ROLLED_BACK
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == public


def iam_role(aws: Any, prefix: str) -> tuple[str, str]:
    iam = aws("iam")
    role = unique(prefix)
    iam.create_role(
        RoleName=role,
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )
    arn = iam.create_policy(
        PolicyName=unique("deploy"),
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "ecs:UpdateService", "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]
    return role, arn


def test_iam_is_only_proposed_unless_a_rule_names_it(engine: Engine, aws: Any) -> None:
    role, arn = iam_role(aws, "deployer")
    action, _ = engine.plan(
        ActionSpec(kind="iam.attach_role_policy", params={"role": role, "policy_arn": arn}),
        key=unique("k"),
    )
    assert action.status is ActionStatus.PROPOSED
    assert engine.run(action.id) is None
    assert aws("iam").list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []


def test_iam_attach_when_the_policy_names_it_and_its_inverse(engine: Engine, aws: Any) -> None:
    role, arn = iam_role(aws, "allowed-deployer")
    done = carry_out(engine, "iam.attach_role_policy", {"role": role, "policy_arn": arn})
    assert done.status is ActionStatus.SUCCEEDED, done.result
    attached = aws("iam").list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [arn]
    assert engine.rollback(done.id, operator="alice").status is ActionStatus.ROLLED_BACK
    assert aws("iam").list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []

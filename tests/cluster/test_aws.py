"""The AWS option: the CloudFormation template is cfn-lint clean and creates its stack on moto's
server (ECS cluster, task definition, service, roles, log group, security group), and the
standalone ECS task definition registers there and describes the same task."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.cluster.manifests import CLUSTER, cloudformation
from tests.remediation.moto_fixture import moto_url

__all__ = ["moto_url"]

TEMPLATE = CLUSTER / "aws" / "recoverops.yaml"
TASK = CLUSTER / "aws" / "task-definition.json"
REGION = "us-east-1"
# The dev extras' cfn-lint, beside this Python.
CFN_LINT = str(Path(sys.executable).parent / "cfn-lint")


def cfn_lint(template: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CFN_LINT, "--regions", REGION, "eu-west-1", "--", str(template)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_the_template_is_cfn_lint_clean() -> None:
    done = cfn_lint(TEMPLATE)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_cfn_lint_finds_a_broken_template(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(TEMPLATE.read_text().replace("LaunchType: FARGATE", "LaunchType: FARGTE"))
    done = cfn_lint(broken)
    assert done.returncode != 0 and "FARGTE" in done.stdout


def client(service: str, url: str) -> Any:
    return boto3.client(service, endpoint_url=url, region_name=REGION)


@pytest.fixture(scope="module")
def stack(moto_url: str) -> dict[str, str]:
    """The stack created on moto with every optional part on; its outputs."""
    ec2 = client("ec2", moto_url)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{n}.0/24")["Subnet"]["SubnetId"]
        for n in (1, 2)
    ]
    secrets = client("secretsmanager", moto_url)

    def secret(name: str, value: str) -> str:
        arn: str = secrets.create_secret(Name=name, SecretString=value)["ARN"]
        return arn

    parameters = {
        "VpcId": vpc,
        "SubnetIds": ",".join(subnets),
        "DatabaseUrlSecretArn": secret("db", "postgresql+psycopg://u:p@db:5432/recoverops"),
        "RedisUrlSecretArn": secret("redis", "redis://cache:6379/0"),
        "GitHubTokenSecretArn": secret("gh-token", "ghp_example"),
        "GitHubWebhookSecretArn": secret("gh-hook", "hook-secret"),
        "MlflowUri": "http://mlflow.internal:5000",
        "AllowIamRemediation": "true",
    }
    cloud = client("cloudformation", moto_url)
    cloud.create_stack(
        StackName="recoverops",
        TemplateBody=TEMPLATE.read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    (described,) = cloud.describe_stacks(StackName="recoverops")["Stacks"]
    assert described["StackStatus"] == "CREATE_COMPLETE", described.get("StackStatusReason")
    return {output["OutputKey"]: output["OutputValue"] for output in described["Outputs"]}


def test_the_stack_creates_its_resources(moto_url: str, stack: dict[str, str]) -> None:
    cloud = client("cloudformation", moto_url)
    created = {
        resource["LogicalResourceId"]: resource["ResourceStatus"]
        for resource in cloud.describe_stack_resources(StackName="recoverops")["StackResources"]
    }
    assert set(created) == set(cloudformation(TEMPLATE)["Resources"])
    assert set(created.values()) == {"CREATE_COMPLETE"}
    ecs = client("ecs", moto_url)
    (service,) = ecs.describe_services(
        cluster=stack["ClusterName"], services=[stack["ServiceName"]]
    )["services"]
    # moto's CloudFormation model of a service keeps its count, not its launch type.
    assert service["desiredCount"] == 1 and service["status"] == "ACTIVE"
    logs = client("logs", moto_url).describe_log_groups(logGroupNamePrefix="/recoverops/")
    assert [group["logGroupName"] for group in logs["logGroups"]] == [stack["LogGroupName"]]


def container(definition: dict[str, Any]) -> dict[str, Any]:
    """What must agree between the two forms of the task's container; ARNs and the region may
    differ."""
    (app,) = definition["containerDefinitions"]
    return {
        "family": definition["family"],
        "name": app["name"],
        "image": app["image"],
        "command": app["command"],
        "ports": sorted(port["containerPort"] for port in app["portMappings"]),
        "environment": sorted(variable["name"] for variable in app["environment"]),
        "secrets": sorted(secret["name"] for secret in app["secrets"]),
        "healthCheck": app["healthCheck"]["command"],
        "logDriver": app["logConfiguration"]["logDriver"],
    }


def test_the_task_definition_file_is_the_templates_task(
    moto_url: str, stack: dict[str, str]
) -> None:
    ecs = client("ecs", moto_url)
    from_stack = ecs.describe_task_definition(taskDefinition=stack["TaskDefinitionArn"])
    registered = ecs.register_task_definition(**json.loads(TASK.read_text()))
    assert container(registered["taskDefinition"]) == container(from_stack["taskDefinition"])
    # moto's CloudFormation model of a task definition keeps its containers only: the task's
    # own settings are compared with the template's.
    task = json.loads(TASK.read_text())
    properties = cloudformation(TEMPLATE)["Resources"]["TaskDefinition"]["Properties"]
    defaults = cloudformation(TEMPLATE)["Parameters"]
    assert task["cpu"] == str(defaults["Cpu"]["Default"])
    assert task["memory"] == str(defaults["Memory"]["Default"])
    assert task["networkMode"] == properties["NetworkMode"]
    assert task["requiresCompatibilities"] == properties["RequiresCompatibilities"]

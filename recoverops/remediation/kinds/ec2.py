"""EC2: reboot, stop-start (a new host), and automatic recovery by a CloudWatch alarm.

A reboot and a stop-start cannot be undone; their validation is the instance running with both
status checks passing. `ec2.recover` puts (or removes) the alarm whose action is EC2's own
recovery (`arn:aws:automate:REGION:ec2:recover`) on the system status check; its inverse puts
back what was there.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field

from recoverops.remediation.kind import ActionContext, ActionParams
from recoverops.remediation.model import Health, Inverse, Risk, Snapshot, System

INSTANCE_ID = r"^i-[0-9a-f]{8,17}$"
STOP_WAIT_S = 600.0
STOP_POLL_S = 2.0


class InstanceParams(ActionParams):
    instance_id: str = Field(pattern=INSTANCE_ID)

    def target(self) -> str:
        return f"aws:ec2:{self.instance_id}"


def _instance(ctx: ActionContext, instance_id: str) -> dict[str, Any]:
    answer = ctx.clients.aws("ec2").describe_instances(InstanceIds=[instance_id])
    for reservation in answer.get("Reservations", []):
        for instance in reservation.get("Instances", []):
            return dict(instance)
    raise LookupError(f"no instance {instance_id}")


def _state(ctx: ActionContext, instance_id: str) -> Mapping[str, Any]:
    instance = _instance(ctx, instance_id)
    return {
        "state": instance["State"]["Name"],
        "instance_type": instance.get("InstanceType"),
        "launch_time": str(instance.get("LaunchTime", "")),
    }


def instance_health(ctx: ActionContext, instance_id: str) -> Health:
    """Running with the instance and system status checks passing."""
    answer = ctx.clients.aws("ec2").describe_instance_status(
        InstanceIds=[instance_id], IncludeAllInstances=True
    )
    statuses = answer.get("InstanceStatuses", [])
    if not statuses:
        return Health.waiting(f"{instance_id}: no status yet")
    status = statuses[0]
    state = status["InstanceState"]["Name"]
    checks = (status["InstanceStatus"]["Status"], status["SystemStatus"]["Status"])
    if state == "running" and all(check == "ok" for check in checks):
        return Health.healthy(f"{instance_id} running, status checks ok")
    if state in ("terminated", "shutting-down"):
        return Health.failed(f"{instance_id} is {state}")
    return Health.waiting(f"{instance_id} {state}, status checks {checks[0]}/{checks[1]}")


class Reboot:
    kind: ClassVar[str] = "ec2.reboot"
    system: ClassVar[System] = System.AWS
    risk: ClassVar[Risk] = Risk.MEDIUM
    params: ClassVar[type[ActionParams]] = InstanceParams
    validate_within: ClassVar[float] = 600.0
    sensitive: ClassVar[bool] = False

    def snapshot(self, ctx: ActionContext, params: InstanceParams) -> Snapshot:
        return Snapshot(_state(ctx, params.instance_id), inverse=None)

    def apply(self, ctx: ActionContext, params: InstanceParams, *, key: str) -> Mapping[str, Any]:
        ctx.clients.aws("ec2").reboot_instances(InstanceIds=[params.instance_id])
        return {"rebooted": params.instance_id}

    def check(
        self,
        ctx: ActionContext,
        params: InstanceParams,
        snapshot: Snapshot,
        applied: Mapping[str, Any] | None,
    ) -> Health:
        return instance_health(ctx, params.instance_id)


class StopStart:
    """Stop, wait until stopped, start: the instance comes back on another host (the fix for a
    failed system status check on EBS-backed instances)."""

    kind: ClassVar[str] = "ec2.stop_start"
    system: ClassVar[System] = System.AWS
    risk: ClassVar[Risk] = Risk.HIGH
    params: ClassVar[type[ActionParams]] = InstanceParams
    validate_within: ClassVar[float] = 900.0
    sensitive: ClassVar[bool] = False

    def snapshot(self, ctx: ActionContext, params: InstanceParams) -> Snapshot:
        return Snapshot(_state(ctx, params.instance_id), inverse=None)

    def apply(self, ctx: ActionContext, params: InstanceParams, *, key: str) -> Mapping[str, Any]:
        ec2 = ctx.clients.aws("ec2")
        ec2.stop_instances(InstanceIds=[params.instance_id])
        deadline = time.monotonic() + STOP_WAIT_S
        while (state := _instance(ctx, params.instance_id)["State"]["Name"]) != "stopped":
            if time.monotonic() > deadline:
                raise TimeoutError(f"{params.instance_id} still {state} after {STOP_WAIT_S:g}s")
            time.sleep(STOP_POLL_S)
        ec2.start_instances(InstanceIds=[params.instance_id])
        return {"stopped_and_started": params.instance_id}

    def check(
        self,
        ctx: ActionContext,
        params: InstanceParams,
        snapshot: Snapshot,
        applied: Mapping[str, Any] | None,
    ) -> Health:
        return instance_health(ctx, params.instance_id)


class RecoverParams(InstanceParams):
    enable: bool = True


def alarm_name(instance_id: str) -> str:
    return f"recoverops-recover-{instance_id}"


class Recover:
    kind: ClassVar[str] = "ec2.recover"
    system: ClassVar[System] = System.AWS
    risk: ClassVar[Risk] = Risk.LOW
    params: ClassVar[type[ActionParams]] = RecoverParams
    validate_within: ClassVar[float] = 300.0
    sensitive: ClassVar[bool] = False

    def snapshot(self, ctx: ActionContext, params: RecoverParams) -> Snapshot:
        had = self._alarm(ctx, params.instance_id) is not None
        state = {**_state(ctx, params.instance_id), "recover_alarm": had}
        inverse = None
        if had != params.enable:
            inverse = Inverse(self.kind, {"instance_id": params.instance_id, "enable": had})
        return Snapshot(state, inverse)

    def apply(self, ctx: ActionContext, params: RecoverParams, *, key: str) -> Mapping[str, Any]:
        cloudwatch = ctx.clients.aws("cloudwatch")
        name = alarm_name(params.instance_id)
        if not params.enable:
            cloudwatch.delete_alarms(AlarmNames=[name])
            return {"alarm_deleted": name}
        region = ctx.clients.aws("ec2").meta.region_name
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            AlarmDescription=f"EC2 recovery of {params.instance_id} (RecoverOps {key})",
            Namespace="AWS/EC2",
            MetricName="StatusCheckFailed_System",
            Dimensions=[{"Name": "InstanceId", "Value": params.instance_id}],
            Statistic="Maximum",
            Period=60,
            EvaluationPeriods=2,
            Threshold=0.0,
            ComparisonOperator="GreaterThanThreshold",
            AlarmActions=[f"arn:aws:automate:{region}:ec2:recover"],
        )
        return {"alarm": name}

    def check(
        self,
        ctx: ActionContext,
        params: RecoverParams,
        snapshot: Snapshot,
        applied: Mapping[str, Any] | None,
    ) -> Health:
        alarm = self._alarm(ctx, params.instance_id)
        if params.enable and alarm is None:
            return Health.waiting(f"no recovery alarm on {params.instance_id} yet")
        if not params.enable:
            return (
                Health.healthy(f"recovery alarm of {params.instance_id} removed")
                if alarm is None
                else Health.waiting("the recovery alarm is still there")
            )
        return instance_health(ctx, params.instance_id)

    @staticmethod
    def _alarm(ctx: ActionContext, instance_id: str) -> dict[str, Any] | None:
        answer = ctx.clients.aws("cloudwatch").describe_alarms(AlarmNames=[alarm_name(instance_id)])
        alarms = answer.get("MetricAlarms", [])
        return dict(alarms[0]) if alarms else None

"""IAM: attach (or detach) a managed policy to a role, the fix for an AccessDenied of a deploy
identity. Sensitive: only proposed to people unless a policy rule names `iam.attach_role_policy`
exactly (a wildcard rule never lets RecoverOps change permissions)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field

from recoverops.remediation.kind import ActionContext, ActionParams
from recoverops.remediation.model import Health, Inverse, Risk, Snapshot, System


class RolePolicyParams(ActionParams):
    role: str = Field(pattern=r"^[\w+=,.@\-]{1,64}$")
    policy_arn: str = Field(pattern=r"^arn:aws[a-z\-]*:iam::(aws|\d{12}):policy/.+$")
    detach: bool = False

    def target(self) -> str:
        return f"aws:iam:role/{self.role}"


def attached(ctx: ActionContext, role: str) -> list[str]:
    arns: list[str] = []
    paginator = ctx.clients.aws("iam").get_paginator("list_attached_role_policies")
    for page in paginator.paginate(RoleName=role):
        arns += [p["PolicyArn"] for p in page["AttachedPolicies"]]
    return arns


class AttachRolePolicy:
    kind: ClassVar[str] = "iam.attach_role_policy"
    system: ClassVar[System] = System.AWS
    risk: ClassVar[Risk] = Risk.HIGH
    params: ClassVar[type[ActionParams]] = RolePolicyParams
    validate_within: ClassVar[float] = 60.0
    sensitive: ClassVar[bool] = True

    def snapshot(self, ctx: ActionContext, params: RolePolicyParams) -> Snapshot:
        before = attached(ctx, params.role)
        was_attached = params.policy_arn in before
        inverse = None
        if was_attached != (not params.detach):
            inverse = Inverse(
                self.kind,
                {"role": params.role, "policy_arn": params.policy_arn, "detach": not was_attached},
            )
        return Snapshot({"attached": before}, inverse)

    def apply(self, ctx: ActionContext, params: RolePolicyParams, *, key: str) -> Mapping[str, Any]:
        iam = ctx.clients.aws("iam")
        if params.detach:
            iam.detach_role_policy(RoleName=params.role, PolicyArn=params.policy_arn)
        else:
            iam.attach_role_policy(RoleName=params.role, PolicyArn=params.policy_arn)
        return {"detached" if params.detach else "attached": params.policy_arn}

    def check(
        self,
        ctx: ActionContext,
        params: RolePolicyParams,
        snapshot: Snapshot,
        applied: Mapping[str, Any] | None,
    ) -> Health:
        present = params.policy_arn in attached(ctx, params.role)
        done = "detached" if params.detach else "attached"
        if present == (not params.detach):
            return Health.healthy(f"{params.role}: {params.policy_arn} {done}")
        return Health.waiting(f"{params.role}: {params.policy_arn} not yet {done}")

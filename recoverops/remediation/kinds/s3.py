"""S3: repair a bucket policy by putting a known-good document (or removing the policy).

The snapshot keeps the policy as it was (or that there was none), and the inverse puts exactly
that back. The validation reads the policy back and compares documents, not strings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field, field_validator

from recoverops.remediation.kind import ActionContext, ActionParams
from recoverops.remediation.model import Health, Inverse, Risk, Snapshot, System


class BucketPolicyParams(ActionParams):
    bucket: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
    # The whole policy document to put; None removes the bucket's policy.
    policy: dict[str, Any] | None

    @field_validator("policy")
    @classmethod
    def is_a_policy(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and not isinstance(value.get("Statement"), list):
            raise ValueError("a bucket policy needs a 'Statement' list")
        return value

    def target(self) -> str:
        return f"aws:s3:{self.bucket}"


def bucket_policy(ctx: ActionContext, bucket: str) -> dict[str, Any] | None:
    s3 = ctx.clients.aws("s3")
    try:
        raw = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except s3.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchBucketPolicy":
            return None
        raise
    document: dict[str, Any] = json.loads(raw)
    return document


class RepairBucketPolicy:
    kind: ClassVar[str] = "s3.repair_bucket_policy"
    system: ClassVar[System] = System.AWS
    risk: ClassVar[Risk] = Risk.HIGH
    params: ClassVar[type[ActionParams]] = BucketPolicyParams
    validate_within: ClassVar[float] = 60.0
    sensitive: ClassVar[bool] = False

    def snapshot(self, ctx: ActionContext, params: BucketPolicyParams) -> Snapshot:
        before = bucket_policy(ctx, params.bucket)
        inverse = Inverse(self.kind, {"bucket": params.bucket, "policy": before})
        return Snapshot({"policy": before}, inverse)

    def apply(
        self, ctx: ActionContext, params: BucketPolicyParams, *, key: str
    ) -> Mapping[str, Any]:
        s3 = ctx.clients.aws("s3")
        if params.policy is None:
            s3.delete_bucket_policy(Bucket=params.bucket)
            return {"policy": None}
        s3.put_bucket_policy(Bucket=params.bucket, Policy=json.dumps(params.policy))
        return {"statements": len(params.policy["Statement"])}

    def check(
        self,
        ctx: ActionContext,
        params: BucketPolicyParams,
        snapshot: Snapshot,
        applied: Mapping[str, Any] | None,
    ) -> Health:
        now = bucket_policy(ctx, params.bucket)
        if now != params.policy:
            return Health.waiting(f"{params.bucket}'s policy is not the one put yet")
        what = "no policy" if now is None else f"{len(now['Statement'])} statements"
        return Health.healthy(f"{params.bucket} has the repaired policy ({what})")

"""The one table of action kinds: a new kind is one module here and one line below."""

from __future__ import annotations

from collections.abc import Mapping

from recoverops.remediation.kind import ActionKind
from recoverops.remediation.kinds import awslambda, ci, ec2, ecs, iam, kubernetes, s3

KINDS: Mapping[str, ActionKind] = {
    kind.kind: kind
    for kind in (
        kubernetes.RolloutRestart(),
        kubernetes.Scale(),
        kubernetes.SetResources(),
        kubernetes.Rollback(),
        kubernetes.DeletePod(),
        kubernetes.CordonNode(),
        kubernetes.UncordonNode(),
        ec2.Reboot(),
        ec2.StopStart(),
        ec2.Recover(),
        ecs.ForceDeployment(),
        ecs.RollbackTaskDefinition(),
        awslambda.UpdateConfiguration(),
        awslambda.ReservedConcurrency(),
        awslambda.AliasRollback(),
        s3.RepairBucketPolicy(),
        iam.AttachRolePolicy(),
        ci.GitHubRerunFailedJobs(),
        ci.GitLabRetryJob(),
        ci.JenkinsRebuild(),
        # Pull and merge requests with a proposed fix come with the fix proposals (see ci.py).
    )
}

__all__ = ["KINDS"]

"""Watching sources: systems RecoverOps watches itself, rather than being called by (webhooks).

Each turns what it sees into stored, queued failure events (`sink`) that the detectors analyze
like a CI delivery, and keeps its position in the store so that a restart resumes:

- `kubernetes`: pods, events, Jobs and nodes of one cluster (`RECOVEROPS_KUBECONFIG`).
- `cloudwatch`: CloudWatch Logs groups, their lines that match a filter pattern
  (`RECOVEROPS_AWS_LOG_GROUPS`).

AWS events are pushed instead (EventBridge → SNS → `POST /webhooks/aws`, `serve/webhooks/aws/`).

A failure names its workload (`WatchedFailure.identity`), which is what a CI deploy of it is
matched by (`recoverops.correlation`); lines no known cause covers go to the source's anomaly
model (`recoverops.anomaly`), which reports new error templates and bursts as failures too.
"""

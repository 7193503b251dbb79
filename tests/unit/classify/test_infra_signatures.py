"""The rules alone recognise real infra failures: instances, containers, databases, load balancers.

Each case is a real message as a tool or cloud documents it (the source is named beside it) or as a
dev-side corpus text prints it (`bench/corpus_quality.py --list-dev`), with the prefixes real logs
put in front. `word_model=False`: the catalogue must carry these without the learned fallback.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from recoverops.detector import analyze_text


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    category: str
    # A fragment of the line that must lead the evidence, where the point is which line leads.
    lead: str | None = None


CASES = (
    # ---- infra.instance ----------------------------------------------------------------------
    Case(
        "github-runner-lost",  # GitHub Actions docs, self-hosted runner troubleshooting
        "The self-hosted runner: build-7 lost communication with the server. Verify the machine "
        "is running and has a healthy network connection.",
        "infra.instance",
    ),
    Case(
        "azure-os-provisioning-timed-out",  # Azure VM error codes (dev: azure-portal-...)
        "Provisioning failed. OS Provisioning for VM 'vm1' did not finish in the allotted time. "
        "The VM may still finish provisioning successfully. Please check provisioning state "
        "later.. OSProvisioningTimedOut",
        "infra.instance",
    ),
    Case(
        "eks-node-creation-failure",  # EKS node group health issues (dev: terraform-eks-...)
        "Error: error waiting for EKS Node Group (prod:workers) creation: NodeCreationFailure: "
        "Instances failed to join the kubernetes cluster. Resource IDs: [i-0b06c566c8c8f87d7]",
        "infra.instance",
    ),
    Case(
        "gke-nodes-not-registered",  # GKE cluster creation error as gcloud/Terraform print it
        "Error: Error waiting for creating GKE NodePool: All cluster resources were brought up, "
        "but: only 0 nodes out of 1 have registered; cluster may be unhealthy.",
        "infra.instance",
    ),
    Case(
        "node-stopped-posting-status",  # kubectl describe node, Kubernetes node docs
        "Conditions:\n"
        "  Type             Status    LastHeartbeatTime                 Reason              "
        "Message\n"
        "  ----             ------    -----------------                 ------              "
        "-------\n"
        "  Ready            Unknown   Mon, 01 Jan 2024 10:00:00 +0000   NodeStatusUnknown   "
        "Kubelet stopped posting node status.",
        "infra.instance",
    ),
    Case(
        "boto3-waiter-instance-running",  # dev: boto3-wait-until-running-terminal-failure
        "botocore.exceptions.WaiterError: Waiter InstanceRunning failed: Waiter encountered a "
        "terminal failure state",
        "infra.instance",
    ),
    Case(
        "gce-spot-preempted",  # gcloud compute operations list (dev: gcloud-operations-...)
        "NAME                          TYPE                         TARGET"
        "                          HTTP_STATUS  STATUS\n"
        "systemevent-1746631209934     compute.instances.preempted  us-central1-a/instances/vm-1"
        "  200          DONE",
        "infra.instance",
    ),
    Case(
        "ansible-unreachable",  # Ansible docs: a host that cannot be reached over SSH
        'fatal: [web1]: UNREACHABLE! => {"changed": false, "msg": "Failed to connect to the host '
        'via ssh: ssh: connect to host 10.0.0.5 port 22: Connection timed out", '
        '"unreachable": true}',
        "infra.instance",
    ),
    # ---- infra.container ---------------------------------------------------------------------
    Case(
        "runc-exec-format-error",  # dev: docker-run-rpi-exec-format-error
        'standard_init_linux.go:178: exec user process caused "exec format error"',
        "infra.container",
    ),
    Case(
        "exec-format-error-over-crashloop",  # the cause leads, not the CrashLoopBackOff row
        "NAME                   READY   STATUS             RESTARTS      AGE\n"
        "web-7d9f8c6b5-x2x4z    0/1     CrashLoopBackOff   5 (2m ago)    8m\n"
        "$ kubectl logs web-7d9f8c6b5-x2x4z\n"
        "exec /usr/local/bin/docker-entrypoint.sh: exec format error",
        "infra.container",
        lead="exec format error",
    ),
    Case(
        "cloud-run-failed-to-listen",  # Cloud Run troubleshooting docs
        "ERROR: (gcloud.run.deploy) Revision 'web-00002-abc' is not ready and cannot serve "
        "traffic. Container failed to start. Failed to start and then listen on the port defined "
        "by the PORT environment variable.",
        "infra.container",
    ),
    Case(
        "ecs-essential-container-exited",  # ECS stopped task errors docs
        "stoppedReason: Essential container in task exited",
        "infra.container",
    ),
    Case(
        "liveness-probe-failed",  # Kubernetes probes docs, kubectl describe pod events
        "  Warning  Unhealthy  10s (x3 over 30s)  kubelet  Liveness probe failed: HTTP probe "
        "failed with statuscode: 500",
        "infra.container",
    ),
    Case(
        "image-tag-not-found",  # a tag that does not exist: the container's image, not the registry
        '  Warning  Failed     10s   kubelet  Failed to pull image "nginx:1.99": rpc error: code = '
        'NotFound desc = failed to pull and unpack image "docker.io/library/nginx:1.99": failed '
        'to resolve reference "docker.io/library/nginx:1.99": docker.io/library/nginx:1.99: not '
        "found\n"
        "  Warning  Failed     10s   kubelet  Error: ErrImagePull",
        "infra.container",
    ),
    Case(
        "compose-service-exited",  # docker compose up output
        "Attaching to api-1, db-1\napi-1  | panic: runtime error\napi-1 exited with code 2",
        "infra.container",
    ),
    # ---- infra.database ----------------------------------------------------------------------
    Case(
        "postgres-deadlock",  # PostgreSQL server log
        "ERROR:  deadlock detected\n"
        "DETAIL:  Process 1234 waits for ShareLock on transaction 5678; blocked by process 4321.",
        "infra.database",
    ),
    Case(
        "mysql-deadlock-go",  # dev: gorm-mysql-error-1213-deadlock
        "[2019-10-22 14:04:56]  Error 1213: Deadlock found when trying to get lock; try "
        "restarting transaction",
        "infra.database",
    ),
    Case(
        "alembic-duplicate-table",  # dev: alembic-upgrade-duplicate-table-asyncpg
        "INFO  [alembic.runtime.migration] Running upgrade 47433d30de82 -> 6d387b3196c2, Basic "
        "Auth\n"
        "Traceback (most recent call last):\n"
        '  File "asyncpg/protocol/protocol.pyx", line 201, in bind_execute\n'
        'asyncpg.exceptions.DuplicateTableError: relation "user" already exists',
        "infra.database",
    ),
    Case(
        "postgres-not-yet-accepting",  # PostgreSQL 15+ startup message
        "FATAL:  the database system is not yet accepting connections",
        "infra.database",
    ),
    Case(
        "node-postgres-refused-on-5432",  # node-postgres: the database's port says which service
        "Error: connect ECONNREFUSED 127.0.0.1:5432\n    at TCPConnectWrap.afterConnect "
        "[as oncomplete] (node:net:1494:16)",
        "infra.database",
    ),
    Case(
        "postgres-wal-disk-full",  # the database's own disk, over the generic disk-full rule
        'PANIC:  could not write to file "pg_wal/xlogtemp.123": No space left on device',
        "infra.database",
    ),
    Case(
        "sqlserver-odbc-login-timeout",  # Microsoft ODBC driver through pyodbc
        "pyodbc.OperationalError: ('HYT00', '[HYT00] [Microsoft][ODBC Driver 17 for SQL Server]"
        "Login timeout expired (0) (SQLDriverConnect)')",
        "infra.database",
    ),
    Case(
        "dynamodb-throughput",  # DynamoDB error reference
        "An error occurred (ProvisionedThroughputExceededException) when calling the PutItem "
        "operation: The level of configured provisioned throughput for the table was exceeded.",
        "infra.database",
    ),
    # ---- infra.load_balancer -----------------------------------------------------------------
    Case(
        "envoy-upstream-connect-error",  # Envoy / Istio response body
        "upstream connect error or disconnect/reset before headers. reset reason: connection "
        "failure",
        "infra.load_balancer",
    ),
    Case(
        "google-lb-no-healthy-upstream",  # dev: gcp-lb-curl-503-no-healthy-upstream
        "> curl -i https://app.example.com\nHTTP/2 503\ncontent-length: 19\nvia: 1.1 google\n\n"
        "no healthy upstream",
        "infra.load_balancer",
    ),
    Case(
        "haproxy-no-server",  # HAProxy log (dev: haproxy-ingress-backend-no-server-available)
        "[ALERT]    (301) : backend 'web_backend' has no server available!",
        "infra.load_balancer",
    ),
    Case(
        "nginx-connect-refused-upstream",  # nginx error log: the balancer, not the network
        "2019/01/01 00:00:00 [error] 8#8: *7 connect() failed (111: Connection refused) while "
        'connecting to upstream, client: 172.17.0.1, server: _, request: "GET / HTTP/1.1"',
        "infra.load_balancer",
    ),
    Case(
        "gcp-failed-to-pick-backend",  # Google Cloud load balancer log statusDetails
        '   19 "backend_connection_closed_before_data_sent_to_client"\n'
        '    1 "failed_to_pick_backend"',
        "infra.load_balancer",
    ),
    Case(
        "azure-application-gateway-502",  # Azure Application Gateway troubleshooting docs
        "Server Error: 502 - Web server received an invalid response while acting as a gateway "
        "or proxy server.",
        "infra.load_balancer",
    ),
    Case(
        "service-without-endpoints",  # kubectl against a Service with no ready pods
        'Error from server (ServiceUnavailable): no endpoints available for service "web"',
        "infra.load_balancer",
    ),
    Case(
        "traefik-bad-gateway",  # dev: traefik-debug-502-bad-gateway-eof
        'time="2018-07-17T03:57:54Z" level=debug msg="\'502 Bad Gateway\' caused by: EOF"',
        "infra.load_balancer",
    ),
    # ---- a symptom does not outvote the cause in another category ----------------------------
    Case(
        "pull-rate-limit-over-imagepullbackoff",  # Docker Hub's limit, not the container
        '  Warning  Failed     16s   kubelet  Failed to pull image "redis:7": rpc error: code = '
        "Unknown desc = failed to pull and unpack image: toomanyrequests: You have reached your "
        "pull rate limit. You may increase the limit by authenticating and upgrading\n"
        "  Warning  Failed     16s   kubelet  Error: ErrImagePull\n"
        '  Normal   BackOff    3s    kubelet  Back-off pulling image "redis:7"\n'
        "  Warning  Failed     3s    kubelet  Error: ImagePullBackOff",
        "deploy.network",
    ),
)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_rules_name_the_infra_failure(case: Case) -> None:
    analysis = analyze_text(case.text, word_model=False)
    assert analysis.category.value == case.category, analysis.scores
    if case.lead is not None:
        assert case.lead in analysis.evidence[0].text


@pytest.mark.parametrize(
    "text",
    [
        '            "InstanceStatus": {\n                "Status": "ok"\n            },',
        "Endpoints:         10.244.1.5:8080,10.244.2.7:8080",
        '        "OOMKilled": false,\n        "ExitCode": 0,',
        "api-1  exited with code 0",
    ],
    ids=["instance-status-ok", "service-with-endpoints", "inspect-not-oom", "compose-exit-0"],
)
def test_healthy_output_is_not_an_infra_failure(text: str) -> None:
    analysis = analyze_text(text, word_model=False)
    assert not analysis.category.value.startswith("infra."), analysis.scores


@pytest.mark.parametrize(
    ("line", "category"),
    [
        ("worker-2   NotReady   <none>          41d   v1.27.3", "infra.instance"),
        ("migrate-7x2k9   0/1     Error       0          3m", "infra.container"),
        ("exec /docker-entrypoint.sh: no such file or directory", "infra.container"),
        ("upstream request timeout", "infra.load_balancer"),
        ("Error: connect ECONNREFUSED 127.0.0.1:5432", "infra.database"),
    ],
)
@pytest.mark.parametrize(
    "prefix",
    ["", 'Step #2 - "verify": ', "2024-01-01T00:00:00.1234567Z ", "##[error]", "[10:00:00] "],
    ids=["bare", "cloud-build", "github-timestamp", "github-annotation", "bracketed-time"],
)
def test_ci_prefixes_do_not_hide_a_line(prefix: str, line: str, category: str) -> None:
    assert analyze_text(prefix + line, word_model=False).category.value == category


def test_each_infra_category_has_at_least_three_cases() -> None:
    for category in ("infra.instance", "infra.container", "infra.database", "infra.load_balancer"):
        assert sum(c.category == category for c in CASES) >= 3, category

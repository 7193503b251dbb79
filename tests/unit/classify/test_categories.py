"""Every category of the taxonomy recognised on whole real texts, by the rules alone.

Three texts per deploy / infra / security category, from the labelled corpus's dev side
(`corpus/<category>/`, each text's source and licence in its folder's `labels.csv`, notices in
`corpus/NOTICE-*.md`), three different projects each; the four build categories are the fixture
cases' table (`tests/unit/test_cases.py`, notices in `tests/fixtures/NOTICE.md`). Validation and
test-side texts are never quoted here: they measure, they do not teach.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from recoverops.detector import analyze_text
from recoverops.sides import side_of
from recoverops.taxonomy import Category

CORPUS = Path(__file__).resolve().parents[3] / "corpus"

TABLE: tuple[tuple[str, str], ...] = (
    ("deploy.config", "helm2-upgrade-failed-decoding-unknown-field-restartpolicy.txt"),
    ("deploy.config", "kapp-validation-unknown-field-annotations-escaped.txt"),
    ("deploy.config", "kubectl-apply-stdin-unknown-field-validate-false.txt"),
    ("deploy.network", "docker-pull-toomanyrequests-json-stream.txt"),
    ("deploy.network", "kitematic-pull-auth-token-tls-handshake-timeout.txt"),
    ("deploy.network", "helm-install-apiserver-dns-no-such-host.txt"),
    ("deploy.permission", "capi-manager-configmaps-forbidden.txt"),
    ("deploy.permission", "canary-checker-crd-watch-forbidden.txt"),
    ("deploy.permission", "harbor-docker-push-denied.txt"),
    ("deploy.resources", "argo-failedscheduling-insufficient-cpu-memory-events.txt"),
    ("deploy.resources", "gce-zone-resource-pool-exhausted.txt"),
    ("deploy.resources", "gcloud-quota-gpus-all-regions-exceeded.txt"),
    ("infra.container", "app-service-container-did-not-start-within-time-limit.txt"),
    ("infra.container", "centos-pod-crashloopbackoff-exit-0.txt"),
    ("infra.container", "cloud-run-revision-not-ready-port-8080-timeout.txt"),
    ("infra.database", "alembic-upgrade-duplicate-table-asyncpg.txt"),
    ("infra.database", "compose-postgres-role-does-not-exist.txt"),
    ("infra.database", "fivem-mysql-async-er-lock-deadlock.txt"),
    ("infra.instance", "aks-engine-master-vm-deploymentfailed-osprovisioning.txt"),
    ("infra.instance", "ansible-unreachable-no-route-to-host.txt"),
    ("infra.instance", "arm-runner-lost-communication-hash-name.txt"),
    ("infra.load_balancer", "alb-access-log-h2-504-target-timeout.txt"),
    ("infra.load_balancer", "classic-elb-instance-failed-unhealthy-threshold.txt"),
    ("infra.load_balancer", "ecs-service-event-unhealthy-in-elb.txt"),
    ("security.certificate", "botkit-stats-cert-has-expired.txt"),
    ("security.certificate", "cert-manager-certificate-stuck-secret-does-not-exist.txt"),
    ("security.certificate", "concourse-kubernetes-resource-x509-unknown-authority.txt"),
    ("security.iam", "aws-cli-debug-greengrass-access-denied.txt"),
    ("security.iam", "aws-cli-iam-getgroup-access-denied.txt"),
    ("security.iam", "aws-sdk-java-cloudwatch-invalid-client-token-id.txt"),
    ("security.secret", "acr-image-pull-unauthorized-imagepullbackoff.txt"),
    ("security.secret", "actions-checkout-input-required-token.txt"),
    ("security.secret", "actions-readme-octokit-bad-credentials.txt"),
    ("security.vulnerability", "bandit-gyp-next-run-metrics-tabs.txt"),
    ("security.vulnerability", "dependency-check-gradle-known-vulnerabilities.txt"),
    ("security.vulnerability", "dependency-check-maven-failure-cvss-old.txt"),
)


def group_of(category: str, name: str) -> str:
    with (CORPUS / category / "labels.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["file"] == name:
                return row["group"]
    raise AssertionError(f"{category}/{name} is not in its labels.csv")


def test_every_failure_category_outside_build_has_three_texts_of_three_projects() -> None:
    failures = {c.value for c in Category if c is not Category.UNKNOWN and c.family != "build"}
    for category in failures:
        names = [name for cat, name in TABLE if cat == category]
        assert len({group_of(category, name) for name in names}) >= 3, category


@pytest.mark.parametrize(("category", "name"), TABLE, ids=[name for _, name in TABLE])
def test_a_real_text_gets_its_category_from_the_rules(category: str, name: str) -> None:
    assert side_of(group_of(category, name)) == "dev"
    text = (CORPUS / category / name).read_text("utf-8", errors="replace")
    analysis = analyze_text(text, word_model=False)
    assert analysis.category.value == category
    assert analysis.evidence, "a recognised failure shows its evidence"

"""Every overlay applied with `--dry-run=server` to a real kube-apiserver (tests/kubernetes)
with KubeRay's vendored CRDs installed: the API server's admission and the CRDs' own schemas
check every object and every field of the RayService and RayJob. A field the schema does not
have, or a value of the wrong type, is refused: the check is real."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.manifests import (
    OVERLAYS,
    as_yaml,
    documents,
    install_crds,
    of_kind,
    run_kubectl,
)
from tests.kubernetes.cluster import KubeCluster
from tests.kubernetes.fixtures import kube_cluster

__all__ = ["kube_cluster"]


@pytest.fixture(scope="module")
def kubeconfig(kube_cluster: KubeCluster) -> Iterator[Path]:
    install_crds(kube_cluster.kubeconfig)
    yield kube_cluster.kubeconfig


def ensure_namespaces(kubeconfig: Path, docs: list[dict[str, Any]]) -> None:
    """The namespaces an overlay creates, and those it binds the remediator in, which must exist
    beforehand: a dry run creates nothing, so their objects would find no namespace."""
    names = {doc["metadata"]["name"] for doc in of_kind(docs, "Namespace")}
    names |= {doc["metadata"]["namespace"] for doc in of_kind(docs, "RoleBinding")}
    namespaces = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in names]
    done = run_kubectl(kubeconfig, "apply", "-f", "-", stdin=as_yaml(namespaces))
    assert done.returncode == 0, done.stderr


def dry_run(kubeconfig: Path, docs: list[dict[str, Any]]) -> Any:
    return run_kubectl(kubeconfig, "apply", "--dry-run=server", "-f", "-", stdin=as_yaml(docs))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_api_server_accepts_every_object(kubeconfig: Path, overlay: str) -> None:
    docs = documents(overlay)
    ensure_namespaces(kubeconfig, docs)
    done = dry_run(kubeconfig, docs)
    assert done.returncode == 0, done.stderr
    accepted = [line for line in done.stdout.splitlines() if line.endswith("(server dry run)")]
    assert len(accepted) == len(docs), done.stdout
    assert any(line.startswith("rayservice.ray.io/recoverops ") for line in accepted)
    assert any(line.startswith("rayjob.ray.io/recoverops-train ") for line in accepted)


def broken(docs: list[dict[str, Any]], kind: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    docs = copy.deepcopy(docs)
    (target,) = of_kind(docs, kind)
    return docs, target


def test_a_field_the_crd_does_not_have_is_refused(kubeconfig: Path) -> None:
    docs, service = broken(documents("dev"), "RayService")
    service["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]["maxReplica"] = 3
    done = dry_run(kubeconfig, docs)
    assert done.returncode != 0
    assert "maxReplica" in done.stderr


def test_a_value_of_the_wrong_type_is_refused(kubeconfig: Path) -> None:
    docs, job = broken(documents("dev"), "RayJob")
    job["spec"]["shutdownAfterJobFinishes"] = "yes please"
    done = dry_run(kubeconfig, docs)
    assert done.returncode != 0
    assert "shutdownAfterJobFinishes" in done.stderr

"""The deployment files of `cluster/`, read for the tests: Kustomize renders, the Dockerfile's
pins, the project's version and Ray requirement."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import tomllib
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
CLUSTER = REPO / "cluster"
KUBERNETES = CLUSTER / "kubernetes"
CRDS = KUBERNETES / "crds"
OVERLAYS = tuple(sorted(path.name for path in (KUBERNETES / "overlays").iterdir()))
IMAGE_REPOSITORY = "ghcr.io/recoverops/recoverops"


def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        raise RuntimeError("kubectl is not installed (it renders the Kustomize overlays)")
    return found


@cache
def rendered(overlay: str) -> str:
    """`kubectl kustomize` of one overlay, as text."""
    done = subprocess.run(
        [kubectl(), "kustomize", str(KUBERNETES / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        raise AssertionError(f"overlay {overlay} does not render:\n{done.stderr}")
    return done.stdout


def documents(overlay: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(rendered(overlay)) if doc]


def of_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def pod_specs(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every Pod spec inside a RayService or RayJob (head, workers, the job's submitter)."""
    spec = doc["spec"]
    clusters = [spec[key] for key in ("rayClusterConfig", "rayClusterSpec") if key in spec]
    for cluster in clusters:
        yield cluster["headGroupSpec"]["template"]["spec"]
        for group in cluster.get("workerGroupSpecs", []):
            yield group["template"]["spec"]
    if "submitterPodTemplate" in spec:
        yield spec["submitterPodTemplate"]["spec"]


def ray_versions(doc: dict[str, Any]) -> list[str]:
    spec = doc["spec"]
    return [
        spec[key]["rayVersion"] for key in ("rayClusterConfig", "rayClusterSpec") if key in spec
    ]


@cache
def pyproject() -> dict[str, Any]:
    with (REPO / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)


def project_version() -> str:
    version: str = pyproject()["project"]["version"]
    return version


def ray_requirement() -> Requirement:
    for line in pyproject()["project"]["dependencies"]:
        requirement = Requirement(line)
        if requirement.name == "ray":
            return requirement
    raise AssertionError("pyproject.toml does not require ray")


def dockerfile() -> str:
    return (CLUSTER / "Dockerfile").read_text()


def dockerfile_arg(name: str) -> str:
    match = re.search(rf"^ARG {name}=(\S+)$", dockerfile(), re.MULTILINE)
    if match is None:
        raise AssertionError(f"cluster/Dockerfile has no `ARG {name}=...`")
    return match.group(1)


class _CloudFormationLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (`!Ref X` → {"Ref": "X"}, `!Sub s` →
    {"Fn::Sub": "s"}, ...)."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def cloudformation(path: Path) -> dict[str, Any]:
    template: dict[str, Any] = yaml.load(path.read_text(), Loader=_CloudFormationLoader)
    return template


CRD_FILES = ("ray.io_rayclusters.yaml", "ray.io_rayservices.yaml", "ray.io_rayjobs.json")
CRD_NAMES = ("rayclusters.ray.io", "rayservices.ray.io", "rayjobs.ray.io")


def run_kubectl(
    kubeconfig: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [kubectl(), f"--kubeconfig={kubeconfig}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def for_old_server(node: Any) -> Any:
    """A CRD as the tests' API server (Kubernetes 1.20) can hold it, checking the same fields
    and types. KubeRay 1.7 targets newer servers; two parts of its schemas are refused by 1.20,
    and neither says which fields exist or of what type:
    - `x-kubernetes-validations` (CEL rules, Kubernetes 1.23+) is no schema field there;
    - `default: ""` (the names inside embedded Pod templates, from Kubernetes 1.27's API types)
      is read as a null default and refused. Without it, a list-map key (the `name` of an
      `imagePullSecrets` item) must be required instead, which 1.27 made optional."""
    if isinstance(node, list):
        return [for_old_server(item) for item in node]
    if not isinstance(node, dict):
        return node
    schema = {
        key: for_old_server(value)
        for key, value in node.items()
        if key != "x-kubernetes-validations" and not (key == "default" and value == "")
    }
    items = schema.get("items")
    if "x-kubernetes-list-map-keys" in schema and isinstance(items, dict):
        keys = [
            key
            for key in schema["x-kubernetes-list-map-keys"]
            if "default" not in items.get("properties", {}).get(key, {})
        ]
        required = items.get("required", [])
        items["required"] = required + [key for key in keys if key not in required]
    return schema


def install_crds(kubeconfig: Path) -> None:
    """KubeRay's vendored CRDs, established. Server-side apply: the CRDs are larger than the
    256 KiB annotation a client-side apply would keep of them."""
    for name in CRD_FILES:
        crd = for_old_server(yaml.safe_load((CRDS / name).read_text()))
        done = run_kubectl(
            kubeconfig,
            "apply",
            "--server-side",
            "--force-conflicts",
            "-f",
            "-",
            stdin=json.dumps(crd),
        )
        if done.returncode != 0:
            raise AssertionError(f"{name} did not install:\n{done.stderr}")
    # `kubectl wait` gives up at once on a CRD the server has not given a status yet (its
    # conditions are still nil, "accessor error"): it is asked again until the deadline.
    deadline = time.monotonic() + 120
    while True:
        done = run_kubectl(
            kubeconfig,
            "wait",
            "--for=condition=Established",
            "--timeout=120s",
            *(f"crd/{name}" for name in CRD_NAMES),
        )
        if done.returncode == 0:
            return
        if "accessor error" not in done.stderr or time.monotonic() > deadline:
            raise AssertionError(f"the CRDs are not established:\n{done.stderr}")


def as_yaml(docs: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(docs, sort_keys=False)

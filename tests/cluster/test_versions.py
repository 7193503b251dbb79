"""One Ray and one image everywhere: the Dockerfile's Ray is the manifests' `rayVersion` and
satisfies pyproject.toml; every image reference is the project's version; the image copies every
folder the distribution installs from."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from tests.cluster.manifests import (
    CLUSTER,
    IMAGE_REPOSITORY,
    OVERLAYS,
    REPO,
    cloudformation,
    dockerfile,
    dockerfile_arg,
    documents,
    of_kind,
    pod_specs,
    project_version,
    pyproject,
    ray_requirement,
    ray_versions,
)

IMAGE = f"{IMAGE_REPOSITORY}:{project_version()}"


def test_the_images_ray_satisfies_the_projects_requirement() -> None:
    ray = Version(dockerfile_arg("RAY_VERSION"))
    requirement = ray_requirement()
    assert ray in requirement.specifier, f"Ray {ray} is not {requirement}"
    assert "serve" in requirement.extras
    assert re.search(r'"ray\[serve\]==\$\{RAY_VERSION\}"', dockerfile()), "install it pinned"


def test_the_base_image_is_a_python_the_project_supports() -> None:
    match = re.search(r"^FROM python:(\d+\.\d+)-slim$", dockerfile(), re.MULTILINE)
    assert match, "cluster/Dockerfile is based on python:X.Y-slim"
    supported = SpecifierSet(pyproject()["project"]["requires-python"])
    assert Version(match.group(1)) in supported


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_ray_cluster_runs_the_images_ray(overlay: str) -> None:
    docs = documents(overlay)
    found = [
        version
        for kind in ("RayService", "RayJob")
        for doc in of_kind(docs, kind)
        for version in ray_versions(doc)
    ]
    assert len(found) >= 2, "a RayService and a RayJob"
    assert set(found) == {dockerfile_arg("RAY_VERSION")}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_runs_the_projects_image(overlay: str) -> None:
    images = {
        container["image"]
        for kind in ("RayService", "RayJob")
        for doc in of_kind(documents(overlay), kind)
        for spec in pod_specs(doc)
        for container in spec["containers"]
    }
    assert images == {IMAGE}


def test_compose_and_aws_run_the_projects_image() -> None:
    compose = yaml.safe_load((CLUSTER / "docker-compose.yml").read_text())
    ours = {
        service["image"]
        for service in compose["services"].values()
        if service["image"].startswith(IMAGE_REPOSITORY)
    }
    assert ours == {IMAGE}
    template = cloudformation(CLUSTER / "aws" / "recoverops.yaml")
    assert template["Parameters"]["Image"]["Default"] == IMAGE
    task = json.loads((CLUSTER / "aws" / "task-definition.json").read_text())
    assert {c["image"] for c in task["containerDefinitions"]} == {IMAGE}


def test_the_image_copies_every_folder_the_distribution_installs() -> None:
    setuptools = pyproject()["tool"]["setuptools"]
    top_level = {package.split(".")[0] for package in setuptools["packages"]}
    folders = top_level - set(setuptools["package-dir"]) | set(setuptools["package-dir"].values())
    copied = set(re.findall(r"^COPY (\S+) \1$", dockerfile(), re.MULTILINE))
    assert folders <= copied, f"not copied: {sorted(folders - copied)}"
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile(), re.MULTILINE):
        for path in source.split():
            assert (REPO / path).exists(), f"COPY {path}: no such file in the repository"

"""docker-compose.yml is a valid Compose file. No `docker compose` here (the Debian and PyPI
`docker-compose` is 1.29, older than the Compose specification this file uses, and Docker's
own plugin is in no registry these machines reach), and the Compose JSON schemas that packages
ship are 2021's; so the structure is checked by `compose-spec` (bindings of the Rust
`compose_spec` crate, a strict parser of the current specification), and what `docker compose
config` also checks across the file (services depended on, named volumes, build files) here."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from compose_spec import PyCompose

from tests.cluster.manifests import CLUSTER

COMPOSE = CLUSTER / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    text = COMPOSE.read_text()
    PyCompose.from_yaml(text)  # ValueError, naming the line, when the structure is not Compose's
    parsed: dict[str, Any] = yaml.safe_load(text)
    return parsed


def test_the_structure_is_composes(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"postgres", "redis", "mlflow", "recoverops"}


def test_the_checker_refuses_what_compose_refuses() -> None:
    broken = COMPOSE.read_text().replace("    shm_size: 2gb", "    shm-size: 2gb", 1)
    assert broken != COMPOSE.read_text()
    with pytest.raises(ValueError, match="shm-size"):
        PyCompose.from_yaml(broken)


def test_every_service_depended_on_exists_and_is_checked_for_health(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for name, service in services.items():
        for other, condition in service.get("depends_on", {}).items():
            assert other in services, f"{name} depends on a service {other} that is not here"
            assert condition["condition"] == "service_healthy"
            assert "healthcheck" in services[other], f"{other} has no health check"


def test_every_named_volume_is_declared(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes", {}))
    used = {
        volume.split(":")[0]
        for service in compose["services"].values()
        for volume in service.get("volumes", [])
        if not volume.startswith((".", "/"))
    }
    assert used == declared


def test_the_build_context_holds_the_dockerfile(compose: dict[str, Any]) -> None:
    for service in compose["services"].values():
        if "build" in service:
            context = (COMPOSE.parent / service["build"]["context"]).resolve()
            assert (context / service["build"]["dockerfile"]).is_file()
            assert (context / "pyproject.toml").is_file()


def test_the_app_reaches_the_servers_by_their_service_names(compose: dict[str, Any]) -> None:
    environment = compose["services"]["recoverops"]["environment"]
    assert "@postgres:5432/" in environment["RECOVEROPS_DATABASE_URL"]
    assert environment["RECOVEROPS_REDIS_URL"].startswith("redis://redis:6379")
    assert environment["RECOVEROPS_MLFLOW_URI"] == "http://mlflow:5000"
    mlflow = " ".join(compose["services"]["mlflow"]["command"])
    assert "--port=5000" in mlflow and "--allowed-hosts=mlflow," in mlflow

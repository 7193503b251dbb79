"""cluster/grafana/recoverops.json charts metrics that exist: every `recoverops_*` series it
queries is one the API's /metrics exposes (scraped from a real app after a delivery, a refusal
and a request), grouped by labels that series has; every `ray_serve_*` one is a metric Ray Serve
defines in the installed Ray."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import ray.serve
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from recoverops.serve import create_app
from recoverops.settings import Settings
from tests.cluster.manifests import CLUSTER

DASHBOARD = CLUSTER / "grafana" / "recoverops.json"
SERIES = re.compile(r"\b((?:recoverops|ray_serve)_[a-z_]+)\b")
GROUPED = re.compile(r"by \(([^)]*)\)")
# A histogram or counter is queried through its samples' names.
SUFFIXES = ("_bucket", "_count", "_sum", "_total")


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return parsed


@pytest.fixture(scope="module")
def exposed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """Each series name /metrics exposes, with the label names its samples carry."""
    home = tmp_path_factory.mktemp("home")
    settings = Settings(home=home, env="development")
    with TestClient(create_app(settings)) as client:
        client.post(
            "/webhooks/github",
            json={"zen": "hello"},
            headers={"X-GitHub-Event": "ping", "X-GitHub-Delivery": str(uuid.uuid4())},
        )
        client.post("/webhooks/github", content=b"{", headers={"X-GitHub-Event": "ping"})
        text = client.get("/metrics").text
    found: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        found.setdefault(family.name, set())
        for sample in family.samples:
            found.setdefault(sample.name, set()).update(sample.labels)
            found[family.name].update(sample.labels)
    return found


def queries(dashboard: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_every_panel_has_a_unique_id_and_uses_the_datasource_variable(
    dashboard: dict[str, Any],
) -> None:
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)) and ids
    assert {panel["datasource"]["uid"] for panel in dashboard["panels"]} == {"${datasource}"}
    assert [v["name"] for v in dashboard["templating"]["list"]] == ["datasource"]


def test_every_recoverops_series_is_exposed_with_the_labels_it_is_grouped_by(
    dashboard: dict[str, Any], exposed: dict[str, set[str]]
) -> None:
    for expr in queries(dashboard):
        names = [n for n in SERIES.findall(expr) if n.startswith("recoverops_")]
        for name in names:
            family = next((n for n in (name, *_stems(name)) if n in exposed), None)
            assert family is not None, f"{name} (in {expr}) is not on /metrics"
            labels = exposed[family]
            for grouped in GROUPED.findall(expr):
                wanted = {label.strip() for label in grouped.split(",")} - {"le"}
                if labels:  # a family with no sample yet says nothing of its labels
                    assert wanted <= labels, f"{expr}: {wanted - labels} not labels of {name}"


def test_every_ray_serve_series_is_one_ray_defines(dashboard: dict[str, Any]) -> None:
    serve_source = "\n".join(
        path.read_text(errors="replace") for path in Path(ray.serve.__file__).parent.rglob("*.py")
    )
    for expr in queries(dashboard):
        for name in SERIES.findall(expr):
            if name.startswith("ray_serve_"):
                stems = (name, *_stems(name))
                quoted = [f'"{stem.removeprefix("ray_")}"' for stem in stems]
                defined = next((q for q in quoted if q in serve_source), None)
                assert defined is not None, f"{name} is no metric of Ray Serve"


def _stems(name: str) -> list[str]:
    return [name.removesuffix(suffix) for suffix in SUFFIXES if name.endswith(suffix)]

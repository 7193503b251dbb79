"""Every overlay renders, and what it renders holds together: each name a Pod or binding refers
to is rendered too (but the Secret, which only the operator creates); the policy parses with the
remediation engine's own parser; the settings are RecoverOps settings; and the Serve config is
one Ray Serve accepts for the applications its builders build."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from recoverops.remediation.kinds import KINDS
from recoverops.remediation.policy import parse_policy
from recoverops.settings import Settings
from tests.cluster.manifests import CLUSTER, OVERLAYS, REPO, documents, of_kind, pod_specs

# The one Secret the manifests refer to; docs/deployment.md says how to create it.
SECRETS = {"recoverops-secrets"}


def named(docs: list[dict[str, Any]], kind: str) -> set[str]:
    return {doc["metadata"]["name"] for doc in of_kind(docs, kind)}


def ray_pods(docs: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for kind in ("RayService", "RayJob"):
        for doc in of_kind(docs, kind):
            yield from pod_specs(doc)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_an_overlay_renders_the_whole_deployment(overlay: str) -> None:
    docs = documents(overlay)
    kinds = {doc["kind"] for doc in docs}
    assert {
        "Namespace",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "RoleBinding",
        "ConfigMap",
        "RayService",
        "RayJob",
    } <= kinds
    assert "Secret" not in kinds, "secrets are referenced, never written into the manifests"
    for doc in docs:
        if doc["kind"] not in ("Namespace", "ClusterRole", "ClusterRoleBinding", "RoleBinding"):
            assert doc["metadata"]["namespace"] == "recoverops", doc["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_reference_resolves(overlay: str) -> None:
    docs = documents(overlay)
    config_maps, accounts = named(docs, "ConfigMap"), named(docs, "ServiceAccount")
    roles = named(docs, "ClusterRole")
    pods = list(ray_pods(docs))
    assert pods
    for spec in pods:
        assert spec["serviceAccountName"] in accounts
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps
        for container in spec["containers"]:
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] in config_maps
                if "secretRef" in source:
                    assert source["secretRef"]["name"] in SECRETS
    for kind in ("RoleBinding", "ClusterRoleBinding"):
        for binding in of_kind(docs, kind):
            assert binding["roleRef"]["name"] in roles
            for subject in binding["subjects"]:
                assert subject["kind"] == "ServiceAccount"
                assert subject["name"] in accounts and subject["namespace"] == "recoverops"


def test_the_deployment_guide_says_how_to_create_each_secret() -> None:
    guide = (REPO / "docs" / "deployment.md").read_text()
    for name in SECRETS:
        assert f"kubectl create secret generic {name}" in guide


def config_map(docs: list[dict[str, Any]], name: str) -> dict[str, str]:
    (found,) = [doc for doc in of_kind(docs, "ConfigMap") if doc["metadata"]["name"] == name]
    data: dict[str, str] = found["data"]
    return data


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_policy_is_valid_and_where_the_settings_say(overlay: str) -> None:
    docs = documents(overlay)
    (policy_file,) = config_map(docs, "recoverops-policy").items()
    name, text = policy_file
    policy = parse_policy(text, source=f"{overlay}:{name}", known_kinds=KINDS)
    assert policy.rules
    settings = config_map(docs, "recoverops-settings")
    mounts = {
        mount["mountPath"]
        for spec in ray_pods(docs)
        for container in spec["containers"]
        for mount in container.get("volumeMounts", [])
        if mount["name"] == "policy"
    }
    assert {str(Path(settings["RECOVEROPS_POLICY"]).parent)} == mounts
    assert Path(settings["RECOVEROPS_POLICY"]).name == name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_settings_are_recoverops_settings(
    overlay: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = config_map(documents(overlay), "recoverops-settings")
    fields = {f"RECOVEROPS_{name.upper()}" for name in Settings.model_fields}
    assert set(settings) <= fields, f"no such setting: {sorted(set(settings) - fields)}"
    for key, value in settings.items():  # as the Pod's environment has them
        monkeypatch.setenv(key, value)
    loaded = Settings()
    assert str(loaded.policy) == settings["RECOVEROPS_POLICY"]


@pytest.fixture(scope="module")
def builders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """cluster/ on sys.path as the image's PYTHONPATH has it; settings for the builders."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(CLUSTER))
        patch.setenv("RECOVEROPS_HOME", str(home))
        yield
    sys.modules.pop("recoverops_kuberay", None)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_serve_accepts_the_config_for_the_applications_it_builds(
    overlay: str, builders: None
) -> None:
    """What Serve's controller does with a config (ray/serve/_private/application_state.py):
    validate it, call each builder with its args, build the application, and apply the
    config's per-deployment options over the code's. Those helpers are Serve's private ones: a
    Ray upgrade that moves them fails here, loudly, and the test follows them. None of them
    starts Ray."""
    from ray._common.utils import import_attr
    from ray.serve._private.api import call_user_app_builder_with_args_if_necessary
    from ray.serve._private.application_state import override_deployment_info
    from ray.serve._private.build_app import build_app
    from ray.serve._private.deployment_info import DeploymentInfo
    from ray.serve.schema import ServeDeploySchema

    (service,) = of_kind(documents(overlay), "RayService")
    config = ServeDeploySchema.model_validate(yaml.safe_load(service["spec"]["serveConfigV2"]))
    deployed: dict[str, Any] = {}
    for app in config.applications:
        application = call_user_app_builder_with_args_if_necessary(
            import_attr(app.import_path), app.args
        )
        built = build_app(application, name=app.name)
        built.validate_single_fastapi_ingress()
        infos = {
            deployment.name: DeploymentInfo(
                deployment_config=deployment._deployment_config,
                replica_config=deployment._replica_config,
                start_time_ms=0,
                deployer_job_id="test",
            )
            for deployment in built.deployments
        }
        # Raises for a deployment the config names that the application does not have.
        for name, info in override_deployment_info(infos, app).items():
            deployed[f"{app.name}/{name}"] = info
    assert set(deployed) == {"classifier/Classifier", "recoverops/ingress", "pipeline/Pipeline"}
    routes = {app.name: app.route_prefix for app in config.applications}
    assert routes == {"classifier": None, "recoverops": "/", "pipeline": None}
    for name in ("classifier/Classifier", "recoverops/ingress"):
        scaling = deployed[name].deployment_config.autoscaling_config
        assert scaling is not None and scaling.max_replicas > scaling.min_replicas >= 1, name
        assert deployed[name].replica_config.ray_actor_options["num_cpus"] > 0, name
    classifier = deployed["classifier/Classifier"].deployment_config.user_config
    from recoverops.serve.classifier import ClassifierConfig

    ClassifierConfig.parse(classifier)  # the replica's reconfigure() accepts it
    pipeline = deployed["pipeline/Pipeline"].deployment_config
    assert pipeline.num_replicas == 1 and pipeline.autoscaling_config is None


def kuberay_builders() -> Any:
    """cluster/recoverops_kuberay.py, imported as Serve imports it (by name, from the path)."""
    return importlib.import_module("recoverops_kuberay")


def test_a_builder_refuses_an_argument_it_does_not_know(builders: None) -> None:
    recoverops_kuberay = kuberay_builders()
    with pytest.raises(ValueError, match="unknown application argument.*classifer"):
        recoverops_kuberay.ingress({"classifer": "classifier"})


def test_a_builder_names_each_invalid_setting(
    builders: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    recoverops_kuberay = kuberay_builders()
    monkeypatch.setenv("RECOVEROPS_MAX_LOG_BYTES", "lots")
    with pytest.raises(ValueError, match="invalid RECOVEROPS_.*max_log_bytes"):
        recoverops_kuberay.classifier({})

"""The Ray Serve application builders a Serve config file names (KubeRay's `serveConfigV2`).

A Serve config's `import_path` must name an application, or a builder function of exactly one
argument (the application's `args` mapping). `recoverops up` builds its applications from a
`Settings` object in-process, which a config file cannot pass; these builders read the settings
from the environment of the Ray pods (the ConfigMap and Secrets of `kubernetes/base`) and build
the same applications `recoverops up` runs:

    recoverops_kuberay:classifier   the Classifier deployment (serve.classifier), app "classifier"
    recoverops_kuberay:ingress      the HTTP API (serve.ray_app), asking the app `args.classifier`
    recoverops_kuberay:pipeline     one Pipeline replica that starts and owns the pipeline's
                                    actors (supervisor, detectors, analyzer, remediators,
                                    retrainer), which `recoverops up` starts from its driver

The image copies this file next to the installed project and puts it on PYTHONPATH
(`cluster/Dockerfile`). Invalid settings or an invalid policy stop the build with a message
naming each problem, which KubeRay shows in the RayService's status.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CLASSIFIER_APP = "classifier"


def _settings() -> Any:
    from pydantic import ValidationError

    from recoverops.settings import Settings

    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in error.errors()
        )
        raise ValueError(f"invalid RECOVEROPS_* settings: {problems}") from None


def _known(args: Mapping[str, Any], *names: str) -> None:
    unknown = sorted(set(args) - set(names))
    if unknown:
        raise ValueError(f"unknown application argument(s): {', '.join(unknown)}")


def classifier(args: Mapping[str, Any]) -> Any:
    """args: none (batching and the pinned version are the deployment's `user_config`)."""
    from recoverops.serve.classifier import classifier_application

    _known(args)
    return classifier_application(_settings())


def ingress(args: Mapping[str, Any]) -> Any:
    """args: `classifier`, the name of the classifier's application (default "classifier")."""
    from recoverops.serve.ray_app import serve_application

    _known(args, "classifier")
    return serve_application(_settings(), classifier=str(args.get("classifier", CLASSIFIER_APP)))


class Pipeline:
    """Starts the supervisor and the retrainer as `recoverops up` does, and owns them: if this
    replica dies its actors go with it, and Serve's replacement starts a fresh set."""

    def __init__(self, classifier: str) -> None:
        import ray

        from recoverops.actors import DetectorConfig, PoolConfig, start_supervisor
        from recoverops.actors.retrainer import start_retrainer
        from recoverops.remediation.engine import load_configured_policy

        settings = _settings()
        policy = load_configured_policy(settings)  # refused here, with its file and line
        self._supervisor, self._detectors = start_supervisor(
            settings,
            config=PoolConfig(
                detector=DetectorConfig(classifier=classifier),
                extra_remediators=() if policy is None else ("kubernetes", "aws"),
            ),
        )
        self._retrainer = start_retrainer(settings)
        self._ray = ray

    def status(self) -> dict[str, Any]:
        return {"detectors": list(self._detectors)}

    def check_health(self) -> None:
        """Serve's periodic health check: the retrainer answers (the supervisor restarts its own
        pool's actors)."""
        self._ray.get(self._retrainer.ping.remote(), timeout=10)


def pipeline(args: Mapping[str, Any]) -> Any:
    """args: `classifier`, as for `ingress`."""
    from ray import serve

    _known(args, "classifier")
    deployment = serve.deployment(
        name="Pipeline",
        num_replicas=1,
        # The actors it starts reserve no CPU either: they wait on the store, queue and HTTP.
        ray_actor_options={"num_cpus": 0},
    )(Pipeline)
    return deployment.bind(str(args.get("classifier", CLASSIFIER_APP)))

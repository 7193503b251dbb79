"""The HTTP app as a Ray Serve application: the same `create_app`, built on each replica."""

from __future__ import annotations

from fastapi import FastAPI
from ray import serve
from ray.serve import Application

from recoverops.observability.setup import set_up
from recoverops.settings import Settings

from .app import create_app
from .classifier_client import ClassifierClient


def serve_application(
    settings: Settings, *, replicas: int = 1, classifier: str | None = None
) -> Application:
    """The ingress deployment; each replica builds the app from the same settings (Serve's
    builder-function form of `serve.ingress`, so nothing unpicklable crosses to the replicas).

    `classifier` names the Serve application of the Classifier deployment that `POST /analyze`
    asks (`serve.classifier`); None: the rules alone."""

    def build() -> FastAPI:  # a plain function: Serve takes any other callable for the app itself
        set_up(settings)  # this replica's process logs and traces as `up` does
        if classifier is None:
            return create_app(settings)
        return create_app(settings, refine=ClassifierClient(app_name=classifier).refine)

    # Serve's default of 5 requests in flight per replica queues webhook bursts at the proxy;
    # the app's own work is mostly waiting on the store.
    ingress = serve.deployment(
        name="ingress",
        num_replicas=replicas,
        max_ongoing_requests=64,
        ray_actor_options={"num_cpus": 0},
    )(serve.ingress(build)())
    return ingress.bind()

"""The HTTP app: webhooks in, incidents out. `create_app(settings)` builds one.

    POST /webhooks/github | /webhooks/gitlab | /webhooks/jenkins    ingestion
    GET  /incidents, /incidents/{id}                                the read API
    POST /incidents/{id}/feedback                                   operators' word
    GET  /actions, /actions/{id}; POST /actions/{id}/approve|reject remediation actions
    POST /analyze                                                   the detector on one log
    GET  /healthz, /metrics, /dead-letters                          operations
    GET  /docs, /redoc, /openapi.json                               OpenAPI, assets served locally

The same app runs under plain uvicorn and under Ray Serve.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from recoverops.analysis import Analysis
from recoverops.classify.catalogue import load_catalogue
from recoverops.queue import Queue
from recoverops.settings import MIB, Settings
from recoverops.store import Store

from .docs import install_docs
from .errors import install_handlers
from .metrics import LatencyMiddleware, Metrics, incident_counts, store_stage_times
from .routes import ROUTERS
from .services import QueueHandle, Services
from .webhooks.sns import SnsVerifier

log = logging.getLogger(__name__)

# GitHub caps webhook payloads at 25 MB, but CI job events are a few kilobytes; a bigger body
# is a mistake or an attack. Logs sent to POST /analyze share the limit.
DEFAULT_MAX_BODY_BYTES = 5 * MIB


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    queue: Queue | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    refine: Callable[[Analysis], Analysis] | None = None,
) -> FastAPI:
    """The app over `store` and `queue`, or over the ones `settings` name.

    A store or queue passed in stays the caller's to close; a store the app opens (and
    migrates) is closed when the app shuts down. The queue the settings name is opened on first
    use, so the app starts, and says on /healthz what is wrong, while Redis is down.
    """
    if max_body_bytes <= 0:
        raise ValueError(f"max_body_bytes must be positive, not {max_body_bytes}")
    owns_store = store is None
    opened = Store.open(settings) if store is None else store
    services = Services(
        settings=settings,
        store=opened,
        queue=QueueHandle(settings, opened, queue),
        catalogue=load_catalogue(tuple(settings.extra_signature_dirs)),
        max_body_bytes=max_body_bytes,
        metrics=Metrics(),
        refine=refine,
        analyze_slots=threading.BoundedSemaphore(settings.analyze_concurrency),
        sns=SnsVerifier(extra_host=settings.aws_sns_dev_cert_host),
    )
    services.metrics.watch(
        depth=lambda: services.queue.get().depth(),
        incident_counts=lambda: incident_counts(opened),
        stage_times=lambda: store_stage_times(opened),
        dead_letters=opened.dead_letter_counts,
        positions=opened.source_positions,
        health=opened.source_health,
    )
    for name in ("github_webhook_secret", "gitlab_webhook_token", "jenkins_webhook_token"):
        if getattr(settings, name) is None and settings.development:
            log.warning(
                "RECOVEROPS_%s is not set: its webhook accepts anyone (RECOVEROPS_ENV=development)",
                name.upper(),
            )
        elif getattr(settings, name) is None:
            log.info("RECOVEROPS_%s is not set: its webhook refuses every delivery", name.upper())
    if not settings.aws_sns_topic_arns:
        log.info(
            "RECOVEROPS_AWS_SNS_TOPIC_ARNS is not set: /webhooks/aws %s",
            "accepts any SNS topic (RECOVEROPS_ENV=development)"
            if settings.development
            else "refuses every message",
        )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        services.sns.close()
        if owns_store:
            opened.close()

    app = FastAPI(
        title="RecoverOps",
        summary="CI/CD failures in, analyzed incidents out.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_docs(app, title="RecoverOps")
    app.state.services = services
    for router in ROUTERS:
        app.include_router(router)
    install_handlers(app, services.metrics)
    app.add_middleware(LatencyMiddleware, metrics=services.metrics)
    return app

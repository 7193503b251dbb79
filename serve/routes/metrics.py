"""GET /metrics: the app's Prometheus metrics, in the text exposition format."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ..deps import MetricsDep

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response)
def metrics(collected: MetricsDep) -> Response:
    return Response(generate_latest(collected.registry), media_type=CONTENT_TYPE_LATEST)

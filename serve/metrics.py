"""Prometheus metrics of one app, in a registry of its own (two apps in a process never mix).

Counted as they happen: events received (by source and outcome), requests refused (by route
and reason), request latency (by route template, method and status). Read from the store and
the queue at scrape time: queue depth (waiting, in flight) and incidents by category and status.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from recoverops.queue import QueueDepth
from recoverops.store import Store
from recoverops.store.tables import IncidentRow

log = logging.getLogger(__name__)

UNMATCHED_ROUTE = "<unmatched>"
# Ingestion answers in milliseconds; analysis of a large log takes seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.received = Counter(
            "recoverops_events_received",
            "Webhook events accepted, by source and outcome (stored, redelivered, ignored, ping).",
            ["source", "outcome"],
            registry=self.registry,
        )
        self.rejected = Counter(
            "recoverops_requests_rejected",
            "Requests refused, by route and reason.",
            ["route", "reason"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "recoverops_request_duration_seconds",
            "Time to answer a request, by route template, method and status.",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def watch(
        self,
        *,
        depth: Callable[[], QueueDepth],
        incident_counts: Callable[[], dict[tuple[str, str], int]],
    ) -> None:
        """Read the queue depth and the incident counts at each scrape."""
        self.registry.register(_StateCollector(depth, incident_counts))


def incident_counts(store: Store) -> dict[tuple[str, str], int]:
    """Incidents by (category, status).

    TODO(lead): a `Store.incident_counts()` in recoverops.store would keep table access there.
    """
    query = select(IncidentRow.category, IncidentRow.status, func.count()).group_by(
        IncidentRow.category, IncidentRow.status
    )
    with store.transaction() as session:
        return {(category, status): count for category, status, count in session.execute(query)}


class _StateCollector(Collector):
    def __init__(
        self, depth: Callable[[], QueueDepth], counts: Callable[[], dict[tuple[str, str], int]]
    ) -> None:
        self._depth = depth
        self._counts = counts

    def collect(self) -> Iterator[Metric]:
        # A scrape never fails for a service that is down: its series are left out and
        # /healthz says what is wrong.
        try:
            depth = self._depth()
        except Exception as error:  # any backend error means: no reading
            log.warning("metrics: queue depth unavailable: %s", type(error).__name__)
        else:
            gauge = GaugeMetricFamily(
                "recoverops_queue_depth", "Messages in the event queue.", labels=["state"]
            )
            gauge.add_metric(["waiting"], depth.waiting)
            gauge.add_metric(["in_flight"], depth.in_flight)
            yield gauge
        try:
            counts = self._counts()
        except Exception as error:
            log.warning("metrics: incident counts unavailable: %s", type(error).__name__)
        else:
            incidents = GaugeMetricFamily(
                "recoverops_incidents",
                "Incidents stored, by category and status.",
                labels=["category", "status"],
            )
            for (category, status), count in sorted(counts.items()):
                incidents.add_metric([category, status], count)
            yield incidents


def route_label(scope: Scope) -> str:
    """The route template that matched (`/incidents/{incident_id}`), never the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


class LatencyMiddleware:
    """Times every HTTP request into `metrics.latency` (plain ASGI: no body buffering)."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self.metrics.latency.labels(
                route=route_label(scope), method=scope["method"], status=str(status)
            ).observe(time.perf_counter() - started)

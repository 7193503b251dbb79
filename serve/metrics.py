"""Prometheus metrics of one app, in a registry of its own (two apps in a process never mix).

Counted as they happen: events received (by source and outcome), requests refused (by route
and reason), request latency (by route template, method and status). Read from the store and
the queue at scrape time: queue depth (waiting, in flight), incidents by category and status,
the watching sources' positions and how long since each moved, their errors and lag per stream
(`recoverops_source_errors_total`, `recoverops_source_lag_seconds`), and the pipeline's stage
latencies.

Stage latencies, `recoverops_stage_latency_seconds{stage, quantile}`, over the last hour (at most
the newest 1,000 of each stage):
    ingest    delivery received → event stored and queued (timed by this app, as it happens)
    detect    event received → its incident stored (the event's received_at → processed_at)
    analyze   incident stored → analyzed (the analyzer's audit entry: started_at → at)
Detect and analyze happen in the actors, in other processes; they are read from the store's
timestamps, so every replica reports the same figures and a restart loses none. They are
gauges over a sliding window, not a Prometheus summary: a window's count and sum go down as
old samples leave it, which a summary's counters must never do.
`recoverops_stage_latency_samples{stage}` says how many samples each window holds.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from recoverops.queue import QueueDepth
from recoverops.store import Store
from recoverops.store.stages import ANALYZED_VERB

log = logging.getLogger(__name__)

UNMATCHED_ROUTE = "<unmatched>"
# Ingestion answers in milliseconds; analysis of a large log takes seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

STAGE_WINDOW = timedelta(hours=1)
STAGE_SAMPLES = 1000
QUANTILES = (0.5, 0.9, 0.99)
STAGES = ("ingest", "detect", "analyze")

StageTimes = dict[str, list[float]]
# (source, stream, position, saved at): a watching source's place (`Store.source_positions`).
SourcePosition = tuple[str, str, str, datetime]
# (source, stream, errors, caught up to): how a watched stream is doing (`Store.source_health`).
SourceHealth = tuple[str, str, int, datetime | None]


class RecentTimes:
    """The durations observed in this process over the last `window`, at most `limit` of them."""

    def __init__(self, *, window: timedelta = STAGE_WINDOW, limit: int = STAGE_SAMPLES) -> None:
        self._window = window.total_seconds()
        self._times: deque[tuple[float, float]] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def observe(self, seconds: float) -> None:
        with self._lock:
            self._times.append((time.monotonic(), seconds))

    def values(self) -> list[float]:
        oldest = time.monotonic() - self._window
        with self._lock:
            return [seconds for at, seconds in self._times if at >= oldest]


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
        # Delivery received → stored and queued, for failures (the ones that are queued).
        self.ingest = RecentTimes()

    def watch(
        self,
        *,
        depth: Callable[[], QueueDepth],
        incident_counts: Callable[[], dict[tuple[str, str], int]],
        stage_times: Callable[[], StageTimes] | None = None,
        dead_letters: Callable[[], tuple[int, int]] | None = None,
        positions: Callable[[], Sequence[SourcePosition]] | None = None,
        health: Callable[[], Sequence[SourceHealth]] | None = None,
    ) -> None:
        """Read the queue depth, the incident counts, the stages' times, the dead letters'
        (total, waiting) counts and the watching sources' positions, errors and lag at each
        scrape."""
        self.registry.register(
            _StateCollector(
                depth,
                incident_counts,
                stage_times or (lambda: {}),
                self.ingest,
                dead_letters or (lambda: (0, 0)),
                positions or (lambda: ()),
                health or (lambda: ()),
            )
        )


def incident_counts(store: Store) -> dict[tuple[str, str], int]:
    """Incidents by (category, status)."""
    return store.incident_counts()


def store_stage_times(store: Store, *, now: datetime | None = None) -> StageTimes:
    """Seconds each recent detect and analyze stage took, from the store's timestamps."""
    since = (now or datetime.now(UTC)) - STAGE_WINDOW
    detect = store.detection_times(since=since, limit=STAGE_SAMPLES)
    analyze = store.stage_times(verb=ANALYZED_VERB, since=since, limit=STAGE_SAMPLES)
    return {
        "detect": [_seconds(start, end) for start, end in detect],
        "analyze": [_seconds(start, end) for start, end in analyze],
    }


def quantile(values: Sequence[float], q: float) -> float:
    """The nearest-rank `q` quantile of `values` (not empty)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _seconds(start: datetime, end: datetime) -> float:
    # Clocks of different processes: a stage never takes less than nothing.
    return max(0.0, (end - start).total_seconds())


class _StateCollector(Collector):
    def __init__(
        self,
        depth: Callable[[], QueueDepth],
        counts: Callable[[], dict[tuple[str, str], int]],
        stage_times: Callable[[], StageTimes],
        ingest: RecentTimes,
        dead_letters: Callable[[], tuple[int, int]],
        positions: Callable[[], Sequence[SourcePosition]],
        health: Callable[[], Sequence[SourceHealth]],
    ) -> None:
        self._depth = depth
        self._counts = counts
        self._stage_times = stage_times
        self._ingest = ingest
        self._dead_letters = dead_letters
        self._positions = positions
        self._health = health

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
        try:
            total, waiting = self._dead_letters()
        except Exception as error:
            log.warning("metrics: dead letters unavailable: %s", type(error).__name__)
        else:
            dead = CounterMetricFamily(
                "recoverops_dead_letters",
                "Queued events given up on after RECOVEROPS_MAX_ATTEMPTS deliveries, ever.",
            )
            dead.add_metric([], total)
            yield dead
            left = GaugeMetricFamily(
                "recoverops_dead_letters_waiting",
                "Dead letters not replayed yet (GET /dead-letters lists them).",
            )
            left.add_metric([], waiting)
            yield left
        try:
            positions = self._positions()
        except Exception as error:
            log.warning("metrics: source positions unavailable: %s", type(error).__name__)
        else:
            yield from _position_families(positions, now=datetime.now(UTC))
        try:
            health = self._health()
        except Exception as error:
            log.warning("metrics: source health unavailable: %s", type(error).__name__)
        else:
            yield from _health_families(health, now=datetime.now(UTC))
        try:
            times = {"ingest": self._ingest.values(), **self._stage_times()}
        except Exception as error:
            log.warning("metrics: stage latencies unavailable: %s", type(error).__name__)
            times = {"ingest": self._ingest.values()}
        yield from _stage_families(times)


def _position_families(positions: Sequence[SourcePosition], *, now: datetime) -> Iterator[Metric]:
    """How long since each watched stream last moved, and where it is: a Kubernetes
    resourceVersion (a number in practice), or the CloudWatch source's last event time in
    milliseconds (its position's first word); a position that is neither is left out."""
    age = GaugeMetricFamily(
        "recoverops_source_position_age_seconds",
        "Seconds since a watching source last saved its position in a stream.",
        labels=["source", "stream"],
    )
    where = GaugeMetricFamily(
        "recoverops_source_position",
        "The position a watching source last saved in a stream (a Kubernetes resourceVersion; "
        "for CloudWatch, the last event read, in milliseconds since the epoch).",
        labels=["source", "stream"],
    )
    for source, stream, position, at in positions:
        age.add_metric([source, stream], _seconds(at, now))
        number = position.split(" ", 1)[0]
        if number.isdigit():
            where.add_metric([source, stream], float(number))
    yield age
    yield where


def _health_families(health: Sequence[SourceHealth], *, now: datetime) -> Iterator[Metric]:
    """Each watched stream's errors and lag (now minus the time up to which its source has
    read everything; a stream never read through has no lag yet)."""
    errors = CounterMetricFamily(
        "recoverops_source_errors",
        "Errors a watching source met reading a stream (the API or the store was down).",
        labels=["source", "stream"],
    )
    lag = GaugeMetricFamily(
        "recoverops_source_lag_seconds",
        "Seconds between now and the time up to which a watching source has read a stream.",
        labels=["source", "stream"],
    )
    for source, stream, count, caught_up in health:
        errors.add_metric([source, stream], count)
        if caught_up is not None:
            lag.add_metric([source, stream], _seconds(caught_up, now))
    yield errors
    yield lag


def _stage_families(times: StageTimes) -> Iterator[Metric]:
    latency = GaugeMetricFamily(
        "recoverops_stage_latency_seconds",
        "Pipeline stage latency quantiles over the last hour (newest 1,000 per stage).",
        labels=["stage", "quantile"],
    )
    samples = GaugeMetricFamily(
        "recoverops_stage_latency_samples",
        "How many stage completions the latency window holds.",
        labels=["stage"],
    )
    for stage in STAGES:
        values = times.get(stage, [])
        samples.add_metric([stage], len(values))
        if values:
            for q in QUANTILES:
                latency.add_metric([stage, f"{q:g}"], quantile(values, q))
    yield latency
    yield samples


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

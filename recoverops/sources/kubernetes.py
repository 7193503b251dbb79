"""The Kubernetes source: watches pods, events, Jobs (and nodes) and turns each failure into a
stored, queued event that the detectors analyze, one per workload and cause.

    per stream (pods, events, jobs; nodes when watching every namespace), a thread each:
        no stored position ─► list it (paged), check every object, position = the list's
                              resourceVersion
        watch from the position (bookmarks on, the server ends it after `watch_seconds`)
            ADDED / MODIFIED ─► check the object     BOOKMARK ─► position only
            the position is saved after the events it covers were handled (at most every
            `save_every` seconds, and when the watch ends), so a restart resumes there
        410 Gone (the position expired) ─► forget it and list again: the list holds every
            object's current state, so nothing is lost, and the dedupe below drops repeats
        any other error ─► counted, kept as `last_error`, retried after a growing wait

What is a failure is `kube_failures`; whose it is, `kube_owners` (a pod's ReplicaSet's
Deployment, its StatefulSet, DaemonSet or Job). A failure is (workload, cause): the first in
`dedupe_window` is stored and queued, the rest are counted as suppressed. The event's delivery
id names the window it fell in, so a restarted source that sees the same failures again stores
nothing new in that window either. Memory is bounded: the dedupe map and the owner caches keep
at most `dedupe_keys` and `cache_size` entries. For a crash, the container's previous logs
(`tail_lines`, `limit_bytes`) are read once per admitted failure and redacted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from recoverops.anomaly import AnomalyWatch
from recoverops.correlation.matching import Identity
from recoverops.incidents import Source
from recoverops.outage import Outage
from recoverops.redaction import redact_text
from recoverops.settings import Settings
from recoverops.sources.kube_failures import (
    CRASH_LOOP,
    OOM_KILLED,
    Finding,
    event_finding,
    job_finding,
    node_finding,
    pod_findings,
)
from recoverops.sources.kube_owners import OwnerResolver, Workload
from recoverops.sources.sink import Sink, WatchedFailure
from recoverops.store import Store

logger = logging.getLogger("recoverops.sources")

SOURCE = Source.KUBERNETES
GONE = 410
# Causes whose container ran and died: its previous instance's log says why.
_LOGGED_CAUSES = frozenset({CRASH_LOOP, OOM_KILLED})

Clock = Callable[[], datetime]
K = TypeVar("K")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class WatchConfig:
    namespace: str | None = None  # None: every namespace, and the nodes
    watch_seconds: int = 60  # the server ends each watch after this (and stop waits for it)
    page_size: int = 500
    dedupe_window: timedelta = timedelta(minutes=30)
    dedupe_keys: int = 10_000
    cache_size: int = 2_048
    tail_lines: int = 50
    limit_bytes: int = 16_384
    max_text: int = 64 * 1024
    request_timeout: float = 30.0
    save_every: float = 1.0
    max_backoff: float = 60.0


@dataclass
class StreamStats:
    position: str | None = None
    lists: int = 0  # full lists: the first start, and each 410
    relists: int = 0  # lists forced by 410 Gone
    events: int = 0  # watch events received
    errors: int = 0
    last_error: str | None = None
    last_contact: float | None = None  # monotonic time the server last answered

    def snapshot(self, now: float) -> dict[str, Any]:
        lag = None if self.last_contact is None else round(now - self.last_contact, 3)
        return {
            "position": self.position,
            "lag_s": lag,
            "lists": self.lists,
            "relists": self.relists,
            "events": self.events,
            "errors": self.errors,
            "last_error": self.last_error,
        }


class Dedupe(Generic[K]):
    """The (target, cause) pairs stored in the last `window`, at most `limit` of them (the
    oldest are forgotten first: a forgotten pair is stored again, never lost)."""

    def __init__(self, window: timedelta, limit: int) -> None:
        self._window = window
        self._limit = limit
        self._last: OrderedDict[K, datetime] = OrderedDict()

    def recent(self, key: K, now: datetime) -> bool:
        while self._last:
            oldest, at = next(iter(self._last.items()))
            if now - at < self._window:
                break
            del self._last[oldest]
        return key in self._last

    def remember(self, key: K, now: datetime) -> None:
        self._last[key] = now
        self._last.move_to_end(key)
        while len(self._last) > self._limit:
            self._last.popitem(last=False)

    def __len__(self) -> int:
        return len(self._last)


@dataclass(frozen=True, slots=True)
class _Stream:
    name: str
    list_call: Callable[..., Any]
    args: tuple[Any, ...]
    check: Callable[[Any], Iterable[tuple[Finding, Workload, Any]]]
    stats: StreamStats = field(default_factory=StreamStats)


class KubeWatcher:
    """Watches one cluster (or one namespace of it) on threads of its own until stopped."""

    def __init__(
        self,
        api_client: Any,
        *,
        store: Store,
        sink: Sink,
        config: WatchConfig | None = None,
        clock: Clock = utc_now,
        anomaly: AnomalyWatch | None = None,
    ) -> None:
        from kubernetes import client

        self.config = config or WatchConfig()
        # Learns the Warning events no cause here knows: a new one, or a burst, is an anomaly.
        self._anomaly = anomaly
        self._store = store
        self._sink = sink
        self._clock = clock
        self._core = client.CoreV1Api(api_client)
        self._batch = client.BatchV1Api(api_client)
        self._owners = OwnerResolver(api_client, cache_size=self.config.cache_size)
        self._dedupe: Dedupe[tuple[Workload, str]] = Dedupe(
            self.config.dedupe_window, self.config.dedupe_keys
        )
        self._lock = threading.Lock()  # the dedupe map and the owner caches
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._watches: dict[str, Any] = {}  # each stream's current watch, ended by `stop`
        self.stored = 0  # failures stored and queued
        self.known = 0  # failures an earlier run had stored in the same window
        self.suppressed = 0  # repeats of a (workload, cause) within the window
        self.streams = self._streams()

    def _streams(self) -> dict[str, _Stream]:
        namespace = self.config.namespace
        core, batch = self._core, self._batch
        if namespace is None:
            streams = [
                _Stream("pods", core.list_pod_for_all_namespaces, (), self._pod),
                _Stream("events", core.list_event_for_all_namespaces, (), self._event),
                _Stream("jobs", batch.list_job_for_all_namespaces, (), self._job),
                _Stream("nodes", core.list_node, (), self._node),
            ]
        else:
            streams = [
                _Stream("pods", core.list_namespaced_pod, (namespace,), self._pod),
                _Stream("events", core.list_namespaced_event, (namespace,), self._event),
                _Stream("jobs", batch.list_namespaced_job, (namespace,), self._job),
            ]
        return {stream.name: stream for stream in streams}

    def key(self, stream: str) -> str:
        """The stream's name in the store: one position per stream and namespace."""
        namespace = self.config.namespace
        return stream if namespace is None else f"{stream}@{namespace}"

    # Running

    def start(self) -> KubeWatcher:
        for stream in self.streams.values():
            thread = threading.Thread(
                target=self._run, args=(stream,), name=f"kube-watch-{stream.name}", daemon=True
            )
            self._threads.append(thread)
            thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every stream within `timeout` seconds in all; a watch blocked waiting for the
        server is ended by closing its response (the client's Watch keeps it in `_resp`)."""
        self._stop.set()
        for watching in list(self._watches.values()):
            watching.stop()
            response = getattr(watching, "_resp", None)
            if response is not None:
                response.close()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def stats(self) -> dict[str, Any]:
        now = time.monotonic()
        with self._lock:
            remembered, cached = len(self._dedupe), self._owners.cached()
        return {
            "source": SOURCE.value,
            "namespace": self.config.namespace,
            "running": self.running,
            "stored": self.stored,
            "known": self.known,
            "suppressed": self.suppressed,
            "dedupe_keys": remembered,
            "cached_owners": cached,
            "streams": {name: s.stats.snapshot(now) for name, s in self.streams.items()},
        }

    def _run(self, stream: _Stream) -> None:
        outage = Outage(
            f"the Kubernetes {stream.name} watch",
            logger=logger,
            base=0.5,
            ceiling=self.config.max_backoff,
        )
        while not self._stop.is_set():
            try:
                self.cycle(stream.name)
            except Exception as error:  # the API server or the store is down: wait, go on
                stream.stats.errors += 1
                stream.stats.last_error = redact_text(f"{type(error).__name__}: {error}")[:500]
                record_error(self._store, SOURCE.value, self.key(stream.name), stream.stats)
                self._stop.wait(outage.failed(error))
                continue
            outage.succeeded()

    def cycle(self, name: str) -> None:
        """List the stream if it has no position, then watch it until the server ends the
        watch; a 410 Gone forgets the position, so the next cycle lists again."""
        from kubernetes.client.exceptions import ApiException

        stream = self.streams[name]
        position = self._store.source_position(SOURCE.value, self.key(name))
        try:
            if position is None:
                position = self._list(stream)
                self._save(stream, position)
            self._watch(stream, position)
        except ApiException as error:
            if error.status != GONE:
                raise
            logger.info("kubernetes %s: position %s expired (410): listing", name, position)
            self._store.forget_source_position(SOURCE.value, self.key(name))
            stream.stats.position = None
            stream.stats.relists += 1

    def _list(self, stream: _Stream) -> str:
        version: str | None = None
        token: str | None = None
        while True:
            page = stream.list_call(
                *stream.args,
                limit=self.config.page_size,
                _continue=token,
                _request_timeout=self.config.request_timeout,
            )
            stream.stats.last_contact = time.monotonic()
            version = version or page.metadata.resource_version
            for item in page.items:
                self._handle(stream, item)
            token = page.metadata._continue
            if not token or self._stop.is_set():
                break
        stream.stats.lists += 1
        if version is None:
            raise RuntimeError(f"the {stream.name} list has no resourceVersion")
        return str(version)

    def _watch(self, stream: _Stream, position: str) -> None:
        from kubernetes import watch

        watching = watch.Watch()
        self._watches[stream.name] = watching
        saved_at = time.monotonic()
        try:
            for event in watching.stream(
                stream.list_call,
                *stream.args,
                resource_version=position,
                allow_watch_bookmarks=True,
                timeout_seconds=self.config.watch_seconds,
                _request_timeout=self.config.watch_seconds + self.config.request_timeout,
            ):
                stream.stats.events += 1
                stream.stats.last_contact = time.monotonic()
                kind, obj = event["type"], event["object"]
                if kind in ("ADDED", "MODIFIED"):
                    self._handle(stream, obj)
                version = obj.metadata.resource_version if obj.metadata else None
                if version:
                    position = str(version)
                if time.monotonic() - saved_at >= self.config.save_every:
                    self._save(stream, position)
                    saved_at = time.monotonic()
                if self._stop.is_set():
                    break
        except Exception:
            if not self._stop.is_set():
                raise
            # `stop` closed the response under the read: what was handled is saved below.
        finally:
            watching.stop()
            self._watches.pop(stream.name, None)
        stream.stats.last_contact = time.monotonic()
        # Saved even when unchanged: its age in /metrics says the stream is alive (a healthy
        # stream saves at least every `watch_seconds`).
        self._save(stream, position)

    def _save(self, stream: _Stream, position: str) -> None:
        self._store.save_source_position(SOURCE.value, self.key(stream.name), position)
        # Saved after what it covers was handled: the stream is read up to now (its lag).
        self._store.source_caught_up(SOURCE.value, self.key(stream.name), self._clock())
        stream.stats.position = position

    # What each stream's objects say

    def _pod(self, pod: Any) -> Iterable[tuple[Finding, Workload, Any]]:
        findings = pod_findings(pod)
        if not findings:
            return []
        workload = self._owners.of_pod(pod)
        return [(finding, workload, pod) for finding in findings]

    def _event(self, event: Any) -> Iterable[tuple[Finding, Workload, Any]]:
        since = self._clock() - self.config.dedupe_window
        finding = event_finding(event, since=since)
        if finding is None:
            self._learn(event, since)
            return []
        workload = self._owners.of_object(finding.object_kind, finding.namespace, finding.name)
        return [(finding, workload, None)]

    def _learn(self, event: Any, since: datetime) -> None:
        """Give a Warning event no cause knows to the anomaly model, once per sighting (a new
        list brings back the last hour's events: those before `since` are history)."""
        if self._anomaly is None or event.type != "Warning":
            return
        seen = event.last_timestamp or event.event_time or event.first_timestamp
        if seen is not None and seen < since:
            return
        involved = event.involved_object
        kind = involved.kind if involved is not None else ""
        line = f"Warning {event.reason or '-'} {kind}: {event.message or ''}"
        self._anomaly.observe(source=SOURCE, stream=self.key("events"), line=line, at=self._clock())

    def _job(self, job: Any) -> Iterable[tuple[Finding, Workload, Any]]:
        finding = job_finding(job)
        if finding is None:
            return []
        workload = self._owners.of_owner(finding.namespace, "Job", finding.name)
        return [(finding, workload, None)]

    def _node(self, node: Any) -> Iterable[tuple[Finding, Workload, Any]]:
        finding = node_finding(node)
        if finding is None:
            return []
        return [(finding, Workload("", "Node", finding.name), None)]

    def _handle(self, stream: _Stream, obj: Any) -> None:
        with self._lock:
            for finding, workload, pod in stream.check(obj):
                key = (workload, finding.cause)
                now = self._clock()
                if self._dedupe.recent(key, now):
                    self.suppressed += 1
                    continue
                failure = self._failure(stream, finding, workload, pod, now)
                if self._sink.put(failure):
                    self.stored += 1
                else:  # stored in this window by an earlier run (a restart, a new list)
                    self.known += 1
                self._dedupe.remember(key, now)

    def _failure(
        self, stream: _Stream, finding: Finding, workload: Workload, pod: Any, now: datetime
    ) -> WatchedFailure:
        lines = [
            f"{'Controlled By:':<16}{workload.kind}/{workload.name}",
            *finding.lines,
        ]
        if pod is not None and finding.cause in _LOGGED_CAUSES:
            for container in finding.containers:
                lines.extend(self._previous_log(pod, container))
        text = redact_text("\n".join(lines))[-self.config.max_text :]
        window = int(now.timestamp() // self.config.dedupe_window.total_seconds())
        return WatchedFailure(
            source=SOURCE,
            kind=f"{stream.name}.{finding.cause}",
            delivery_id=f"{workload}|{finding.cause}|w{window}",
            target=str(workload),
            cause=finding.cause,
            subject=finding.subject,
            text=text + "\n",
            seen_at=now,
            identity=workload_identity(workload, pod),
        )

    def _previous_log(self, pod: Any, container: str) -> list[str]:
        """The last lines its previous instance printed, or why there are none."""
        from kubernetes.client.exceptions import ApiException

        title = f"Logs of {container} (previous instance, last {self.config.tail_lines} lines):"
        try:
            log = self._core.read_namespaced_pod_log(
                pod.metadata.name,
                pod.metadata.namespace,
                container=container,
                previous=True,
                tail_lines=self.config.tail_lines,
                limit_bytes=self.config.limit_bytes,
                _request_timeout=self.config.request_timeout,
            )
        except ApiException as error:
            return [title, f"  (unavailable: {error.status} {error.reason})"]
        except Exception as error:  # the log is a bonus: the failure goes without it
            return [title, f"  (unavailable: {type(error).__name__})"]
        lines = log.splitlines()[-self.config.tail_lines :] if isinstance(log, str) else []
        return [title, *(f"  {line}" for line in lines)] if lines else [title, "  (empty)"]


def record_error(store: Store, source: str, stream: str, stats: StreamStats) -> None:
    """Count the error in the store too, for /metrics; a store that is down is why, often."""
    try:
        store.source_failed(source, stream, stats.last_error or "")
    except Exception as error:
        logger.debug("%s %s: error not recorded: %s", source, stream, type(error).__name__)


def workload_identity(workload: Workload, pod: Any) -> dict[str, Any] | None:
    """What a deploy of the workload is matched by (`recoverops.correlation`): its name and
    namespace, and, when the failure came with its pod, the pod's labels and images."""
    if workload.kind == "Node":
        return None
    labels: dict[str, str] = {}
    images: list[str] = []
    if pod is not None:
        labels = dict(pod.metadata.labels or {}) if pod.metadata is not None else {}
        spec = pod.spec
        containers = [*(spec.init_containers or []), *(spec.containers or [])] if spec else []
        images = [c.image for c in containers if c.image]
        if not images and pod.status is not None:
            images = [c.image for c in pod.status.container_statuses or [] if c.image]
    return Identity(
        workload=workload.name,
        namespace=workload.namespace,
        labels=labels,
        images=tuple(dict.fromkeys(images)),
    ).to_json()


def api_client_from_settings(settings: Settings) -> Any:
    """A client of the cluster `settings.kubeconfig` names, or of the in-cluster account."""
    from kubernetes import client, config

    if settings.kubeconfig is not None:
        return config.new_client_from_config(config_file=str(settings.kubeconfig))
    loaded = client.Configuration()
    config.load_incluster_config(client_configuration=loaded)
    return client.ApiClient(loaded)

"""The anomaly watch over a real store (SQLite and PostgreSQL): what it reports becomes an
incident through the sink and the detector's `process_event`, with the reason on it; its
warm-up and its templates survive a restart, so a restarted source flags nothing old as new.
The Kubernetes watch feeds it the Warning events no known cause covers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kubernetes import client

from recoverops.actors.process import process_event
from recoverops.anomaly import AnomalyConfig, AnomalyWatch
from recoverops.connectors import JobRef, LogResult
from recoverops.detector import analyze_text
from recoverops.incidents import Source
from recoverops.queue import OutboxQueue
from recoverops.sources.kubernetes import KubeWatcher, WatchConfig
from recoverops.sources.sink import StoredSink
from recoverops.store import Store
from recoverops.taxonomy import Category

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
CONFIG = AnomalyConfig(
    warmup=timedelta(minutes=10), window=timedelta(minutes=1), burst_factor=5.0, burst_min=10
)
ROUTINE = ("GET /api/cart/{n} 200 in {n}ms", "ERROR payment gateway timeout after {n}ms")
STREAM = "/aws/lambda/shop"


def no_fetch(ref: JobRef) -> LogResult:
    raise AssertionError(f"nothing is fetched for a watched failure ({ref})")


def watch(store: Store, queue: OutboxQueue) -> AnomalyWatch:
    return AnomalyWatch(store, StoredSink(store, queue), config=CONFIG, save_every=timedelta(0))


def feed(anomalies: AnomalyWatch, line: str, at: datetime) -> Any:
    return anomalies.observe(source=Source.CLOUDWATCH, stream=STREAM, line=line, at=at)


def routine(anomalies: AnomalyWatch, *, minutes: range) -> None:
    for minute in minutes:
        for n, line in enumerate(ROUTINE * 2):
            at = T0 + timedelta(minutes=minute, seconds=n)
            assert feed(anomalies, line.format(n=minute * 10 + n), at) is None


def detect(store: Store, queue: OutboxQueue) -> list[int]:
    incidents = []
    for message in queue.claim("detector", limit=10):
        outcome = process_event(
            store, message.payload["event_id"], fetch=no_fetch, analyze=analyze_text
        )
        queue.ack([message])
        assert outcome.incident_id is not None
        incidents.append(outcome.incident_id)
    return incidents


def test_a_new_error_template_and_a_burst_open_incidents_with_their_reason(store: Store) -> None:
    queue = OutboxQueue(store, name="events")
    anomalies = watch(store, queue)
    # Warm-up: everything is new, nothing is reported, not even an error never seen before.
    routine(anomalies, minutes=range(2))
    assert anomalies.stats()["warming_up_until"] == {
        f"cloudwatch:{STREAM}": "2026-12-02T09:10:00+00:00"
    }
    routine(anomalies, minutes=range(2, 12))
    assert anomalies.stats()["warming_up_until"] == {}
    assert (
        feed(anomalies, "FATAL: config /etc/shop.yaml unreadable", T0 + timedelta(minutes=5))
        is None
    )
    assert queue.depth().waiting == 0

    at = T0 + timedelta(minutes=12, seconds=30)
    new = feed(anomalies, "OperationalError: could not connect to server db-7 port 5432", at)
    assert new is not None and new.reason == "new_template"
    (incident_id,) = detect(store, queue)
    found = store.get_incident(incident_id)
    assert found is not None and found.analysis is not None
    assert found.target == f"cloudwatch:{STREAM}"
    assert found.analysis["anomaly_reason"]["reason"] == "new_template"
    assert found.analysis["summary"].startswith("Anomaly: a new template on cloudwatch:")
    # Its category is the analysis' of the line: a database it cannot reach.
    assert found.category is Category.INFRA_DATABASE
    assert "anomaly" in [e.stage for e in store.incident_timeline(incident_id)]

    burst_at = T0 + timedelta(minutes=13)
    for n in range(25):
        feed(anomalies, f"ERROR payment gateway timeout after {n}ms", burst_at)
    (burst_id,) = detect(store, queue)
    burst = store.get_incident(burst_id)
    assert burst is not None and burst.analysis is not None
    reason = burst.analysis["anomaly_reason"]
    assert reason["reason"] == "burst" and reason["count"] == 10 and reason["factor"] == 5.0
    assert burst_id != incident_id
    assert anomalies.reported == 2


def test_a_restarted_watch_keeps_its_warm_up_and_its_templates(store: Store) -> None:
    queue = OutboxQueue(store, name="events")
    first = watch(store, queue)
    routine(first, minutes=range(3))
    first.flush(T0 + timedelta(minutes=3))
    assert feed(first, "ERROR disk quota exceeded on /data", T0 + timedelta(minutes=4)) is None

    # A restart in the warm-up: the warm-up still ends at 09:10, not ten minutes after it.
    again = watch(store, queue)
    late = T0 + timedelta(minutes=11)
    # What the first learnt is not new to the second, past the warm-up.
    assert feed(again, "ERROR disk quota exceeded on /srv", late) is None
    assert feed(again, "ERROR payment gateway timeout after 9ms", late) is None
    assert queue.depth().waiting == 0
    new = feed(again, "FATAL: segmentation fault in libcrypto.so at 0x7f3a2b", late)
    assert new is not None and new.reason == "new_template"
    assert new.numbers["known"] == 3
    assert new.numbers["since"] == "2026-12-02 09:00 UTC"


def test_the_kubernetes_watch_gives_unknown_warning_events_to_the_model(store: Store) -> None:
    queue = OutboxQueue(store, name="events")
    anomalies = watch(store, queue)
    at = T0 + timedelta(minutes=30)
    watcher = KubeWatcher(
        client.ApiClient(),  # never called: events are handed to the stream's check directly
        store=store,
        sink=StoredSink(store, queue),
        config=WatchConfig(namespace="prod"),
        clock=lambda: at,
        anomaly=anomalies,
    )
    # Seen first at 09:00 (warming up): a routine warning, learnt.
    anomalies.observe(
        source=Source.KUBERNETES,
        stream=watcher.key("events"),
        line="Warning BackOff Pod: Back-off pulling image registry.example/shop:1",
        at=T0,
    )
    event = client.CoreV1Event(
        metadata=client.V1ObjectMeta(name="e.1", namespace="prod"),
        involved_object=client.V1ObjectReference(kind="Pod", name="shop-1", namespace="prod"),
        reason="FailedMount",
        message='MountVolume.SetUp failed for volume "tls" : secret "shop-tls" not found',
        type="Warning",
        last_timestamp=at,
    )
    assert list(watcher.streams["events"].check(event)) == []  # no cause of its own
    (incident_id,) = detect(store, queue)
    found = store.get_incident(incident_id)
    assert found is not None and found.analysis is not None
    assert found.source is Source.KUBERNETES and found.target == "kubernetes:events@prod"
    assert found.analysis["anomaly_reason"]["template"].startswith("Warning FailedMount Pod:")
    assert anomalies.stats()["templates"] == {"kubernetes:events@prod": 2}

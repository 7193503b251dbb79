"""The CloudWatch Logs source against moto's server: matching lines read from the stored position
page after page, one failure per log group and cause with the lines around it, a bounded batch
per poll, and a restart that resumes without reading an event twice or skipping one that shares
its millisecond with the last one read; and the lines no signature knows learnt by the group's
anomaly model."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from recoverops.actors.cloudwatch_watch import CloudWatchActor
from recoverops.actors.process import process_event
from recoverops.actors.supervisor import WATCHERS
from recoverops.anomaly import AnomalyConfig, AnomalyWatch
from recoverops.cli.up import watchers_of
from recoverops.connectors import JobRef, LogResult
from recoverops.detector import analyze_text
from recoverops.queue import OutboxQueue
from recoverops.settings import Settings
from recoverops.sources.cloudwatch import (
    DEFAULT_PATTERN,
    SOURCE,
    CloudWatchFollower,
    FollowConfig,
    LogGroup,
    Position,
)
from recoverops.sources.sink import StoredSink
from recoverops.store import Store
from recoverops.taxonomy import Category
from tests.kubernetes.fixtures import wait_until
from tests.remediation.moto_fixture import moto_url

__all__ = ["moto_url"]

TOO_MANY = (
    'ERROR psycopg.OperationalError: connection to server at "db.internal" (10.0.0.5), port '
    "5432 failed: FATAL:  sorry, too many clients already"
)
TIMED_OUT = "ERROR 2026-12-02T09:00:03.000Z 5f2c Task timed out after 3.00 seconds"
# An error no signature knows: only the anomaly model can call it new.
MISMATCH = "ERROR ledger shard {n} checksum mismatch on page {page}"


class Counting:
    """The real boto3 client, with its filter_log_events calls counted (pagination is seen)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.filter_calls = 0

    def filter_log_events(self, **kwargs: Any) -> Any:
        self.filter_calls += 1
        return self.client.filter_log_events(**kwargs)

    def get_log_events(self, **kwargs: Any) -> Any:
        return self.client.get_log_events(**kwargs)


@pytest.fixture
def logs(moto_url: str) -> Any:
    return boto3.client("logs", endpoint_url=moto_url, region_name="us-east-1")


@pytest.fixture
def group(logs: Any, request: pytest.FixtureRequest) -> str:
    """A fresh log group (moto's server lives for the session)."""
    name = f"/aws/lambda/t-{request.node.name[:40]}-{datetime.now(UTC).timestamp():.0f}"
    logs.create_log_group(logGroupName=name)
    return name


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(Settings(home=tmp_path / "home", database_url=None))
    yield opened
    opened.close()


@pytest.fixture
def queue(store: Store) -> OutboxQueue:
    return OutboxQueue(store, name="events")


def put(logs: Any, group: str, stream: str, events: list[tuple[int, str]]) -> None:
    try:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": ms, "message": text} for ms, text in events],
    )


def follower(
    logs: Any,
    store: Store,
    queue: OutboxQueue,
    group: str,
    anomaly: AnomalyWatch | None = None,
    **config: Any,
) -> CloudWatchFollower:
    return CloudWatchFollower(
        logs,
        store=store,
        sink=StoredSink(store, queue),
        groups=[LogGroup(group, "ERROR")],
        analyze=analyze_text,
        config=FollowConfig(settle_s=0.0, **config),
        anomaly=anomaly,
    )


def no_warm_up(store: Store, queue: OutboxQueue) -> AnomalyWatch:
    """An anomaly model past its warm-up from the first line, saving its counts at once."""
    return AnomalyWatch(
        store,
        StoredSink(store, queue),
        config=AnomalyConfig(warmup=timedelta(0)),
        save_every=timedelta(0),
    )


def minute_ago() -> int:
    return int((datetime.now(UTC) - timedelta(minutes=1)).timestamp() * 1000)


def no_fetch(ref: JobRef) -> LogResult:
    raise AssertionError(f"nothing is fetched for a followed log line ({ref})")


def test_a_batch_per_poll_ids_at_one_millisecond_and_a_restart_read_each_event_once(
    logs: Any, group: str, store: Store, queue: OutboxQueue
) -> None:
    t0 = minute_ago()
    put(logs, group, "a", [(t0, "INFO starting"), (t0 + 1, "INFO connecting"), (t0 + 2, TOO_MANY)])
    put(logs, group, "b", [(t0 + 2, TOO_MANY), (t0 + 3, "INFO retrying")])
    first = follower(logs, store, queue, group, batch=1)
    one, two = first.poll(group), first.poll(group)
    assert (one.read, one.stored, one.complete) == (1, 1, False)  # the batch bounds the poll
    assert (two.read, two.suppressed, two.complete) == (1, 1, False)  # same ms, other stream
    position = Position.decode(store.source_position(SOURCE.value, group) or "")
    assert position.timestamp == t0 + 2 and len(position.ids) == 2

    put(logs, group, "a", [(t0 + 2, TOO_MANY), (t0 + 5, TIMED_OUT)])  # a 3rd at the same ms
    restarted = follower(logs, store, queue, group, batch=10)
    again = restarted.poll(group)
    assert again.complete and again.read == 2  # the two new ones, not the two read before
    assert (again.stored, again.known, again.suppressed) == (1, 1, 0)
    # The same cause within the window is stored once: by the first run, not by the restart.
    assert first.stored + restarted.stored == 2
    assert restarted.poll(group).read == 0  # nothing read twice
    caught_up = Position.decode(store.source_position(SOURCE.value, group) or "")
    assert caught_up.timestamp > t0 + 5 and not caught_up.ids  # moved past a read-out window
    messages = queue.claim("test", limit=10)
    assert sorted(m.payload["kind"] for m in messages) == [
        "logs.aws.lambda.timeout",
        "logs.postgres.connection-failed",
    ]


def test_pages_are_followed_and_each_failure_is_analyzed_with_the_lines_around_it(
    logs: Any, group: str, store: Store, queue: OutboxQueue
) -> None:
    t0 = minute_ago()
    noise = [(t0 + n, f"INFO handled order {n}") for n in range(5)]
    crash = [(t0 + 5 + n, TOO_MANY) for n in range(7)]
    put(logs, group, "2026/12/02/[$LATEST]0f1e", [*noise, *crash])
    counting = Counting(logs)
    source = CloudWatchFollower(
        counting,
        store=store,
        sink=StoredSink(store, queue),
        groups=[LogGroup(group, "ERROR")],
        analyze=analyze_text,
        config=FollowConfig(settle_s=0.0, page_size=2),
    )
    done = source.poll(group)
    assert done.complete and done.read == 7 and done.stored == 1 and done.suppressed == 6
    assert counting.filter_calls >= 4  # 7 matches, 2 a page: nextToken followed
    (message,) = queue.claim("test", limit=10)
    outcome = process_event(
        store, message.payload["event_id"], fetch=no_fetch, analyze=analyze_text
    )
    incident = store.get_incident(outcome.incident_id or 0)
    assert incident is not None and incident.target == f"cloudwatch:{group}"
    assert outcome.category is Category.INFRA_DATABASE
    event = store.get_event(message.payload["event_id"])
    assert event is not None and isinstance(event.payload, dict)
    text = event.payload["text"]
    assert "INFO handled order 4" in text and "too many clients" in text  # the lines before
    assert "Log stream:     2026/12/02/[$LATEST]0f1e" in text


def test_a_line_no_signature_knows_is_an_anomaly_of_its_group_once_across_a_restart(
    logs: Any, group: str, store: Store, queue: OutboxQueue
) -> None:
    t0 = minute_ago()
    put(logs, group, "db", [(t0, TOO_MANY)])
    put(logs, group, "ledger", [(t0 + 1, MISMATCH.format(n=7, page=4411))])
    anomalies = no_warm_up(store, queue)
    done = follower(logs, store, queue, group, anomalies).poll(group)
    assert done.read == 2
    # The known cause is not the model's: it learnt the one line no signature covers.
    assert anomalies.lines == 1 and anomalies.reported == 1
    assert anomalies.stats()["templates"] == {f"cloudwatch:{group}": 1}
    messages = queue.claim("test", limit=10)
    by_kind = {m.payload["kind"]: m for m in messages}
    # The line is still a failure of its category too, as before the model saw it.
    assert len(messages) == 3
    assert {"logs.postgres.connection-failed", "anomaly.new_template"} < set(by_kind)
    outcome = process_event(
        store,
        by_kind["anomaly.new_template"].payload["event_id"],
        fetch=no_fetch,
        analyze=analyze_text,
    )
    incident = store.get_incident(outcome.incident_id or 0)
    assert incident is not None and incident.analysis is not None
    assert incident.target == f"cloudwatch:{group}"
    reason = incident.analysis["anomaly_reason"]
    assert reason["reason"] == "new_template" and reason["source"] == f"cloudwatch:{group}"
    assert reason["template"].startswith("ERROR ledger shard")
    assert incident.analysis["summary"].startswith(f"Anomaly: a new template on cloudwatch:{group}")
    queue.ack(messages)

    # Restarted: the same template with other numbers is known, not new.
    later = int(datetime.now(UTC).timestamp() * 1000)  # after the position the poll saved
    put(logs, group, "ledger", [(later, MISMATCH.format(n=12, page=98))])
    restarted = no_warm_up(store, queue)
    again = follower(logs, store, queue, group, restarted).poll(group)
    assert again.read == 1 and restarted.lines == 1 and restarted.reported == 0
    assert not [m for m in queue.claim("test", limit=10) if m.payload["kind"].startswith("anomaly")]
    # Read again from the start (a lost position): the templates came back from the store,
    # so the line that was new is not new again, and nothing is stored twice.
    store.save_source_position(SOURCE.value, group, str(t0))
    fresh = no_warm_up(store, queue)
    replay = follower(logs, store, queue, group, fresh).poll(group)
    assert replay.read == 3 and fresh.lines == 2 and fresh.reported == 0
    assert not [m for m in queue.claim("test", limit=10) if m.payload["kind"].startswith("anomaly")]


def test_the_filter_pattern_is_the_servers_and_the_default_names_errors(
    logs: Any, group: str, store: Store, queue: OutboxQueue
) -> None:
    assert LogGroup.parse(group) == LogGroup(group, DEFAULT_PATTERN)
    assert LogGroup.parse(f"{group}:?OOM ?Killed").pattern == "?OOM ?Killed"
    t0 = minute_ago()
    put(logs, group, "s", [(t0, "INFO all good"), (t0 + 1, "WARN slow"), (t0 + 2, TIMED_OUT)])
    done = follower(logs, store, queue, group).poll(group)
    assert done.read == 1 and done.stored == 1


def test_an_unreadable_group_is_counted_in_the_store_and_the_actor_stats(
    moto_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        home=tmp_path,
        database_url=None,
        aws_endpoint_url=moto_url,
        aws_log_groups=["/aws/lambda/no-such-group"],
    )
    Store.open(settings).close()  # migrated, as the supervisor does before its actors start
    actor = CloudWatchActor(settings, config=FollowConfig(poll_s=0.1, max_backoff=1.0))
    try:
        wait_until(
            lambda: actor.stats()["streams"]["/aws/lambda/no-such-group"]["errors"] >= 1,
            what="the error on a missing group",
        )
    finally:
        final = actor.stop()
    group = final["streams"]["/aws/lambda/no-such-group"]
    assert "ResourceNotFoundException" in (group["last_error"] or "")
    assert final["missing"] == ["/aws/lambda/no-such-group"]  # said once, at the start
    store = Store.open(settings, migrate=False)
    try:
        ((source, stream, errors, caught_up),) = store.source_health()
        assert (source, stream, caught_up) == ("cloudwatch", "/aws/lambda/no-such-group", None)
        assert errors >= 1
    finally:
        store.close()


def test_the_actor_follows_the_configured_groups_and_reports_its_position(
    moto_url: str, logs: Any, group: str, tmp_path: Path
) -> None:
    t0 = minute_ago()
    put(logs, group, "s", [(t0, "INFO up"), (t0 + 1, TIMED_OUT)])
    settings = Settings(
        home=tmp_path, database_url=None, aws_endpoint_url=moto_url, aws_log_groups=[group]
    )
    Store.open(settings).close()
    actor = CloudWatchActor(settings, config=FollowConfig(poll_s=0.2, settle_s=0.0))
    try:
        wait_until(lambda: actor.stats()["stored"] == 1, what="the timed-out line")
    finally:
        final = actor.stop()
    assert final["running"] is False and final["streams"][group]["errors"] == 0
    assert final["missing"] == []
    store = Store.open(settings, migrate=False)
    try:
        assert final["streams"][group]["position"] == store.source_position("cloudwatch", group)
        ((_, stream, errors, caught_up),) = store.source_health()
        assert stream == group and errors == 0 and caught_up is not None
        (message,) = OutboxQueue(store, name="events").claim("test", limit=10)
        assert message.payload["kind"] == "logs.aws.lambda.timeout"
    finally:
        store.close()


def test_the_actor_gives_its_anomaly_model_the_lines_no_cause_knows(
    moto_url: str, logs: Any, group: str, tmp_path: Path
) -> None:
    t0 = minute_ago()
    put(logs, group, "lambda", [(t0, TIMED_OUT)])
    put(logs, group, "ledger", [(t0 + 1, MISMATCH.format(n=3, page=17))])
    settings = Settings(
        home=tmp_path,
        database_url=None,
        aws_endpoint_url=moto_url,
        aws_log_groups=[group],
        anomaly_warmup_s=0.0,
    )
    Store.open(settings).close()
    actor = CloudWatchActor(settings, config=FollowConfig(poll_s=0.2, settle_s=0.0))
    try:
        wait_until(lambda: actor.stats()["anomaly"]["reported"] == 1, what="the new template")
    finally:
        final = actor.stop()
    assert final["anomaly"]["lines"] == 1  # the timed-out line has its cause
    assert final["anomaly"]["templates"] == {f"cloudwatch:{group}": 1}
    store = Store.open(settings, migrate=False)
    try:
        kinds = [m.payload["kind"] for m in OutboxQueue(store, name="events").claim("t", limit=10)]
        assert len(kinds) == 3  # the timed-out line, the other's category, its anomaly
        assert {"anomaly.new_template", "logs.aws.lambda.timeout"} < set(kinds)
        assert len(store.anomaly_templates(f"cloudwatch:{group}", limit=10)) == 1  # flushed
    finally:
        store.close()


def test_recoverops_up_starts_the_cloudwatch_source_when_log_groups_are_set(tmp_path: Path) -> None:
    assert "cloudwatch" in WATCHERS and WATCHERS["cloudwatch"] is CloudWatchActor
    bare = Settings(home=tmp_path, database_url=None)
    assert watchers_of(bare) == ()
    both = bare.model_copy(
        update={"aws_log_groups": ["/aws/lambda/web"], "kubeconfig": tmp_path / "kubeconfig"}
    )
    assert watchers_of(both) == ("kubernetes", "cloudwatch")

"""process_event on failures a watching source stored (`recoverops.sources.sink`): analyzed from
the text they carry, and grouped by target and cause whatever pod or log lines their text names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from recoverops.actors import process_event
from recoverops.connectors import JobRef, LogResult
from recoverops.detector import analyze_text
from recoverops.incidents import Source
from recoverops.queue import OutboxQueue
from recoverops.sources.sink import StoredSink, WatchedFailure
from recoverops.store import Store
from recoverops.taxonomy import Category

T0 = datetime(2026, 12, 2, 9, tzinfo=UTC)


def no_fetch(ref: JobRef) -> LogResult:
    raise AssertionError(f"nothing is fetched for a watched failure ({ref})")


def crash(pod: str, last_line: str, *, cause: str, window: int) -> WatchedFailure:
    text = (
        "Controlled By:  Deployment/web\n"
        f"Name:           {pod}\n"
        "Containers:\n  web:\n    State:          Waiting\n      Reason:       CrashLoopBackOff\n"
        f"    Last State:     Terminated\n      Reason:       {cause}\n      Exit Code:    137\n"
        f"Logs of web (previous instance, last 50 lines):\n  {last_line}\n"
    )
    return WatchedFailure(
        source=Source.KUBERNETES,
        kind=f"pods.{cause}",
        delivery_id=f"prod/Deployment/web|{cause}|w{window}",
        target="prod/Deployment/web",
        cause=cause,
        subject=f"pod prod/{pod}",
        text=text,
        seen_at=T0 + timedelta(hours=window),
    )


def test_one_incident_per_target_and_cause_whatever_the_text_names(store: Store) -> None:
    queue = OutboxQueue(store, name="events")
    sink = StoredSink(store, queue)
    assert sink.put(crash("web-7d9f8-abcde", "caching 512MiB", cause="OOMKilled", window=1))
    assert sink.put(crash("web-7d9f8-zz9x1", "loading 2048 rows", cause="OOMKilled", window=2))
    assert sink.put(crash("web-7d9f8-q7q7q", "panic: nil map", cause="CrashLoopBackOff", window=2))
    assert not sink.put(crash("web-7d9f8-abcde", "again", cause="OOMKilled", window=1))  # stored
    messages = queue.claim("test", limit=10)
    assert len(messages) == 3
    outcomes = [
        process_event(store, m.payload["event_id"], fetch=no_fetch, analyze=analyze_text)
        for m in messages
    ]
    assert [o.status for o in outcomes] == ["stored"] * 3
    assert all(o.logs_available and o.category is Category.INFRA_CONTAINER for o in outcomes)
    oom, again, other = (store.get_incident(o.incident_id or 0) for o in outcomes)
    assert oom is not None and again is not None and other is not None
    assert oom.id == again.id and oom.occurrences == 2  # two pods, two windows: one incident
    assert other.id != oom.id  # another cause of the same workload
    assert oom.target == "kubernetes:prod/Deployment/web"

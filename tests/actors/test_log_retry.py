"""Incidents whose log was unavailable: their own state, their log fetched again on a schedule,
and the analysis landing on the same incident. No Ray: a real SQLite store, the GitHub stand-in
answering 401 and 503 before it serves the log, and a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from recoverops.actors import analyze_incident, process_event
from recoverops.actors.analyzer import failure_templates
from recoverops.actors.detector import Detector, DetectorConfig
from recoverops.actors.log_retry import retry_logs
from recoverops.actors.process import Fetch
from recoverops.connectors import Retry, fetch_log, log_sources
from recoverops.detector import analyze_text
from recoverops.incidents import IncidentStatus, LogRetrySchedule
from recoverops.queue import open_queue
from recoverops.settings import Settings
from recoverops.store import Store, StoredIncident
from tests.actors.conftest import (
    BLOB,
    GitHub,
    enqueue,
    failure_body,
    logs_path,
    store_failure,
    wait_for,
)
from tests.connectors.fake_server import Reply

SCHEDULE = LogRetrySchedule(first=timedelta(seconds=30), factor=2.0, attempts=3)
BAD_TOKEN = Reply(401, b'{"message": "Bad credentials"}')
DOWN = Reply(503, b"upstream unavailable")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=("sqlite", "postgresql"))
def timed_store(
    request: pytest.FixtureRequest, settings: Settings, clock: Clock
) -> Iterator[Store]:
    """A store on each backend in turn (claims lock rows on PostgreSQL), on the test's clock."""
    backend: Settings = request.getfixturevalue(f"{request.param}_settings")
    opened = Store.open(
        settings.model_copy(update={"database_url": backend.database_url}), clock=clock
    )
    yield opened
    opened.close()


def log_reply(github: GitHub) -> Reply:
    return Reply(302, headers={"Location": github.storage.url + BLOB})


def detect_unavailable(store: Store, settings: Settings, clock: Clock) -> tuple[int, int]:
    """A failure whose log cannot be fetched yet, stored and analyzed: (incident id, event id)."""
    fetch = partial(fetch_log, sources=log_sources(settings, retry=Retry(max_attempts=1)))
    event_id = store_failure(store, failure_body(), received_at=clock.now)
    outcome = process_event(store, event_id, fetch=fetch, analyze=analyze_text)
    assert outcome.incident_id is not None and not outcome.logs_available
    analyze_incident(store, outcome.incident_id, event_id=event_id)
    return outcome.incident_id, event_id


def test_the_retry_schedule_backs_off_to_its_ceiling_and_stops() -> None:
    schedule = LogRetrySchedule(
        first=timedelta(seconds=30), factor=2.0, ceiling=timedelta(minutes=3), attempts=5
    )

    waits = [schedule.wait_before(attempt) for attempt in range(1, 7)]

    assert waits == [
        timedelta(seconds=30),
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=3),
        timedelta(minutes=3),
        None,
    ]
    with pytest.raises(ValueError, match="first > 0"):
        LogRetrySchedule(first=timedelta(0))


def test_a_log_that_comes_back_lands_its_analysis_on_the_same_incident(
    timed_store: Store, settings: Settings, github: GitHub, clock: Clock
) -> None:
    store = timed_store
    body = failure_body()
    github.api.route(logs_path(body), BAD_TOKEN, DOWN, log_reply(github))
    fetch = partial(fetch_log, sources=log_sources(settings, retry=Retry(max_attempts=1)))
    retry = partial(retry_logs, store, SCHEDULE, fetch=fetch, analyze=analyze_text)

    incident_id, _ = detect_unavailable(store, settings, clock)
    waiting = store.get_incident(incident_id)
    assert waiting is not None and waiting.status is IncidentStatus.LOGS_UNAVAILABLE
    assert waiting.analysis is not None and "401" in waiting.analysis["summary"]

    assert retry() == []  # its first try is scheduled, 30 s on
    clock.advance(29)
    assert retry() == []
    clock.advance(1)
    [second] = retry()  # the API is down now
    assert (second.incident_id, second.attempt, second.status) == (incident_id, 1, "unavailable")
    still = store.get_incident(incident_id)
    assert still is not None and still.status is IncidentStatus.LOGS_UNAVAILABLE
    assert still.analysis is not None and "503" in still.analysis["summary"]
    clock.advance(59)
    assert retry() == []  # backing off: the next try is 60 s after the last
    clock.advance(1)
    [third] = retry()

    assert (third.incident_id, third.attempt, third.status) == (incident_id, 2, "analyzed")
    analyzed = store.get_incident(incident_id)
    assert analyzed is not None and analyzed.status is IncidentStatus.ANALYZED
    assert analyzed.category.value == "deploy.network"
    assert analyzed.evidence and analyzed.features is not None
    assert analyzed.analysis is not None and analyzed.analysis["context"]["signature"] == "verified"
    # The failure's fingerprint (target and templates), no longer the job run's.
    assert failure_templates(analyzed)
    timeline = store.incident_timeline(incident_id)
    assert [entry.stage for entry in timeline] == [
        "open",
        "logs_unavailable",
        "log_retry",
        "log_retry",
        "analyzed",
    ]
    assert "401" in timeline[1].detail
    assert (
        timeline[2].detail.startswith("try 1: logs unavailable: ") and "503" in timeline[2].detail
    )
    assert timeline[3].detail == "try 2: log fetched and analyzed"

    # The same failure on a later run of the job finds the incident by its new fingerprint.
    clock.advance(3600)
    again = store_failure(store, failure_body(job_id=777_001), received_at=clock.now)
    github.serve(failure_body(job_id=777_001))
    outcome = process_event(store, again, fetch=fetch, analyze=analyze_text)
    assert outcome.incident_id == incident_id
    recurred = store.get_incident(incident_id)
    assert recurred is not None and recurred.occurrences == 2


def test_a_log_of_a_failure_that_has_its_incident_already_keeps_the_job_runs_fingerprint(
    timed_store: Store, settings: Settings, github: GitHub, clock: Clock
) -> None:
    fetch = partial(fetch_log, sources=log_sources(settings, retry=Retry(max_attempts=1)))
    other_run = github.serve(failure_body(job_id=5))  # the same job, an earlier run
    earlier = store_failure(timed_store, other_run, received_at=clock.now)
    first = process_event(timed_store, earlier, fetch=fetch, analyze=analyze_text).incident_id
    github.api.route(logs_path(failure_body()), BAD_TOKEN, log_reply(github))
    incident_id, _ = detect_unavailable(timed_store, settings, clock)
    waiting = timed_store.get_incident(incident_id)
    assert waiting is not None and first is not None and first != incident_id

    timed_store.claim_log_retries(SCHEDULE)
    clock.advance(30)
    [tried] = retry_logs(timed_store, SCHEDULE, fetch=fetch, analyze=analyze_text)

    assert tried.status == "analyzed"
    analyzed = timed_store.get_incident(incident_id)
    assert analyzed is not None and analyzed.status is IncidentStatus.ANALYZED
    assert analyzed.fingerprint == waiting.fingerprint  # the failure's is the first incident's
    notes = [e.detail for e in timed_store.incident_timeline(incident_id) if e.stage == "log_retry"]
    assert notes == [f"try 1: log fetched and analyzed; the same failure as incident {first}"]


def test_tries_stop_after_the_schedule_and_say_so(
    timed_store: Store, settings: Settings, github: GitHub, clock: Clock
) -> None:
    github.api.route(logs_path(failure_body()), BAD_TOKEN)
    fetch = partial(fetch_log, sources=log_sources(settings, retry=Retry(max_attempts=1)))
    retry = partial(retry_logs, timed_store, SCHEDULE, fetch=fetch, analyze=analyze_text)
    incident_id, _ = detect_unavailable(timed_store, settings, clock)

    tried = []
    for _ in range(12):  # far past the schedule's three tries
        tried += retry()
        clock.advance(600)

    assert [(t.attempt, t.status) for t in tried] == [(n, "unavailable") for n in (1, 2, 3)]
    incident = timed_store.get_incident(incident_id)
    assert incident is not None and incident.status is IncidentStatus.LOGS_UNAVAILABLE
    last = timed_store.incident_timeline(incident_id)[-1]
    assert last.stage == "log_retry" and last.detail.endswith("replay the event to try again")

    # Replayed while the token is still bad: the job run's incident gets its tries again.
    assert replay(timed_store, fetch, clock) == incident_id
    assert retry() == []
    clock.advance(30)
    assert [(t.incident_id, t.attempt) for t in retry()] == [(incident_id, 1)]

    # Replayed once the token works: the log lands on the same incident.
    github.serve(failure_body())
    assert replay(timed_store, fetch, clock) == incident_id
    analyzed = timed_store.get_incident(incident_id)
    assert analyzed is not None and analyzed.status is IncidentStatus.ANALYZED
    assert analyzed.occurrences == 3 and failure_templates(analyzed)


def replay(store: Store, fetch: Fetch, clock: Clock) -> int | None:
    """The failure delivered again (a new delivery id), detected and analyzed: its incident."""
    event_id = store_failure(store, failure_body(), received_at=clock.now)
    outcome = process_event(store, event_id, fetch=fetch, analyze=analyze_text)
    incident_id: int | None = outcome.incident_id
    if incident_id is not None:
        analyze_incident(store, incident_id, event_id=event_id)
    return incident_id


def test_a_due_try_is_claimed_by_one_detector_only(
    timed_store: Store, settings: Settings, github: GitHub, clock: Clock
) -> None:
    github.api.route(logs_path(failure_body()), BAD_TOKEN)
    incident_id, event_id = detect_unavailable(timed_store, settings, clock)
    assert timed_store.claim_log_retries(SCHEDULE) == []  # scheduled
    clock.advance(30)

    [claimed] = timed_store.claim_log_retries(SCHEDULE)
    assert (claimed.incident_id, claimed.event_id, claimed.attempt) == (incident_id, event_id, 1)
    assert timed_store.claim_log_retries(SCHEDULE) == []


def test_the_detector_loop_retries_until_the_token_works(
    settings: Settings, github: GitHub, store: Store
) -> None:
    github.api.route(logs_path(failure_body()), BAD_TOKEN)
    event_id = store_failure(store, failure_body())
    enqueue(open_queue(settings, store), event_id)

    def stored() -> int | None:
        event = store.get_event(event_id)
        return None if event is None else event.incident_id

    def analyzed(incident_id: int) -> StoredIncident | None:
        incident = store.get_incident(incident_id)
        return incident if incident and incident.status is IncidentStatus.ANALYZED else None

    schedule = LogRetrySchedule(first=timedelta(milliseconds=20), attempts=100)
    config = DetectorConfig(idle_wait=0.01, log_retry_every=0.01, log_retry=schedule)
    detector = Detector(settings, name="retrier", config=config)
    try:
        incident_id = wait_for(stored, what="the incident")
        wait_for(lambda: detector.stats()["log_retries"] >= 1, what="a try while the token is bad")
        github.serve(failure_body())  # the token works again
        incident = wait_for(partial(analyzed, incident_id), what="the incident analyzed")
    finally:
        stats = detector.stop()

    assert incident.category.value == "deploy.network"
    assert stats["logs_recovered"] == 1
    stages = [entry.stage for entry in store.incident_timeline(incident_id)]
    assert stages[:2] == ["open", "logs_unavailable"] and stages[-1] == "analyzed"

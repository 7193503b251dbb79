"""The store: one object over one database, every method one short transaction."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from recoverops.analysis import Analysis
from recoverops.ci_runs import RunFacts
from recoverops.errors import NotFoundError
from recoverops.incidents import Event, IncidentStatus, LogRetrySchedule, Source, TimelineEntry
from recoverops.settings import Settings
from recoverops.store import (
    anomaly_templates,
    audit,
    ci_runs,
    dead_letters,
    deploys,
    events,
    feedback,
    health,
    history,
    incident_pages,
    incidents,
    llm_answers,
    log_retries,
    outbox,
    positions,
    stages,
)
from recoverops.store.ci_runs import LastFix, StoredRun
from recoverops.store.engine import create_store_engine, read_only_engine
from recoverops.store.log_retries import LogRetry
from recoverops.store.migrate import upgrade_engine
from recoverops.store.records import (
    AuditEntry,
    DeadLetter,
    EventAdded,
    FeedbackRecord,
    IncidentPage,
    IncidentUpsert,
    LabelledIncident,
    OutboxEntry,
    StoredDeploy,
    StoredEvent,
    StoredIncident,
    StoredTemplate,
    WatchedOccurrence,
)
from recoverops.store.stages import StageRecord
from recoverops.store.url import database_url
from recoverops.taxonomy import Category

if TYPE_CHECKING:
    from recoverops.correlation.deploys import Deploy

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Store:
    """Events, incidents, their timelines, the audit log and the outbox queue.

    Every write is keyed (source + delivery id, fingerprint + event, queue + key), so a caller
    that retries after a crash, or two workers handed the same message, never duplicate anything.
    """

    def __init__(self, engine: Engine, *, clock: Clock = utc_now) -> None:
        self.engine = engine
        self._clock = clock
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._readers = sessionmaker(read_only_engine(engine), expire_on_commit=False)

    @classmethod
    def open(cls, settings: Settings, *, migrate: bool = True, clock: Clock = utc_now) -> Store:
        """The store the settings name, brought to the newest schema unless `migrate` is False."""
        engine = create_store_engine(database_url(settings))
        if migrate:
            upgrade_engine(engine, settings)
        return cls(engine, clock=clock)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A transaction that may write: on SQLite it holds the one write lock from its start."""
        with self._sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads: it never waits for a writer (`read_only_engine`)."""
        with self._readers.begin() as session:
            yield session

    # Events

    def add_event(
        self, event: Event, *, payload: Any = None, run: RunFacts | None = None
    ) -> EventAdded:
        """Store the event unless (source, delivery_id) is already stored; safe to race. The
        CI `run` it reports (`recoverops.ci_runs`) is recorded with it, in the same transaction."""
        with self.transaction() as session:
            added = events.add_event(session, event, payload=payload)
            if added.created and run is not None:
                ci_runs.record(session, added.event_id, run, at=event.received_at)
            return added

    def add_event_and_enqueue(
        self,
        event: Event,
        *,
        payload: Any = None,
        queue: str,
        message: Callable[[int], tuple[str, Mapping[str, Any]]],
        now: datetime,
        run: RunFacts | None = None,
    ) -> tuple[EventAdded, bool]:
        """Store the event and, when it is new, put `message(event_id)` (key, payload) on the
        outbox `queue` in the same transaction: the transactional outbox, so no failure is ever
        stored without being queued. (event added, whether this call queued it)"""
        with self.transaction() as session:
            added = events.add_event(session, event, payload=payload)
            if not added.created:
                return added, False
            if run is not None:
                ci_runs.record(session, added.event_id, run, at=event.received_at)
            key, body = message(added.event_id)
            return added, outbox.enqueue(session, queue, key=key, payload=body, now=now)

    def get_event(self, event_id: int) -> StoredEvent | None:
        with self.reading() as session:
            return events.get_event(session, event_id)

    def find_event(self, source: Source, delivery_id: str) -> StoredEvent | None:
        with self.reading() as session:
            return events.find_event(session, source=source, delivery_id=delivery_id)

    def latest_event_of(self, incident_id: int) -> StoredEvent | None:
        """The incident's newest occurrence's event, with its payload (None: none stored)."""
        with self.reading() as session:
            return events.latest_of_incident(session, incident_id)

    def mark_event_processed(self, event_id: int) -> bool:
        """For an event that produced no incident; False if it was already processed."""
        with self.transaction() as session:
            return events.mark_processed(session, event_id, at=self._clock(), incident_id=None)

    def record_event_error(self, event_id: int, error: str) -> bool:
        """Keep on the event what its latest processing raised (it is retried, or dead)."""
        with self.transaction() as session:
            return dead_letters.record_event_error(session, event_id, error)

    # Incidents

    def upsert_incident(
        self,
        fingerprint: str,
        *,
        target: str,
        category: Category,
        source: Source,
        seen_at: datetime | None = None,
        event_id: int | None = None,
        analysis: Analysis | None = None,
        features: Mapping[str, Any] | None = None,
    ) -> IncidentUpsert:
        """Open the incident, or count a recurrence (reopening a resolved one), with its timeline.

        `features` is the analysis's model feature row (`recoverops.models.features`), kept for
        retraining; a later occurrence without one keeps the stored row.

        With `event_id`, the event is marked processed in the same transaction, and an event that
        was already processed changes nothing (`counted` is False): processing is exactly-once
        even though queue delivery is at-least-once.
        """
        analysis_json = None if analysis is None else analysis.to_json()
        occurrence = incidents.Occurrence(
            fingerprint=fingerprint,
            target=target,
            category=category,
            source=source,
            seen_at=seen_at or self._clock(),
            event_id=event_id,
            analysis=analysis_json,
            evidence=[] if analysis_json is None else analysis_json["evidence"],
            features=None if features is None else dict(features),
        )
        with self.transaction() as session:
            return incidents.record_occurrence(session, occurrence, now=self._clock())

    def move_incident(
        self, incident_id: int, status: IncidentStatus, *, detail: str = ""
    ) -> StoredIncident | None:
        """Move to `status` per the domain's rules (InvalidTransitionError if not allowed)."""
        with self.transaction() as session:
            return incidents.move(session, incident_id, status, detail=detail, at=self._clock())

    # Incidents waiting for their log (see `log_retries`)

    def claim_log_retries(self, schedule: LogRetrySchedule, *, limit: int = 10) -> list[LogRetry]:
        """The incidents in logs_unavailable whose next try is due, claimed for one try each."""
        with self.transaction() as session:
            return log_retries.claim(session, schedule, now=self._clock(), limit=limit)

    def log_retry_failed(
        self, incident_id: int, *, attempt: int, reason: str
    ) -> StoredIncident | None:
        with self.transaction() as session:
            return log_retries.failed(
                session, incident_id, attempt=attempt, reason=reason, at=self._clock()
            )

    def land_log(
        self,
        incident_id: int,
        *,
        note: str,
        fingerprint: str,
        analysis: Analysis,
        features: Mapping[str, Any] | None,
    ) -> StoredIncident | None:
        """Put the analysis of the fetched log on the incident (None: it no longer waits)."""
        with self.transaction() as session:
            return log_retries.landed(
                session,
                incident_id,
                note=note,
                fingerprint=fingerprint,
                analysis=analysis.to_json(),
                features=None if features is None else dict(features),
                at=self._clock(),
            )

    def get_incident(self, incident_id: int) -> StoredIncident | None:
        with self.reading() as session:
            return incidents.get(session, incident_id)

    def list_incidents(
        self,
        *,
        status: IncidentStatus | None = None,
        category: Category | None = None,
        source: Source | None = None,
        target: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> IncidentPage:
        """Incidents newest first (by first seen); `cursor` is a previous page's `next_cursor`."""
        with self.reading() as session:
            return incident_pages.list_incidents(
                session,
                status=status,
                category=category,
                source=source,
                target=target,
                limit=limit,
                cursor=cursor,
            )

    def incident_timeline(self, incident_id: int) -> list[TimelineEntry]:
        with self.reading() as session:
            return incidents.timeline(session, incident_id)

    # Operator feedback (what retraining learns from)

    def add_feedback(
        self,
        incident_id: int,
        *,
        category: Category | None,
        fix_outcome: str | None,
        operator: str,
        note: str = "",
    ) -> FeedbackRecord:
        """Record an operator's category (confirmed or corrected) and/or fix outcome
        ("worked" or "failed"), and note it on the incident's timeline.

        NotFoundError for an unknown incident; ValueError for an outcome that is neither, an
        empty operator, or feedback that gives neither a category nor an outcome.
        """
        with self.transaction() as session:
            return feedback.add(
                session,
                incident_id,
                category=category,
                fix_outcome=fix_outcome,
                operator=operator,
                note=note,
                at=self._clock(),
            )

    def feedback_watermark(self) -> int:
        """The newest feedback's id, 0 when there is none: a mark to count new labels after."""
        with self.reading() as session:
            return feedback.watermark(session)

    def count_labelled_feedback_after(self, feedback_id: int) -> int:
        """How many feedback rows giving a category were added after `feedback_id`."""
        with self.reading() as session:
            return feedback.count_labelled_after(session, feedback_id)

    def labelled_incidents(self) -> list[LabelledIncident]:
        """Each incident an operator gave a category, with its latest label and features."""
        with self.reading() as session:
            return feedback.labelled_incidents(session)

    # Audit log

    def audit(self, actor: str, verb: str, *, subject: str, detail: Mapping[str, Any]) -> int:
        with self.transaction() as session:
            return audit.append(
                session, actor=actor, verb=verb, subject=subject, detail=detail, at=self._clock()
            )

    def note_on_incident(
        self,
        incident_id: int,
        *,
        actor: str,
        verb: str,
        stage: str,
        text: str,
        detail: Mapping[str, Any],
    ) -> int:
        """One thing done about an incident, in its timeline (`stage`, `text`) and in the audit
        log (`verb`, `detail`), in one transaction; the audit entry's id.

        NotFoundError for an unknown incident."""
        with self.transaction() as session:
            if incidents.get(session, incident_id) is None:
                raise NotFoundError(f"no incident {incident_id}")
            at = self._clock()
            incidents.append_timeline(session, incident_id, at=at, stage=stage, detail=text)
            return audit.append(
                session,
                actor=actor,
                verb=verb,
                subject=f"incident:{incident_id}",
                detail=detail,
                at=at,
            )

    def audit_entries(
        self,
        *,
        subject: str | None = None,
        limit: int = 100,
        verb: str | None = None,
        since: datetime | None = None,
    ) -> list[AuditEntry]:
        """The newest entries first, optionally about one subject, of one verb, or since a time."""
        with self.reading() as session:
            return audit.entries(session, subject=subject, limit=limit, verb=verb, since=since)

    # Pipeline stages and history (the analyzer, the source actors, the metrics)

    def record_stage(
        self,
        incident_id: int,
        *,
        event_id: int,
        actor: str,
        verb: str,
        key: str,
        result: Mapping[str, Any],
        detail: str,
        stage: str,
        move_to: IncidentStatus | None = None,
        audit_extra: Mapping[str, Any] | None = None,
        merge: Mapping[str, Any] | None = None,
    ) -> StageRecord | None:
        """Record a stage's `result` on the incident (under `key` in its analysis), move it to
        `move_to` if the domain allows (else a `stage` timeline entry), and audit it: all in one
        transaction, once per (incident, event, verb). None when there is no such incident.
        `merge` replaces top-level keys of the analysis (the analyzer's history-aware fix)."""
        with self.transaction() as session:
            return stages.record_stage(
                session,
                incident_id,
                event_id=event_id,
                actor=actor,
                verb=verb,
                key=key,
                result=result,
                stage=stage,
                detail=detail,
                move_to=move_to,
                at=self._clock(),
                audit_extra=audit_extra,
                merge=merge,
            )

    def incident_counts(self) -> dict[tuple[str, str], int]:
        """Incidents by (category, status)."""
        with self.reading() as session:
            return history.incident_counts(session)

    def detection_times(
        self, *, since: datetime, limit: int = 1000
    ) -> list[tuple[datetime, datetime]]:
        """(received_at, processed_at) of the newest events that produced an incident, processed
        at or after `since`; at most `limit`, newest first."""
        with self.reading() as session:
            return history.detection_times(session, since=since, limit=limit)

    def stage_times(
        self, *, verb: str, since: datetime, limit: int = 1000
    ) -> list[tuple[datetime, datetime]]:
        """(started, finished) of the newest stages audited as `verb` since `since`: entries
        whose detail has a `started_at` time (see `record_stage`'s `audit_extra`)."""
        with self.reading() as session:
            return history.stage_times(session, verb=verb, since=since, limit=limit)

    def unprocessed_events(
        self, *, source: Source, after_id: int = 0, limit: int = 100
    ) -> list[StoredEvent]:
        """Events of `source` above `after_id` that are not processed yet, oldest first."""
        with self.reading() as session:
            return history.unprocessed_events(
                session, source=source, after_id=after_id, limit=limit
            )

    def newest_event_id(self, *, source: Source, received_before: datetime) -> int | None:
        """The highest id among events of `source` received before `received_before`."""
        with self.reading() as session:
            return history.newest_event_id(session, source=source, received_before=received_before)

    def incident_targets(self, *, category: Category, limit: int = 500) -> list[str]:
        """Distinct targets with an incident of `category`, most recently failed first."""
        with self.reading() as session:
            return history.incident_targets(session, category=category.value, limit=limit)

    def incidents_by_fingerprint(self, fingerprints: Collection[str]) -> list[StoredIncident]:
        """The incidents with these fingerprints, most recently seen first."""
        with self.reading() as session:
            return history.incidents_by_fingerprint(session, fingerprints)

    # Outbox (the queue when there is no Redis; see recoverops.queue.outbox)

    def outbox_enqueue(
        self, queue: str, *, key: str, payload: Mapping[str, Any], now: datetime
    ) -> bool:
        with self.transaction() as session:
            return outbox.enqueue(session, queue, key=key, payload=payload, now=now)

    def outbox_claim(
        self, queue: str, *, consumer: str, limit: int, now: datetime, lease_until: datetime
    ) -> list[OutboxEntry]:
        with self.transaction() as session:
            return outbox.claim(
                session, queue, consumer=consumer, limit=limit, now=now, lease_until=lease_until
            )

    def outbox_ack(self, queue: str, ids: Collection[int]) -> int:
        with self.transaction() as session:
            return outbox.ack(session, queue, ids)

    def outbox_depth(self, queue: str, *, now: datetime) -> tuple[int, int]:
        with self.reading() as session:
            return outbox.depth(session, queue, now=now)

    # Dead letters (messages given up on; see recoverops.store.dead_letters)

    def add_dead_letter(
        self,
        queue: str,
        *,
        key: str,
        payload: Mapping[str, Any],
        attempts: int,
        last_error: str,
    ) -> int:
        with self.transaction() as session:
            return dead_letters.add(
                session,
                queue,
                key=key,
                payload=payload,
                attempts=attempts,
                last_error=last_error,
                at=self._clock(),
            )

    def dead_letters(self, *, queue: str | None = None, limit: int = 100) -> list[DeadLetter]:
        """Dead letters not replayed yet, newest first."""
        with self.reading() as session:
            return dead_letters.waiting(session, queue=queue, limit=limit)

    def dead_letter_counts(self) -> tuple[int, int]:
        """(every message ever given up on, those not replayed yet)."""
        with self.reading() as session:
            return dead_letters.counts(session)

    def mark_dead_letter_replayed(self, dead_letter_id: int) -> bool:
        with self.transaction() as session:
            return dead_letters.mark_replayed(session, dead_letter_id, at=self._clock())

    # LLM answers

    def llm_answer(self, key: str) -> str | None:
        """The LLM's checked answer kept under `key` (JSON), or None."""
        with self.transaction() as session:
            return llm_answers.get(session, key)

    def save_llm_answer(self, key: str, *, model: str, answer: str) -> None:
        """Keep the LLM's checked `answer` (JSON) under `key`; the first one kept stays."""
        with self.transaction() as session:
            llm_answers.save(session, key=key, model=model, answer=answer, at=self._clock())

    # Source positions

    def source_position(self, source: str, stream: str) -> str | None:
        """Where `source` last was in `stream` (a resourceVersion); None: never watched."""
        with self.reading() as session:
            return positions.get(session, source=source, stream=stream)

    def save_source_position(self, source: str, stream: str, position: str) -> None:
        with self.transaction() as session:
            positions.save(
                session, source=source, stream=stream, position=position, at=self._clock()
            )

    def source_positions(self) -> list[tuple[str, str, str, datetime]]:
        """(source, stream, position, updated_at) of every watched stream (for /metrics)."""
        with self.reading() as session:
            return positions.every(session)

    def forget_source_position(self, source: str, stream: str) -> None:
        """The next start lists `stream` afresh (its position expired)."""
        with self.transaction() as session:
            positions.forget(session, source=source, stream=stream)

    # Source health

    def source_caught_up(self, source: str, stream: str, to: datetime) -> None:
        """`source` has read everything of `stream` up to `to` (its lag is now minus that)."""
        with self.transaction() as session:
            health.caught_up(session, source=source, stream=stream, to=to)

    def source_failed(self, source: str, stream: str, error: str) -> None:
        """Count an error of `source` reading `stream` and keep its (redacted) text."""
        with self.transaction() as session:
            health.failed(session, source=source, stream=stream, error=error, at=self._clock())

    def source_health(self) -> list[tuple[str, str, int, datetime | None]]:
        """(source, stream, errors, caught_up_to) of every watched stream (for /metrics)."""
        with self.reading() as session:
            return health.every(session)

    # Deploy markers and their incidents (see recoverops.correlation)

    def record_deploy(self, deploy: Deploy, *, event_id: int | None = None) -> StoredDeploy:
        """Store the deploy's marker, or update the run's (status, hints; its earliest time)."""
        with self.transaction() as session:
            return deploys.record(session, deploy, event_id=event_id)

    def deploys_between(
        self, *, start: datetime, end: datetime, limit: int = 100
    ) -> list[StoredDeploy]:
        """Deploys at times in [start, end], newest first."""
        with self.transaction() as session:
            return deploys.between(session, start=start, end=end, limit=limit)

    def deploys_of_incident(self, incident_id: int) -> list[StoredDeploy]:
        with self.transaction() as session:
            return deploys.of_incident(session, incident_id)

    def watched_occurrences(
        self, *, not_sources: Collection[str], start: datetime, end: datetime, limit: int = 500
    ) -> list[WatchedOccurrence]:
        """Occurrences of failures of any source but `not_sources` seen in [start, end], with
        the identity their event carries."""
        with self.transaction() as session:
            return deploys.watched_between(
                session, not_sources=list(not_sources), start=start, end=end, limit=limit
            )

    def link_deploys(
        self, incident_id: int, *, links: Collection[tuple[int, str]], compose: deploys.Compose
    ) -> list[StoredDeploy]:
        """Put the incident down to these deploys (id, why): the links, their timeline and
        audit entries, and the analysis `compose` makes, in one transaction; the new links."""
        with self.transaction() as session:
            return deploys.link(
                session, incident_id, links=list(links), compose=compose, at=self._clock()
            )

    # The anomaly model's templates (see recoverops.anomaly)

    def anomaly_templates(self, source: str, *, limit: int) -> list[StoredTemplate]:
        """The `limit` most recently seen templates of `source`, least recent first."""
        with self.transaction() as session:
            return anomaly_templates.recent(session, source=source, limit=limit)

    def save_anomaly_templates(
        self,
        source: str,
        templates: Collection[StoredTemplate],
        *,
        forget: Collection[str] = (),
    ) -> None:
        """Write `templates` of `source` and drop the template ids in `forget`."""
        with self.transaction() as session:
            anomaly_templates.save(session, source=source, templates=list(templates), forget=forget)

    def find_deploy(self, source: str, key: str) -> StoredDeploy | None:
        with self.transaction() as session:
            return deploys.find(session, source=source, key=key)

    def attach_occurrence(
        self,
        incident_id: int,
        *,
        event_id: int,
        seen_at: datetime,
        side: str,
        evidence: Collection[Mapping[str, Any]],
        detail: str,
    ) -> bool:
        """Count the event's failure on `incident_id`, an incident of another fingerprint it
        was merged into (see `deploys.attach`); False when there was nothing to do."""
        with self.transaction() as session:
            return deploys.attach(
                session,
                incident_id,
                event_id=event_id,
                seen_at=seen_at,
                side=side,
                evidence=[dict(e) for e in evidence],
                detail=detail,
                at=self._clock(),
            )

    def set_deploy_incident(self, source: str, key: str, incident_id: int) -> bool:
        """Give the deploy marker its incident unless it has one (a failed deploy job's own)."""
        with self.transaction() as session:
            return deploys.set_incident(session, source=source, key=key, incident_id=incident_id)

    # CI runs (the history a failure is judged against: flaky, broken trunk, what changed)

    def record_run(self, event_id: int, facts: RunFacts, *, at: datetime | None = None) -> bool:
        """Record the run event `event_id` reports, once; True when this call recorded it."""
        with self.transaction() as session:
            return ci_runs.record(session, event_id, facts, at=at or self._clock())

    def set_run_tests(self, event_id: int, tests: Sequence[str]) -> bool:
        """Keep the failing tests the analysis named on the run of `event_id` (False: no run)."""
        with self.transaction() as session:
            return ci_runs.set_tests(session, event_id, tests)

    def run_of_event(self, event_id: int) -> StoredRun | None:
        with self.transaction() as session:
            return ci_runs.of_event(session, event_id)

    def runs_on_commit(self, *, target: str, commit_sha: str) -> list[StoredRun]:
        with self.transaction() as session:
            return ci_runs.on_commit(session, target=target, commit_sha=commit_sha)

    def failed_runs_with(
        self, *, incident_id: int, target: str, since: datetime, until: datetime
    ) -> list[StoredRun]:
        with self.transaction() as session:
            return ci_runs.failed_with(
                session, incident_id=incident_id, target=target, since=since, until=until
            )

    def last_passing_run(self, *, target: str, before: datetime) -> StoredRun | None:
        with self.transaction() as session:
            return ci_runs.last_passing(session, target=target, before=before)

    def last_fix(self, incident_id: int) -> LastFix | None:
        with self.transaction() as session:
            return ci_runs.last_fix(session, incident_id)

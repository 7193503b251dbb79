"""A detector: a loop that claims queued events, takes each to its incident, then acks it.

    claim ─► process_event (incident stored) ─► Analyzer (analyze stage) ─► Remediator (plan) ─► ack

The loop runs on a thread started by `__init__`, so a detector that Ray restarts (the actor's
`max_restarts`) resumes by itself. Each incarnation claims under its own consumer name; what a
dead incarnation had claimed but not acked goes to whichever consumer claims after its lease
runs out, and is processed idempotently (see `process_event`).

A message is acked only after its incident is stored, analyzed and its remediator has recorded
the plan. Without an analyzer actor the detector runs the analyze stage itself.

Nothing is retried forever: a message that fails (its error is kept on the event) is retried
when its lease runs out, and after `max_attempts` deliveries it goes to the store's dead letters
with its last error and is acked. While the store or the queue is down the loop backs off
exponentially and logs one line when the outage starts and one when it ends.

Between batches, every `log_retry_every` seconds, the detector fetches again the logs of the
incidents in logs_unavailable whose next try is due (`log_retry`), so an incident analyzed
without its log gets its analysis once the token or the CI's API is back.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import ray
import redis
from ray import ObjectRef
from sqlalchemy.exc import InterfaceError, OperationalError

from recoverops.analysis import Analysis
from recoverops.connectors import fetch_log, log_sources
from recoverops.connectors.changes import ApiChangedFiles
from recoverops.correlation import CorrelationRules, Correlator
from recoverops.detector import analyze_text
from recoverops.diagnosis import diagnose
from recoverops.incidents import LogRetrySchedule
from recoverops.observability import log_context, tracing
from recoverops.observability.setup import set_up_actor
from recoverops.outage import Outage
from recoverops.queue import Message, open_queue
from recoverops.settings import Settings
from recoverops.store import Store

from .analyzer import analyze_incident, past_incidents
from .comparison import Comparison, comparison
from .handles import Handle
from .jobs import job_identity
from .log_retry import retry_logs
from .process import Outcome, process_event

if TYPE_CHECKING:
    from recoverops.diagnosis.llm import Advisor

logger = logging.getLogger("recoverops.actors")

# Called at each stage of a message with (stage, event_id, consumer): "analyzed" (a fetched log
# was analyzed, the incident is not stored yet; not reached when the log is unavailable) and
# "stored" (the incident and its plan are stored, the message is not acked yet). Tests pass one
# that blocks, to kill a detector at a known point; in production there is none.
Checkpoint = Callable[[str, int, str], None]

REMEDIATOR_TIMEOUT = 30.0
ANALYZER_TIMEOUT = 30.0

# The store or the queue cannot be reached: an outage to wait out, not the message's fault.
UNAVAILABLE = (OperationalError, InterfaceError, redis.ConnectionError, redis.TimeoutError)


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    queue: str = "events"
    lease: timedelta = timedelta(minutes=2)
    batch: int = 10
    idle_wait: float = 0.2  # seconds between claims while the queue is empty
    max_backoff: float = 30.0  # the longest wait between tries while the store or queue is down
    # How often the loop looks for incidents whose log is due to be fetched again, and when each
    # is fetched (`recoverops.incidents.LogRetrySchedule`).
    log_retry_every: float = 5.0
    log_retry: LogRetrySchedule = field(default_factory=LogRetrySchedule)
    # The Serve application of the Classifier deployment (`recoverops.serve.classifier`) whose
    # model refines the rules' verdict; None: the rules alone.
    classifier: str | None = None


class Detector:
    """Wrapped with `ray.remote` by the supervisor; plain Python here."""

    def __init__(
        self,
        settings: Settings,
        *,
        name: str,
        config: DetectorConfig,
        remediators: Mapping[str, Handle] | None = None,
        analyzer: Handle | None = None,
        checkpoint: Checkpoint | None = None,
    ) -> None:
        set_up_actor(settings)  # this actor's process logs and traces as `up` does
        self.consumer = f"{name}.{uuid.uuid4().hex[:6]}"
        self._config = config
        self._remediators = dict(remediators or {})
        self._analyzer = analyzer
        self._checkpoint = checkpoint
        self._store = Store.open(settings, migrate=False)
        self._queue = open_queue(settings, self._store, name=config.queue, lease=config.lease)
        self._fetch = partial(fetch_log, sources=log_sources(settings))
        self._correlator = Correlator(self._store, CorrelationRules.from_settings(settings))
        self._changed_files = ApiChangedFiles.from_settings(settings)
        self._window = settings.analysis_window_lines
        self._max_attempts = settings.max_attempts
        self._outage = Outage(
            f"{self.consumer}: the store or the queue",
            logger=logger,
            base=config.idle_wait,
            ceiling=max(config.idle_wait, config.max_backoff),
        )
        # The optional LLM of the diagnosis (`diagnosis.llm`): on when RECOVEROPS_LLM_BASE_URL is
        # set; its answers are kept in the store, so every detector reuses them.
        self._advisor: Advisor | None = None
        if settings.llm_base_url is not None:
            from recoverops.diagnosis.llm import Advisor

            self._advisor = Advisor.from_settings(settings, store=self._store)
        self._refine: Callable[[Analysis], Analysis] | None = None
        if config.classifier is not None:
            # Imported only here: a pool without a classifier need not load Serve's client.
            from recoverops.serve.classifier_client import ClassifierClient

            self._refine = ClassifierClient(app_name=config.classifier).refine
        self._stats = {
            "claimed": 0,
            "stored": 0,
            "repeat": 0,
            "missing": 0,
            "covered": 0,
            "failed": 0,
            "dead": 0,
            "log_retries": 0,
            "logs_recovered": 0,
        }
        self._next_log_retry = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.consumer, daemon=True)
        self._thread.start()

    # Actor methods

    def ping(self) -> str:
        return self.consumer

    def stats(self) -> dict[str, Any]:
        return {
            "consumer": self.consumer,
            "running": self._thread.is_alive(),
            # The store or the queue is down, and how many tries failed since it went.
            "unavailable": self._outage.down,
            "failed_tries": self._outage.failures,
            **self._stats,
        }

    def stop(self, timeout: float = 10.0) -> dict[str, Any]:
        """Finish the message in hand, stop claiming; the loop closes the store when it ends.

        Waits up to `timeout` seconds for that. A loop still handling a message then (a slow
        log, an analyzer that does not answer) keeps its store until it is done: closing it
        under the loop would let it reopen connections nobody closes any more."""
        self._stop.set()
        self._thread.join(timeout)
        return self.stats()

    # The loop

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            self._store.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                handled = self.step()
                self._retry_logs()
            except Exception as error:  # the store or queue is down (or claiming has a bug)
                self._stop.wait(self._outage.failed(error))
                continue
            self._outage.succeeded()
            if not handled:
                self._stop.wait(self._config.idle_wait)

    def step(self) -> int:
        """Claim one batch and handle it; the number of messages claimed. Raises when the store
        or the queue is unavailable (the batch's rest is redelivered after its lease)."""
        messages = self._queue.claim(self.consumer, limit=self._config.batch)
        self._stats["claimed"] += len(messages)
        for message in messages:
            if self._stop.is_set():
                break  # unacked: its lease runs out and another consumer takes it
            if message.attempts > self._max_attempts:
                # Its earlier consumers stopped while holding it (it may be what killed them).
                self._give_up(message, error=None)
                continue
            try:
                self._handle(message)
            except UNAVAILABLE:
                raise
            except Exception as error:  # not acked: retried when its lease runs out
                self._failed(message, error)
        return len(messages)

    def _retry_logs(self) -> None:
        """Fetch again the logs due for a try, at most every `log_retry_every` seconds. Raises
        when the store is unavailable; a bug in one try is logged (the try is counted already,
        so a failure that repeats stops after the schedule's attempts)."""
        if time.monotonic() < self._next_log_retry:
            return
        self._next_log_retry = time.monotonic() + self._config.log_retry_every
        try:
            outcomes = retry_logs(
                self._store,
                self._config.log_retry,
                fetch=self._fetch,
                analyze=self._analyze_log,
                limit=self._config.batch,
            )
        except UNAVAILABLE:
            raise
        except Exception:
            logger.exception("%s: retrying unavailable logs failed", self.consumer)
            return
        self._stats["log_retries"] += len(outcomes)
        self._stats["logs_recovered"] += sum(o.status == "analyzed" for o in outcomes)

    def _failed(self, message: Message, error: Exception) -> None:
        self._stats["failed"] += 1
        logger.exception(
            "%s: message %s failed (attempt %d of %d)",
            self.consumer,
            message.key,
            message.attempts,
            self._max_attempts,
        )
        described = f"{type(error).__name__}: {error}"
        event_id = _event_id(message)
        if event_id is not None:
            self._store.record_event_error(event_id, described)
        if message.attempts >= self._max_attempts:
            self._give_up(message, error=described)

    def _give_up(self, message: Message, *, error: str | None) -> None:
        """Move the message to the dead letters with its last error, and ack it."""
        if error is None:
            event_id = _event_id(message)
            event = None if event_id is None else self._store.get_event(event_id)
            recorded = None if event is None else event.last_error
            error = recorded or "its consumers stopped while handling it; no error recorded"
        self._store.add_dead_letter(
            self._config.queue,
            key=message.key,
            payload=message.payload,
            attempts=message.attempts,
            last_error=error,
        )
        self._queue.ack([message])
        self._stats["dead"] += 1
        logger.error(
            "%s: message %s given up on after %d attempts: %s",
            self.consumer,
            message.key,
            message.attempts,
            error,
        )

    def _handle(self, message: Message) -> None:
        event_id = _event_id(message)
        if event_id is None:
            logger.error("%s: dropping message %s without an event id", self.consumer, message.key)
            self._queue.ack([message])
            return
        parent = message.payload.get("trace")
        with (
            tracing.span(
                "recoverops.detect",
                parent=parent if isinstance(parent, dict) else None,
                attributes={"recoverops.event_id": event_id, "messaging.consumer": self.consumer},
            ) as current,
            log_context(event_id=event_id, trace_id=tracing.trace_id_of(current)),
        ):
            outcome = process_event(
                self._store,
                event_id,
                fetch=self._fetch,
                analyze=partial(self._analyze, event_id),
                correlator=self._correlator,
            )
            self._stats[outcome.status] += 1
            with log_context(incident_id=outcome.incident_id):
                self._analyze_incident(outcome)
                self._remediate(outcome, source=message.payload.get("source"))
        self._at("stored", event_id)
        self._queue.ack([message])

    def _analyze(self, event_id: int, text: str) -> Analysis:
        try:
            against = comparison(
                self._store, event_id, fetch=self._fetch, changed_files=self._changed_files
            )
        except UNAVAILABLE:
            raise
        except Exception:  # what changed is extra: its bug must not cost the analysis
            logger.exception(
                "%s: comparing event %s with its passing run failed", self.consumer, event_id
            )
            against = Comparison()
        analysis = self._analyze_log(text, against=against, target=self._target(event_id))
        self._at("analyzed", event_id)
        return analysis

    def _target(self, event_id: int) -> str:
        """The event's job or resource, which keys the LLM's cached answers ("" without one)."""
        if self._advisor is None:
            return ""
        event = self._store.get_event(event_id)
        return "" if event is None else job_identity(event).target

    def _analyze_log(
        self, text: str, *, against: Comparison | None = None, target: str = ""
    ) -> Analysis:
        passing = None if against is None else against.passing_text
        analysis = analyze_text(text, window_lines=self._window, passing_text=passing)
        if self._refine is not None:  # falls back to the rules' analysis by itself
            analysis = self._refine(analysis)
        # Root cause and fix, kept in the stored JSON; what changed against the passing run;
        # with an LLM, shown the similar past incidents and their fixes, as the analyzer sees them.
        past = () if self._advisor is None else past_incidents(self._store, analysis)
        return diagnose(
            analysis,
            text=text,
            passing_text=passing,
            changed_files=None if against is None else against.changed_files,
            advisor=self._advisor,
            past=past,
            target=target,
        )

    def rewire(
        self, *, analyzer: Handle | None = None, remediators: Mapping[str, Handle] | None = None
    ) -> None:
        """Use these actors from the next message on (the supervisor replaced one)."""
        if analyzer is not None:
            self._analyzer = analyzer
        if remediators is not None:
            self._remediators = dict(remediators)

    def _analyze_incident(self, outcome: Outcome) -> None:
        if outcome.incident_id is None:
            return
        if self._analyzer is None:
            with tracing.span(
                "recoverops.analyze", attributes={"recoverops.incident_id": outcome.incident_id}
            ):
                analyze_incident(self._store, outcome.incident_id, event_id=outcome.event_id)
            return
        asked: ObjectRef[int | None] = self._analyzer.analyze.remote(
            outcome.incident_id, event_id=outcome.event_id, trace=tracing.carrier()
        )
        ray.get(asked, timeout=ANALYZER_TIMEOUT)

    def _remediate(self, outcome: Outcome, *, source: object) -> None:
        remediator = self._remediators.get(source) if isinstance(source, str) else None
        if remediator is None or outcome.incident_id is None:
            return
        planned: ObjectRef[int | None] = remediator.plan.remote(
            outcome.incident_id, event_id=outcome.event_id, trace=tracing.carrier()
        )
        audit_id: int | None = ray.get(planned, timeout=REMEDIATOR_TIMEOUT)
        logger.debug(
            "%s: plan for incident %s is audit entry %s",
            self.consumer,
            outcome.incident_id,
            audit_id,
        )

    def _at(self, stage: str, event_id: int) -> None:
        if self._checkpoint is not None:
            self._checkpoint(stage, event_id, self.consumer)


def _event_id(message: Message) -> int | None:
    event_id = message.payload.get("event_id")
    if not isinstance(event_id, int) or isinstance(event_id, bool):
        return None
    return event_id

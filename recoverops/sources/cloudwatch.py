"""The CloudWatch Logs source: follows log groups with `filter_log_events` and turns each
failure their lines report into a stored, queued event, one per log group and cause.

    every `poll_s`, for each group (`GROUP[:PATTERN]`, RECOVEROPS_AWS_LOG_GROUPS), in turn:
        from the stored position (the last event's timestamp and the ids read at it),
        up to now - `settle_s` (events CloudWatch is still ingesting are read next time):
            filter_log_events(filterPattern), page after page (nextToken), until `batch`
            new events are read: a backlog is worked off `batch` events per poll
            each matching event ─► its cause (the analysis of its line) ─► first in the
                dedupe window? its stream's lines around it, analyzed ─► stored and queued
        the position is saved after the events it covers were handled; a poll that read
        everything up to its end moves it there and says so (the stream's lag, in /metrics)
        any error ─► counted (in the store too, for /metrics), retried after a growing wait

A position is `"<ms> <id>,<id>…"`: the timestamp of the last event read and the ids of the
events read at that very millisecond (or, once a poll read everything, the millisecond after
its end, with no ids). The next poll starts at that millisecond (CloudWatch's
startTime is inclusive) and skips those ids, so a restart neither reads an event twice nor
skips one that shares its millisecond. CloudWatch returns a group's events in time order
across its streams, which is what makes one timestamp a position.

A matching line no signature knows is also given to the anomaly model (`recoverops.anomaly`),
one model per group, at the event's own time: a new error template or a burst of a known one
is an anomaly of the group once its warm-up is over.

A failure is (log group, cause): the cause is the strongest signature the engine's analysis
finds in the lines around the match (else its category). The first of each pair in
`dedupe_window` is stored and queued, with the lines around it as its text; the rest are
counted as suppressed. Its delivery id names the window, so a restarted source that reads
the same lines again stores nothing new in that window. The streams of a group are its
workload's instances (Lambda containers, ECS tasks): they are named in the text, not in the
grouping. Memory is bounded: at most `batch` events per poll, `dedupe_keys` remembered pairs,
`context_lines` around a match.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from recoverops.analysis import Analysis
from recoverops.anomaly import AnomalyWatch
from recoverops.incidents import Source
from recoverops.outage import Outage
from recoverops.redaction import redact_text
from recoverops.settings import Settings
from recoverops.sources.kubernetes import Clock, Dedupe, StreamStats, record_error, utc_now
from recoverops.sources.sink import Sink, WatchedFailure
from recoverops.store import Store

logger = logging.getLogger("recoverops.sources")

SOURCE = Source.CLOUDWATCH
# Terms are case-sensitive in CloudWatch; `?` makes them alternatives.
DEFAULT_PATTERN = '?ERROR ?Error ?FATAL ?Exception ?Traceback ?panic ?"Task timed out"'

Analyze = Callable[[str], Analysis]


@dataclass(frozen=True, slots=True)
class LogGroup:
    """A followed group and the filter pattern that picks its failure lines."""

    name: str
    pattern: str = DEFAULT_PATTERN

    @classmethod
    def parse(cls, entry: str) -> LogGroup:
        """`GROUP` or `GROUP:PATTERN` (a group name has no colon)."""
        name, _, pattern = entry.partition(":")
        return cls(name, pattern.strip() or DEFAULT_PATTERN)


@dataclass(frozen=True, slots=True)
class Position:
    """The last event read: its timestamp (ms) and the ids of the events read at it."""

    timestamp: int
    ids: frozenset[str] = frozenset()

    def encode(self) -> str:
        return f"{self.timestamp} {','.join(sorted(self.ids))}".rstrip()

    @classmethod
    def decode(cls, text: str) -> Position:
        stamp, _, ids = text.partition(" ")
        return cls(int(stamp), frozenset(i for i in ids.split(",") if i))

    def covers(self, timestamp: int, event_id: str) -> bool:
        """Whether the event was read before this position."""
        return timestamp < self.timestamp or (timestamp == self.timestamp and event_id in self.ids)

    def after(self, timestamp: int, event_id: str) -> Position:
        if timestamp < self.timestamp:  # out of order: the later position stands
            return self
        if timestamp == self.timestamp:
            return Position(timestamp, self.ids | {event_id})
        return Position(timestamp, frozenset({event_id}))


@dataclass(frozen=True, slots=True)
class FollowConfig:
    poll_s: float = 10.0
    batch: int = 500  # new events handled per group per poll, at most
    page_size: int = 100  # events asked for per filter_log_events call
    max_pages: int = 50  # calls per group per poll (CloudWatch may answer empty pages)
    # CloudWatch may store an event a few seconds after its timestamp: a poll reads up to
    # this long ago, and the next poll starts where it ended.
    settle_s: float = 5.0
    lookback: timedelta = timedelta(minutes=5)  # where a group with no position starts
    context_lines: int = 20  # lines of the stream before the match (and half as many after)
    context_ms: int = 60_000  # how far around the match those lines are looked for
    dedupe_window: timedelta = timedelta(minutes=30)
    dedupe_keys: int = 10_000
    max_text: int = 64 * 1024
    max_backoff: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> FollowConfig:
        return cls(poll_s=settings.aws_log_poll_s, batch=settings.aws_log_batch)


@dataclass(frozen=True, slots=True)
class Poll:
    """What one poll of one group did."""

    read: int = 0  # new matching events handled
    stored: int = 0
    known: int = 0  # stored by an earlier run in the same window (a restart)
    suppressed: int = 0
    complete: bool = False  # everything up to the poll's end was read


@dataclass
class _Group:
    spec: LogGroup
    stats: StreamStats = field(default_factory=StreamStats)


def signature_of(analysis: Analysis) -> str | None:
    """The strongest signature the analysis found near the failure (a cause it names)."""
    near = [hit for hit in analysis.hits if hit.location != "log" and not hit.symptom]
    return max(near, key=lambda hit: hit.weight).signature if near else None


def cause_of(analysis: Analysis) -> str:
    """The strongest signature near the failure, else the analysis's category."""
    return signature_of(analysis) or analysis.category.value


class CloudWatchFollower:
    """Follows log groups on a thread of its own until stopped; `poll` is one step of it."""

    def __init__(
        self,
        logs_client: Any,
        *,
        store: Store,
        sink: Sink,
        groups: Sequence[LogGroup],
        analyze: Analyze,
        config: FollowConfig | None = None,
        clock: Clock = utc_now,
        anomaly: AnomalyWatch | None = None,
    ) -> None:
        self.config = config or FollowConfig()
        # Learns the lines no cause here knows: a new one, or a burst, is an anomaly.
        self._anomaly = anomaly
        self._logs = logs_client
        self._store = store
        self._sink = sink
        self._analyze = analyze
        self._clock = clock
        self._dedupe: Dedupe[tuple[str, str]] = Dedupe(
            self.config.dedupe_window, self.config.dedupe_keys
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.groups = {spec.name: _Group(spec) for spec in groups}
        self.stored = 0  # failures stored and queued
        self.known = 0  # failures an earlier run had stored in the same window
        self.suppressed = 0  # repeats of a (group, cause) within the window
        self.missing: list[str] | None = None  # groups CloudWatch does not have (None: unasked)

    # Running

    def start(self) -> CloudWatchFollower:
        self._thread = threading.Thread(target=self._run, name="cloudwatch-follow", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stats(self) -> dict[str, Any]:
        now = time.monotonic()
        return {
            "source": SOURCE.value,
            "running": self.running,
            "stored": self.stored,
            "known": self.known,
            "suppressed": self.suppressed,
            "dedupe_keys": len(self._dedupe),
            "missing": self.missing,
            "streams": {name: g.stats.snapshot(now) for name, g in self.groups.items()},
        }

    def missing_groups(self) -> list[str]:
        """The followed groups CloudWatch does not have (logs:DescribeLogGroups): a typo in
        the settings, or a group not created yet (it is polled anyway, and read once it is)."""
        absent = []
        for name in self.groups:
            found = self._logs.describe_log_groups(logGroupNamePrefix=name, limit=50)
            if not any(g.get("logGroupName") == name for g in found.get("logGroups", ())):
                absent.append(name)
        return absent

    def _run(self) -> None:
        try:
            self.missing = self.missing_groups()
        except Exception as error:  # said by the polls' errors too; no reason not to start
            logger.warning("cloudwatch: cannot list the log groups: %s", type(error).__name__)
        for name in self.missing or ():
            logger.warning("cloudwatch: log group %s does not exist (yet)", name)
        outages = {
            name: Outage(
                f"the CloudWatch Logs group {name}",
                logger=logger,
                base=1.0,
                ceiling=self.config.max_backoff,
            )
            for name in self.groups
        }
        due = dict.fromkeys(self.groups, 0.0)
        while not self._stop.is_set():
            for name, group in self.groups.items():
                if self._stop.is_set() or time.monotonic() < due[name]:
                    continue
                try:
                    done = self.poll(name)
                except Exception as error:  # CloudWatch or the store is down: wait, go on
                    group.stats.errors += 1
                    group.stats.last_error = redact_text(f"{type(error).__name__}: {error}")[:500]
                    record_error(self._store, SOURCE.value, name, group.stats)
                    due[name] = time.monotonic() + outages[name].failed(error)
                    continue
                outages[name].succeeded()
                # A poll that stopped at its batch goes on at once: the backlog is bounded
                # per poll, not slowed down.
                due[name] = time.monotonic() + (0.0 if not done.complete else self.config.poll_s)
            wake = min(due.values(), default=time.monotonic() + self.config.poll_s)
            self._stop.wait(max(0.05, wake - time.monotonic()))

    # One poll

    def poll(self, name: str) -> Poll:
        """Read the group's new matching events, from its stored position (see the module)."""
        group = self.groups[name]
        spec, stats = group.spec, group.stats
        now = self._clock()
        stored = self._store.source_position(SOURCE.value, name)
        start = (
            Position.decode(stored)
            if stored is not None
            else Position(_ms(now - self.config.lookback))
        )
        end = _ms(now) - int(self.config.settle_s * 1000)
        position, complete = start, False
        counts = {"read": 0, "stored": 0, "known": 0, "suppressed": 0}
        token: str | None = None
        pages = 0
        while end >= start.timestamp and pages < self.config.max_pages:
            page = self._logs.filter_log_events(
                logGroupName=name,
                filterPattern=spec.pattern,
                startTime=start.timestamp,
                endTime=end,
                limit=self.config.page_size,
                **({"nextToken": token} if token else {}),
            )
            pages += 1
            stats.last_contact = time.monotonic()
            for event in page.get("events", ()):
                stamp, event_id = int(event["timestamp"]), str(event["eventId"])
                if start.covers(stamp, event_id) or position.covers(stamp, event_id):
                    continue
                outcome = self._handle(spec, event, now)
                counts[outcome] += 1
                counts["read"] += 1
                stats.events += 1
                position = position.after(stamp, event_id)
                if counts["read"] >= self.config.batch:
                    break
            token = page.get("nextToken")
            if counts["read"] >= self.config.batch:
                break
            if not token:
                complete = True
                break
        if end < start.timestamp:
            complete = True
        elif complete:
            # Everything up to `end` is read: the next poll starts after it, rather than
            # scanning a quiet group again from its last event.
            position = Position(end + 1)
        if position != start or stored is None:
            self._store.save_source_position(SOURCE.value, name, position.encode())
        stats.position = position.encode()
        if complete:
            self._store.source_caught_up(SOURCE.value, name, _time(max(end, start.timestamp)))
        return Poll(**counts, complete=complete)

    def _handle(self, spec: LogGroup, event: dict[str, Any], now: datetime) -> str:
        """Store the failure the event reports: "stored", "known" (stored by an earlier run in
        this window) or "suppressed" (a repeat in the window)."""
        message = str(event.get("message", ""))
        # The matched line names the cause when a signature knows it: the lines before it may
        # hold an earlier, other failure, which is not this one's cause.
        cause = signature_of(self._analyze(message))
        if cause is None:  # before the dedupe: a burst is counted from every line
            self._learn(spec.name, message, int(event["timestamp"]))
        if cause is not None and self._dedupe.recent((spec.name, cause), now):
            self.suppressed += 1
            return "suppressed"
        stream = str(event.get("logStreamName", ""))
        stamp = int(event["timestamp"])
        lines = [
            f"{'Log group:':<16}{spec.name}",
            f"{'Log stream:':<16}{stream}",
            f"{'Matched at:':<16}{_time(stamp).isoformat()}",
            "Events:",
            *(f"  {line}" for line in self._around(spec.name, stream, stamp, message)),
        ]
        text = redact_text("\n".join(lines))[-self.config.max_text :] + "\n"
        if cause is None:  # the line alone says too little (a trace's first line): its context
            cause = cause_of(self._analyze(text))
            if self._dedupe.recent((spec.name, cause), now):
                self.suppressed += 1
                return "suppressed"
        window = int(now.timestamp() // self.config.dedupe_window.total_seconds())
        failure = WatchedFailure(
            source=SOURCE,
            kind=f"logs.{cause}",
            delivery_id=f"{spec.name}|{cause}|w{window}",
            target=spec.name,
            cause=cause,
            subject=f"log stream {spec.name}/{stream}",
            text=text,
            seen_at=now,
        )
        stored = self._sink.put(failure)
        self._dedupe.remember((spec.name, cause), now)
        if stored:
            self.stored += 1
            return "stored"
        self.known += 1
        return "known"

    def _learn(self, group: str, message: str, stamp: int) -> None:
        """Give a line no cause knows to the group's anomaly model. Its first line is the
        template (an event may hold a whole stack trace); its own time, not the poll's, counts
        it in its window, so a backlog read at once is no burst and a restart that reads the
        same lines again names the same window."""
        if self._anomaly is None:
            return
        line = next((part for part in message.splitlines() if part.strip()), "")
        if line:
            self._anomaly.observe(source=SOURCE, stream=group, line=line, at=_time(stamp))

    def _around(self, group: str, stream: str, stamp: int, message: str) -> list[str]:
        """The stream's lines before the match, the match, and a few after (a stack trace
        follows its first line); just the match when the stream cannot be read."""
        if not stream:
            return message.splitlines()
        before_n, after_n = self.config.context_lines, max(1, self.config.context_lines // 2)
        try:
            before = self._logs.get_log_events(
                logGroupName=group,
                logStreamName=stream,
                startTime=stamp - self.config.context_ms,
                endTime=stamp + 1,
                limit=before_n + 1,
                startFromHead=False,
            )["events"]
            after = self._logs.get_log_events(
                logGroupName=group,
                logStreamName=stream,
                startTime=stamp + 1,
                endTime=stamp + self.config.context_ms,
                limit=after_n,
                startFromHead=True,
            )["events"]
        except Exception as error:  # the context is a bonus: the failure goes without it
            logger.info("cloudwatch %s/%s: no context (%s)", group, stream, type(error).__name__)
            return message.splitlines()
        messages = [str(e.get("message", "")) for e in (*before, *after)]
        if message not in messages:
            messages = [*messages[: len(before)], message, *messages[len(before) :]]
        return [line for m in messages for line in m.rstrip("\n").splitlines()]


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _time(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def log_groups_from_settings(settings: Settings) -> list[LogGroup]:
    return [LogGroup.parse(entry) for entry in settings.aws_log_groups]


def logs_client_from_settings(settings: Settings) -> Any:
    """A CloudWatch Logs client (RECOVEROPS_AWS_ENDPOINT_URL, RECOVEROPS_AWS_REGION)."""
    import boto3  # imported on first use: only the CloudWatch source needs it
    from botocore.config import Config

    session = boto3.session.Session(region_name=settings.aws_region)
    return session.client(
        "logs",
        endpoint_url=settings.aws_endpoint_url,
        config=Config(
            retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=10, read_timeout=30
        ),
    )


def groups_text(groups: Iterable[LogGroup]) -> str:
    return ", ".join(group.name for group in groups)

"""The store's tables as typed declarative models.

The schema itself is owned by the migrations in `migrations/versions/`; these models must match them
(a test compares the two), and the store's code reads and writes through them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from recoverops.store.column_types import JSONDocument, UTCDateTime

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
Id = BigInteger().with_variant(Integer(), "sqlite")

# Named constraints, so that later migrations can alter them by name on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class EventRow(Base):
    """An event as received; unique per (source, delivery_id) so a redelivery is recognised."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(64))
    delivery_id: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload_ref: Mapped[str] = mapped_column(Text)
    payload: Mapped[Any | None] = mapped_column(JSONDocument)
    # Set in the same transaction as the incident it produced, so a redelivered or reclaimed
    # event is recognised as done and not counted twice.
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    incident_id: Mapped[int | None] = mapped_column(Id, ForeignKey("incidents.id"))
    # Migration 0006: what the latest attempt at processing it raised (None: nothing yet).
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("source", "delivery_id"),)


class IncidentRow(Base):
    """One failure of one job or resource, grouped by fingerprint."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    target: Mapped[str] = mapped_column(String(512), index=True)
    category: Mapped[str] = mapped_column(String(32), index=True)
    source: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    occurrences: Mapped[int] = mapped_column(Integer)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    analysis: Mapped[Any | None] = mapped_column(JSONDocument)
    evidence: Mapped[Any] = mapped_column(JSONDocument)
    # The model's feature row (recoverops.models.features) of the latest occurrence whose log
    # was analyzed: what retraining learns from, without keeping the log.
    features: Mapped[Any | None] = mapped_column(JSONDocument)
    # Migration 0008: while in logs_unavailable, how often the log was fetched again and when
    # the next try is due (None: not scheduled yet, or no tries left).
    log_retries: Mapped[int] = mapped_column(Integer, default=0)
    log_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    # Listing pages newest first walks this index.
    __table_args__ = (Index("ix_incidents_first_seen_id", "first_seen", "id"),)


class TimelineRow(Base):
    """One stage an incident went through, with its time."""

    __tablename__ = "timeline_entries"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    incident_id: Mapped[int] = mapped_column(Id, ForeignKey("incidents.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    stage: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_timeline_entries_incident_id_at", "incident_id", "at"),)


class FeedbackRow(Base):
    """An operator's word on an incident: the category confirmed or corrected, the fix's outcome."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        Id, ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[str | None] = mapped_column(String(32))
    fix_outcome: Mapped[str | None] = mapped_column(String(16))
    operator: Mapped[str] = mapped_column(String(255))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ActionRow(Base):
    """A remediation action proposed or carried out for an incident (used by the remediator)."""

    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    # Names the action idempotently (e.g. incident + recipe), so a retried plan is not doubled.
    action_key: Mapped[str] = mapped_column(String(255), unique=True)
    incident_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(512))
    risk: Mapped[str] = mapped_column(String(16))
    params: Mapped[Any] = mapped_column(JSONDocument)
    status: Mapped[str] = mapped_column(String(32), index=True)
    decided_by: Mapped[str | None] = mapped_column(String(255))
    snapshot: Mapped[Any | None] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Migration 0005 (recoverops.remediation): where the action acts, why, what the policy said,
    # what happened, its deadlines, and which remediator holds it (a lease that can expire).
    system: Mapped[str] = mapped_column(String(32), server_default="")
    environment: Mapped[str] = mapped_column(String(64), server_default="default")
    reason: Mapped[str] = mapped_column(Text, server_default="")
    decision: Mapped[Any | None] = mapped_column(JSONDocument)
    result: Mapped[Any | None] = mapped_column(JSONDocument)
    validate_within_s: Mapped[float] = mapped_column(Float, server_default="60")
    approval_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    validate_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_actions_target_started_at", "target", "started_at"),)


class AuditRow(Base):
    """Who did what to which subject, and when; rows are only ever added."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(255))
    verb: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255), index=True)
    detail: Mapped[Any] = mapped_column(JSONDocument)


class OutboxRow(Base):
    """One queued message of the store-backed queue; a claim is a lease that can expire."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    queue: Mapped[str] = mapped_column(String(64))
    dedup_key: Mapped[str] = mapped_column(String(255))
    payload: Mapped[Any] = mapped_column(JSONDocument)
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("queue", "dedup_key"),
        Index("ix_outbox_queue_claimed_until", "queue", "claimed_until"),
    )


class DeadLetterRow(Base):
    """A queued message that failed `max_attempts` times, with its last error (migration 0006).

    Replaying one marks it `replayed_at` rather than deleting it, so the table also counts every
    message ever given up on."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    queue: Mapped[str] = mapped_column(String(64))
    dedup_key: Mapped[str] = mapped_column(String(255))
    payload: Mapped[Any] = mapped_column(JSONDocument)
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text)
    dead_at: Mapped[datetime] = mapped_column(UTCDateTime())
    replayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_dead_letters_queue_replayed_at", "queue", "replayed_at"),)


class SourcePositionRow(Base):
    """Where a watching source is in its stream (migration 0009): a Kubernetes watch's
    resourceVersion, so that a restarted source resumes instead of replaying."""

    __tablename__ = "source_positions"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    stream: Mapped[str] = mapped_column(String(255), primary_key=True)
    position: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SourceHealthRow(Base):
    """How a watched stream is doing (migration 0011): the errors its source met, and the time
    up to which it has read everything (its lag is now minus that)."""

    __tablename__ = "source_health"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    stream: Mapped[str] = mapped_column(String(255), primary_key=True)
    errors: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    caught_up_to: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AnomalyTemplateRow(Base):
    """A template a watched source printed, and its rate baseline (migration 0012): what makes
    a restarted source's anomaly model remember what is not new (`recoverops.anomaly`)."""

    __tablename__ = "anomaly_templates"

    source: Mapped[str] = mapped_column(String(255), primary_key=True)
    template_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    template: Mapped[str] = mapped_column(Text)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column(BigInteger)
    # Lines per window, an exponentially weighted moving average.
    baseline: Mapped[float] = mapped_column(Float)


class DeployRow(Base):
    """A CI run that deployed (migration 0012), successful or not: a marker a crash of what it
    deployed is put down to (`recoverops.correlation`), never an incident by itself."""

    __tablename__ = "deploys"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    delivery_id: Mapped[str] = mapped_column(String(255))
    event_id: Mapped[int | None] = mapped_column(Id, ForeignKey("events.id", ondelete="SET NULL"))
    repository: Mapped[str] = mapped_column(String(512))
    name: Mapped[str] = mapped_column(String(512))
    environment: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32))
    why: Mapped[str] = mapped_column(Text)
    # The names the deployed workload may go by (repository, images, environment, job).
    hints: Mapped[Any] = mapped_column(JSONDocument)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # The incident it was found to have caused (the latest, when several).
    incident_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )

    __table_args__ = (UniqueConstraint("source", "delivery_id"),)


class CiRunRow(Base):
    """One CI run a webhook reported (migration 0013), passing runs too: its job (`target`, as
    incidents name it), commit, branch, attempt and outcome, and where its log is fetched from.
    What a failure's history reads: flaky (passed on the same commit), broken trunk (the same
    failure on the default branch), and the last passing run to compare the log with."""

    __tablename__ = "ci_runs"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    event_id: Mapped[int] = mapped_column(
        Id, ForeignKey("events.id", ondelete="CASCADE"), unique=True
    )
    source: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(512))
    # "passed" or "failed".
    outcome: Mapped[str] = mapped_column(String(16))
    commit_sha: Mapped[str | None] = mapped_column(String(64), index=True)
    branch: Mapped[str | None] = mapped_column(String(255))
    # The repository's default branch, when the payload says it (GitHub and GitLab do).
    default_branch: Mapped[str | None] = mapped_column(String(255))
    # What the attempts of one run share (a GitHub run id, a GitLab pipeline id), and which
    # attempt this is: a re-run that flips the outcome is a flake.
    run_key: Mapped[str | None] = mapped_column(String(255))
    attempt: Mapped[int | None] = mapped_column(Integer)
    # The connector's JobRef of the run's log (`recoverops.connectors.JobRef`).
    log_project: Mapped[str | None] = mapped_column(String(255))
    log_job: Mapped[str | None] = mapped_column(String(255))
    # The failing test ids the analysis named (None: not analyzed, as for a passing run).
    tests: Mapped[Any | None] = mapped_column(JSONDocument)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_ci_runs_target_finished_at", "target", "finished_at"),)


class LlmAnswerRow(Base):
    """An LLM's checked answer for one failure (migration 0014), so that a recurring failure is
    answered from here: `key` is the failure's fingerprint with the model and the fixes offered
    (`diagnosis.llm.cache`), `answer` the answer's JSON as the schema accepted it."""

    __tablename__ = "llm_answers"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(255))
    answer: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

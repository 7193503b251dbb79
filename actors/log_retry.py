"""Fetching again the logs of incidents in logs_unavailable, on the detector's loop, with no Ray.

    claim due incidents ─► fetch the log of each one's latest event ─► analyze
        still unavailable: a `log_retry` entry says why and when the next try is
                           (`LogRetrySchedule`: backoff, a bounded number of tries)
        fetched:           the analysis lands on the same incident (its category, evidence and
                           the failure's fingerprint) ─► analyze stage ─► analyzed

So a missing token or an outage of the CI's API costs an incident its analysis only until it is
fixed: the incident keeps its id, its occurrences and its timeline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from recoverops.incidents import LogRetrySchedule
from recoverops.models.features import feature_row
from recoverops.store import Store
from recoverops.store.log_retries import LogRetry

from .analyzer import LOG_RETRIED_VERB, analyze_incident
from .jobs import job_identity
from .process import Analyze, Fetch, analyze_job, incident_fingerprint

logger = logging.getLogger("recoverops.actors")

RetryStatus = Literal["analyzed", "unavailable", "gone"]
# "analyzed": the log came and the incident is analyzed; "unavailable": still no log; "gone":
# the incident stopped waiting meanwhile (resolved by hand, or another detector landed it).


@dataclass(frozen=True, slots=True)
class RetryOutcome:
    incident_id: int
    attempt: int
    status: RetryStatus


def retry_logs(
    store: Store,
    schedule: LogRetrySchedule,
    *,
    fetch: Fetch,
    analyze: Analyze,
    limit: int = 10,
) -> list[RetryOutcome]:
    """Try once more the incidents whose next try is due (at most `limit` of them)."""
    return [
        retry_log(store, retry, fetch=fetch, analyze=analyze)
        for retry in store.claim_log_retries(schedule, limit=limit)
    ]


def retry_log(store: Store, retry: LogRetry, *, fetch: Fetch, analyze: Analyze) -> RetryOutcome:
    event = store.get_event(retry.event_id)
    if event is None:
        reason = f"logs unavailable: its event {retry.event_id} is no longer stored"
        store.log_retry_failed(retry.incident_id, attempt=retry.attempt, reason=reason)
        return RetryOutcome(retry.incident_id, retry.attempt, "unavailable")
    job = job_identity(event)
    analysis, available = analyze_job(job, fetch=fetch, analyze=analyze)
    if not available:
        store.log_retry_failed(retry.incident_id, attempt=retry.attempt, reason=analysis.summary)
        return RetryOutcome(retry.incident_id, retry.attempt, "unavailable")
    landed = store.land_log(
        retry.incident_id,
        note=f"try {retry.attempt}: log fetched and analyzed",
        fingerprint=incident_fingerprint(event, job, analysis),
        analysis=analysis,
        features=feature_row(analysis),
    )
    if landed is None:
        return RetryOutcome(retry.incident_id, retry.attempt, "gone")
    analyze_incident(store, retry.incident_id, event_id=retry.event_id, verb=LOG_RETRIED_VERB)
    logger.info(
        "incident %s: its log came on try %d, %s", retry.incident_id, retry.attempt, job.target
    )
    return RetryOutcome(retry.incident_id, retry.attempt, "analyzed")

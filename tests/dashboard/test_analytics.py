"""dashboard/analytics.py: the figures, from data made by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from analytics import (
    Pipeline,
    actions_by_lane,
    lane,
    metric_samples,
    operator_outcomes,
    over_time,
    pipeline,
    repository,
    resolve_times_by_category,
    source_health,
    summary,
    time_to_resolve,
    verdicts,
)
from client import Action, Incident, IncidentDetail
from common import duration

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def incident(number: int, **fields: Any) -> IncidentDetail:
    row: dict[str, Any] = {
        "id": number,
        "fingerprint": f"fp{number}",
        "target": f"octo/repo:ci/job{number}",
        "category": "build.test",
        "source": "github",
        "status": "analyzed",
        "occurrences": 1,
        "first_seen": "2026-01-10T10:00:00+00:00",
        "last_seen": "2026-01-10T10:00:00+00:00",
        "updated_at": "2026-01-10T10:00:00+00:00",
        "analysis": None,
        "evidence": [],
        "timeline": [],
    }
    row.update(fields)
    return cast(IncidentDetail, row)


def entry(at: str, stage: str, detail: str = "") -> dict[str, str]:
    return {"at": at, "stage": stage, "detail": detail}


def action(
    number: int, status: str, *, incident_id: int | None = None, by: str | None = None
) -> Action:
    return cast(
        Action,
        {"id": number, "status": status, "incident_id": incident_id, "decided_by": by},
    )


def test_time_to_resolve_is_first_seen_to_the_first_resolution() -> None:
    resolved = incident(
        1,
        timeline=[
            entry("2026-01-10T10:00:00+00:00", "open"),
            entry("2026-01-10T10:30:00+00:00", "resolved"),
            entry("2026-01-10T11:00:00+00:00", "reopened"),
            entry("2026-01-10T12:00:00+00:00", "resolved"),
        ],
    )
    assert time_to_resolve(resolved) == timedelta(minutes=30)
    assert (
        time_to_resolve(incident(2, timeline=[entry("2026-01-10T10:00:00+00:00", "open")])) is None
    )


def test_the_median_time_to_resolve_per_category() -> None:
    def resolved(number: int, category: str, at: str) -> IncidentDetail:
        return incident(number, category=category, timeline=[entry(at, "resolved")])

    times = resolve_times_by_category(
        [
            resolved(1, "build.test", "2026-01-10T10:10:00+00:00"),
            resolved(2, "build.test", "2026-01-10T10:30:00+00:00"),
            resolved(3, "build.test", "2026-01-10T12:00:00+00:00"),
            resolved(4, "infra.network", "2026-01-10T10:01:00+00:00"),
            incident(5, category="build.lint"),  # never resolved
        ]
    )
    assert times == {"build.test": timedelta(minutes=30), "infra.network": timedelta(minutes=1)}


def test_durations_read_at_a_glance() -> None:
    assert [duration(s) for s in (None, 12, 250, 3 * 3600 + 300, 2 * 86400 + 4 * 3600)] == [
        "—",
        "12 s",
        "4 min 10 s",
        "3 h 05 min",
        "2 d 4 h",
    ]


def test_verdicts_count_each_incidents_latest_word_against_what_was_detected() -> None:
    confirmed = incident(
        1, timeline=[entry("2026-01-10T10:00:00+00:00", "feedback", "alice confirmed build.test")]
    )
    corrected_later = incident(
        2,
        timeline=[
            entry("2026-01-10T10:00:00+00:00", "feedback", "bob confirmed build.test"),
            entry(
                "2026-01-10T10:05:00+00:00",
                "feedback",
                "bob corrected build.test to build.lint, fix worked: checkstyle",
            ),
        ],
    )
    outcome_only = incident(
        3,
        category="infra.network",
        timeline=[entry("2026-01-10T10:00:00+00:00", "feedback", "carol fix failed")],
    )
    given = verdicts([confirmed, corrected_later, outcome_only])
    assert [(v.category, v.confirmed, v.corrected, v.accuracy) for v in given] == [
        ("build.test", 1, 1, 0.5)
    ]
    assert operator_outcomes([confirmed, corrected_later, outcome_only]) == {
        "worked": 1,
        "failed": 1,
    }


def test_the_summary() -> None:
    resolved_alone = incident(
        1,
        timeline=[entry("2026-01-10T10:10:00+00:00", "resolved")],
    )
    resolved_with_approval = incident(
        2,
        timeline=[entry("2026-01-10T10:30:00+00:00", "resolved")],
    )
    resolved_with_feedback = incident(
        3,
        timeline=[
            entry("2026-01-10T10:50:00+00:00", "resolved"),
            entry(
                "2026-01-10T11:00:00+00:00", "feedback", "dan corrected build.test to build.lint"
            ),
        ],
    )
    open_one = incident(4)
    actions = [
        action(1, "succeeded", incident_id=1, by="policy: auto-restart"),
        action(2, "succeeded", incident_id=2, by="operator: alice"),
        action(3, "rolled_back", incident_id=3, by="policy: default"),
        action(4, "awaiting_approval", incident_id=4),
    ]

    figures = summary(
        [resolved_alone, resolved_with_approval, resolved_with_feedback, open_one], actions
    )

    assert (figures.incidents, figures.resolved) == (4, 3)
    assert figures.mttr == timedelta(minutes=30)  # the median of 10, 30 and 50 minutes
    assert figures.automation_rate == 1 / 3  # only #1: #2 was approved, #3 corrected
    assert figures.fix_success_rate == 2 / 3  # two validated, one rolled back, one pending
    assert figures.accuracy == 0.0  # the one verdict was a correction


def test_the_summary_of_nothing_says_nothing() -> None:
    figures = summary([incident(1)], [])
    assert (figures.mttr, figures.automation_rate, figures.fix_success_rate, figures.accuracy) == (
        None,
        None,
        None,
        None,
    )


def test_lanes() -> None:
    assert [lane(s) for s in ("proposed", "awaiting_approval", "validating", "succeeded")] == [
        "planned",
        "awaiting approval",
        "applied",
        "validated",
    ]
    assert [lane(s) for s in ("rolled_back", "rejected", "something_new")] == [
        "rolled back",
        "stopped",
        "other",
    ]
    lanes = actions_by_lane([action(1, "succeeded"), action(2, "expired"), action(3, "succeeded")])
    assert [a["id"] for a in lanes["validated"]] == [1, 3]
    assert list(lanes) == [
        "planned",
        "awaiting approval",
        "applied",
        "validated",
        "rolled back",
        "stopped",
    ]


def test_incidents_over_time_per_bucket_and_dimension() -> None:
    rows = [
        incident(1, first_seen="2026-01-10T10:05:00+00:00", target="octo/a:ci/x"),
        incident(2, first_seen="2026-01-10T10:55:00+00:00", target="octo/a:ci/y"),
        incident(3, first_seen="2026-01-10T11:01:00+00:00", target="octo/b:ci/x"),
    ]
    assert over_time(rows, by="repository", bucket=timedelta(hours=1)) == [
        {"when": "2026-01-10T10:00:00+00:00", "repository": "octo/a", "incidents": 2},
        {"when": "2026-01-10T11:00:00+00:00", "repository": "octo/b", "incidents": 1},
    ]
    assert over_time(rows, by="source", bucket=timedelta(days=1)) == [
        {"when": "2026-01-10T00:00:00+00:00", "source": "github", "incidents": 3}
    ]
    assert repository("cluster-1:default/web") == "cluster-1"


METRICS = """# HELP recoverops_events_received_total Webhook events accepted.
# TYPE recoverops_events_received_total counter
recoverops_events_received_total{outcome="stored",source="github"} 3.0
recoverops_events_received_total{outcome="ping",source="github"} 1.0
recoverops_events_received_total{outcome="stored",source="jenkins"} 2.0
# HELP recoverops_source_position_age_seconds Seconds since a watching source last saved.
# TYPE recoverops_source_position_age_seconds gauge
recoverops_source_position_age_seconds{source="kubernetes",stream="pods"} 12.0
recoverops_source_position_age_seconds{source="kubernetes",stream="events"} 900.0
# HELP recoverops_queue_depth Messages in the event queue.
# TYPE recoverops_queue_depth gauge
recoverops_queue_depth{state="waiting"} 7.0
recoverops_queue_depth{state="in_flight"} 2.0
# HELP recoverops_stage_latency_seconds Pipeline stage latency quantiles over the last hour.
# TYPE recoverops_stage_latency_seconds gauge
recoverops_stage_latency_seconds{quantile="0.5",stage="ingest"} 0.004
recoverops_stage_latency_seconds{quantile="0.9",stage="ingest"} 0.02
recoverops_stage_latency_seconds{quantile="0.5",stage="analyze"} 1.5
recoverops_stage_latency_seconds{quantile="0.5",stage="someday"} 9.0
"""


def test_the_pipeline_from_metrics() -> None:
    figures = pipeline(metric_samples(METRICS))
    assert (figures.waiting, figures.in_flight) == (7, 2)
    assert figures.median_latency == {"ingest": 0.004, "detect": None, "analyze": 1.5}
    assert pipeline([]) == Pipeline(None, None, {"ingest": None, "detect": None, "analyze": None})


def test_source_health() -> None:
    incidents: list[Incident] = [
        incident(1, first_seen="2026-01-10T11:00:00+00:00"),
        incident(2, first_seen="2026-01-08T11:00:00+00:00"),  # older than a day
        incident(3, source="cloudwatch", first_seen="2026-01-10T09:00:00+00:00"),
    ]
    rows = {h.source: h for h in source_health(incidents, metric_samples(METRICS), now=NOW)}
    assert list(rows) == ["github", "gitlab", "jenkins", "kubernetes", "cloudwatch"]
    github = rows["github"]
    assert (github.events, github.failures, github.state) == (4, 1, "receiving")
    assert github.last_failure == datetime(2026, 1, 10, 11, 0, tzinfo=UTC)
    assert (rows["jenkins"].events, rows["jenkins"].state) == (2, "receiving")
    assert (rows["gitlab"].state, rows["gitlab"].last_failure) == ("no events yet", None)
    # The stream furthest behind decides: 15 minutes is past STALLED_AFTER.
    assert (rows["kubernetes"].lag, rows["kubernetes"].state) == (900.0, "stalled")
    assert (rows["cloudwatch"].failures, rows["cloudwatch"].lag) == (1, None)

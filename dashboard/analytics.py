"""What the dashboard's figures are, computed from the API's answers: no Streamlit, no HTTP.

Every function takes the plain data `client` returns and a `now` where time matters, so each
figure can be checked against data made by hand.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import median

from client import Action, Incident, IncidentDetail
from prometheus_client.parser import text_string_to_metric_families

# The sources the live page always shows, as the API names them (AWS reports through CloudWatch).
SOURCES = {
    "github": "GitHub",
    "gitlab": "GitLab",
    "jenkins": "Jenkins",
    "kubernetes": "Kubernetes",
    "cloudwatch": "AWS",
}
# A watched stream that has not moved for this long is shown as stalled.
STALLED_AFTER = timedelta(minutes=5)
RECENT = timedelta(hours=24)
# The pipeline's stages /metrics times (serve/metrics.py's STAGES).
STAGES = ("ingest", "detect", "analyze")

# The fix-tracking lanes, from the engine's statuses (recoverops.remediation.model.ActionStatus).
LANES: dict[str, tuple[str, ...]] = {
    "planned": ("proposed", "dry_run", "approved", "starting"),
    "awaiting approval": ("awaiting_approval",),
    "applied": ("applying", "validating"),
    "validated": ("succeeded",),
    "rolled back": ("regressed", "rolling_back", "rolled_back", "rollback_failed"),
    "stopped": ("denied", "rejected", "expired", "failed"),
}
FIX_WORKED = ("succeeded",)
FIX_FAILED = ("regressed", "rolling_back", "rolled_back", "rollback_failed", "failed")
# An action decided by a person says so (Engine._answer: "operator: NAME").
BY_OPERATOR = "operator:"
RESOLVED = "resolved"
FEEDBACK_STAGE = "feedback"
# The store's feedback timeline entry (recoverops.store.feedback._timeline_detail):
# "NAME confirmed CATEGORY…" or "NAME corrected DETECTED to CATEGORY…".
_VERDICT = re.compile(r" (?:confirmed|corrected \S+ to) (?P<category>[a-z_]+\.[a-z_.]+)")
_OUTCOME = re.compile(r"\bfix (?P<outcome>worked|failed)\b")


def when(iso: str) -> datetime:
    """An API timestamp as an aware datetime in UTC."""
    return datetime.fromisoformat(iso).astimezone(UTC)


def lane(status: str) -> str:
    """The fix-tracking lane of an action's status."""
    return next((name for name, statuses in LANES.items() if status in statuses), "other")


def repository(target: str) -> str:
    """The repository (or cluster, account) part of an incident's target, `owner/repo:job`."""
    return target.split(":", 1)[0]


# Live monitoring


@dataclass(frozen=True, slots=True)
class SourceHealth:
    source: str
    events: int  # deliveries received since the API started (its counter)
    failures: int  # incidents first seen within RECENT
    last_failure: datetime | None
    lag: float | None  # seconds since a watched stream last moved; None: pushed, not watched
    state: str


def metric_samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    """(name, labels, value) of every sample in a Prometheus text exposition."""
    return [
        (sample.name, dict(sample.labels), sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def source_health(
    incidents: Sequence[Incident],
    samples: Sequence[tuple[str, dict[str, str], float]],
    *,
    now: datetime,
) -> list[SourceHealth]:
    """Each source's deliveries, recent failures and lag, in `SOURCES` order."""
    events: Counter[str] = Counter()
    lags: dict[str, float] = {}
    for name, labels, value in samples:
        source = labels.get("source", "")
        if name == "recoverops_events_received_total":
            events[source] += int(value)
        elif name == "recoverops_source_position_age_seconds":
            lags[source] = max(lags.get(source, 0.0), value)  # the stream furthest behind
    rows = []
    for source in SOURCES:
        seen = [when(i["first_seen"]) for i in incidents if i["source"] == source]
        lag = lags.get(source)
        rows.append(
            SourceHealth(
                source=source,
                events=events[source],
                failures=sum(1 for at in seen if now - at <= RECENT),
                last_failure=max(seen, default=None),
                lag=lag,
                state=_state(events[source], lag, seen),
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class Pipeline:
    """The queue's depth and each stage's median latency over the last hour (None: no sample)."""

    waiting: int | None
    in_flight: int | None
    median_latency: dict[str, float | None]


def pipeline(samples: Sequence[tuple[str, dict[str, str], float]]) -> Pipeline:
    depth: dict[str, int] = {}
    latency: dict[str, float | None] = dict.fromkeys(STAGES)
    for name, labels, value in samples:
        if name == "recoverops_queue_depth":
            depth[labels.get("state", "")] = int(value)
        elif name == "recoverops_stage_latency_seconds" and labels.get("quantile") == "0.5":
            if labels.get("stage") in latency:
                latency[labels["stage"]] = value
    return Pipeline(depth.get("waiting"), depth.get("in_flight"), latency)


def _state(events: int, lag: float | None, seen: Sequence[datetime]) -> str:
    if lag is not None:
        return "stalled" if lag > STALLED_AFTER.total_seconds() else "watching"
    return "receiving" if events or seen else "no events yet"


# Failure timeline


def over_time(
    incidents: Iterable[Incident], *, by: str, bucket: timedelta
) -> list[dict[str, object]]:
    """Incidents first seen per `bucket` and value of `by` (category, source or repository):
    rows {"when" (ISO 8601), by, "incidents"} for a stacked chart, oldest first."""
    counts: Counter[tuple[datetime, str]] = Counter()
    for incident in incidents:
        key = repository(incident["target"]) if by == "repository" else str(incident[by])  # type: ignore[literal-required]
        counts[(_floor(when(incident["first_seen"]), bucket), key)] += 1
    return [
        {"when": at.isoformat(), by: key, "incidents": count}
        for (at, key), count in sorted(counts.items())
    ]


def _floor(at: datetime, bucket: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((at - epoch) // bucket) * bucket


# Analytics


@dataclass(frozen=True, slots=True)
class Verdicts:
    """Operators' feedback on one category: how often they confirmed what was detected."""

    category: str
    confirmed: int
    corrected: int

    @property
    def accuracy(self) -> float:
        return self.confirmed / (self.confirmed + self.corrected)


@dataclass(frozen=True, slots=True)
class Summary:
    incidents: int
    resolved: int
    mttr: timedelta | None  # median first seen → resolved, over the resolved incidents
    automation_rate: float | None  # resolved with no person deciding, of those resolved
    fix_success_rate: float | None  # validated, of the actions that finished applying
    accuracy: float | None  # confirmed, of the categories operators gave a verdict on


def time_to_resolve(incident: IncidentDetail) -> timedelta | None:
    """First seen → its first `resolved` timeline entry (None: never resolved)."""
    resolved = [when(e["at"]) for e in incident["timeline"] if e["stage"] == RESOLVED]
    return min(resolved) - when(incident["first_seen"]) if resolved else None


def resolve_times_by_category(incidents: Iterable[IncidentDetail]) -> dict[str, timedelta]:
    """The median time to resolve of each category's resolved incidents."""
    times: defaultdict[str, list[float]] = defaultdict(list)
    for incident in incidents:
        took = time_to_resolve(incident)
        if took is not None:
            times[incident["category"]].append(took.total_seconds())
    return {c: timedelta(seconds=median(seconds)) for c, seconds in sorted(times.items())}


def verdicts(incidents: Iterable[IncidentDetail]) -> list[Verdicts]:
    """Per detected category, the incidents operators confirmed and corrected (each incident's
    latest verdict counts once)."""
    confirmed: Counter[str] = Counter()
    corrected: Counter[str] = Counter()
    for incident in incidents:
        given = [
            m.group("category")
            for e in incident["timeline"]
            if e["stage"] == FEEDBACK_STAGE and (m := _VERDICT.search(e["detail"]))
        ]
        if given:
            if given[-1] == incident["category"]:
                confirmed[incident["category"]] += 1
            else:
                corrected[incident["category"]] += 1
    return [
        Verdicts(category, confirmed[category], corrected[category])
        for category in sorted(confirmed.keys() | corrected.keys())
    ]


def operator_outcomes(incidents: Iterable[IncidentDetail]) -> Counter[str]:
    """How operators said the fixes went ("worked", "failed"), each incident's latest word."""
    outcomes: Counter[str] = Counter()
    for incident in incidents:
        said = [
            m.group("outcome")
            for e in incident["timeline"]
            if e["stage"] == FEEDBACK_STAGE and (m := _OUTCOME.search(e["detail"]))
        ]
        if said:
            outcomes[said[-1]] += 1
    return outcomes


def summary(incidents: Sequence[IncidentDetail], actions: Sequence[Action]) -> Summary:
    """The headline figures over these incidents and actions."""
    durations = [d for d in map(time_to_resolve, incidents) if d is not None]
    resolved = [i for i in incidents if time_to_resolve(i) is not None]
    by_person = _decided_by_person(actions)
    automated = [
        i
        for i in resolved
        if i["id"] not in by_person and not any(e["stage"] == FEEDBACK_STAGE for e in i["timeline"])
    ]
    worked = sum(1 for a in actions if a["status"] in FIX_WORKED)
    failed = sum(1 for a in actions if a["status"] in FIX_FAILED)
    given = verdicts(incidents)
    confirmed = sum(v.confirmed for v in given)
    judged = confirmed + sum(v.corrected for v in given)
    return Summary(
        incidents=len(incidents),
        resolved=len(resolved),
        mttr=timedelta(seconds=median(d.total_seconds() for d in durations)) if durations else None,
        automation_rate=_share(len(automated), len(resolved)),
        fix_success_rate=_share(worked, worked + failed),
        accuracy=_share(confirmed, judged),
    )


def _decided_by_person(actions: Iterable[Action]) -> set[int]:
    return {
        a["incident_id"]
        for a in actions
        if a["incident_id"] is not None and (a["decided_by"] or "").startswith(BY_OPERATOR)
    }


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def actions_by_lane(actions: Iterable[Action]) -> Mapping[str, list[Action]]:
    """The actions in each lane, newest first as listed; every lane present, maybe empty."""
    lanes: defaultdict[str, list[Action]] = defaultdict(list)
    for action in actions:
        lanes[lane(action["status"])].append(action)
    return {name: lanes[name] for name in [*LANES, "other"] if name in LANES or lanes[name]}

"""Incident status transitions and fingerprints."""

from __future__ import annotations

import hashlib
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime
from typing import Any

import pytest

from recoverops.errors import InvalidTransitionError
from recoverops.incidents import Incident, IncidentStatus, can_transition, fingerprint
from recoverops.taxonomy import Category

S = IncidentStatus
AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

ALLOWED = {
    (S.OPEN, S.ANALYZED),
    (S.OPEN, S.ESCALATED),
    (S.OPEN, S.LOGS_UNAVAILABLE),
    (S.REOPENED, S.ANALYZED),
    (S.REOPENED, S.ESCALATED),
    (S.REOPENED, S.LOGS_UNAVAILABLE),
    (S.LOGS_UNAVAILABLE, S.ANALYZED),
    (S.LOGS_UNAVAILABLE, S.RESOLVED),
    (S.LOGS_UNAVAILABLE, S.ESCALATED),
    (S.ANALYZED, S.AWAITING_APPROVAL),
    (S.ANALYZED, S.REMEDIATING),
    (S.ANALYZED, S.RESOLVED),
    (S.ANALYZED, S.ESCALATED),
    (S.AWAITING_APPROVAL, S.REMEDIATING),
    (S.AWAITING_APPROVAL, S.ESCALATED),
    (S.REMEDIATING, S.RESOLVED),
    (S.REMEDIATING, S.ROLLED_BACK),
    (S.REMEDIATING, S.ESCALATED),
    (S.ROLLED_BACK, S.ESCALATED),
    (S.RESOLVED, S.REOPENED),
    (S.ESCALATED, S.RESOLVED),
    (S.ESCALATED, S.REOPENED),
}
ALL_PAIRS = [(a, b) for a in S for b in S]


def incident(status: IncidentStatus = S.OPEN) -> Incident:
    return Incident(
        fingerprint="f" * 64,
        target="github:acme/api:test",
        category=Category.BUILD_TEST,
        status=status,
    )


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
def test_the_transition_table(current: IncidentStatus, target: IncidentStatus) -> None:
    allowed = (current, target) in ALLOWED
    assert can_transition(current, target) is allowed
    if allowed:
        moved = incident(current).moved_to(target, detail="why", at=AT)
        assert moved.status is target
        assert moved.timeline[-1].stage == target.value
        assert moved.timeline[-1].detail == "why"
        assert moved.timeline[-1].at == AT
    else:
        with pytest.raises(InvalidTransitionError, match=f"from {current} to {target}"):
            incident(current).moved_to(target)


def test_the_happy_path_with_approval_keeps_a_timeline() -> None:
    path = [S.ANALYZED, S.AWAITING_APPROVAL, S.REMEDIATING, S.RESOLVED]
    current = incident()
    for status in path:
        current = current.moved_to(status, at=AT)
    assert current.status is S.RESOLVED
    assert [e.stage for e in current.timeline] == [s.value for s in path]


def test_a_failed_remediation_rolls_back_and_escalates() -> None:
    current = incident(S.REMEDIATING).moved_to(S.ROLLED_BACK).moved_to(S.ESCALATED)
    assert current.status is S.ESCALATED


def test_moving_does_not_change_the_original() -> None:
    original = incident()
    original.moved_to(S.ANALYZED)
    assert original.status is S.OPEN and original.timeline == ()
    with pytest.raises(FrozenInstanceError):
        original.status = S.RESOLVED  # type: ignore[misc]


@pytest.mark.parametrize("status", [S.RESOLVED, S.ESCALATED])
def test_a_recurring_resolved_or_escalated_incident_is_reopened(status: IncidentStatus) -> None:
    again = incident(status).recurred(at=AT)
    assert again.status is S.REOPENED
    assert again.occurrences == 2
    assert again.timeline[-1].stage == "reopened"
    assert again.timeline[-1].at == AT
    # and a reopened incident is analyzed again
    assert again.moved_to(S.ANALYZED).status is S.ANALYZED


@pytest.mark.parametrize(
    "status",
    [S.OPEN, S.LOGS_UNAVAILABLE, S.ANALYZED, S.AWAITING_APPROVAL, S.REMEDIATING, S.REOPENED],
)
def test_a_recurring_open_incident_is_only_counted(status: IncidentStatus) -> None:
    again = incident(status).recurred().recurred()
    assert again.status is status
    assert again.occurrences == 3
    assert again.timeline == ()


class TestFingerprint:
    def test_stable_and_hex(self) -> None:
        a = fingerprint(target="github:acme/api:test", template_ids=["t1", "t2"])
        b = fingerprint(target="github:acme/api:test", template_ids=["t1", "t2"])
        assert a == b
        assert len(a) == 64 and int(a, 16) >= 0

    def test_known_value(self) -> None:
        # sha256 over "v2\0target\0sorted templates\0…": pinned, stored fingerprints must stay
        # valid (migration 0007 computes the same for the incidents stored before it)
        expected = hashlib.sha256(b"v2\0t\0a\0b\0").hexdigest()
        assert fingerprint(target="t", template_ids=["b", "a"]) == expected
        no_log = hashlib.sha256(b"v2\0t\0run\0github:o/r#7\0").hexdigest()
        assert fingerprint(target="t", template_ids=[], run="github:o/r#7") == no_log

    def test_template_order_and_repeats_do_not_matter(self) -> None:
        one = fingerprint(target="t", template_ids=["a", "b", "c"])
        assert fingerprint(target="t", template_ids=["c", "a", "b"]) == one
        assert fingerprint(target="t", template_ids=("b", "a", "c", "a")) == one
        assert fingerprint(target="t", template_ids=iter(["c", "b", "a"])) == one

    def test_the_run_only_tells_apart_failures_without_templates(self) -> None:
        assert fingerprint(target="t", template_ids=["a"], run="1") == fingerprint(
            target="t", template_ids=["a"], run="2"
        )
        assert fingerprint(target="t", template_ids=[], run="1") != fingerprint(
            target="t", template_ids=[], run="2"
        )

    @pytest.mark.parametrize(
        "other",
        [
            {"target": "u", "template_ids": ["a", "b"]},
            {"target": "t", "template_ids": ["a"]},
            {"target": "t", "template_ids": ["a", "c"]},
            # the separator keeps parts apart: "ab" is not "a" + "b"
            {"target": "t", "template_ids": ["ab"]},
            {"target": "t", "template_ids": [], "run": "a"},
        ],
    )
    def test_any_part_changes_it(self, other: dict[str, Any]) -> None:
        base = fingerprint(target="t", template_ids=["a", "b"])
        assert fingerprint(**other) != base

"""Remediation's values: what an action is, what the policy decided, where an action stands.

An action's life (`ActionStatus`), each arrow one store transaction, audited:

    planned ─► dry_run | denied | proposed                        (the policy's word; final)
            ─► awaiting_approval ─► approved | rejected | expired (an operator's word)
            ─► approved (policy: auto)
    approved ─► starting ─► applying ─► validating ─► succeeded ─► regressed (the failure recurred)
                   │           │            └─► rolling_back ─► rolled_back | rollback_failed
                   └► denied   └─► rolling_back (the apply failed)       └─► failed (no inverse)

`starting` has passed the policy's gate (rate limits, budget, breaker, window) and counts
against them; nothing was changed yet. A remediator that dies in `applying` does not know
whether the change went through, so a resumed action never applies again: it validates, and
rolls back if the target is not healthy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class System(StrEnum):
    """A target system; one remediator actor each."""

    KUBERNETES = "kubernetes"
    AWS = "aws"
    GITHUB = "github"
    GITLAB = "gitlab"
    JENKINS = "jenkins"


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Effect(StrEnum):
    """What the policy says about an action."""

    AUTO = "auto"  # carried out without asking
    APPROVE = "approve"  # carried out once an operator approves it before its deadline
    DENY = "deny"  # never carried out
    DRY_RUN = "dry_run"  # recorded only: no policy is configured
    PROPOSE = "propose"  # a sensitive kind no rule names explicitly: shown to people only


class ActionStatus(StrEnum):
    DRY_RUN = "dry_run"
    DENIED = "denied"
    PROPOSED = "proposed"
    AWAITING_APPROVAL = "awaiting_approval"
    REJECTED = "rejected"
    EXPIRED = "expired"
    APPROVED = "approved"
    STARTING = "starting"
    APPLYING = "applying"
    VALIDATING = "validating"
    SUCCEEDED = "succeeded"
    REGRESSED = "regressed"
    ROLLING_BACK = "rolling_back"
    ROLLED_BACK = "rolled_back"
    ROLLBACK_FAILED = "rollback_failed"
    FAILED = "failed"


# A remediator drives these forward (they are all resumable after a crash).
RUNNABLE = frozenset(
    {
        ActionStatus.APPROVED,
        ActionStatus.STARTING,
        ActionStatus.APPLYING,
        ActionStatus.VALIDATING,
        ActionStatus.ROLLING_BACK,
    }
)
# Started: the change may have reached the target. These count against rate limits and budgets.
STARTED = frozenset(
    {
        ActionStatus.STARTING,
        ActionStatus.APPLYING,
        ActionStatus.VALIDATING,
        ActionStatus.SUCCEEDED,
        ActionStatus.REGRESSED,
        ActionStatus.ROLLING_BACK,
        ActionStatus.ROLLED_BACK,
        ActionStatus.ROLLBACK_FAILED,
        ActionStatus.FAILED,
    }
)
# A remediation that did not fix its target: what the circuit breaker counts.
FAILED_REMEDIATION = frozenset(
    {
        ActionStatus.REGRESSED,
        ActionStatus.ROLLED_BACK,
        ActionStatus.ROLLBACK_FAILED,
        ActionStatus.FAILED,
    }
)


@dataclass(frozen=True, slots=True)
class PastAction:
    """An earlier action on the same target, as the policy's limits and breaker count it: when
    it started (None: never), how risky it was, where it stands and when it last changed."""

    started_at: datetime | None
    risk: Risk
    status: ActionStatus
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """An action someone wants: its kind, its (untyped) parameters, why, and for which incident.

    The target is not given: the kind derives it from the parameters, so the policy always
    judges the very thing that would be changed.
    """

    kind: str
    params: Mapping[str, Any]
    reason: str = ""
    incident_id: int | None = None
    # Seconds the validation may take; None: the kind's default.
    validate_within: float | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's word on one action, and why (the rule that matched and every check)."""

    effect: Effect
    rule: str  # "policy.yaml:12 (rule 'staging-restarts')", "no policy", "default"
    reasons: tuple[str, ...] = ()
    approval_timeout_s: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "effect": self.effect.value,
            "rule": self.rule,
            "reasons": list(self.reasons),
            "approval_timeout_s": self.approval_timeout_s,
        }


@dataclass(frozen=True, slots=True)
class Inverse:
    """The action that undoes another: a kind and its parameters, taken from the snapshot."""

    kind: str
    params: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The target's state before the change, and the action that would restore it (None: the
    change cannot be undone, like a reboot; a failed validation then escalates)."""

    state: Mapping[str, Any]
    inverse: Inverse | None

    def to_json(self) -> dict[str, Any]:
        inverse = None
        if self.inverse is not None:
            inverse = {"kind": self.inverse.kind, "params": dict(self.inverse.params)}
        return {"state": dict(self.state), "inverse": inverse}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Snapshot:
        inverse = raw.get("inverse")
        return cls(
            state=dict(raw.get("state") or {}),
            inverse=None if not inverse else Inverse(inverse["kind"], dict(inverse["params"])),
        )


class Verdict(StrEnum):
    HEALTHY = "healthy"
    WAITING = "waiting"  # not healthy yet; ask again until the deadline
    FAILED = "failed"  # will not become healthy: stop waiting


@dataclass(frozen=True, slots=True)
class Health:
    verdict: Verdict
    detail: str

    @classmethod
    def healthy(cls, detail: str) -> Health:
        return cls(Verdict.HEALTHY, detail)

    @classmethod
    def waiting(cls, detail: str) -> Health:
        return cls(Verdict.WAITING, detail)

    @classmethod
    def failed(cls, detail: str) -> Health:
        return cls(Verdict.FAILED, detail)


@dataclass(frozen=True, slots=True)
class ActionRecord:
    """An action as stored."""

    id: int
    key: str
    incident_id: int | None
    kind: str
    system: System
    target: str
    environment: str
    risk: Risk
    params: dict[str, Any]
    reason: str
    status: ActionStatus
    decision: dict[str, Any]
    decided_by: str | None
    snapshot: dict[str, Any] | None
    result: dict[str, Any]
    validate_within_s: float
    approval_deadline: datetime | None
    validate_deadline: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
    updated_at: datetime

"""The policy's decision on one action: a pure function of the policy, the action, the target's
recent history and the time. The engine asks it when an action is planned, and again, under a
per-target lock, when the action is about to start, so that limits hold however many
remediators act at once.

Order: no policy → dry run; the first matching rule (or the default) → its effect; a sensitive
kind no rule names exactly → propose; deny stays deny; then the circuit breaker, rate limits
and the risk budget (each can only deny); then change windows (outside: approve or deny).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from recoverops.remediation.kind import glob_match
from recoverops.remediation.model import FAILED_REMEDIATION, Decision, Effect, PastAction, Risk
from recoverops.remediation.policy import DAYS, Policy, Window


@dataclass(frozen=True, slots=True)
class Proposed:
    kind: str
    target: str
    risk: Risk
    sensitive: bool


def decide(
    policy: Policy | None,
    action: Proposed,
    *,
    history: Sequence[PastAction],
    now: datetime,
) -> Decision:
    if policy is None:
        return Decision(Effect.DRY_RUN, "no policy", ("RECOVEROPS_POLICY is not set",))
    environment = policy.environment_of(action.target)
    rule = policy.rule_for(kind=action.kind, target=action.target, environment=environment)
    if rule is None:
        effect, source = Effect(policy.default), f"{policy.source} (default)"
        timeout = policy.approval_timeout
    else:
        effect, source = Effect(rule.effect), f"{policy.source}:{rule.line} (rule {rule.name!r})"
        timeout = rule.approval_timeout or policy.approval_timeout
    reasons = [f"environment {environment}"]
    if action.sensitive and (rule is None or not rule.names_exactly(action.kind)):
        reasons.append(f"{action.kind} is only proposed unless a rule names it")
        return Decision(Effect.PROPOSE, source, tuple(reasons))
    if effect is Effect.DENY:
        return Decision(Effect.DENY, source, tuple(reasons))

    failures = _failures(history, since=now - timedelta(seconds=policy.breaker.within))
    if failures >= policy.breaker.failures:
        reasons.append(
            f"circuit open: {failures} failed remediations of {action.target} "
            f"in the last {_span(policy.breaker.within)}"
        )
        return Decision(Effect.DENY, source, tuple(reasons))

    for limit in policy.limits:
        if not any(glob_match(action.target, p) for p in limit.targets):
            continue
        since = now - timedelta(seconds=limit.per)
        started = [p for p in history if p.started_at is not None and p.started_at >= since]
        if limit.max_actions is not None and len(started) >= limit.max_actions:
            reasons.append(
                f"rate limit: {len(started)} actions on {action.target} in the last "
                f"{_span(limit.per)} (at most {limit.max_actions})"
            )
            return Decision(Effect.DENY, source, tuple(reasons))
        if limit.budget is not None:
            spent = sum(policy.risk_points[p.risk] for p in started)
            cost = policy.risk_points[action.risk]
            if spent + cost > limit.budget:
                reasons.append(
                    f"risk budget: {spent} of {limit.budget} points spent on {action.target} in "
                    f"the last {_span(limit.per)}; this {action.risk.value}-risk action "
                    f"costs {cost}"
                )
                return Decision(Effect.DENY, source, tuple(reasons))

    windows = [
        w for w in policy.windows if w.applies_to(target=action.target, environment=environment)
    ]
    if windows and not any(_inside(w, now) for w in windows):
        names = ", ".join(w.name for w in windows)
        if any(w.outside == "deny" for w in windows):
            reasons.append(f"outside the change windows ({names})")
            return Decision(Effect.DENY, source, tuple(reasons))
        if effect is Effect.AUTO:
            reasons.append(f"outside the change windows ({names}): needs approval")
            effect = Effect.APPROVE
    return Decision(effect, source, tuple(reasons), approval_timeout_s=timeout)


def _failures(history: Sequence[PastAction], *, since: datetime) -> int:
    return sum(1 for p in history if p.status in FAILED_REMEDIATION and p.updated_at >= since)


def _inside(window: Window, now: datetime) -> bool:
    """Whether `now` falls in the window, in the window's own time zone; a window whose end is
    before its start runs over midnight (22:00–06:00 belongs to the day it starts on)."""
    local = now.astimezone(ZoneInfo(window.timezone))
    clock = local.timetz().replace(tzinfo=None)
    today = DAYS[local.weekday()]
    if window.start < window.end:
        return today in window.days and window.start <= clock < window.end
    yesterday = DAYS[(local.weekday() - 1) % 7]
    return (today in window.days and clock >= window.start) or (
        yesterday in window.days and clock < window.end
    )


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def expires(decision: Decision, *, created: datetime) -> datetime | None:
    """When an approval asked for by `decision` runs out."""
    if decision.effect is not Effect.APPROVE or decision.approval_timeout_s is None:
        return None
    return created + timedelta(seconds=decision.approval_timeout_s)

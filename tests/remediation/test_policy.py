"""The policy file: refused with its file and line when wrong; every path of the decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from recoverops.errors import ConfigurationError
from recoverops.remediation.decide import Proposed, decide
from recoverops.remediation.kinds import KINDS
from recoverops.remediation.model import ActionStatus, Effect, PastAction, Risk
from recoverops.remediation.policy import load_policy, parse_policy

KNOWN = sorted(KINDS)
WEDNESDAY_NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)

POLICY = """\
version: 1
default: approve
approval_timeout: 30m
environments:
  production: ["k8s:prod/*", "aws:ecs:prod-*"]
  staging: ["k8s:staging/*"]
rules:
  - name: no-iam-wildcards
    kinds: ["iam.*"]
    effect: approve
  - name: staging-restarts
    kinds: ["k8s.rollout_restart", "k8s.delete_pod"]
    environments: [staging]
    effect: auto
  - name: never-touch-nodes-in-prod
    kinds: ["k8s.cordon_node"]
    environments: [production]
    effect: deny
  - name: prod-asks
    environments: [production]
    effect: approve
    approval_timeout: 15m
limits:
  - targets: ["k8s:staging/*"]
    max_actions: 2
    per: 1h
  - targets: ["k8s:staging/*"]
    budget: 4
    per: 1d
breaker:
  failures: 2
  within: 6h
"""


def policy_of(text: str = POLICY, source: str = "policy.yaml"):  # type: ignore[no-untyped-def]
    return parse_policy(text, source=source, known_kinds=KNOWN)


def restart(target: str = "k8s:staging/deployment/web") -> Proposed:
    return Proposed(kind="k8s.rollout_restart", target=target, risk=Risk.LOW, sensitive=False)


def started(minutes_ago: float, *, risk: Risk = Risk.LOW) -> PastAction:
    at = WEDNESDAY_NOON - timedelta(minutes=minutes_ago)
    return PastAction(started_at=at, risk=risk, status=ActionStatus.SUCCEEDED, updated_at=at)


def failed(minutes_ago: float) -> PastAction:
    at = WEDNESDAY_NOON - timedelta(minutes=minutes_ago)
    return PastAction(started_at=at, risk=Risk.LOW, status=ActionStatus.ROLLED_BACK, updated_at=at)


# Refusals, each with the file and line


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("version: 1\nrules:\n  - name: x\n    effect: sometimes\n", 4, "rules.0.effect"),
        ("version: 1\nrules:\n  - name: x\n    effect: auto\n    kinde: [k8s.scale]\n", 5, "kinde"),
        (
            "version: 1\nrules:\n  - name: x\n    kinds: [k8s.restart]\n    effect: auto\n",
            3,
            "matches no action kind",
        ),
        (
            "version: 1\nrules:\n  - name: x\n    environments: [prod]\n    effect: auto\n",
            3,
            "environment 'prod'",
        ),
        ("version: 1\nlimits:\n  - max_actions: 2\n    per: soon\n", 4, "not a duration"),
        ("version: 1\nlimits:\n  - per: 1h\n", 3, "give max_actions, budget or both"),
        (
            "version: 1\nwindows:\n  - name: w\n    start: '08:00'\n    end: '18:00'\n"
            "    timezone: Mars/Olympus\n",
            6,
            "unknown time zone",
        ),
        (
            "version: 1\nrules:\n  - name: a\n    effect: auto\n  - name: a\n    effect: deny\n",
            5,
            "second rule named 'a'",
        ),
        ("version: 1\nversion: 1\n", 2, "given twice"),
        ("version: 2\n", 1, "version"),
        ("version: 1\nrules: [\n", 3, "not valid YAML"),
        ("- just\n- a list\n", 1, "a policy is a mapping"),
        ("version: 1\nrisk_points: {low: 1, high: 2}\n", 2, "missing ['medium']"),
    ],
)
def test_a_malformed_policy_is_refused_with_file_and_line(text: str, line: int, words: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        policy_of(text, source="ops/policy.yaml")
    message = str(refused.value)
    assert message.startswith(f"ops/policy.yaml:{line}:"), message
    assert words in message


def test_an_unreadable_policy_file_is_refused_with_its_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read the policy"):
        load_policy(tmp_path / "missing.yaml", known_kinds=KNOWN)


def test_rules_know_their_lines() -> None:
    policy = policy_of()
    assert [rule.line for rule in policy.rules] == [8, 11, 15, 19]


# Decisions


def test_no_policy_is_a_dry_run_for_everything() -> None:
    decision = decide(None, restart(), history=[], now=WEDNESDAY_NOON)
    assert decision.effect is Effect.DRY_RUN


def test_the_first_matching_rule_decides_and_names_itself() -> None:
    decision = decide(policy_of(), restart(), history=[], now=WEDNESDAY_NOON)
    assert decision.effect is Effect.AUTO
    assert decision.rule == "policy.yaml:11 (rule 'staging-restarts')"
    assert "environment staging" in decision.reasons


def test_production_asks_with_its_own_approval_timeout() -> None:
    action = restart("k8s:prod/deployment/web")
    decision = decide(policy_of(), action, history=[], now=WEDNESDAY_NOON)
    assert decision.effect is Effect.APPROVE
    assert decision.approval_timeout_s == 15 * 60


def test_deny_rule() -> None:
    action = Proposed(
        kind="k8s.cordon_node", target="k8s:prod/x", risk=Risk.MEDIUM, sensitive=False
    )
    assert decide(policy_of(), action, history=[], now=WEDNESDAY_NOON).effect is Effect.DENY


def test_no_rule_matches_so_the_default_decides() -> None:
    action = Proposed(
        kind="ec2.reboot", target="aws:ec2:i-0abc12345", risk=Risk.MEDIUM, sensitive=False
    )
    decision = decide(policy_of(), action, history=[], now=WEDNESDAY_NOON)
    assert (decision.effect, decision.rule) == (Effect.APPROVE, "policy.yaml (default)")
    assert decision.approval_timeout_s == 30 * 60


def test_a_sensitive_kind_is_only_proposed_unless_a_rule_names_it_exactly() -> None:
    iam = Proposed(
        kind="iam.attach_role_policy", target="aws:iam:role/deploy", risk=Risk.HIGH, sensitive=True
    )
    assert decide(policy_of(), iam, history=[], now=WEDNESDAY_NOON).effect is Effect.PROPOSE
    named = POLICY.replace('kinds: ["iam.*"]', 'kinds: ["iam.attach_role_policy"]')
    assert decide(policy_of(named), iam, history=[], now=WEDNESDAY_NOON).effect is Effect.APPROVE


def test_rate_limit_counts_started_actions_in_the_window() -> None:
    policy = policy_of()
    two_recent = [started(10), started(50)]
    decision = decide(policy, restart(), history=two_recent, now=WEDNESDAY_NOON)
    assert decision.effect is Effect.DENY
    assert any("rate limit: 2 actions" in r for r in decision.reasons)
    one_old = [started(10), started(70)]
    assert decide(policy, restart(), history=one_old, now=WEDNESDAY_NOON).effect is Effect.AUTO


def test_never_started_actions_do_not_count_against_the_rate_limit() -> None:
    planned = PastAction(
        started_at=None, risk=Risk.LOW, status=ActionStatus.DENIED, updated_at=WEDNESDAY_NOON
    )
    decision = decide(policy_of(), restart(), history=[planned] * 5, now=WEDNESDAY_NOON)
    assert decision.effect is Effect.AUTO


def test_risk_budget_counts_points_per_target() -> None:
    # budget 4 a day; a medium action costs 3: one earlier medium leaves 1 point
    history = [started(300, risk=Risk.MEDIUM)]
    decision = decide(policy_of(), restart(), history=history, now=WEDNESDAY_NOON)
    assert decision.effect is Effect.AUTO  # low costs 1: 3 + 1 <= 4
    history = [started(300, risk=Risk.MEDIUM), started(200, risk=Risk.LOW)]
    decision = decide(policy_of(), restart(), history=history, now=WEDNESDAY_NOON)
    assert decision.effect is Effect.DENY
    assert any("risk budget: 4 of 4 points" in r for r in decision.reasons)


def test_the_circuit_breaker_opens_after_repeated_failures_and_closes_after_its_window() -> None:
    decision = decide(
        policy_of(), restart(), history=[failed(100), failed(200)], now=WEDNESDAY_NOON
    )
    assert decision.effect is Effect.DENY
    assert any(r.startswith("circuit open: 2 failed remediations") for r in decision.reasons)
    old = [failed(100), failed(7 * 60)]
    assert decide(policy_of(), restart(), history=old, now=WEDNESDAY_NOON).effect is Effect.AUTO


WINDOWS = """\
version: 1
default: auto
environments:
  production: ["k8s:prod/*"]
windows:
  - name: office-hours
    environments: [production]
    days: [mon, tue, wed, thu, fri]
    start: "08:00"
    end: "18:00"
    timezone: Europe/Berlin
  - name: night-batch
    targets: ["k8s:batch/*"]
    start: "22:00"
    end: "04:00"
    outside: deny
"""


@pytest.mark.parametrize(
    ("when", "target", "effect"),
    [
        (
            datetime(2026, 12, 2, 12, 0, tzinfo=UTC),
            "k8s:prod/deployment/web",
            Effect.AUTO,
        ),  # 13:00 Berlin, Wed
        (
            datetime(2026, 12, 2, 17, 30, tzinfo=UTC),
            "k8s:prod/deployment/web",
            Effect.APPROVE,
        ),  # 18:30 Berlin
        (
            datetime(2026, 12, 5, 12, 0, tzinfo=UTC),
            "k8s:prod/deployment/web",
            Effect.APPROVE,
        ),  # Saturday
        (
            datetime(2026, 12, 2, 12, 0, tzinfo=UTC),
            "k8s:dev/deployment/web",
            Effect.AUTO,
        ),  # no window
        (datetime(2026, 12, 2, 23, 0, tzinfo=UTC), "k8s:batch/job/x", Effect.AUTO),  # over midnight
        (datetime(2026, 12, 3, 3, 0, tzinfo=UTC), "k8s:batch/job/x", Effect.AUTO),
        (datetime(2026, 12, 3, 5, 0, tzinfo=UTC), "k8s:batch/job/x", Effect.DENY),
    ],
)
def test_change_windows(when: datetime, target: str, effect: Effect) -> None:
    policy = policy_of(WINDOWS)
    assert decide(policy, restart(target), history=[], now=when).effect is effect

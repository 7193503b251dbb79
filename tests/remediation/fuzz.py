"""Streams of plans, approvals, rejections, runs, remediators dying mid-apply and time passing,
under random policies, and the invariants that must hold whatever the stream:

- no action is applied twice (each action key reaches the target at most once);
- no action is applied outside the policy: it passed the gate with `auto`, or with `approve`
  and an operator's approval; dry runs, denials, proposals, rejections and expiries never apply;
- no target ever has more started actions in a window than its rate limit allows, nor more
  risk points than its budget.

Used by tests/remediation/test_fuzz.py (hypothesis) and bench/remediation.py (more examples).
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from hypothesis import strategies as st

from recoverops.errors import ActionStateError
from recoverops.remediation.clients import Clients
from recoverops.remediation.engine import Engine
from recoverops.remediation.model import ActionSpec
from recoverops.remediation.policy import Policy, parse_policy
from recoverops.store import Store
from tests.remediation.world import Clock, Killed, World, kinds_for

SERVICES = 3
_examples = itertools.count()

effects = st.sampled_from(["auto", "approve", "deny"])


@st.composite
def policies(draw: st.DrawFn) -> str | None:
    if draw(st.integers(0, 9)) == 0:
        return None  # no policy: everything is a dry run
    lines = [
        "version: 1",
        f"default: {draw(effects)}",
        f"approval_timeout: {draw(st.sampled_from(['5m', '30m']))}",
    ]
    rules = draw(st.lists(st.tuples(st.integers(0, SERVICES - 1), effects), max_size=3))
    if rules:
        lines.append("rules:")
        for n, (service, effect) in enumerate(rules):
            lines += [
                f"  - name: r{n}",
                f'    targets: ["mem:*s{service}"]',
                f"    effect: {effect}",
            ]
    max_actions = draw(st.integers(1, 3))
    budget = draw(st.one_of(st.none(), st.integers(2, 8)))
    per = draw(st.sampled_from(["10m", "1h"]))
    lines += ["limits:", '  - targets: ["*"]', f"    max_actions: {max_actions}", f"    per: {per}"]
    if budget is not None:
        lines.append(f"    budget: {budget}")
    lines += ["breaker:", f"  failures: {draw(st.integers(1, 3))}", "  within: 1h"]
    if draw(st.booleans()):
        start = draw(st.integers(0, 23))
        lines += [
            "windows:",
            "  - name: w",
            f'    start: "{start:02d}:00"',
            f'    end: "{(start + draw(st.integers(1, 12))) % 24:02d}:30"',
            f"    outside: {draw(st.sampled_from(['approve', 'deny']))}",
        ]
    return "\n".join(lines) + "\n"


operation = st.one_of(
    st.tuples(st.just("plan"), st.integers(0, SERVICES - 1), st.booleans(), st.integers(0, 5)),
    st.tuples(st.just("approve"), st.integers(0, 20)),
    st.tuples(st.just("reject"), st.integers(0, 20)),
    st.tuples(st.just("run"), st.integers(0, 20), st.integers(0, 1)),
    st.tuples(st.just("die_after_apply"), st.integers(0, 20), st.integers(0, 1)),
    st.tuples(st.just("wait"), st.integers(1, 40)),
    st.tuples(
        st.just("expire"),
    ),
)
streams = st.lists(operation, min_size=1, max_size=30)


@dataclass
class Report:
    actions: int = 0
    applied: int = 0
    outside_policy: list[str] = field(default_factory=list)
    double_applies: list[str] = field(default_factory=list)
    over_limit: list[str] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)

    @property
    def violations(self) -> list[str]:
        return self.outside_policy + self.double_applies + self.over_limit


def run_stream(
    store: Store, clients: Clients, policy_text: str | None, ops: list[tuple[Any, ...]]
) -> Report:
    example = next(_examples)
    prefix = f"x{example}"
    world = World(versions={f"{prefix}s{n}": "v1" for n in range(SERVICES)}, good={"v1", "v2"})
    kinds = kinds_for(world)
    policy = (
        None
        if policy_text is None
        else parse_policy(policy_text, source="fuzz.yaml", known_kinds=kinds)
    )
    clock = Clock(tick=0.5)
    engines = [
        Engine(
            store,
            policy=policy,
            clients=clients,
            actor=f"remediator:{n}",
            kinds=kinds,
            poll_s=0.0,
            lease_s=30,
            clock=clock,
        )
        for n in range(2)
    ]
    ids: list[int] = []
    for op in ops:
        name = op[0]
        if name == "plan":
            _, service, good, key = op
            spec = ActionSpec(
                kind="mem.set_version",
                params={"service": f"{prefix}s{service}", "version": "v2" if good else "v9"},
                validate_within=3,
            )
            record, created = engines[0].plan(spec, key=f"{prefix}/{service}/{key}")
            if created:
                ids.append(record.id)
        elif name in ("approve", "reject") and ids:
            action_id = ids[op[1] % len(ids)]
            try:
                answer = engines[0].approve if name == "approve" else engines[0].reject
                answer(action_id, operator="fuzzer")
            except ActionStateError:
                pass
        elif name in ("run", "die_after_apply") and ids:
            action_id, engine = ids[op[1] % len(ids)], engines[op[2]]
            world.kill_after_apply = name == "die_after_apply"
            try:
                engine.run(action_id)
            except Killed:
                pass
            finally:
                world.kill_after_apply = False
        elif name == "wait":
            clock.advance(minutes=op[1])
        elif name == "expire":
            engines[1].expire_overdue()
    # Let every lease run out and every runnable action finish.
    clock.advance(minutes=5)
    for action_id in ids:
        engines[1].run(action_id)
    return check(engines[0], policy, ids, world)


def check(engine: Engine, policy: Policy | None, ids: list[int], world: World) -> Report:
    report = Report(actions=len(ids))
    applied = Counter(
        key for key, _service, _version in world.applies if not key.endswith(":rollback")
    )
    report.applied = sum(applied.values())
    report.double_applies = [key for key, times in applied.items() if times > 1]
    records = {a.key: a for a in (engine.actions.get(i) for i in ids) if a is not None}
    for record in records.values():
        report.statuses[record.status.value] += 1
    for key in applied:
        record = records[key]
        trail = engine.actions.trail(record.id)
        gates = [e for e in trail if e.verb == "action.gate"]
        approved = any(e.verb == "action.approved" for e in trail)
        passed = any(
            e.detail["effect"] == "auto" or (e.detail["effect"] == "approve" and approved)
            for e in gates
        )
        if policy is None or not passed:
            report.outside_policy.append(
                f"{key}: applied without passing the policy ({record.status.value})"
            )
    if policy is not None:
        report.over_limit = _over_limit(policy, list(records.values()))
    return report


def _over_limit(policy: Policy, records: list[Any]) -> list[str]:
    problems = []
    by_target: dict[str, list[Any]] = {}
    for record in records:
        if record.started_at is not None:
            by_target.setdefault(record.target, []).append(record)
    for target, started in by_target.items():
        started.sort(key=lambda r: r.started_at)
        for limit in policy.limits:
            per = timedelta(seconds=limit.per)
            for i, record in enumerate(started):
                window = [r for r in started[: i + 1] if r.started_at > record.started_at - per]
                if limit.max_actions is not None and len(window) > limit.max_actions:
                    problems.append(f"{target}: {len(window)} actions within {limit.per:g}s")
                points = sum(policy.risk_points[r.risk] for r in window)
                if limit.budget is not None and points > limit.budget:
                    problems.append(f"{target}: {points} risk points within {limit.per:g}s")
    return problems

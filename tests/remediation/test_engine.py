"""The engine's flow on a real store (SQLite and PostgreSQL) with the in-process world: every
decision path, approvals and their deadline, rollback, a remediator dying mid-action, two
remediators on one action, regression, and the audit trail."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy

from recoverops.errors import ActionStateError, InvalidActionError
from recoverops.incidents import IncidentStatus, Source
from recoverops.remediation.clients import Clients
from recoverops.remediation.engine import Engine
from recoverops.remediation.model import ActionSpec, ActionStatus
from recoverops.remediation.policy import parse_policy
from recoverops.settings import Settings
from recoverops.store import Store
from recoverops.taxonomy import Category
from tests.remediation.world import Clock, Killed, World, kinds_for

AUTO = """\
version: 1
default: auto
approval_timeout: 10m
rules:
  - name: asks
    targets: ["mem:careful-*"]
    effect: approve
  - name: never
    targets: ["mem:frozen-*"]
    effect: deny
limits:
  - targets: ["mem:limited-*"]
    max_actions: 2
    per: 1h
breaker:
  failures: 2
  within: 1d
"""


@pytest.fixture
def world() -> World:
    return World(versions=dict.fromkeys(_SERVICES, "v1"))


_SERVICES = ("web", "careful-db", "frozen-api", "limited-q", "broken", "other")


@pytest.fixture
def clients(store_settings: Settings) -> Iterator[Clients]:
    made = Clients(store_settings)
    yield made
    made.close()


def engine_for(
    store: Store,
    world: World,
    clients: Clients,
    *,
    policy: str | None = AUTO,
    clock: Clock | None = None,
    actor: str = "remediator:test",
) -> Engine:
    return Engine(
        store,
        policy=None
        if policy is None
        else parse_policy(policy, source="p.yaml", known_kinds=kinds_for(world)),
        clients=clients,
        actor=actor,
        kinds=kinds_for(world),
        poll_s=0.01,
        lease_s=30,
        clock=clock or Clock(),
    )


def incident(store: Store) -> int:
    upsert = store.upsert_incident(
        f"fp-{uuid.uuid4().hex}",
        target="shop/web",
        category=Category.INFRA_CONTAINER,
        source=Source.KUBERNETES,
    )
    store.move_incident(upsert.incident.id, IncidentStatus.ANALYZED)
    return upsert.incident.id


def set_version(service: str, version: str, *, incident_id: int | None = None) -> ActionSpec:
    return ActionSpec(
        kind="mem.set_version",
        params={"service": service, "version": version},
        reason="test",
        incident_id=incident_id,
        validate_within=5,
    )


def verbs(engine: Engine, action_id: int) -> list[str]:
    return [entry.verb for entry in engine.actions.trail(action_id)]


def test_without_a_policy_an_action_is_a_dry_run_and_nothing_changes(
    store: Store, world: World, clients: Clients
) -> None:
    engine = engine_for(store, world, clients, policy=None)
    action, created = engine.plan(set_version("web", "v2"), key="k1")
    assert created and action.status is ActionStatus.DRY_RUN
    assert engine.run(action.id) is None  # nothing to run
    assert world.applies == [] and world.versions["web"] == "v1"
    assert verbs(engine, action.id) == ["action.planned", "action.decided"]


def test_auto_action_is_snapshotted_applied_validated_and_resolves_its_incident(
    store: Store, world: World, clients: Clients
) -> None:
    engine = engine_for(store, world, clients)
    world.good.add("v2")
    incident_id = incident(store)
    action, _ = engine.plan(set_version("web", "v2", incident_id=incident_id), key="k1")
    assert (
        action.status is ActionStatus.APPROVED and action.decided_by == "policy: p.yaml (default)"
    )
    done = engine.run(action.id)
    assert done is not None and done.status is ActionStatus.SUCCEEDED
    assert done.snapshot == {
        "state": {"version": "v1"},
        "inverse": {"kind": "mem.set_version", "params": {"service": "web", "version": "v1"}},
    }
    assert done.result["applied"] == {"version": "v2"} and done.started_at is not None
    assert world.applies == [("k1", "web", "v2")]
    assert verbs(engine, action.id) == [
        "action.planned",
        "action.decided",
        "action.gate",
        "action.snapshot",
        "action.applied",
        "action.validated",
    ]
    stored = store.get_incident(incident_id)
    assert stored is not None and stored.status is IncidentStatus.RESOLVED
    stages = [entry.stage for entry in store.incident_timeline(incident_id)]
    assert stages[-2:] == ["remediating", "resolved"]


def test_planning_twice_under_one_key_makes_one_action(
    store: Store, world: World, clients: Clients
) -> None:
    engine = engine_for(store, world, clients)
    first, created = engine.plan(set_version("web", "v2"), key="same")
    second, again = engine.plan(set_version("web", "v3"), key="same")
    assert created and not again and first.id == second.id and second.params["version"] == "v2"


def test_invalid_kind_or_params_are_refused_with_the_reason(
    store: Store, world: World, clients: Clients
) -> None:
    engine = engine_for(store, world, clients)
    with pytest.raises(InvalidActionError, match="unknown action kind 'mem.nope'"):
        engine.plan(ActionSpec(kind="mem.nope", params={}), key="x")
    with pytest.raises(InvalidActionError, match="version: String should match pattern"):
        engine.plan(
            ActionSpec(kind="mem.set_version", params={"service": "web", "version": "latest"}),
            key="y",
        )
    with pytest.raises(InvalidActionError, match="extra: Extra inputs are not permitted"):
        engine.plan(
            ActionSpec(
                kind="mem.set_version", params={"service": "web", "version": "v2", "extra": 1}
            ),
            key="z",
        )
    assert engine.actions.find() == []


def test_an_approval_carries_the_action_out_and_names_the_operator(
    store: Store, world: World, clients: Clients
) -> None:
    engine = engine_for(store, world, clients)
    world.good.add("v2")
    incident_id = incident(store)
    action, _ = engine.plan(set_version("careful-db", "v2", incident_id=incident_id), key="k")
    assert action.status is ActionStatus.AWAITING_APPROVAL
    assert action.approval_deadline is not None
    stored = store.get_incident(incident_id)
    assert stored is not None and stored.status is IncidentStatus.AWAITING_APPROVAL
    assert engine.run(action.id) is None and world.applies == []  # nothing runs before approval
    approved = engine.approve(action.id, operator="alice", note="go")
    assert approved.status is ActionStatus.APPROVED and approved.decided_by == "operator: alice"
    done = engine.run(action.id)
    assert done is not None and done.status is ActionStatus.SUCCEEDED
    trail = engine.actions.trail(action.id)
    assert [(e.actor, e.verb) for e in trail][2] == ("alice", "action.approved")
    with pytest.raises(ActionStateError, match="is succeeded, not awaiting approval"):
        engine.approve(action.id, operator="bob")


def test_an_approval_after_its_deadline_is_refused_and_the_action_expires(
    store: Store, world: World, clients: Clients
) -> None:
    clock = Clock()
    engine = engine_for(store, world, clients, clock=clock)
    incident_id = incident(store)
    action, _ = engine.plan(set_version("careful-db", "v2", incident_id=incident_id), key="k")
    clock.advance(minutes=11)
    with pytest.raises(ActionStateError, match="expired at .*too late"):
        engine.approve(action.id, operator="alice")
    expired = engine.actions.get(action.id)
    assert expired is not None and expired.status is ActionStatus.EXPIRED
    assert engine.run(action.id) is None and world.applies == []
    stored = store.get_incident(incident_id)
    assert stored is not None and stored.status is IncidentStatus.ESCALATED


def test_overdue_approvals_expire_on_their_own(
    store: Store, world: World, clients: Clients
) -> None:
    clock = Clock()
    engine = engine_for(store, world, clients, clock=clock)
    waiting, _ = engine.plan(set_version("careful-db", "v2"), key="a")
    clock.advance(minutes=9)
    assert engine.expire_overdue() == 0
    clock.advance(minutes=2)
    assert engine.expire_overdue() == 1
    latest = engine.actions.get(waiting.id)
    assert latest is not None and latest.status is ActionStatus.EXPIRED


def test_a_rejected_action_is_never_carried_out(
    store: Store, world: World, clients: Clients
) -> None:
    engine = engine_for(store, world, clients)
    action, _ = engine.plan(set_version("careful-db", "v2"), key="k")
    rejected = engine.reject(action.id, operator="bob", note="not now")
    assert rejected.status is ActionStatus.REJECTED and rejected.decided_by == "operator: bob"
    assert engine.run(action.id) is None and world.applies == []


def test_a_denied_action_escalates_its_incident(
    store: Store, world: World, clients: Clients
) -> None:
    engine = engine_for(store, world, clients)
    incident_id = incident(store)
    action, _ = engine.plan(set_version("frozen-api", "v2", incident_id=incident_id), key="k")
    assert action.status is ActionStatus.DENIED and "rule 'never'" in action.decision["rule"]
    stored = store.get_incident(incident_id)
    assert stored is not None and stored.status is IncidentStatus.ESCALATED


def test_a_sensitive_kind_is_proposed_not_applied(
    store: Store, world: World, clients: Clients
) -> None:
    engine = engine_for(store, world, clients)
    spec = ActionSpec(kind="mem.grant", params={"service": "web", "version": "v2"})
    action, _ = engine.plan(spec, key="k")
    assert action.status is ActionStatus.PROPOSED and world.applies == []


def test_a_failed_validation_rolls_back_to_the_snapshot_and_escalates(
    store: Store, world: World, clients: Clients
) -> None:
    engine = engine_for(store, world, clients, clock=Clock(tick=1.0))
    incident_id = incident(store)
    action, _ = engine.plan(set_version("broken", "v9", incident_id=incident_id), key="k")
    done = engine.run(action.id)
    assert done is not None and done.status is ActionStatus.ROLLED_BACK
    assert "not healthy by the deadline: broken runs v9, which is unhealthy" in done.result["error"]
    assert world.versions["broken"] == "v1"
    assert world.applies == [("k", "broken", "v9"), ("k:rollback", "broken", "v1")]
    assert verbs(engine, action.id)[-2:] == ["action.rolling_back", "action.rolled_back"]
    stored = store.get_incident(incident_id)
    assert stored is not None and stored.status is IncidentStatus.ESCALATED
    stages = [entry.stage for entry in store.incident_timeline(incident_id)]
    assert stages[-2:] == ["rolled_back", "escalated"]


def test_an_apply_the_api_refuses_rolls_back(store: Store, world: World, clients: Clients) -> None:
    engine = engine_for(store, world, clients)
    world.fail_apply.add("web")
    incident_id = incident(store)
    action, _ = engine.plan(set_version("web", "v2", incident_id=incident_id), key="k")
    done = engine.run(action.id)
    assert done is not None and done.status is ActionStatus.ROLLBACK_FAILED  # the API refuses both
    assert "apply failed: RuntimeError: the API refused to change web" in done.result["error"]
    assert done.result["rollback"] == "RuntimeError: the API refused to change web"
    stored = store.get_incident(incident_id)
    assert stored is not None and stored.status is IncidentStatus.ESCALATED


def test_rate_limit_holds_and_the_window_moves_on(
    store: Store, world: World, clients: Clients
) -> None:
    clock = Clock()
    engine = engine_for(store, world, clients, clock=clock)
    world.good |= {"v2", "v3", "v4"}
    for n in (2, 3):
        action, _ = engine.plan(set_version("limited-q", f"v{n}"), key=f"k{n}")
        assert (engine.run(action.id) or action).status is ActionStatus.SUCCEEDED
    third, _ = engine.plan(set_version("limited-q", "v4"), key="k4")
    assert third.status is ActionStatus.DENIED
    assert any("rate limit: 2 actions on mem:limited-q" in r for r in third.decision["reasons"])
    clock.advance(hours=1, seconds=1)
    fourth, _ = engine.plan(set_version("limited-q", "v4"), key="k5")
    assert fourth.status is ActionStatus.APPROVED


def test_limits_are_checked_again_when_an_action_starts(
    store: Store, world: World, clients: Clients
) -> None:
    engine = engine_for(store, world, clients)
    world.good |= {"v2", "v3", "v4"}
    planned = [engine.plan(set_version("limited-q", f"v{n}"), key=f"k{n}")[0] for n in (2, 3, 4)]
    assert [a.status for a in planned] == [ActionStatus.APPROVED] * 3  # none had started yet
    finished = [engine.run(a.id) for a in planned]
    assert [a.status for a in finished if a] == [
        ActionStatus.SUCCEEDED,
        ActionStatus.SUCCEEDED,
        ActionStatus.DENIED,
    ]
    assert len(world.applies) == 2


def test_the_circuit_breaker_stops_acting_after_repeated_failures(
    store: Store, world: World, clients: Clients
) -> None:
    engine = engine_for(store, world, clients, clock=Clock(tick=1.0))
    for n in (1, 2):
        action, _ = engine.plan(set_version("broken", "v9"), key=f"k{n}")
        assert (engine.run(action.id) or action).status is ActionStatus.ROLLED_BACK
    incident_id = incident(store)
    third, _ = engine.plan(set_version("broken", "v9", incident_id=incident_id), key="k3")
    assert third.status is ActionStatus.DENIED
    assert any(
        r.startswith("circuit open: 2 failed remediations of mem:broken")
        for r in third.decision["reasons"]
    )
    stored = store.get_incident(incident_id)
    assert stored is not None and stored.status is IncidentStatus.ESCALATED


def test_a_recurring_failure_counts_against_the_fix_that_seemed_to_work(
    store: Store, world: World, clients: Clients
) -> None:
    engine = engine_for(store, world, clients)
    world.good.add("v2")
    incident_id = incident(store)
    for n in (1, 2):
        action, _ = engine.plan(set_version("broken", "v2", incident_id=incident_id), key=f"k{n}")
        assert (engine.run(action.id) or action).status is ActionStatus.SUCCEEDED
        regressed = engine.regressed(incident_id, detail="the failure recurred")
        assert [a.id for a in regressed] == [action.id]
        assert regressed[0].status is ActionStatus.REGRESSED
    third, _ = engine.plan(set_version("broken", "v2"), key="k3")
    assert third.status is ActionStatus.DENIED  # two regressions opened the breaker


def test_an_operator_rolls_back_a_succeeded_action(
    store: Store, world: World, clients: Clients
) -> None:
    engine = engine_for(store, world, clients)
    world.good.add("v2")
    action, _ = engine.plan(set_version("web", "v2"), key="k")
    engine.run(action.id)
    undone = engine.rollback(action.id, operator="carol", note="customer complaints")
    assert undone.status is ActionStatus.ROLLED_BACK and world.versions["web"] == "v1"
    with pytest.raises(ActionStateError, match="only a succeeded or regressed action"):
        engine.rollback(action.id, operator="carol")


def test_a_remediator_killed_after_apply_is_resumed_by_another_without_applying_again(
    store: Store, world: World, clients: Clients
) -> None:
    clock = Clock()
    world.good.add("v2")
    first = engine_for(store, world, clients, clock=clock, actor="remediator:a")
    action, _ = first.plan(set_version("web", "v2"), key="k")
    world.kill_after_apply = True
    with pytest.raises(Killed):
        first.run(action.id)
    world.kill_after_apply = False
    stuck = first.actions.get(action.id)
    assert stuck is not None and stuck.status is ActionStatus.APPLYING

    second = engine_for(store, world, clients, clock=clock, actor="remediator:b")
    assert second.run(action.id) is None  # the dead one's lease still holds
    clock.advance(seconds=31)
    done = second.run(action.id)
    assert done is not None and done.status is ActionStatus.SUCCEEDED
    assert world.applies == [("k", "web", "v2")]  # applied once
    assert "action.resumed" in verbs(second, action.id)


def test_a_killed_remediator_whose_change_did_not_take_is_rolled_back(
    store: Store, world: World, clients: Clients
) -> None:
    clock = Clock()
    first = engine_for(store, world, clients, clock=clock)
    action, _ = first.plan(set_version("web", "v7"), key="k")  # v7 is not good
    world.kill_after_apply = True
    with pytest.raises(Killed):
        first.run(action.id)
    world.kill_after_apply = False
    clock.advance(seconds=31)
    clock.tick = timedelta(seconds=1)
    done = engine_for(store, world, clients, clock=clock, actor="remediator:b").run(action.id)
    assert done is not None and done.status is ActionStatus.ROLLED_BACK
    assert world.versions["web"] == "v1"
    assert [a for a in world.applies if a[0] == "k"] == [("k", "web", "v7")]


def test_two_remediators_racing_for_one_action_apply_it_once(
    store: Store, world: World, clients: Clients
) -> None:
    world.good.add("v2")
    engines = [engine_for(store, world, clients, actor=f"remediator:{n}") for n in range(4)]
    action, _ = engines[0].plan(set_version("web", "v2"), key="k")
    barrier = threading.Barrier(len(engines))

    def race(engine: Engine) -> None:
        barrier.wait()
        engine.run(action.id)

    threads = [threading.Thread(target=race, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    final = engines[0].actions.get(action.id)
    assert final is not None and final.status is ActionStatus.SUCCEEDED
    assert world.applies == [("k", "web", "v2")]


def test_the_audit_log_is_append_only(store: Store, world: World, clients: Clients) -> None:
    engine = engine_for(store, world, clients, policy=None)
    action, _ = engine.plan(set_version("web", "v2"), key="k")
    assert verbs(engine, action.id)
    for statement in ("UPDATE audit_log SET verb = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"):
            with store.transaction() as session:
                session.execute(sqlalchemy.text(statement))
    assert verbs(engine, action.id) == ["action.planned", "action.decided"]

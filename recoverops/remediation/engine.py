"""The remediation engine: plan → policy → approval → snapshot → apply → validate → resolved,
or roll back to the snapshot and escalate. Every step is one store transaction with its audit
entries (`recoverops.store.actions`), so a remediator that dies anywhere leaves the action in a
status another one resumes from:

    approved      the policy is asked again under the target's lock (limits may have filled)
    starting      nothing changed yet: snapshot, then apply
    applying      the apply may or may not have happened: validate, never apply again
    validating    poll the target's health until the stored deadline
    rolling_back  apply the inverse (restoring a state is idempotent)

The kinds (`recoverops.remediation.kinds`) only read, change and check their target; what a
kind raises becomes the action's result here, never an exception for the caller.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from recoverops.errors import ActionStateError, InvalidActionError, NotFoundError
from recoverops.incidents import IncidentStatus
from recoverops.remediation.clients import Call, Clients, recording
from recoverops.remediation.decide import Proposed, decide, expires
from recoverops.remediation.kind import ActionContext, ActionKind, ActionParams
from recoverops.remediation.kinds import KINDS
from recoverops.remediation.model import (
    RUNNABLE,
    ActionRecord,
    ActionSpec,
    ActionStatus,
    Decision,
    Effect,
    PastAction,
    Snapshot,
    Verdict,
)
from recoverops.remediation.policy import Policy, load_policy
from recoverops.settings import Settings
from recoverops.store import Store
from recoverops.store.actions import ActionStore, Audit, IncidentMove

Clock = Callable[[], datetime]
# Called at named points of an action's run with (point, action id): "applying" (the snapshot is
# stored, the change not made), "applied" (the change is made, not yet recorded) and each status
# an action reaches. Tests pass one that kills the process at a known point; in production there
# is none.
Checkpoint = Callable[[str, int], None]

_PLANNED_STATUS = {
    Effect.AUTO: ActionStatus.APPROVED,
    Effect.APPROVE: ActionStatus.AWAITING_APPROVAL,
    Effect.DENY: ActionStatus.DENIED,
    Effect.DRY_RUN: ActionStatus.DRY_RUN,
    Effect.PROPOSE: ActionStatus.PROPOSED,
}


def utc_now() -> datetime:
    return datetime.now(UTC)


def action_key(*parts: object) -> str:
    """An action key from the parts that make an action the same action (incident, occurrence,
    kind, target): readable when short, hashed when long."""
    joined = "/".join(str(part) for part in parts)
    if len(joined) <= 200:
        return joined
    return f"{joined[:120]}…{hashlib.sha256(joined.encode()).hexdigest()[:32]}"


class Engine:
    """Plans, decides and carries out actions for one actor (a remediator, the CLI, the API)."""

    def __init__(
        self,
        store: Store,
        *,
        policy: Policy | None,
        clients: Clients,
        actor: str,
        kinds: Mapping[str, ActionKind] = KINDS,
        poll_s: float = 2.0,
        lease_s: float = 60.0,
        clock: Clock = utc_now,
        checkpoint: Checkpoint | None = None,
    ) -> None:
        self.actions = ActionStore(store)
        self.policy = policy
        self.actor = actor
        self._kinds = kinds
        self._ctx = ActionContext(clients=clients)
        self._poll_s = poll_s
        self._lease_s = lease_s
        self._clock = clock
        self._checkpoint = checkpoint or (lambda _point, _id: None)
        self._owner = f"{actor}.{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()

    def stop(self) -> None:
        """Stop waiting: an action being validated is left for a later run to resume."""
        self._stop.set()

    # Planning and the operators' word

    def plan(
        self, spec: ActionSpec, *, key: str, by: str | None = None
    ) -> tuple[ActionRecord, bool]:
        """Record the action and the policy's decision, once per key. (the action, whether
        this call created it); InvalidActionError for an unknown kind or bad parameters."""
        kind = self._kind(spec.kind)
        params = self._params(kind, spec.params)
        target = params.target()
        environment = "default" if self.policy is None else self.policy.environment_of(target)
        proposed = Proposed(kind=kind.kind, target=target, risk=kind.risk, sensitive=kind.sensitive)
        now = self._clock()
        who = by or self.actor
        decided: dict[str, Decision] = {}

        def values(history: list[PastAction]) -> dict[str, Any]:
            decision = decide(self.policy, proposed, history=history, now=now)
            decided["it"] = decision
            status = _PLANNED_STATUS[decision.effect]
            return {
                "incident_id": spec.incident_id,
                "kind": kind.kind,
                "system": kind.system.value,
                "environment": environment,
                "risk": kind.risk.value,
                "params": params.model_dump(mode="json"),
                "reason": spec.reason,
                "status": status.value,
                "decision": decision.to_json(),
                "decided_by": f"policy: {decision.rule}",
                "result": {},
                "validate_within_s": spec.validate_within or kind.validate_within,
                "approval_deadline": expires(decision, created=now),
            }

        def audits(_action_id: int, row: Mapping[str, Any]) -> list[Audit]:
            plan = {
                k: row[k] for k in ("kind", "target", "params", "risk", "reason", "environment")
            }
            return [
                Audit(who, "action.planned", {**plan, "incident_id": spec.incident_id}),
                Audit(f"policy:{decided['it'].rule}", "action.decided", decided["it"].to_json()),
            ]

        def incident(row: Mapping[str, Any]) -> IncidentMove:
            status = ActionStatus(row["status"])
            what = f"{kind.kind} on {target}: {status.value}"
            moves = {
                ActionStatus.AWAITING_APPROVAL: IncidentStatus.AWAITING_APPROVAL,
                ActionStatus.DENIED: IncidentStatus.ESCALATED,
                ActionStatus.PROPOSED: IncidentStatus.ESCALATED,
            }
            return IncidentMove(moves.get(status), what)

        return self.actions.create(
            key=key, target=target, values=values, audits=audits, incident=incident, now=now
        )

    def approve(self, action_id: int, *, operator: str, note: str = "") -> ActionRecord:
        return self._answer(action_id, operator=operator, note=note, approved=True)

    def reject(self, action_id: int, *, operator: str, note: str = "") -> ActionRecord:
        return self._answer(action_id, operator=operator, note=note, approved=False)

    def _answer(self, action_id: int, *, operator: str, note: str, approved: bool) -> ActionRecord:
        now = self._clock()
        current = self._get(action_id)
        if current.status is ActionStatus.AWAITING_APPROVAL and _overdue(current, now):
            self.expire_overdue(ids=[action_id])
            raise ActionStateError(
                f"action {action_id} expired at {current.approval_deadline:%Y-%m-%d %H:%M:%S}Z: "
                "its approval came too late"
            )
        status = ActionStatus.APPROVED if approved else ActionStatus.REJECTED
        verb = "action.approved" if approved else "action.rejected"
        move = (
            None if approved else IncidentMove(IncidentStatus.ESCALATED, f"rejected by {operator}")
        )
        done = self.actions.transition(
            action_id,
            expect={ActionStatus.AWAITING_APPROVAL},
            update=lambda _a: {
                "status": status.value,
                "decided_by": f"operator: {operator}",
                "finished_at": None if approved else now,
            },
            audits=[Audit(operator, verb, {"note": note})],
            incident=move,
            now=now,
        )
        if done is None:
            latest = self._get(action_id)
            raise ActionStateError(
                f"action {action_id} is {latest.status.value}, not awaiting approval"
            )
        return done

    def expire_overdue(self, *, ids: Sequence[int] | None = None) -> int:
        """Move approvals past their deadline to expired (and their incidents to a person)."""
        now = self._clock()
        expired = 0
        for action_id in ids if ids is not None else self.actions.overdue_approvals(now=now):
            done = self.actions.transition(
                action_id,
                expect={ActionStatus.AWAITING_APPROVAL},
                update=lambda a: (
                    {"status": ActionStatus.EXPIRED.value, "finished_at": now}
                    if _overdue(a, now)
                    else {}
                ),
                audits=[Audit(self.actor, "action.expired", {"at": now.isoformat()})],
                incident=IncidentMove(IncidentStatus.ESCALATED, "approval deadline passed"),
                now=now,
            )
            expired += done is not None and done.status is ActionStatus.EXPIRED
        return expired

    def rollback(self, action_id: int, *, operator: str, note: str = "") -> ActionRecord:
        """An operator undoes a carried-out action: its inverse is applied now."""
        now = self._clock()
        moved = self.actions.transition(
            action_id,
            expect={ActionStatus.SUCCEEDED, ActionStatus.REGRESSED},
            update=lambda _a: {
                "status": ActionStatus.ROLLING_BACK.value,
                "decided_by": f"operator: {operator}",
            },
            audits=[Audit(operator, "action.rollback_requested", {"note": note})],
            now=now,
        )
        if moved is None:
            latest = self._get(action_id)
            raise ActionStateError(
                f"action {action_id} is {latest.status.value}: only a succeeded or regressed "
                "action can be rolled back by hand"
            )
        return self.run(action_id) or self._get(action_id)

    def regressed(self, incident_id: int, *, detail: str) -> list[ActionRecord]:
        """The incident's failure recurred: its succeeded actions did not fix it after all. They
        count against their targets' circuit breakers from now."""
        now = self._clock()
        done = []
        for action in self.actions.find(incident_id=incident_id, status={ActionStatus.SUCCEEDED}):
            moved = self.actions.transition(
                action.id,
                expect={ActionStatus.SUCCEEDED},
                update=lambda _a: {"status": ActionStatus.REGRESSED.value},
                audits=[Audit(self.actor, "action.regressed", {"detail": detail})],
                now=now,
            )
            if moved is not None:
                done.append(moved)
        return done

    # Carrying actions out

    def run(self, action_id: int) -> ActionRecord | None:
        """Drive the action as far as it goes now: to a final status, to waiting for an
        operator, or (stopped) to a status a later run resumes. None when another holds it."""
        now = self._clock()
        record = self.actions.claim(action_id, owner=self._owner, until=self._lease(now), now=now)
        if record is None:
            return None
        resumed = record.status in (ActionStatus.APPLYING, ActionStatus.VALIDATING)
        sink = self._call_sink(action_id)
        # The lease is released when this run ends, also by an error; a process that dies
        # (or a BaseException standing for that in tests) leaves it to run out.
        try:
            with recording(sink):
                while record is not None and record.status in RUNNABLE and not self._stop.is_set():
                    record = self._step(record, resumed=resumed)
                    resumed = False
                    if record is not None:
                        self._checkpoint(record.status.value, action_id)
        except Exception:
            self.actions.release(action_id, owner=self._owner)
            raise
        self.actions.release(action_id, owner=self._owner)
        return self.actions.get(action_id)

    def _step(self, action: ActionRecord, *, resumed: bool) -> ActionRecord | None:
        if action.status is ActionStatus.APPROVED:
            return self._gate(action)
        if action.status is ActionStatus.STARTING:
            return self._snapshot_and_apply(action)
        if action.status is ActionStatus.APPLYING:
            return self._resume_uncertain(action)
        if action.status is ActionStatus.VALIDATING:
            return self._validate(action, resumed=resumed)
        return self._roll_back(action)

    def _gate(self, action: ActionRecord) -> ActionRecord | None:
        now = self._clock()
        kind = self._kinds[action.kind]
        proposed = Proposed(
            kind=action.kind, target=action.target, risk=action.risk, sensitive=kind.sensitive
        )
        by_operator = (action.decided_by or "").startswith("operator:")

        def judge(
            _a: ActionRecord, history: list[PastAction]
        ) -> tuple[dict[str, Any], list[Audit], IncidentMove | None]:
            decision = decide(self.policy, proposed, history=history, now=now)
            entry = Audit(f"policy:{decision.rule}", "action.gate", decision.to_json())
            if decision.effect is Effect.AUTO or (
                decision.effect is Effect.APPROVE and by_operator
            ):
                started = {"status": ActionStatus.STARTING.value, "started_at": now}
                move = IncidentMove(IncidentStatus.REMEDIATING, f"{action.kind} on {action.target}")
                return started, [entry], move
            if decision.effect is Effect.APPROVE:  # auto when planned; the policy now asks
                waiting = {
                    "status": ActionStatus.AWAITING_APPROVAL.value,
                    "decision": decision.to_json(),
                    "approval_deadline": expires(decision, created=now),
                }
                return waiting, [entry], None
            denied = {
                "status": ActionStatus.DENIED.value,
                "decision": decision.to_json(),
                "finished_at": now,
                "result": {"error": "; ".join(decision.reasons) or decision.effect.value},
            }
            move = IncidentMove(IncidentStatus.ESCALATED, f"{action.kind} denied at start")
            return denied, [entry], move

        return self.actions.gate(action.id, decide=judge, owner=self._owner, now=now)

    def _snapshot_and_apply(self, action: ActionRecord) -> ActionRecord | None:
        kind = self._kinds[action.kind]
        params = kind.params.model_validate(action.params)
        try:
            snapshot = kind.snapshot(self._ctx, params)
        except Exception as error:  # a kind's failure is the action's result
            return self._finish(
                action,
                ActionStatus.FAILED,
                expect={ActionStatus.STARTING},
                verb="action.snapshot_failed",
                result={"error": _describe(error)},
                move=IncidentMove(IncidentStatus.ESCALATED, f"{action.kind}: snapshot failed"),
            )
        now = self._clock()
        applying = self.actions.transition(
            action.id,
            expect={ActionStatus.STARTING},
            update=lambda _a: {
                "status": ActionStatus.APPLYING.value,
                "snapshot": snapshot.to_json(),
            },
            audits=[Audit(self.actor, "action.snapshot", snapshot.to_json())],
            now=now,
            owner=self._owner,
        )
        if applying is None:
            return None
        self._checkpoint("applying", action.id)
        try:
            answer = dict(kind.apply(self._ctx, params, key=action.key))
        except Exception as error:
            return self._to_rollback(applying, f"apply failed: {_describe(error)}")
        self._checkpoint("applied", action.id)
        now = self._clock()
        deadline = now + timedelta(seconds=action.validate_within_s)
        return self.actions.transition(
            action.id,
            expect={ActionStatus.APPLYING},
            update=lambda _a: {
                "status": ActionStatus.VALIDATING.value,
                "validate_deadline": deadline,
                "result": {"applied": answer},
            },
            audits=[Audit(self.actor, "action.applied", {"answer": answer})],
            now=now,
            owner=self._owner,
        )

    def _resume_uncertain(self, action: ActionRecord) -> ActionRecord | None:
        now = self._clock()
        deadline = now + timedelta(seconds=action.validate_within_s)
        detail = {
            "why": "a remediator stopped while applying: the change may or may not have been "
            "made, so it is validated, not applied again",
        }
        return self.actions.transition(
            action.id,
            expect={ActionStatus.APPLYING},
            update=lambda _a: {
                "status": ActionStatus.VALIDATING.value,
                "validate_deadline": deadline,
                "result": {"applied": None, "resumed": True},
            },
            audits=[Audit(self.actor, "action.resumed", detail)],
            now=now,
            owner=self._owner,
        )

    def _validate(self, action: ActionRecord, *, resumed: bool) -> ActionRecord | None:
        kind = self._kinds[action.kind]
        params = kind.params.model_validate(action.params)
        snapshot = Snapshot.from_json(action.snapshot or {})
        deadline = action.validate_deadline or self._clock()
        if resumed:
            self.actions.audit(
                action.id,
                Audit(self.actor, "action.resumed", {"why": "validation resumed"}),
                now=self._clock(),
            )
        checks = 0
        detail = "not checked"
        while True:
            checks += 1
            try:
                health = kind.check(self._ctx, params, snapshot, action.result.get("applied"))
            except Exception as error:
                health = None
                detail = f"the check failed: {_describe(error)}"
            if health is not None:
                detail = health.detail
                if health.verdict is Verdict.HEALTHY:
                    return self._finish(
                        action,
                        ActionStatus.SUCCEEDED,
                        expect={ActionStatus.VALIDATING},
                        verb="action.validated",
                        result={**action.result, "health": detail, "checks": checks},
                        move=IncidentMove(IncidentStatus.RESOLVED, f"{action.kind}: {detail}"),
                    )
                if health.verdict is Verdict.FAILED:
                    return self._to_rollback(action, f"validation failed: {detail}")
            now = self._clock()
            if now >= deadline:
                return self._to_rollback(action, f"not healthy by the deadline: {detail}")
            if (
                self.actions.claim(action.id, owner=self._owner, until=self._lease(now), now=now)
                is None
            ):
                return None  # the lease was lost (a long pause): whoever holds it goes on
            remaining = (deadline - now).total_seconds()
            if self._stop.wait(min(self._poll_s, max(remaining, 0.0))):
                return None

    def _to_rollback(self, action: ActionRecord, why: str) -> ActionRecord | None:
        return self.actions.transition(
            action.id,
            expect={ActionStatus.APPLYING, ActionStatus.VALIDATING},
            update=lambda a: {
                "status": ActionStatus.ROLLING_BACK.value,
                "result": {**a.result, "error": why},
            },
            audits=[Audit(self.actor, "action.rolling_back", {"why": why})],
            now=self._clock(),
            owner=self._owner,
        )

    def _roll_back(self, action: ActionRecord) -> ActionRecord | None:
        snapshot = Snapshot.from_json(action.snapshot or {})
        why = action.result.get("error") or "rolled back on request"
        if snapshot.inverse is None:
            return self._finish(
                action,
                ActionStatus.FAILED,
                expect={ActionStatus.ROLLING_BACK},
                verb="action.failed",
                result={**action.result, "rollback": "this action has no inverse"},
                move=IncidentMove(IncidentStatus.ESCALATED, f"{action.kind}: {why}; no inverse"),
            )
        inverse = self._kinds[snapshot.inverse.kind]
        try:
            params = inverse.params.model_validate(snapshot.inverse.params)
            answer = dict(inverse.apply(self._ctx, params, key=f"{action.key}:rollback"))
        except Exception as error:
            return self._finish(
                action,
                ActionStatus.ROLLBACK_FAILED,
                expect={ActionStatus.ROLLING_BACK},
                verb="action.rollback_failed",
                result={**action.result, "rollback": _describe(error)},
                move=IncidentMove(IncidentStatus.ESCALATED, f"{action.kind}: rollback failed"),
            )
        return self._finish(
            action,
            ActionStatus.ROLLED_BACK,
            expect={ActionStatus.ROLLING_BACK},
            verb="action.rolled_back",
            result={**action.result, "rollback": answer},
            move=IncidentMove(IncidentStatus.ROLLED_BACK, f"{action.kind}: {why}; rolled back"),
        )

    def _finish(
        self,
        action: ActionRecord,
        status: ActionStatus,
        *,
        expect: set[ActionStatus],
        verb: str,
        result: Mapping[str, Any],
        move: IncidentMove,
    ) -> ActionRecord | None:
        now = self._clock()
        return self.actions.transition(
            action.id,
            expect=expect,
            update=lambda _a: {"status": status.value, "result": dict(result), "finished_at": now},
            audits=[Audit(self.actor, verb, dict(result))],
            incident=move,
            now=now,
            owner=self._owner,
        )

    # Helpers

    def _kind(self, name: str) -> ActionKind:
        kind = self._kinds.get(name)
        if kind is None:
            raise InvalidActionError(
                f"unknown action kind {name!r}; known: {', '.join(sorted(self._kinds))}"
            )
        return kind

    @staticmethod
    def _params(kind: ActionKind, raw: Mapping[str, Any]) -> ActionParams:
        try:
            return kind.params.model_validate(dict(raw))
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}"
                for e in error.errors(include_url=False)
            )
            raise InvalidActionError(f"{kind.kind}: {problems}") from None

    def _get(self, action_id: int) -> ActionRecord:
        record = self.actions.get(action_id)
        if record is None:
            raise NotFoundError(f"no action with id {action_id}")
        return record

    def _lease(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self._lease_s)

    def _call_sink(self, action_id: int) -> Callable[[Call], None]:
        def sink(call: Call) -> None:
            detail = {
                "system": call.system,
                "operation": call.operation,
                "status": call.status,
                "ms": round(call.duration_ms, 1),
            }
            if call.error:
                detail["error"] = call.error
            self.actions.audit(action_id, Audit(self.actor, "api.call", detail), now=self._clock())

        return sink


def _overdue(action: ActionRecord, now: datetime) -> bool:
    return action.approval_deadline is not None and action.approval_deadline <= now


def _describe(error: BaseException) -> str:
    """What went wrong, in one line of bounded length (an API's error body can be long)."""
    text = " ".join(str(error).split()) or type(error).__name__
    return f"{type(error).__name__}: {text[:500]}"


def load_configured_policy(
    settings: Settings, *, kinds: Mapping[str, ActionKind] = KINDS
) -> Policy | None:
    """The policy RECOVEROPS_POLICY names (ConfigurationError if invalid); None: dry run."""
    if settings.policy is None:
        return None
    return load_policy(settings.policy, known_kinds=kinds)


def engine_for(
    settings: Settings,
    store: Store,
    *,
    actor: str,
    clients: Clients | None = None,
    checkpoint: Checkpoint | None = None,
) -> Engine:
    """An engine over `store` with the configured policy, clients and timings."""
    return Engine(
        store,
        policy=load_configured_policy(settings),
        clients=clients or Clients(settings),
        actor=actor,
        poll_s=settings.remediation_poll_s,
        lease_s=settings.remediation_lease_s,
        checkpoint=checkpoint,
    )
